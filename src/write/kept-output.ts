// The output of the last run, kept for the next (commands/template-cache.ts, the outputs file). Loading a project
// reads every input the compile reads (the config resolved, with the kolla checkout's settings and the env passed; the
// tree; every template's text; every context file's digest) and the compile is pure, so where the project spells the
// same, with the options manifest.json records and kolla-gen's code (the file's stamp), the output dir's files are
// those kept: `generate` and `check` then neither render nor compile. Only a run without errors is kept, with its
// warnings; not with --affected-since (a revision of git) or --skip-existing (a registry), which read more than that.
import { deserialize, serialize } from 'node:v8';
import { KeptEntries } from '../core/kept-entries.js';
import { CODES, type Diagnostic } from '../core/diagnostics.js';
import { textKey } from '../jinja/parsed.js';
import type { MadeWith } from '../load/config/made-with.js';
import type { Project } from '../load/project.js';
import { fingerprint } from '../render/reuse.js';
import type { OutputFile } from './output.js';

/** What `generate` and `check` report of a compile besides its files. */
export interface OutputSummary {
  targets: number;
  joins: number;
  perArch: number;
  variants: number;
  images: number;
  /** The dirs outside the repo that a bake of the whole generation reads: its `--allow fs.read=` grants (emit/bake/allow.ts). */
  reads: string[];
  /** The entitlements it needs beyond those reads (`network.host` under network_mode: host): more `--allow`. */
  entitlements: string[];
}

export interface KeptOutput {
  files: Map<string, OutputFile>;
  summary: OutputSummary;
  /** The compile's warnings (a kept run had no errors). */
  diagnostics: Diagnostic[];
}

/** As stored: each distinct text once (an arch's Dockerfile is often its other arch's, an ignore file every variant's). */
interface Stored {
  texts: string[];
  files: [string, number | { copyFrom: string }][];
  summary: OutputSummary;
  diagnostics: Diagnostic[];
}

const outputs = new KeptEntries();

export function keepOutputs(read?: () => Map<string, Uint8Array>): void {
  outputs.keep(read);
}

/** The key of a project's output, or undefined when it is not kept (off, an option that reads more, a value it cannot spell). */
export function outputKey(project: Project, made: MadeWith | undefined): string | undefined {
  if (!outputs.keeping || project.config.affectedSince !== undefined || project.config.skipExisting !== undefined) return undefined;
  const spelled = fingerprint({ project, made });
  return spelled === undefined ? undefined : textKey(spelled);
}

export function takeOutput(key: string): KeptOutput | undefined {
  const blob = outputs.get(key);
  if (blob === undefined) return undefined;
  let stored: unknown;
  try {
    stored = deserialize(blob);
  } catch {
    return undefined;
  }
  if (!isStored(stored)) return undefined;
  outputs.use(key);
  const files = new Map<string, OutputFile>(stored.files.map(([name, file]) => [name, typeof file === 'number' ? { text: stored.texts[file]! } : { copyFrom: file.copyFrom }]));
  return { files, summary: stored.summary, diagnostics: stored.diagnostics };
}

export function keepOutput(key: string, output: KeptOutput): void {
  if (!outputs.keeping || output.diagnostics.some((d) => d.severity === 'error')) return;
  const index = new Map<string, number>();
  const texts: string[] = [];
  const files: Stored['files'] = [...output.files].map(([name, file]) => {
    if ('copyFrom' in file) return [name, { copyFrom: file.copyFrom }];
    let at = index.get(file.text);
    if (at === undefined) index.set(file.text, (at = texts.push(file.text) - 1));
    return [name, at];
  });
  let blob: Uint8Array;
  try {
    blob = serialize({ texts, files, summary: output.summary, diagnostics: output.diagnostics } satisfies Stored);
  } catch {
    return;
  }
  outputs.set(key, blob);
}

/** The outputs file's entries: this run's output, or undefined when the file holds it already. */
export function outputsToKeep(): Map<string, Uint8Array> | undefined {
  return outputs.toKeep();
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0;
const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** What the commands read must be whole, down to each diagnostic's fields (a damaged entry is compiled again). */
function isStored(v: unknown): v is Stored {
  if (!isRecord(v)) return false;
  const { texts, files, summary, diagnostics } = v;
  if (!Array.isArray(texts) || !texts.every(isString) || !Array.isArray(files) || !Array.isArray(diagnostics)) return false;
  const isFile = (f: unknown) =>
    Array.isArray(f) &&
    f.length === 2 &&
    isString(f[0]) &&
    ((isCount(f[1]) && (f[1] as number) < texts.length) || (isRecord(f[1]) && isString(f[1].copyFrom)));
  return (
    files.every(isFile) &&
    isRecord(summary) &&
    ['targets', 'joins', 'perArch', 'variants', 'images'].every((k) => isCount(summary[k])) &&
    [summary.reads, summary.entitlements].every((l) => Array.isArray(l) && l.every(isString)) &&
    diagnostics.every(isKeptDiagnostic)
  );
}

function isLocation(v: unknown): boolean {
  return isRecord(v) && isString(v.file) && isCount(v.line) && isCount(v.column);
}

function isKeptDiagnostic(v: unknown): boolean {
  if (!isRecord(v)) return false;
  const optional = (x: unknown, is: (y: unknown) => boolean) => x === undefined || is(x);
  const isRelated = (r: unknown) => isRecord(r) && isString(r.message) && optional(r.location, isLocation) && optional(r.source, isString);
  return (
    isString(v.code) &&
    Object.hasOwn(CODES, v.code) &&
    (v.severity === 'warning' || v.severity === 'info') &&
    isString(v.message) &&
    optional(v.location, isLocation) &&
    optional(v.source, isString) &&
    optional(v.hint, isString) &&
    optional(v.variants, (x) => Array.isArray(x) && x.every(isString)) &&
    optional(v.related, (x) => Array.isArray(x) && x.every(isRelated)) &&
    optional(v.data, isRecord)
  );
}
