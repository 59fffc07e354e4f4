// Syntax tree to closures, with Jinja2's semantics: each node becomes a JS function once, when the template is
// first loaded, and rendering only calls them. No code is generated from template text, and every value a
// template reaches goes through runtime.ts (scopes, the sandboxed lookups, calls).
import type { DiagnosticCode } from '../core/diagnostics.js';
import type { FilterEnv, Filter } from './filters.js';
import type { Test } from './tests.js';
import { pyContains } from './tests.js';
import type { Node } from './syntax.js';
import {
  LoopContext,
  Macro,
  Namespace,
  PyFunction,
  Scope,
  TemplateModule,
  TemplateRef,
  callValue,
  isForbiddenName,
  iterate,
  lookupName,
  securityError,
  type MacroSpec,
} from './runtime.js';
import { getattr, getitem } from './attributes.js';
import * as py from './python.js';
import { RenderError, Undefined, dictSet, newDict, str, truthy, tuple, type Dict } from './python.js';
import { CODE_OF } from './errors.js';
import { checkOutput, checkSize, checkValue, tick } from './limits.js';

/** An error with its place in a template: what render() turns into a Diagnostic. */
export class TemplateFailure extends Error {
  constructor(
    readonly code: DiagnosticCode,
    message: string,
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly source: string,
  ) {
    super(message);
    this.name = 'TemplateFailure';
  }
}

/** Where a line of a compiled template comes from (an override template merges several files). */
export interface SourceLine {
  file: string;
  line: number;
  source: string;
}

export interface Template {
  name: string;
  root: Stmt;
  blocks: Map<string, Stmt>;
  where(line: number): SourceLine;
}

export interface Env {
  /** Compiled template by loader name; throws TemplateFailure (syntax) or RenderError 'notfound'. */
  load(name: string): Template;
  filters: Map<string, Filter>;
  tests: Map<string, Test>;
  globals: Map<string, unknown>;
}

interface Out {
  s: string;
  /** Set once the template's `{% extends %}` ran: the rest of its top-level output is dropped. */
  discard: boolean;
}

/** One template invocation (a render, an include, an import) and the templates it extends. */
interface Invocation {
  root: Scope;
  blocks: Map<string, Stmt[]>;
  parent: Template | null;
}

export interface Run {
  env: Env;
  inv: Invocation;
  blockValue: string;
}

type Expr = (s: Scope, rt: Run) => unknown;
type Stmt = (s: Scope, rt: Run, out: Out) => void;

export { CODE_OF };

function failureAt(e: unknown, where: SourceLine, column: number): TemplateFailure {
  if (e instanceof TemplateFailure) return e;
  let code: DiagnosticCode = 'KG301';
  let message: string;
  if (e instanceof RenderError) {
    code = CODE_OF[e.kind];
    message = e.message;
  } else if (e instanceof RangeError && /call stack/i.test(e.message)) {
    message = 'maximum recursion depth exceeded';
  } else {
    message = e instanceof Error ? e.message : String(e);
  }
  return new TemplateFailure(code, message, where.file, where.line, column, where.source);
}

export function renderTemplate(tpl: Template, env: Env, root: Scope): string {
  const rt: Run = { env, inv: newInvocation(tpl, root), blockValue: '' };
  return runInvocation(tpl, rt);
}

function newInvocation(tpl: Template, root: Scope): Invocation {
  const blocks = new Map<string, Stmt[]>();
  for (const [name, body] of tpl.blocks) blocks.set(name, [body]);
  return { root, blocks, parent: null };
}

function runInvocation(tpl: Template, rt: Run): string {
  const out: Out = { s: '', discard: false };
  tpl.root(rt.inv.root, rt, out);
  let text = out.s;
  while (rt.inv.parent) {
    const parent = rt.inv.parent;
    rt.inv.parent = null;
    const pout: Out = { s: '', discard: false };
    parent.root(rt.inv.root, rt, pout);
    text += pout.s;
    checkOutput(text.length);
  }
  return text;
}

/** Renders `tpl` in a new invocation (include, import) and restores the caller's. */
function runNested(tpl: Template, rt: Run, root: Scope): string {
  const saved = rt.inv;
  rt.inv = newInvocation(tpl, root);
  try {
    return runInvocation(tpl, rt);
  } finally {
    rt.inv = saved;
  }
}

function renderBlock(rt: Run, name: string, level: number): string {
  const chain = rt.inv.blocks.get(name) ?? [];
  const body = chain[level];
  if (!body) throw new RenderError(level === 0 ? `no block named '${name}'` : `there is no parent block called '${name}'`);
  const scope = new Scope(rt.inv.root);
  const inv = rt.inv;
  scope.set(
    'super',
    new PyFunction('super', () => {
      if (level + 1 >= chain.length) throw new RenderError(`there is no parent block called '${name}'`);
      const saved = rt.inv;
      rt.inv = inv;
      try {
        return renderBlock(rt, name, level + 1);
      } finally {
        rt.inv = saved;
      }
    }),
  );
  const out: Out = { s: '', discard: false };
  body(scope, rt, out);
  return out.s;
}

function templateName(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof TemplateRef) return v.name;
  if (v instanceof Undefined) v.fail();
  throw new RenderError(`a template name must be a string, not ${py.typeName(v)}`);
}

/** The first template of a name or list of names that exists; missing ones raise 'notfound'. */
function loadAny(env: Env, v: unknown, ignoreMissing: boolean): Template | null {
  const names = Array.isArray(v) ? v.map(templateName) : [templateName(v)];
  for (const name of names) {
    try {
      return env.load(name);
    } catch (e) {
      if (!(e instanceof RenderError && e.kind === 'notfound')) throw e;
    }
  }
  if (ignoreMissing) return null;
  throw new RenderError(names.length === 1 ? `template '${names[0]}' not found` : `none of the templates ${py.repr(names)} were found`, 'notfound');
}

function makeModule(tpl: Template, rt: Run, root: Scope): TemplateModule {
  runNested(tpl, rt, root);
  const exports = new Map<string, unknown>();
  for (const [k, v] of root.own()) if (!k.startsWith('_')) exports.set(k, v);
  return new TemplateModule(tpl.name, exports);
}

function filterEnv(rt: Run, s: Scope): FilterEnv {
  return {
    resolve: (name) => {
      const v = lookupName(s, rt.env.globals, name);
      return v instanceof Undefined ? undefined : v;
    },
    filter: (name) => {
      const f = rt.env.filters.get(name);
      if (!f) throw new RenderError(`no filter named '${name}'`, 'syntax');
      return f;
    },
    test: (name) => {
      const t = rt.env.tests.get(name);
      if (!t) throw new RenderError(`no test named '${name}'`, 'syntax');
      return t;
    },
  };
}

function unpack(value: unknown, count: number): unknown[] {
  const items = iterate(value);
  if (items.length !== count) {
    throw new RenderError(items.length < count ? `not enough values to unpack (expected ${count}, got ${items.length})` : `too many values to unpack (expected ${count})`);
  }
  return items;
}

function sliceOf(v: unknown, start: unknown, stop: unknown, step: unknown): unknown {
  if (v instanceof Undefined) v.fail();
  const seq = typeof v === 'string' ? Array.from(v) : Array.isArray(v) ? v : null;
  if (!seq) throw new RenderError(`'${py.typeName(v)}' object is not subscriptable`);
  const n = seq.length;
  const st = step === null || step === undefined ? 1 : (py.toNumber(step) ?? 1);
  if (st === 0) throw new RenderError('slice step cannot be zero');
  const norm = (x: unknown, def: number, lo: number, hi: number): number => {
    if (x === null || x === undefined || x instanceof Undefined) return def;
    let i = py.toNumber(x) ?? def;
    if (i < 0) i += n;
    return Math.min(Math.max(i, lo), hi);
  };
  const out: unknown[] = [];
  if (st > 0) {
    const a = norm(start, 0, 0, n);
    const b = norm(stop, n, 0, n);
    for (let i = a; i < b; i += st) out.push(seq[i]);
  } else {
    const a = norm(start, n - 1, -1, n - 1);
    const b = norm(stop, -1, -1, n - 1);
    for (let i = a; i > b; i += st) out.push(seq[i]);
  }
  if (typeof v === 'string') return out.join('');
  return py.isTuple(v) ? tuple(out) : out;
}

/** Names a body reads, to know whether a macro takes `caller`, `varargs` or `kwargs`. */
function readsName(node: unknown, name: string): boolean {
  if (!node || typeof node !== 'object') return false;
  if (Array.isArray(node)) return node.some((n) => readsName(n, name));
  const n = node as Node;
  if (n.typename === 'Symbol' && n.value === name) return true;
  if (n.typename === 'Macro') return false;
  for (const key of Object.keys(n)) {
    if (key !== 'lineno' && key !== 'colno' && key !== 'typename' && readsName(n[key], name)) return true;
  }
  return false;
}

const BINARY: Record<string, (a: unknown, b: unknown) => unknown> = {
  Add: py.add,
  Sub: py.sub,
  Mul: py.mul,
  Div: py.div,
  FloorDiv: py.floorDiv,
  Mod: py.mod,
  Pow: py.pow,
  Concat: (a, b) => {
    const l = str(a);
    const r = str(b);
    checkSize(l.length + r.length, 'the result of ~', Math.min(l.length, r.length));
    return l + r;
  },
};

function compareOp(op: string, a: unknown, b: unknown): boolean {
  switch (op) {
    case '==':
      return py.pyEquals(a, b);
    case '!=':
      return !py.pyEquals(a, b);
    case '<':
      return py.pyCompare(a, b, op) < 0;
    case '>':
      return py.pyCompare(a, b, op) > 0;
    case '<=':
      return py.pyCompare(a, b, op) <= 0;
    case '>=':
      return py.pyCompare(a, b, op) >= 0;
    case 'in':
      return pyContains(b, a);
    case 'notin':
      return !pyContains(b, a);
  }
  throw new RenderError(`unknown comparison ${op}`);
}

const write = (out: Out, text: string): void => {
  if (out.discard) return;
  out.s += text;
  checkOutput(out.s.length);
};

export class Compiler {
  private readonly blocks = new Map<string, Stmt>();

  constructor(private readonly where: (line: number) => SourceLine) {}

  compileTemplate(name: string, root: Node): Template {
    const body = this.stmt(root);
    return { name, root: body, blocks: this.blocks, where: this.where };
  }

  /** Wraps a closure so that an error inside it points at `node` (unless an inner node already claimed it). */
  private at<F extends Expr | Stmt>(node: Node, f: F): F {
    const where = this.where;
    const line = node.lineno + 1;
    const column = node.colno + 1;
    const g = f as (s: Scope, rt: Run, out?: Out) => unknown;
    // Fixed arity: a rest parameter here would allocate on every evaluation.
    return ((s: Scope, rt: Run, out?: Out) => {
      try {
        return g(s, rt, out);
      } catch (e) {
        let failure: TemplateFailure;
        try {
          failure = failureAt(e, where(line), column);
        } catch {
          // Out of stack here too (a runaway recursion): an outer frame, with more stack, places the error.
          throw e;
        }
        throw failure;
      }
    }) as F;
  }

  private fail(message: string, node: Node): never {
    const w = this.where(node.lineno + 1);
    throw new TemplateFailure('KG300', message, w.file, w.line, node.colno + 1, w.source);
  }

  // --- statements -------------------------------------------------------------------------------------------------

  private stmts(nodes: Node[]): Stmt {
    const fs = nodes.map((n) => this.stmt(n));
    if (fs.length === 1) return fs[0]!;
    return (s, rt, out) => {
      for (const f of fs) f(s, rt, out);
    };
  }

  private stmt(node: Node): Stmt {
    switch (node.typename) {
      case 'Root':
      case 'NodeList':
        return this.stmts(node.children);
      case 'Output':
        return this.output(node);
      case 'If': {
        const cond = this.expr(node.cond);
        const body = this.stmt(node.body);
        const else_ = node.else_ ? this.stmt(node.else_) : null;
        const test = this.at(node, (s: Scope, rt: Run) => truthy(cond(s, rt)));
        return (s, rt, out) => {
          if (test(s, rt)) body(s, rt, out);
          else if (else_) else_(s, rt, out);
        };
      }
      case 'For':
        return this.forLoop(node);
      case 'Set':
        return this.set(node);
      case 'Macro': {
        const spec = this.macroSpec(node.name.value, node);
        const name: string = node.name.value;
        return (s, rt) => s.set(name, new Macro(spec, s, rt));
      }
      case 'Block':
        return this.block(node);
      case 'Extends':
        return this.extends(node);
      case 'Include':
        return this.include(node);
      case 'Import':
        return this.import(node);
      case 'FromImport':
        return this.fromImport(node);
      case 'With': {
        const assigns = (node.assignments as { target: Node; value: Node }[]).map((a) => ({ assign: this.assigner(a.target), value: this.expr(a.value) }));
        const body = this.stmt(node.body);
        return (s, rt, out) => {
          const inner = new Scope(s);
          for (const a of assigns) a.assign(inner, rt, a.value(s, rt));
          body(inner, rt, out);
        };
      }
      default:
        return this.fail(`the '${node.typename}' tag is not supported`, node);
    }
  }

  private output(node: Node): Stmt {
    const parts = (node.children as Node[]).map((child): Stmt => {
      if (child.typename === 'TemplateData') {
        const text = String(child.value);
        return (_s, _rt, out) => write(out, text);
      }
      const e = this.expr(child);
      return this.at(child, (s: Scope, rt: Run, out: Out) => {
        const v = e(s, rt);
        if (!out.discard) write(out, typeof v === 'string' ? v : str(v));
      });
    });
    if (parts.length === 1) return parts[0]!;
    return (s, rt, out) => {
      for (const p of parts) p(s, rt, out);
    };
  }

  private forLoop(node: Node): Stmt {
    if (node.recursive) this.fail('recursive for loops are not supported', node);
    const iter = this.expr(node.iter);
    const assign = this.assigner(node.target);
    const test = node.test ? this.expr(node.test) : null;
    const body = this.stmt(node.body);
    const else_ = node.else_ ? this.stmt(node.else_) : null;
    return this.at(node, (s: Scope, rt: Run, out: Out) => {
      let items = iterate(iter(s, rt)).slice();
      if (test) {
        items = items.filter((item) => {
          tick();
          const scope = new Scope(s);
          assign(scope, rt, item);
          return truthy(test(scope, rt));
        });
      }
      if (!items.length) {
        if (else_) else_(s, rt, out);
        return;
      }
      const loop = new LoopContext(items, 0);
      // Each iteration has its own scope: a `set` in one is not seen by the next, nor after the loop.
      for (let i = 0; i < items.length; i++) {
        tick();
        const scope = new Scope(s);
        scope.set('loop', loop);
        loop.index0 = i;
        assign(scope, rt, items[i]);
        body(scope, rt, out);
      }
    });
  }

  /** Assignment to a `for`/`set`/`with` target: a name, a tuple of names, or `ns.attr`. */
  private assigner(target: Node): (s: Scope, rt: Run, v: unknown) => void {
    if (target.typename === 'Symbol') {
      const name: string = target.value;
      return (s, _rt, v) => s.set(name, v);
    }
    if (target.typename === 'Tuple') {
      const names = (target.children as Node[]).map((c) => c.value as string);
      return (s, _rt, v) => {
        const items = unpack(v, names.length);
        names.forEach((n, i) => s.set(n, items[i]));
      };
    }
    if (target.typename === 'NSRef') {
      const { name, attr } = target as unknown as { name: string; attr: string };
      if (attr.startsWith('_')) {
        const w = this.where(target.lineno + 1);
        throw new TemplateFailure('KG302', `assigning the attribute '${attr}' is not allowed`, w.file, w.line, target.colno + 1, w.source);
      }
      return (s, rt, v) => {
        const ns = lookupName(s, rt.env.globals, name);
        if (!(ns instanceof Namespace)) throw new RenderError('cannot assign attribute on non-namespace object');
        dictSet(ns.attrs, attr, v);
      };
    }
    return this.fail('cannot assign to this expression', target);
  }

  private set(node: Node): Stmt {
    const assign = this.assigner(node.target);
    if (node.value) {
      const value = this.expr(node.value);
      return this.at(node, (s: Scope, rt: Run) => assign(s, rt, value(s, rt)));
    }
    const body = this.stmt(node.body);
    const filter = node.filter ? this.expr(node.filter) : null;
    return this.at(node, (s: Scope, rt: Run) => {
      const out: Out = { s: '', discard: false };
      body(s, rt, out);
      if (!filter) return assign(s, rt, out.s);
      const saved = rt.blockValue;
      rt.blockValue = out.s;
      try {
        assign(s, rt, filter(s, rt));
      } finally {
        rt.blockValue = saved;
      }
    });
  }

  private macroSpec(name: string, node: Node): MacroSpec {
    const params: string[] = [];
    const defaults = new Map<string, (scope: Scope, rt: unknown) => unknown>();
    for (const arg of (node.args?.children ?? []) as Node[]) {
      if (arg.typename === 'Symbol') params.push(arg.value);
      else if (arg.typename === 'KeywordArgs') {
        for (const pair of arg.children as Node[]) {
          const dflt = this.expr(pair.value);
          params.push(pair.key.value);
          defaults.set(pair.key.value, (scope, rt) => dflt(scope, rt as Run));
        }
      } else this.fail('expected a parameter name', arg);
    }
    const body = this.stmt(node.body);
    return {
      name,
      params,
      defaults,
      catchKwargs: readsName(node.body, 'kwargs'),
      catchVarargs: readsName(node.body, 'varargs'),
      usesCaller: readsName(node.body, 'caller'),
      run(scope, rt) {
        const out: Out = { s: '', discard: false };
        body(scope, rt as Run, out);
        return out.s;
      },
    };
  }

  private block(node: Node): Stmt {
    const name: string = node.name.value;
    if (this.blocks.has(name)) this.fail(`block '${name}' defined twice`, node);
    this.blocks.set(name, () => undefined);
    this.blocks.set(name, this.stmt(node.body));
    return this.at(node, (_s: Scope, rt: Run, out: Out) => {
      // A child's blocks render only where its parent places them.
      if (!out.discard) write(out, renderBlock(rt, name, 0));
    });
  }

  private extends(node: Node): Stmt {
    const template = this.expr(node.template);
    return this.at(node, (s: Scope, rt: Run, out: Out) => {
      if (rt.inv.parent) throw new RenderError('extended multiple times');
      const parent = loadAny(rt.env, template(s, rt), false)!;
      for (const [name, body] of parent.blocks) {
        const chain = rt.inv.blocks.get(name);
        if (chain) chain.push(body);
        else rt.inv.blocks.set(name, [body]);
      }
      rt.inv.parent = parent;
      out.discard = true;
    });
  }

  private include(node: Node): Stmt {
    const template = this.expr(node.template);
    const ignoreMissing = !!node.ignoreMissing;
    const withContext = node.withContext !== false;
    return this.at(node, (s: Scope, rt: Run, out: Out) => {
      const tpl = loadAny(rt.env, template(s, rt), ignoreMissing);
      if (!tpl) return;
      write(out, runNested(tpl, rt, new Scope(withContext ? s : null)));
    });
  }

  private import(node: Node): Stmt {
    const template = this.expr(node.template);
    if (node.target.typename !== 'Symbol') this.fail('expected a name after "as"', node.target);
    const target: string = node.target.value;
    const withContext = node.withContext === true;
    return this.at(node, (s: Scope, rt: Run) => {
      const tpl = loadAny(rt.env, template(s, rt), false)!;
      s.set(target, makeModule(tpl, rt, new Scope(withContext ? s : null)));
    });
  }

  private fromImport(node: Node): Stmt {
    const template = this.expr(node.template);
    const withContext = node.withContext === true;
    const names = (node.names.children as Node[]).map((n) =>
      n.typename === 'Pair' ? { name: n.key.value as string, alias: n.value.value as string } : { name: n.value as string, alias: n.value as string },
    );
    return this.at(node, (s: Scope, rt: Run) => {
      const tpl = loadAny(rt.env, template(s, rt), false)!;
      const mod = makeModule(tpl, rt, new Scope(withContext ? s : null));
      for (const { name, alias } of names) {
        s.set(alias, mod.exports.has(name) ? mod.exports.get(name) : new Undefined(`the template '${tpl.name}' does not export the requested name '${name}'`));
      }
    });
  }

  // --- expressions -------------------------------------------------------------------------------------------

  private expr(node: Node): Expr {
    switch (node.typename) {
      case 'Literal': {
        const v = node.float ? py.makeFloat(node.value) : node.value;
        const digits = typeof node.digits === 'string' ? node.digits.replace(/_/g, '').replace(/^0+(?=\d)/, '') : undefined;
        if (typeof v === 'number' && digits !== undefined && py.str(v) !== digits) {
          // A double cannot hold this int: refused where it is evaluated (Jinja2 renders a branch not taken).
          return this.at(node, () => {
            throw new RenderError(`the int ${digits} has ${digits.length} digits: Python holds it exactly, kolla-gen only ints a double holds (every int up to 2**53)`, 'unsupported');
          });
        }
        return () => v;
      }
      case 'Symbol': {
        const name: string = node.value;
        if (isForbiddenName(name)) return this.at(node, (s: Scope, rt: Run) => lookupName(s, rt.env.globals, name));
        return (s, rt) => lookupName(s, rt.env.globals, name);
      }
      case 'Tuple': {
        const items = (node.children as Node[]).map((c) => this.expr(c));
        return (s, rt) => tuple(items.map((f) => f(s, rt)));
      }
      case 'List':
      case 'Array': {
        const items = (node.children as Node[]).map((c) => this.expr(c));
        return (s, rt) => items.map((f) => f(s, rt));
      }
      case 'Dict': {
        const pairs = (node.children as Node[]).map((p) => ({ key: this.expr(p.key), value: this.expr(p.value) }));
        return (s, rt) => {
          const d = newDict();
          for (const p of pairs) dictSet(d, str(p.key(s, rt)), p.value(s, rt));
          return d;
        };
      }
      case 'Getattr': {
        const target = this.expr(node.target);
        const name: string = node.name;
        return this.at(node, (s: Scope, rt: Run) => getattr(target(s, rt), name));
      }
      case 'Getitem': {
        const target = this.expr(node.target);
        if (node.key.typename === 'Slice') {
          const k = node.key;
          const [a, b, c] = [k.start, k.stop, k.step].map((x: Node | null) => (x ? this.expr(x) : null));
          return this.at(node, (s: Scope, rt: Run) => sliceOf(target(s, rt), a?.(s, rt), b?.(s, rt), c?.(s, rt)));
        }
        const key = this.expr(node.key);
        return this.at(node, (s: Scope, rt: Run) => getitem(target(s, rt), key(s, rt)));
      }
      case 'FunCall':
        return this.call(node);
      case 'Filter':
        return this.filter(node);
      case 'Test':
        return this.test(node);
      case 'InlineIf': {
        const cond = this.expr(node.cond);
        const body = this.expr(node.body);
        const else_ = node.else_ ? this.expr(node.else_) : null;
        // Jinja2 gives the default Undefined here even in strict mode.
        const none = new Undefined('the inline if expression evaluated to false and no else section was defined', false);
        return (s, rt) => (truthy(cond(s, rt)) ? body(s, rt) : else_ ? else_(s, rt) : none);
      }
      case 'Or': {
        const l = this.expr(node.left);
        const r = this.expr(node.right);
        return this.at(node, (s: Scope, rt: Run) => {
          const v = l(s, rt);
          return truthy(v) ? v : r(s, rt);
        });
      }
      case 'And': {
        const l = this.expr(node.left);
        const r = this.expr(node.right);
        return this.at(node, (s: Scope, rt: Run) => {
          const v = l(s, rt);
          return truthy(v) ? r(s, rt) : v;
        });
      }
      case 'Not': {
        const t = this.expr(node.target);
        return this.at(node, (s: Scope, rt: Run) => !truthy(t(s, rt)));
      }
      case 'Neg': {
        const t = this.expr(node.target);
        return this.at(node, (s: Scope, rt: Run) => py.neg(t(s, rt)));
      }
      case 'Pos': {
        const t = this.expr(node.target);
        return this.at(node, (s: Scope, rt: Run) => py.pos(t(s, rt)));
      }
      case 'Compare': {
        const first = this.expr(node.expr);
        const ops = (node.ops as Node[]).map((o) => ({ op: o.type as string, expr: this.expr(o.expr) }));
        return this.at(node, (s: Scope, rt: Run) => {
          let left = first(s, rt);
          for (const { op, expr } of ops) {
            const right = expr(s, rt);
            if (!compareOp(op, left, right)) return false;
            left = right;
          }
          return true;
        });
      }
      case 'Capture': {
        const body = this.stmt(node.body);
        return (s, rt) => {
          const out: Out = { s: '', discard: false };
          body(s, rt, out);
          return out.s;
        };
      }
      case 'Caller': {
        const spec = this.macroSpec('caller', node);
        return (s, rt) => new Macro(spec, s, rt);
      }
      case 'BlockValue':
        return (_s, rt) => rt.blockValue;
      default: {
        const op = BINARY[node.typename];
        if (op) {
          const l = this.expr(node.left);
          const r = this.expr(node.right);
          return this.at(node, (s: Scope, rt: Run) => op(l(s, rt), r(s, rt)));
        }
        return this.fail(`unexpected ${node.typename} in an expression`, node);
      }
    }
  }

  /** Positional and keyword arguments of a call, filter or test: args NodeList (KeywordArgs last) and `*`/`**`. */
  private args(list: Node[], starArgs: Node | null, starKwargs: Node | null): (s: Scope, rt: Run) => { args: unknown[]; kwargs: Dict } {
    const pos: Expr[] = [];
    const kw: { name: string; value: Expr }[] = [];
    for (const a of list) {
      if (a.typename === 'KeywordArgs') for (const p of a.children as Node[]) kw.push({ name: p.key.value, value: this.expr(p.value) });
      else pos.push(this.expr(a));
    }
    const star = starArgs ? this.expr(starArgs) : null;
    const starKw = starKwargs ? this.expr(starKwargs) : null;
    return (s, rt) => {
      const args = pos.map((f) => f(s, rt));
      if (star) args.push(...iterate(star(s, rt)));
      const kwargs = newDict();
      for (const { name, value } of kw) kwargs[name] = value(s, rt);
      if (starKw) {
        const d = starKw(s, rt);
        if (!py.isDict(d)) throw new RenderError('argument after ** must be a mapping');
        for (const k of Object.keys(d)) dictSet(kwargs, k, d[k]);
      }
      return { args, kwargs };
    };
  }

  private call(node: Node): Expr {
    const callee = this.expr(node.name);
    const argv = this.args(node.args.children, node.starArgs ?? null, node.starKwargs ?? null);
    const what = node.name.typename === 'Symbol' ? `'${node.name.value}'` : '';
    return this.at(node, (s: Scope, rt: Run) => {
      const fn = callee(s, rt);
      const { args, kwargs } = argv(s, rt);
      tick();
      return checkValue(callValue(fn, args, kwargs, what), `the result of ${what || 'the call'}`);
    });
  }

  private filter(node: Node): Expr {
    const name: string = node.name.value;
    const [valueNode, ...rest] = node.args.children as Node[];
    const value = this.expr(valueNode!);
    const argv = this.args(rest, node.starArgs ?? null, node.starKwargs ?? null);
    return this.at(node, (s: Scope, rt: Run) => {
      const f = rt.env.filters.get(name);
      if (!f) throw new RenderError(`no filter named '${name}'`, 'syntax');
      const v = value(s, rt);
      const { args, kwargs } = argv(s, rt);
      tick();
      return checkValue(f(filterEnv(rt, s), v, args, kwargs), `the result of the filter '${name}'`);
    });
  }

  private test(node: Node): Expr {
    const name: string = node.name;
    const value = this.expr(node.node);
    const argv = this.args([...(node.args as Node[]), ...(node.kwargs ? [node.kwargs] : [])], null, null);
    return this.at(node, (s: Scope, rt: Run) => {
      const t = rt.env.tests.get(name);
      if (!t) throw new RenderError(`no test named '${name}'`, 'syntax');
      const { args, kwargs } = argv(s, rt);
      return t(value(s, rt), args, kwargs);
    });
  }
}

export { securityError };
