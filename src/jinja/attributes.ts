// Attribute and item lookup, the sandbox's gate: `obj.name` and `obj[key]` reach only what runtime.ts describes
// (an own key of a dict, an element, a Python method of methods.ts, an attribute the runtime classes declare).
import { dictMethods, listMethods, strMethods, tupleMethods } from './methods.js';
import { DictView, RenderError, Undefined, hasKey, isDict, isTuple, strFormat, typeName, undefinedName, type Dict } from './python.js';
import { Cycler, JS_INTERNALS, LoopContext, Macro, Namespace, PyFunction, TemplateModule, BoundMethod, securityError, MISSING, type Method } from './runtime.js';

/** str's methods, with format(), whose fields (`{0.name}`) are looked up as the dot looks them up. */
const STR_METHODS = new Map<string, Method>([...strMethods, ['format', (s: string, a: unknown[], k: Dict) => strFormat(s, a, k, getattr)]]);

// --- attribute and item lookup ------------------------------------------------------------------------------------

function methodOf(obj: unknown, name: string): Method | undefined {
  if (typeof obj === 'string') return STR_METHODS.get(name);
  if (Array.isArray(obj)) return (isTuple(obj) ? tupleMethods : listMethods).get(name);
  if (isDict(obj)) return dictMethods.get(name);
  return undefined;
}

function unsafe(obj: unknown, name: string): RenderError {
  return securityError(`access to attribute '${name}' of '${typeName(obj)}' object is unsafe`);
}

function classAttr(obj: unknown, name: string): unknown {
  if (obj instanceof Namespace) return hasKey(obj.attrs, name) ? obj.attrs[name] : MISSING;
  if (obj instanceof TemplateModule) return obj.exports.has(name) ? obj.exports.get(name) : MISSING;
  if (obj instanceof LoopContext) return obj.attr(name);
  if (obj instanceof Cycler) {
    if (name === 'current') return obj.items[obj.pos % obj.items.length];
    if (name === 'next') return new PyFunction('next', () => obj.items[obj.pos++ % obj.items.length]);
    if (name === 'reset') return new PyFunction('reset', () => ((obj.pos = 0), null));
    return MISSING;
  }
  if (obj instanceof Macro) {
    if (name === 'name') return obj.spec.name;
    if (name === 'arguments') return [...obj.spec.params];
    if (name === 'catch_kwargs') return obj.spec.catchKwargs;
    if (name === 'catch_varargs') return obj.spec.catchVarargs;
    if (name === 'caller') return obj.spec.usesCaller;
    return MISSING;
  }
  if (obj instanceof DictView) return MISSING;
  return MISSING;
}

/** `obj.name`: a Python attribute first, then an item (Jinja2's order for the dot). */
export function getattr(obj: unknown, name: string): unknown {
  if ((obj instanceof Undefined || obj === undefined) && JS_INTERNALS.has(name)) throw unsafe(obj, name);
  if (obj instanceof Undefined || obj === undefined) throw new RenderError((obj ?? undefinedName('value')).hint);
  const method = methodOf(obj, name);
  if (method) return new BoundMethod(obj, name, method);
  const own = isDict(obj) && hasKey(obj, name);
  if (own) return (obj as Dict)[name];
  if (JS_INTERNALS.has(name) || /^__.*__$/.test(name)) throw unsafe(obj, name);
  if (name.startsWith('_')) return new Undefined(`'${typeName(obj)} object' has no attribute '${name}'`);
  const attr = classAttr(obj, name);
  if (attr !== MISSING) return attr;
  return new Undefined(`'${typeName(obj)} object' has no attribute '${name}'`);
}

/** `obj[key]`: an item first, then (for a str key) an attribute. */
export function getitem(obj: unknown, key: unknown): unknown {
  if (obj instanceof Undefined || obj === undefined) throw new RenderError((obj ?? undefinedName('value')).hint);
  if (typeof key === 'number' && Number.isInteger(key) || typeof key === 'boolean') {
    const i = Number(key);
    if (Array.isArray(obj) || typeof obj === 'string') {
      const seq = typeof obj === 'string' ? Array.from(obj) : obj;
      const j = i < 0 ? seq.length + i : i;
      return j >= 0 && j < seq.length ? seq[j] : new Undefined(`${typeName(obj)} object has no element ${i}`);
    }
  }
  if (typeof key === 'string') {
    if (isDict(obj) && hasKey(obj, key)) return obj[key];
    if (isDict(obj) || Array.isArray(obj) || typeof obj === 'string' || obj instanceof Namespace || obj instanceof TemplateModule || obj instanceof LoopContext) {
      if (key.startsWith('_') || JS_INTERNALS.has(key)) {
        if (isDict(obj)) return new Undefined(`'dict object' has no attribute '${key}'`);
        throw unsafe(obj, key);
      }
      return getattr(obj, key);
    }
  }
  return new Undefined(`'${typeName(obj)} object' has no attribute '${typeof key === 'string' ? key : String(key)}'`);
}

