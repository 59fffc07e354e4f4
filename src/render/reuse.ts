// --affected-since compiles the tree a second time, as it was at a revision. Most of it renders as it does now: a
// render is a function of its template context, the renderer's options and the sources of the templates it loads,
// so where all of these are the same at the revision, the rendering of the current tree is that of the revision.
import type { Project } from '../load/project.js';
import type { Family, Arch, Image, Variant } from '../core/types.js';
import { templateContext } from './context.js';

/** A render job's outcome, as far as reuse reads it (render/images.ts's RenderOutcome). */
interface Outcome {
  key: string;
  rendering?: unknown;
  diagnostics: readonly unknown[];
  templates?: string[];
}

/** The current tree's project and the outcomes of its renders (with the templates each loaded). */
export interface RenderReuse<O extends Outcome = Outcome> {
  project: Project;
  outcomes: readonly O[];
}

/** Thrown inside fingerprint for a value it cannot spell. */
const UNSPELLABLE = Symbol('unspellable');

/**
 * A value as text that differs whenever the value could render differently: key order is kept (a template iterates
 * a dict in that order), functions are their source (what they close over is compared apart: the config). A value
 * it cannot spell (a cycle, a class it does not know, a symbol) gives undefined, which matches nothing.
 */
export function fingerprint(value: unknown): string | undefined {
  const seen = new Set<object>();
  const walk = (v: unknown): string => {
    switch (typeof v) {
      case 'string':
        return JSON.stringify(v);
      case 'number':
        return Object.is(v, -0) ? 'n-0' : `n${v}`;
      case 'bigint':
        return `b${v}`;
      case 'boolean':
      case 'undefined':
        return String(v);
      case 'symbol':
        throw UNSPELLABLE;
      case 'function':
        return `f${JSON.stringify(v.toString())}`;
    }
    if (v === null) return 'null';
    const o = v as object;
    if (seen.has(o)) throw UNSPELLABLE;
    seen.add(o);
    try {
      if (Array.isArray(o)) return `[${o.map(walk).join(',')}]`;
      if (o instanceof Map) return `M{${[...o].map(([k, x]) => `${walk(k)}:${walk(x)}`).join(',')}}`;
      if (o instanceof Set) return `S{${[...o].map(walk).join(',')}}`;
      const proto = Object.getPrototypeOf(o) as object | null;
      if (proto !== Object.prototype && proto !== null) throw UNSPELLABLE;
      return `{${Object.keys(o)
        .map((k) => `${JSON.stringify(k)}:${walk((o as Record<string, unknown>)[k])}`)
        .join(',')}}`;
    } finally {
      seen.delete(o);
    }
  };
  try {
    return walk(value);
  } catch (e) {
    if (e === UNSPELLABLE) return undefined;
    throw e;
  }
}

/** Two values spell the same (and can be spelled). */
function same(a: unknown, b: unknown): boolean {
  const x = fingerprint(a);
  return x !== undefined && x === fingerprint(b);
}

/** What every render of a project shares besides its context and its templates: the renderer's options and the config. */
export function sharedInputs(project: Project): unknown {
  const { config } = project;
  return {
    overrides: project.overrides.map((o) => o.source),
    limits: config.renderLimits,
    strictUndefined: config.strictUndefined,
    // The FROM lines are read with the build args; kolla's template functions close over its settings.
    buildArgs: config.buildArgs,
    kolla: config.kolla,
  };
}

/**
 * For the project at the revision: a function giving, for one render job, the current tree's outcome when it is
 * sure to be the same (a rendering without diagnostics, same template name and context, same source of every
 * template it loaded), else undefined (render it).
 */
export function reusableOutcomes<O extends Outcome>(project: Project, reuse: RenderReuse<O> | undefined): (image: Image, family: Family, arch: Arch, key: string) => O | undefined {
  if (!reuse || !same(sharedInputs(project), sharedInputs(reuse.project))) return () => undefined;
  const now = reuse.project;
  const outcomes = new Map(reuse.outcomes.map((o) => [o.key, o]));
  const images = new Map(now.tree.images.map((i) => [i.name, i]));
  const byVariant = new Map<string, boolean | undefined>();
  const sameContext = (image: Image, current: Image, variant: Variant): boolean => {
    const id = fingerprint(variant) ?? '';
    if (!byVariant.has(id)) byVariant.set(id, sameVariantContext(project, now, variant));
    const known = byVariant.get(id);
    return known ?? same(templateContext(project.config, image, variant), templateContext(now.config, current, variant));
  };
  return (image, family, arch, key) => {
    const outcome = outcomes.get(key);
    const current = images.get(image.name);
    if (!outcome?.rendering || !outcome.templates || outcome.diagnostics.length > 0 || !current || current.template !== image.template) return undefined;
    for (const name of outcome.templates) {
      const then = project.templates.get(name);
      if (then === undefined || then.source !== now.templates.get(name)?.source) return undefined;
    }
    const variant = { ...family, arch };
    if (!sameContext(image, current, variant)) return undefined;
    return outcome;
  };
}

/**
 * Whether a variant's template contexts are the same at the revision as now for every image of one name, found by
 * building both for a probe image that records what is read of it: true or false when only its name is read (the
 * context of one image is then the same at both ends exactly when the probe's is), else undefined (compare per image).
 */
function sameVariantContext(then: Project, now: Project, variant: Variant): boolean | undefined {
  const read = new Set<PropertyKey>();
  const probe = new Proxy({ name: '\u0000probe' }, {
    get(target, key, receiver) {
      read.add(key);
      return Reflect.get(target, key, receiver) as unknown;
    },
  }) as unknown as Image;
  const a = templateContext(then.config, probe, variant);
  const b = templateContext(now.config, probe, variant);
  if ([...read].some((key) => key !== 'name')) return undefined;
  return same(a, b);
}
