// What every command shares: load the project and compile it, or stop with the diagnostics.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CliOptions } from '../load/config/resolve.js';
import { error, hasErrors, info, warning, type Diagnostic } from '../core/diagnostics.js';
import { loadProject, type LoadOptions } from '../load/load.js';
import { describeKollaPreset } from '../load/kolla/preset.js';
import { compile, unaffectedParents, withExisting, withRebuilt, type Compiled } from '../pipeline.js';
import type { TagProbe } from '../engine/registry.js';
import { renderParallel } from '../render/parallel.js';
import { contentRef } from '../changes/content-hash.js';
import type { Arch } from '../core/types.js';
import type { RenderOutcome } from '../render/images.js';
import type { Project } from '../load/project.js';
import type { SinceHashes } from './since.js';
import { madeWith, type MadeWith, type RecordedOptions } from '../load/config/made-with.js';
import { outputFiles, type OutputFile } from '../write/output.js';
import { generationReads, isOutside, networkEntitlements } from '../emit/bake/allow.js';
import { keepOutput, outputKey, takeOutput, type OutputSummary } from '../write/kept-output.js';
import { isWithin } from '../load/root.js';

export interface CommandResult {
  exitCode: 0 | 1;
  diagnostics: Diagnostic[];
  /** What the command prints on stdout for people. */
  text?: string;
  /** What it prints with --json. */
  json?: unknown;
  /** The config file the command loaded (relative to the repo root), or null when it loaded none. */
  config?: string | null;
  /** Lines for people on stderr after the diagnostics (what to run next); not with --quiet or --json. */
  notes?: string[];
  /**
   * Lines on stderr before the diagnostics, one per thing the errors are about (check: one per stale, missing or extra
   * file, so that one error and one hint say the rest); printed even with --quiet, not with --json.
   */
  lines?: string[];
  /** The text is the answer asked for (list, deps): printed even with --quiet. */
  listing?: boolean;
}

export async function compileProject(cli: CliOptions, options: LoadOptions): Promise<{ compiled?: Compiled; diagnostics: Diagnostic[] }> {
  const loaded = loadProject(cli, options);
  if (!loaded.project) return { diagnostics: loaded.diagnostics };
  return compileLoaded(loaded.project, loadedDiagnostics(loaded.project, loaded.diagnostics), cli, options);
}

/** What `generate` and `check` write and say: the output dir's files, and the figures of the compile. */
export interface CompiledOutput {
  files: Map<string, OutputFile>;
  summary: OutputSummary;
  output: string;
  configPath: string | undefined;
  madeWith: MadeWith;
  recorded: RecordedOptions;
}

/**
 * The output of `generate` and `check`: the output an earlier run kept where the project and the recorded options are
 * the same (write/kept-output.ts), else compiled (and kept).
 */
export async function compileOutput(cli: CliOptions, options: LoadOptions): Promise<{ output?: CompiledOutput; diagnostics: Diagnostic[] }> {
  const loaded = loadProject(cli, options);
  if (!loaded.project) return { diagnostics: loaded.diagnostics };
  const { project } = loaded;
  const before = loadedDiagnostics(project, loaded.diagnostics);
  const made = madeWithOf(project, cli, options);
  const of = (files: Map<string, OutputFile>, summary: OutputSummary): CompiledOutput => ({ files, summary, output: project.config.output, configPath: project.config.configPath, madeWith: made, recorded: project.recorded });
  const key = outputKey(project, made);
  const kept = key === undefined ? undefined : takeOutput(key);
  if (kept) return { output: of(kept.files, kept.summary), diagnostics: [...before, ...kept.diagnostics] };
  const { compiled, diagnostics } = await compileLoaded(project, [...before], cli, options);
  if (!compiled) return { diagnostics };
  const output = of(outputFiles(compiled), summarize(compiled, options.cwd));
  if (key !== undefined) keepOutput(key, { files: output.files, summary: output.summary, diagnostics: diagnostics.slice(before.length) });
  return { output, diagnostics };
}

/** The loader's diagnostics, after what the kolla preset assumed. */
function loadedDiagnostics(project: Project, diagnostics: Diagnostic[]): Diagnostic[] {
  const assumed = describeKollaPreset(project.config);
  return assumed ? [info('KG115', assumed.message, assumed.data), ...diagnostics] : [...diagnostics];
}

function madeWithOf(project: Project, cli: CliOptions, options: LoadOptions): MadeWith {
  return madeWith(cli, options.noConfig ? false : (project.config.configPath ?? null), options.kollaConfigFile);
}

async function compileLoaded(project: Project, diagnostics: Diagnostic[], cli: CliOptions, options: LoadOptions): Promise<{ compiled?: Compiled; diagnostics: Diagnostic[] }> {
  // --affected-since: git checks the revision out while the current tree renders; the revision's renders then take
  // the current ones where they are sure to be the same, and its temp dir goes while the current tree compiles.
  const revision = project.config.affectedSince;
  const since = revision === undefined ? undefined : await import('./since.js');
  const exporting = since?.exportRevision(revision as string, options, outputToSkip(project, options.cwd), dockerDirs(project, options.cwd));
  // Awaited below; a failure before then is not an unhandled rejection.
  exporting?.catch(() => undefined);
  let cleanUp: Promise<void> | undefined;
  try {
    const rendered = await renderParallel(project);
    let hashes: SinceHashes | undefined;
    if (since && exporting) {
      const exported = await exporting;
      const found = await since.hashesSince(exported, cli, options, { project, outcomes: rendered });
      cleanUp = since.removeExport(exported);
      diagnostics.push(...found.diagnostics);
      if (!found.since) return { diagnostics };
      hashes = found.since;
    }
    return await compileRendered(project, rendered, hashes, diagnostics, cli, options);
  } finally {
    if (exporting && !cleanUp) cleanUp = exporting.then((exported) => since?.removeExport(exported));
    await cleanUp;
  }
}

/**
 * The output dir, which the revision's checkout (--affected-since) leaves out, unless an input lies in it (a docker dir
 * or the config file): the revision's compile reads neither its bake files nor its manifest.
 */
function outputToSkip(project: Project, cwd: string): string | undefined {
  const out = path.resolve(cwd, project.config.output);
  const inputs = [...project.config.dockerDirs, ...(project.config.configPath ? [project.config.configPath] : [])];
  if (inputs.some((p) => isWithin(out, path.resolve(cwd, p)))) return undefined;
  try {
    return fs.realpathSync(out);
  } catch {
    return undefined;
  }
}

/** The docker dirs' real paths: where one is the same at the revision, its checkout links to it. */
function dockerDirs(project: Project, cwd: string): string[] {
  return project.config.dockerDirs.flatMap((d) => {
    try {
      return [fs.realpathSync(path.resolve(cwd, d))];
    } catch {
      return [];
    }
  });
}

async function compileRendered(
  project: Project,
  rendered: RenderOutcome[],
  since: SinceHashes | undefined,
  diagnostics: Diagnostic[],
  cli: CliOptions,
  options: LoadOptions,
): Promise<{ compiled?: Compiled; diagnostics: Diagnostic[] }> {
  const result = compile(project, { rendered, ...(since ? { since } : {}), ...(options.emptySelection ? { emptySelection: options.emptySelection } : {}), ...(options.buildkitPolicy ? { buildkitPolicy: options.buildkitPolicy } : {}) });
  if ('bake' in result) {
    result.madeWith = madeWithOf(project, cli, options);
    result.recorded = project.recorded;
  }
  diagnostics.push(...result.diagnostics);
  if (!('bake' in result) || hasErrors(diagnostics)) return { diagnostics };
  if (result.config.skipExisting === undefined) return { compiled: result, diagnostics };
  const skipped = await skipExisting(result, options.env);
  diagnostics.push(...skipped.diagnostics);
  return hasErrors(diagnostics) ? { diagnostics } : { compiled: skipped.compiled, diagnostics };
}

/**
 * --skip-existing: ask the registry for every target's content tag and leave out the targets it already holds. With
 * --affected-since, the unaffected parents children build on must be there too: those missing are built after all
 * (and then their own parents are asked for).
 */
async function skipExisting(first: Compiled, env: Record<string, string | undefined>): Promise<{ compiled: Compiled; diagnostics: Diagnostic[] }> {
  const { probeTags } = await import('../engine/registry.js');
  const probes = new Map<string, TagProbe>();
  // Each ref with the arches it must hold: a list that lost an arch is not there for that arch's builds.
  const ask = async (refs: { ref: string; arches: Arch[] }[]) => {
    const fresh = refs.filter(({ ref }) => !probes.has(ref));
    if (fresh.length === 0) return;
    const platforms = new Map(fresh.map(({ ref, arches }) => [ref, arches.map((a) => `linux/${a}`)]));
    const registry = { env, insecure: first.config.insecureRegistries, verify: first.config.verifyExisting };
    for (const [ref, probe] of await probeTags([...platforms.keys()], registry, platforms)) probes.set(ref, probe);
  };
  let compiled = first;
  for (;;) {
    const parents = unaffectedParents(compiled);
    await ask([...compiled.targets.flatMap((t) => (t.contentTag !== undefined ? [{ ref: t.contentTag, arches: t.arches }] : [])), ...parents]);
    const failures = [...probes.values()].flatMap((p) => (p.status === 'error' ? [p.message] : []));
    if (failures.length > 0) {
      const message = `cannot learn which images the registry holds: ${failures[0]}${failures.length > 1 ? ` (and ${failures.length - 1} more)` : ''}`;
      if (first.config.skipExisting === 'warn') return { compiled: first, diagnostics: [warning('KG902', `${message}; building every selected image (--skip-existing=warn)`)] };
      return { compiled: first, diagnostics: [error('KG902', message)] };
    }
    const missing = parents.filter((p) => probes.get(p.ref)?.status === 'absent');
    if (missing.length === 0) break;
    compiled = withRebuilt(compiled, missing);
  }
  // A multi-arch target whose list the registry lacks, but every arch's image under its per-arch content tag (one-arch
  // runs, per-arch CI jobs, pushed them): not built; `build --push` makes the list of those images.
  const perArch = (t: Compiled['targets'][number]) =>
    t.contentTag !== undefined && t.arch === undefined && t.variantHashes.length > 1 && probes.get(t.contentTag)?.status === 'absent'
      ? t.variantHashes.map((v) => ({ arch: v.arch, ref: contentRef(t.ref, v.hash) }))
      : [];
  await ask(compiled.targets.flatMap((t) => perArch(t).map((p) => ({ ref: p.ref, arches: [p.arch] }))));
  const existing = new Map<string, string>();
  const fromArches = new Map<string, { arch: Arch; ref: string }[]>();
  for (const t of compiled.targets) {
    const probe = t.contentTag !== undefined ? probes.get(t.contentTag) : undefined;
    if (probe?.status === 'present') existing.set(t.name, probe.digest);
    const arches = perArch(t);
    if (arches.length > 0 && arches.every((a) => probes.get(a.ref)?.status === 'present')) {
      existing.set(t.name, '');
      fromArches.set(t.name, arches);
    }
  }
  const absent = new Map<string, { lacks?: string[] }>();
  for (const [ref, probe] of probes) if (probe.status === 'absent') absent.set(ref, probe.lacks !== undefined ? { lacks: probe.lacks } : {});
  return { compiled: { ...withExisting(compiled, existing, fromArches), absent }, diagnostics: [] };
}
export function failed(diagnostics: Diagnostic[]): CommandResult {
  return { exitCode: 1, diagnostics };
}

/**
 * The docker dirs inside `cwd` by name whose real path, links resolved, lies outside it: buildx resolves links before it
 * checks a read, so these need a grant too (emit/bake/allow.ts). A dir that does not exist is nobody's concern here.
 */
export function linkedOutside(cwd: string, dirs: readonly string[]): string[] {
  const real = (p: string) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return undefined;
    }
  };
  const root = real(cwd);
  if (root === undefined) return [];
  return dirs.filter((dir) => {
    if (isOutside(dir)) return false;
    const target = real(path.resolve(cwd, dir));
    return target !== undefined && target !== root && !target.startsWith(root === '/' ? '/' : `${root}${path.sep}`);
  });
}

/** Targets counted: one per image and family (`joins` of them join per-arch targets), and the per-arch targets; the tree's images and variants. */
function summarize(compiled: Compiled, cwd: string): OutputSummary {
  const images = compiled.targets.filter((t) => t.arch === undefined);
  return {
    targets: images.length,
    joins: images.filter((t) => t.join !== undefined).length,
    perArch: compiled.targets.length - images.length,
    variants: compiled.families.length * compiled.config.arches.length,
    images: compiled.tree.images.length,
    reads: generationReads({
      contexts: compiled.bake.targets.map((t) => t.context),
      output: compiled.config.output,
      dockerDirs: compiled.config.dockerDirs,
      linkedOut: linkedOutside(cwd, compiled.config.dockerDirs),
    }),
    entitlements: networkEntitlements(compiled.config.networkMode),
  };
}
