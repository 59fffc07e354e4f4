// What a template can reach at run time: scopes, attribute and item lookup (the sandbox), calls, iteration,
// and the objects Jinja2 gives templates (macros, loop, namespace, cycler, joiner, imported modules).
//
// The sandbox is a whitelist (lookups in attributes.ts): a lookup returns an own key of a dict, an element of a list or str, a Python
// method from the tables in methods.ts, or an attribute these classes declare. Nothing else of a JS value is
// ever read, so prototypes, constructors and functions' properties are out of reach.
import {
  DictView,
  RenderError,
  Undefined,
  hasKey,
  isDict,
  newDict,
  pyEquals,
  tuple,
  typeName,
  undefinedName,
  type Dict,
} from './python.js';

/** Names of JS internals: reading one that a template did not define itself is an escape attempt. */
export const JS_INTERNALS = new Set([
  'constructor', 'prototype', '__proto__', 'toString', 'toLocaleString', 'valueOf', 'hasOwnProperty',
  'isPrototypeOf', 'propertyIsEnumerable', '__defineGetter__', '__defineSetter__', '__lookupGetter__',
  '__lookupSetter__', 'call', 'apply', 'bind', 'caller', 'callee', 'arguments',
]);
const JS_GLOBALS = new Set(['process', 'require', 'globalThis', 'global', 'module', 'exports', 'eval', 'Function', 'import']);

export function securityError(message: string): RenderError {
  return new RenderError(message, 'security');
}

/** Whether reading variable `name` (when no scope defines it) is an escape attempt. */
export function isForbiddenName(name: string): boolean {
  return JS_INTERNALS.has(name) || JS_GLOBALS.has(name);
}

// --- scopes ----------------------------------------------------------------------------------------------------

export const MISSING: unique symbol = Symbol('missing');

/** One level of variables: a template's top level, a for loop, a macro call, a block. */
export class Scope {
  private vars: Map<string, unknown> | null = null;
  /** Copies of the base's lists and dicts, made when first read, so that a template mutates only its copy. */
  private copies: Map<string, unknown> | null = null;
  constructor(
    readonly parent: Scope | null,
    /** The caller's context variables, consulted after this scope's own variables. Never mutated. */
    readonly base: Dict | null = null,
    /** Receives every name looked up in base, found or not: all a render learns of its context. */
    private readonly reads: Set<string> | null = null,
  ) {}

  get(name: string): unknown {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- walking the chain from this scope up
    for (let s: Scope | null = this; s; s = s.parent) {
      if (s.vars !== null) {
        const v = s.vars.get(name);
        if (v !== undefined || s.vars.has(name)) return v;
      }
      if (s.base !== null) {
        s.reads?.add(name);
        if (hasKey(s.base, name)) return s.fromBase(name);
      }
    }
    return MISSING;
  }

  private fromBase(name: string): unknown {
    const v = this.base![name];
    if (v === null || typeof v !== 'object') return v;
    this.copies ??= new Map();
    if (!this.copies.has(name)) this.copies.set(name, copyData(v));
    return this.copies.get(name);
  }

  set(name: string, value: unknown): void {
    (this.vars ??= new Map()).set(name, value);
  }

  /** This level's own variables, in the order they were set. */
  own(): Map<string, unknown> {
    return this.vars ?? new Map();
  }
}

/** A deep copy of JSON-like data (lists and dicts); other values are shared. */
export function copyData(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(copyData);
  if (isDict(v)) {
    const d = newDict();
    for (const k of Object.keys(v)) d[k] = copyData(v[k]);
    return d;
  }
  return v;
}

export function lookupName(scope: Scope, globals: Map<string, unknown>, name: string): unknown {
  const v = scope.get(name);
  if (v !== MISSING) return v;
  const g = globals.get(name);
  if (g !== undefined) return g;
  if (isForbiddenName(name)) throw securityError(`access to '${name}' is not allowed: templates may read only their variables`);
  return undefinedName(name);
}

// --- callables ---------------------------------------------------------------------------------------------------

/** A Python method of str, list, tuple or dict: the tables are in methods.ts. */
export type Method = (self: never, args: unknown[], kwargs: Dict) => unknown;

export type Native = (args: unknown[], kwargs: Dict) => unknown;

/** A built-in function a template may call (range, dict, a filter's helper, super). */
/** How Jinja2 prints its globals that are classes, not functions. */
const GLOBAL_CLASSES: Record<string, string> = {
  // Jinja2's sandbox prints range as '<function safe_range at 0x…>', an address no output should hold.
  range: '<function safe_range>',
  dict: "<class 'dict'>",
  namespace: "<class 'jinja2.utils.Namespace'>",
  cycler: "<class 'jinja2.utils.Cycler'>",
  joiner: "<class 'jinja2.utils.Joiner'>",
};

export class PyFunction {
  readonly pyType = 'builtin_function_or_method';
  constructor(
    readonly name: string,
    readonly fn: Native,
  ) {}

  pyStr(): string {
    return GLOBAL_CLASSES[this.name] ?? `<function ${this.name}>`;
  }
}

export class BoundMethod {
  readonly pyType = 'builtin_function_or_method';
  constructor(
    readonly self: unknown,
    readonly name: string,
    readonly method: Method,
  ) {}
}

export interface MacroSpec {
  name: string;
  params: string[];
  /** Defaults of the last params, evaluated at call time in the macro's scope. */
  defaults: Map<string, (scope: Scope, run: unknown) => unknown>;
  catchKwargs: boolean;
  catchVarargs: boolean;
  usesCaller: boolean;
  run(scope: Scope, run: unknown): string;
}

export class Macro {
  readonly pyType = 'Macro';
  constructor(
    readonly spec: MacroSpec,
    readonly scope: Scope,
    /** The render this macro was defined in (its body runs in it). */
    private readonly run: unknown,
  ) {}

  invoke(args: unknown[], kwargs: Dict): string {
    const { spec } = this;
    const scope = new Scope(this.scope);
    const extraKw = newDict();
    let caller: unknown = MISSING;
    for (const key of Object.keys(kwargs)) {
      if (key === 'caller' && spec.usesCaller) caller = kwargs[key];
      else if (!spec.params.includes(key)) extraKw[key] = kwargs[key];
    }
    if (args.length > spec.params.length && !spec.catchVarargs) {
      throw new RenderError(`macro '${spec.name}' takes not more than ${spec.params.length} argument(s)`);
    }
    spec.params.forEach((param, i) => {
      if (i < args.length) {
        if (hasKey(kwargs, param)) throw new RenderError(`macro '${spec.name}' got multiple values for argument '${param}'`);
        scope.set(param, args[i]);
      } else if (hasKey(kwargs, param)) {
        scope.set(param, kwargs[param]);
      } else {
        const d = spec.defaults.get(param);
        scope.set(param, d ? d(scope, this.run) : new Undefined(`parameter '${param}' was not provided`));
      }
    });
    if (spec.usesCaller) scope.set('caller', caller === MISSING ? new Undefined(`No caller defined`) : caller);
    if (Object.keys(extraKw).length && !spec.catchKwargs) {
      throw new RenderError(`macro '${spec.name}' takes no keyword argument '${Object.keys(extraKw)[0]}'`);
    }
    if (spec.catchKwargs) scope.set('kwargs', extraKw);
    if (spec.catchVarargs) scope.set('varargs', args.slice(spec.params.length));
    return spec.run(scope, this.run);
  }

  pyStr(): string {
    return `<Macro '${this.spec.name}'>`;
  }
}

/** What `{% import "x.j2" as m %}` binds: the template's exported top-level names. */
export class TemplateModule {
  readonly pyType = 'TemplateModule';
  constructor(
    readonly name: string,
    readonly exports: Map<string, unknown>,
  ) {}
  pyStr(): string {
    return `<Template module '${this.name}'>`;
  }
}

export class Namespace {
  readonly pyType = 'Namespace';
  readonly attrs: Dict = newDict();
  pyStr(): string {
    return `<Namespace ${Object.keys(this.attrs).length ? `{${Object.keys(this.attrs).map((k) => `'${k}': …`).join(', ')}}` : '{}'}>`;
  }
}

export class Cycler {
  readonly pyType = 'Cycler';
  pos = 0;
  constructor(readonly items: unknown[]) {}
}

export class Joiner {
  readonly pyType = 'Joiner';
  used = false;
  constructor(readonly sep: string) {}
}

/** `loop` inside a for loop. */
export class LoopContext {
  readonly pyType = 'LoopContext';
  index0 = -1;
  private lastChanged: unknown = MISSING;
  constructor(
    readonly items: unknown[],
    readonly depth0: number,
  ) {}

  attr(name: string): unknown {
    const i = this.index0;
    const n = this.items.length;
    switch (name) {
      case 'index':
        return i + 1;
      case 'index0':
        return i;
      case 'revindex':
        return n - i;
      case 'revindex0':
        return n - i - 1;
      case 'first':
        return i === 0;
      case 'last':
        return i === n - 1;
      case 'length':
        return n;
      case 'depth':
        return this.depth0 + 1;
      case 'depth0':
        return this.depth0;
      case 'previtem':
        return i > 0 ? this.items[i - 1] : new Undefined('there is no previous item');
      case 'nextitem':
        return i < n - 1 ? this.items[i + 1] : new Undefined('there is no next item');
      case 'cycle':
        return new PyFunction('cycle', (args) => {
          if (!args.length) throw new RenderError('no items for cycling given');
          return args[i % args.length];
        });
      case 'changed':
        // Compared as Python compares (==), item by item within the work budget; a text key would be unbounded.
        return new PyFunction('changed', (args) => {
          if (this.lastChanged !== MISSING && pyEquals(tuple(args), this.lastChanged)) return false;
          this.lastChanged = tuple(args);
          return true;
        });
      default:
        return MISSING;
    }
  }
}

/** `parent_template` in an override: the image's template, for `{% extends parent_template %}`. */
export class TemplateRef {
  readonly pyType = 'Template';
  constructor(readonly name: string) {}
  pyStr(): string {
    return `<Template '${this.name}'>`;
  }
}

// --- calls and iteration ----------------------------------------------------------------------------------------

export function callValue(fn: unknown, args: unknown[], kwargs: Dict, what: string): unknown {
  if (fn instanceof Macro) return fn.invoke(args, kwargs);
  if (fn instanceof BoundMethod) return fn.method(fn.self as never, args, kwargs);
  if (fn instanceof PyFunction) return fn.fn(args, kwargs);
  if (fn instanceof Joiner) {
    if (!fn.used) {
      fn.used = true;
      return '';
    }
    return fn.sep;
  }
  if (typeof fn === 'function') {
    // A function the caller put in the context or globals (raise_error, …): call it with plain arguments.
    return Object.keys(kwargs).length ? fn(...args, kwargs) : fn(...args);
  }
  if (fn instanceof Undefined) fn.fail();
  throw new RenderError(`'${typeName(fn)}' object is not callable${what ? ` (${what})` : ''}`);
}

export function iterate(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return Array.from(v);
  if (isDict(v)) return Object.keys(v);
  if (v instanceof DictView) return v.list();
  if (v instanceof Undefined) v.use();
  if (v instanceof Undefined || v === undefined) return [];
  throw new RenderError(`'${typeName(v)}' object is not iterable`);
}

export function length(v: unknown): number {
  if (typeof v === 'string') return Array.from(v).length;
  if (Array.isArray(v)) return v.length;
  if (isDict(v)) return Object.keys(v).length;
  if (v instanceof DictView) return Object.keys(v.dict).length;
  if (v instanceof Undefined) {
    v.use();
    return 0;
  }
  throw new RenderError(`object of type '${typeName(v)}' has no len()`);
}
