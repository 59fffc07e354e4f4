// The render stage: Jinja2 templates (parsed by nunjucks, evaluated with Jinja2's semantics in a sandbox) to text.
// Pure: templates come in through `load`, results and problems go out as data.
import { error, type Diagnostic } from '../core/diagnostics.js';
import { Compiler, TemplateFailure, renderTemplate, type Env, type SourceLine, type Template } from './compile.js';
import { CODE_OF } from './errors.js';
import { DEFAULT_RENDER_LIMITS, withBudget, type RenderLimits } from './limits.js';

export { DEFAULT_RENDER_LIMITS, LIMIT_SETTINGS, type RenderLimits } from './limits.js';
import { filters } from './filters.js';
import { kollaFilters } from './kolla-filters.js';
import { bind } from './methods.js';
import { RenderError, dictSet, isDict, newDict, type Dict } from './python.js';
import { Cycler, Joiner, Namespace, PyFunction, Scope, TemplateRef, iterate } from './runtime.js';
import { TemplateSyntaxError, normalizeSource } from './syntax.js';
import { forgetTree, parsedTemplate } from './parsed.js';
import { tests } from './tests.js';

export interface TemplateSourceFile {
  /** Display path relative to cwd, e.g. "docker/nova/nova-api/Dockerfile.j2". */
  path: string;
  source: string;
}

export interface RendererOptions {
  /** Resolve a loader name ("macros.j2", "nova/nova-api/Dockerfile.j2") from the merged tree; undefined = not found. */
  load(name: string): TemplateSourceFile | undefined;
  /**
   * --template-override files in order. kolla-build's rule: the first is used whole; each later one is appended
   * (after a "\n") without its first line (its `{% extends parent_template %}` line).
   */
  overrides?: TemplateSourceFile[];
  /** Extra template globals (functions are called with the template's arguments, keyword arguments last as one object). */
  globals?: Record<string, unknown>;
  /** The bounds of each render (value size, output size, steps); unset ones take DEFAULT_RENDER_LIMITS. */
  limits?: Partial<RenderLimits>;
  /** Jinja2's StrictUndefined: printing, testing, iterating or comparing an undefined value is an error (KG313). */
  strictUndefined?: boolean;
}

export type RenderResult = { ok: true; text: string } | { ok: false; diagnostic: Diagnostic };

export interface Renderer {
  /**
   * Render one image's template (a loader name) with a context. With overrides, the merged override template
   * is rendered instead, with `parent_template` set to the image's template.
   */
  /**
   * `loaded`, when given, receives the loader names the render loads (its own template, imports, includes, extends),
   * in first-use order. A render is a function of its context, the renderer's options and the sources of these
   * names: with all of them unchanged, it renders the same text again (how --affected-since reuses a rendering).
   * `reads`, when given, receives every name the render looked up in the context, present or not: the context matters
   * to the text only through these (see sameReads).
   */
  render(template: string, context: Record<string, unknown>, loaded?: Set<string>, reads?: Set<string>): RenderResult;
}

/**
 * Whether a render that read the names `reads` of context `a` (Renderer.render's `reads`) renders the same with context
 * `b`: each name is present in both or in neither, with equal values. Lists and plain dicts are compared item by item
 * and key by key in order (a template iterates them in that order); anything else, functions included (a closure may
 * hold what differs), only by identity.
 */
export function sameReads(reads: Iterable<string>, a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  for (const name of reads) {
    const inA = Object.prototype.hasOwnProperty.call(a, name);
    if (inA !== Object.prototype.hasOwnProperty.call(b, name)) return false;
    if (inA && !sameValue(a[name], b[name])) return false;
  }
  return true;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (Array.isArray(b) || !isPlain(a) || !isPlain(b)) return false;
  const keys = Object.keys(a);
  const other = Object.keys(b);
  return keys.length === other.length && keys.every((k, i) => k === other[i] && sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function isPlain(o: object): boolean {
  const proto = Object.getPrototypeOf(o) as object | null;
  return proto === Object.prototype || proto === null;
}

/** For globals such as kolla's raise_error(): throwing this gives a KG304 diagnostic at the calling line. */
export function raiseTemplateError(message: string): never {
  throw new RenderError(message, 'raised');
}

const OVERRIDE_NAME = '<template override>';
/** Jinja2's SandboxedEnvironment refuses ranges longer than this. */
const MAX_RANGE = 100_000;

function intArg(v: unknown, what: string): number {
  if (typeof v === 'boolean') return Number(v);
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new RenderError(`'${typeof v}' object cannot be interpreted as an integer (${what})`);
  return v;
}

function range(args: unknown[]): number[] {
  if (args.length < 1 || args.length > 3) throw new RenderError(`range expected 1 to 3 arguments, got ${args.length}`);
  const [start, stop, step] = args.length === 1 ? [0, intArg(args[0], 'range'), 1] : [intArg(args[0], 'range'), intArg(args[1], 'range'), args.length === 3 ? intArg(args[2], 'range') : 1];
  if (step === 0) throw new RenderError('range() arg 3 must not be zero');
  const count = Math.max(0, Math.ceil((stop - start) / step));
  if (count > MAX_RANGE) throw new RenderError(`Range too big. The sandbox blocks ranges larger than MAX_RANGE (${MAX_RANGE}).`);
  return Array.from({ length: count }, (_, i) => start + i * step);
}

function toDict(args: unknown[], kwargs: Dict, fname: string): Dict {
  if (args.length > 1) throw new RenderError(`${fname} expected at most 1 argument, got ${args.length}`);
  const d = newDict();
  const [src] = args;
  if (isDict(src)) for (const k of Object.keys(src)) dictSet(d, k, src[k]);
  else if (src !== undefined) {
    for (const pair of iterate(src)) {
      const [k, v] = iterate(pair);
      dictSet(d, String(k), v);
    }
  }
  for (const k of Object.keys(kwargs)) dictSet(d, k, kwargs[k]);
  return d;
}

function defaultGlobals(): Map<string, unknown> {
  return new Map<string, unknown>([
    ['range', new PyFunction('range', (args) => range(args))],
    ['dict', new PyFunction('dict', (args, kwargs) => toDict(args, kwargs, 'dict'))],
    [
      'namespace',
      new PyFunction('namespace', (args, kwargs) => {
        const ns = new Namespace();
        const d = toDict(args, kwargs, 'namespace');
        for (const k of Object.keys(d)) dictSet(ns.attrs, k, d[k]);
        return ns;
      }),
    ],
    ['cycler', new PyFunction('cycler', (args) => new Cycler(args))],
    ['joiner', new PyFunction('joiner', (args, kwargs) => new Joiner(String(bind('joiner', ['sep'], [', '], args, kwargs)[0])))],
  ]);
}

/** kolla-build's merge of --template-override files, with a map from merged lines back to each file. */
function mergeOverrides(files: TemplateSourceFile[]): { source: string; where: (line: number) => SourceLine } {
  const segments: { start: number; file: TemplateSourceFile }[] = [];
  let merged = '';
  files.forEach((file, i) => {
    // Universal newlines first, as Python's text-mode read does.
    let text = file.source.replace(/\r\n?/g, '\n');
    if (i > 0) {
      // kolla-build blanks every `{% ... extends ... %}` line of a later file (keeping its newline, so each
      // file's lines keep their numbers), wherever it stands.
      text = text.replace(/[^\n]*\{%[^\n]*extends[^\n]*\n/g, '\n');
      merged += '\n';
    }
    segments.push({ start: merged.split('\n').length, file });
    merged += text;
  });
  return {
    source: merged,
    where: (line) => {
      let seg = segments[0]!;
      for (const s of segments) if (s.start <= line) seg = s;
      return { file: seg.file.path, line: line - seg.start + 1, source: seg.file.source };
    },
  };
}

function compileSource(name: string, source: string, where: (line: number) => SourceLine): Template {
  const text = normalizeSource(source);
  let root;
  try {
    root = parsedTemplate(text);
  } catch (e) {
    if (!(e instanceof TemplateSyntaxError)) throw e;
    const w = where(e.line);
    throw new TemplateFailure('KG300', e.message, w.file, w.line, e.column, w.source);
  }
  try {
    return new Compiler(where).compileTemplate(name, root);
  } catch (e) {
    // A tree from the cache on disk that does not compile may be damaged: the text's own tree says what is wrong.
    if (!forgetTree(text)) throw e;
    return compileSource(name, source, where);
  }
}

function toDiagnostic(e: unknown, fallbackFile: TemplateSourceFile | undefined): Diagnostic {
  if (e instanceof TemplateFailure) {
    return error(e.code, e.message, { location: { file: e.file, line: e.line, column: e.column }, source: e.source });
  }
  const at = fallbackFile ? { location: { file: fallbackFile.path, line: 1, column: 1 }, source: fallbackFile.source } : {};
  if (e instanceof RenderError) {
    return error(CODE_OF[e.kind], e.message, at);
  }
  const message = e instanceof RangeError ? 'maximum recursion depth exceeded' : e instanceof Error ? e.message : String(e);
  return error('KG301', message, at);
}

export function createRenderer(options: RendererOptions): Renderer {
  const cache = new Map<string, Template | TemplateFailure>();
  const globals = defaultGlobals();
  for (const [k, v] of Object.entries(options.globals ?? {})) globals.set(k, v);
  const limits: RenderLimits = { ...DEFAULT_RENDER_LIMITS, ...options.limits };
  const strictUndefined = options.strictUndefined ?? false;
  // The names the current render loads: every template reaches a render through env.load, cached or not.
  let used: Set<string> | undefined;

  const env: Env = {
    load(name: string): Template {
      used?.add(name);
      let entry = cache.get(name);
      if (entry === undefined) {
        const file = options.load(name);
        if (!file) throw new RenderError(`template '${name}' not found`, 'notfound');
        const where = (line: number): SourceLine => ({ file: file.path, line, source: file.source });
        try {
          entry = compileSource(name, file.source, where);
        } catch (e) {
          if (!(e instanceof TemplateFailure)) throw e;
          entry = e;
        }
        cache.set(name, entry);
      }
      if (entry instanceof TemplateFailure) throw entry;
      return entry;
    },
    filters: new Map([...filters, ...kollaFilters]),
    tests,
    globals,
  };

  let override: Template | TemplateFailure | undefined;
  const overrides = options.overrides ?? [];
  function overrideTemplate(): Template {
    if (!override) {
      const { source, where } = mergeOverrides(overrides);
      try {
        override = compileSource(OVERRIDE_NAME, source, where);
      } catch (e) {
        if (!(e instanceof TemplateFailure)) throw e;
        override = e;
      }
    }
    if (override instanceof TemplateFailure) throw override;
    return override;
  }

  return {
    render(template, context, loaded, reads) {
      used = loaded;
      try {
        return withBudget(limits, strictUndefined, () => renderOne(template, context, reads));
      } finally {
        used = undefined;
      }
    },
  };

  function renderOne(template: string, context: Record<string, unknown>, reads?: Set<string>): RenderResult {
    try {
      // The scope copies a context list or dict when the template first reads it: a template that mutates
      // one (append, customizable) changes only its own render, never the caller's data or the next render.
      const root = new Scope(null, context as Dict, reads);
      let tpl: Template;
      if (overrides.length) {
        root.set('parent_template', new TemplateRef(template));
        tpl = overrideTemplate();
      } else {
        tpl = env.load(template);
      }
      return { ok: true, text: renderTemplate(tpl, env, root) };
    } catch (e) {
      const entry = overrides.length ? overrides[0] : options.load(template);
      return { ok: false, diagnostic: toDiagnostic(e, entry) };
    }
  }
}
