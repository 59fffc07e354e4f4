// Renderings kept across runs, beside the parsed templates (commands/template-cache.ts). A render is a function of
// its template context, the renderer's options and the config its template functions close over (reuse.ts's shared
// inputs), the sources of the templates it loads and kolla-gen's own code (the file's stamp): a rendering is filed
// under a digest of the first two and of its template's name, and taken only where every template it loaded has the
// same source.
// Kept as bytes, each deserialized when a run takes it; only renderings without diagnostics are kept.
import { deserialize, serialize } from 'node:v8';
import type { Project } from '../load/project.js';
import { textKey } from '../jinja/parsed.js';
import { KeptEntries } from '../core/kept-entries.js';
import { contextParts } from './context.js';
import { fingerprint, sharedInputs } from './reuse.js';
import { renderKey, type RenderJob, type RenderOutcome, type Rendering } from './images.js';

/** A kept rendering: the templates its render loaded, each with its source's digest, and what it rendered. */
interface Kept {
  loaded: [string, string][];
  rendering: Rendering;
}

const renderings = new KeptEntries();

/** Keeps this process's renderings, starting from those `read` gives (read when the first render job is looked up). */
export function keepRenderings(read?: () => Map<string, Uint8Array>): void {
  renderings.keep(read);
}

/** The parts hold no NUL (names of files and dirs, digests). */
function digest(...parts: string[]): string {
  return textKey(parts.join('\0'));
}

type Inputs = { key: (job: RenderJob) => string | undefined; source: (name: string) => string | undefined };
const inputsByProject = new WeakMap<Project, Inputs>();

/** For one project: the key of a render job's rendering (undefined when its inputs cannot be spelled) and the digest of a template's source, each computed once. */
function inputsOf(project: Project): Inputs {
  let inputs = inputsByProject.get(project);
  if (!inputs) inputsByProject.set(project, (inputs = spellInputs(project)));
  return inputs;
}

function spellInputs(project: Project): Inputs {
  const spelled = fingerprint(sharedInputs(project));
  const shared = spelled === undefined ? undefined : digest(spelled);
  // A variant's part of the context is one object, shared by its images, and the env another: each spelled once.
  const known = new WeakMap<object, string | undefined>();
  const spell = (value: object): string | undefined => {
    if (!known.has(value)) {
      const spelled = fingerprint(value);
      known.set(value, spelled === undefined ? undefined : digest(spelled));
    }
    return known.get(value);
  };
  const sources = new Map<string, string | undefined>();
  // A job's key is asked for when it is looked up and again when its rendering is kept.
  const keys = new WeakMap<RenderJob, string | undefined>();
  return {
    key: (job) => {
      if (!keys.has(job)) {
        const parts = contextParts(project.config, job.image, { ...job.family, arch: job.arch });
        const variant = spell(parts.variant);
        const env = spell(parts.env);
        keys.set(job, shared === undefined || variant === undefined || env === undefined ? undefined : digest(shared, variant, env, parts.imageName, job.image.template));
      }
      return keys.get(job);
    },
    source: (name) => {
      if (!sources.has(name)) {
        const file = project.templates.get(name);
        sources.set(name, file === undefined ? undefined : digest(file.source));
      }
      return sources.get(name);
    },
  };
}

/** The jobs whose rendering was kept (their outcomes), and the rest, to render. */
export function keptOutcomes(project: Project, jobs: RenderJob[]): { kept: RenderOutcome[]; rest: RenderJob[] } {
  if (!renderings.keeping || jobs.length === 0) return { kept: [], rest: jobs };
  const inputs = inputsOf(project);
  const kept: RenderOutcome[] = [];
  const rest: RenderJob[] = [];
  for (const job of jobs) {
    const key = inputs.key(job);
    const found = key === undefined ? undefined : take(key);
    if (found && found.loaded.every(([name, source]) => inputs.source(name) === source)) {
      renderings.use(key as string);
      kept.push({ job: job.job, key: renderKey(job.image.name, job.family, job.arch), rendering: found.rendering, diagnostics: [], templates: found.loaded.map(([name]) => name) });
    } else rest.push(job);
  }
  return { kept, rest };
}

function take(key: string): Kept | undefined {
  const blob = renderings.get(key);
  if (blob === undefined) return undefined;
  try {
    const kept = deserialize(blob) as Kept;
    return isKept(kept) ? kept : undefined;
  } catch {
    return undefined;
  }
}

/** What a rendering the next stages read must be, down to each FROM line (a damaged entry is rendered again). */
function isKept(kept: unknown): kept is Kept {
  if (kept === null || typeof kept !== 'object') return false;
  const { loaded, rendering } = kept as Partial<Kept>;
  const pair = (p: unknown) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && typeof p[1] === 'string';
  return Array.isArray(loaded) && loaded.every(pair) && typeof rendering?.text === 'string' && Array.isArray(rendering.froms) && rendering.froms.every(isFromLine);
}

function isFromLine(from: unknown): boolean {
  if (from === null || typeof from !== 'object') return false;
  const f = from as Record<string, unknown>;
  const optional = (v: unknown, type: string) => v === undefined || typeof v === type;
  return (
    Number.isInteger(f.line) &&
    Number.isInteger(f.column) &&
    typeof f.raw === 'string' &&
    typeof f.ref === 'string' &&
    typeof f.scratch === 'boolean' &&
    optional(f.platform, 'string') &&
    optional(f.alias, 'string') &&
    (f.stage === undefined || Number.isInteger(f.stage))
  );
}

/** Keeps the renderings of jobs that rendered without diagnostics (outcomes in any order). */
export function keepOutcomes(project: Project, jobs: RenderJob[], outcomes: RenderOutcome[]): void {
  if (!renderings.keeping) return;
  const inputs = inputsOf(project);
  const byJob = new Map(outcomes.map((o) => [o.job, o]));
  for (const job of jobs) {
    const outcome = byJob.get(job.job);
    if (!outcome?.rendering || !outcome.templates || outcome.diagnostics.length > 0) continue;
    const key = inputs.key(job);
    const loaded = outcome.templates.map((name): [string, string | undefined] => [name, inputs.source(name)]);
    if (key === undefined || loaded.some(([, source]) => source === undefined)) continue;
    const kept: Kept = { loaded: loaded as [string, string][], rendering: outcome.rendering };
    renderings.set(key, serialize(kept));
  }
}

/** The renderings to keep on disk (those this run took or made), or undefined when what is there already holds them. */
export function renderingsToKeep(): Map<string, Uint8Array> | undefined {
  return renderings.toKeep();
}
