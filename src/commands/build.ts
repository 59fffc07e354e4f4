// kolla-gen build: generate, then one `docker buildx bake` of the selected targets (each image's one target: bake makes
// every manifest list, joins included); on failure, smaller bakes to learn which image failed; at the end,
// kolla-build's summary.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  bakeArgs,
  rewritesTimestamps,
  classifyBakeFailure,
  isolateFailures,
  needsMultiPlatform,
  planTargets,
  type BakeAttempt,
  type BakeOptions,
  type TargetOutcome,
} from '../engine/plan.js';
import { probeDocker, runDocker, type DockerEnv, type DockerRun } from '../engine/buildx.js';
import { generationReads, networkEntitlements } from '../emit/bake/allow.js';
import type { CliOptions } from '../load/config/resolve.js';
import { error, warning, type Diagnostic } from '../core/diagnostics.js';
import type { LoadOptions } from '../load/load.js';
import { outputFiles, type OutputFile } from '../write/output.js';
import type { PlannedTarget } from '../emit/fold.js';
import { unaffectedParents, type Compiled } from '../pipeline.js';
import { copyTag, listedImages, makeList, probeTags } from '../engine/registry.js';
import { contentRef } from '../changes/content-hash.js';
import { buildFailed, formatSummary, summarizeBuild } from '../engine/summary.js';
import { drift, isClean, writeOutput } from '../write/write.js';
import type { BakeTarget } from '../emit/bake/model.js';
import { commandLine, madeWith } from '../load/config/made-with.js';
import { compileProject, failed, linkedOutside, type CommandResult } from './run.js';

export interface BuildOptions {
  push?: boolean;
  builder?: string;
  set: string[];
  progress?: string;
  metadataFile?: string;
  provenance?: string;
  noCache?: boolean;
  pull?: boolean;
  /** Dry runs: print bake's definition of the build, or list the targets or groups, and build nothing. */
  print?: boolean;
  list?: 'targets' | 'groups';
  summaryJsonFile?: string;
  /** How many times a target that failed alone is tried again before it counts as failed (kolla-build's --retries). */
  retries?: number;
  /** Where buildx's progress goes (stderr); undefined: nowhere (--quiet). */
  log?: (text: string) => void;
  env: Record<string, string | undefined>;
}

/** The bake file of a generation: the JSON one, or the HCL one when the config writes only HCL. */
function bakeFileOf(output: string, files: Map<string, OutputFile>): string {
  return files.has('docker-bake.json') ? `${output}/docker-bake.json` : `${output}/docker-bake.hcl`;
}

const sameTarget = (a: BakeTarget | undefined, b: BakeTarget) => a !== undefined && JSON.stringify(a) === JSON.stringify(b);

/**
 * The generation to bake. Only `generate` writes the output dir: when it holds what these options make (regexes aside)
 * and defines every selected target as this build would, bake it; else write a private generation into a temp dir,
 * said so, and removed by `cleanUp`.
 */
async function generationToBake(
  cli: CliOptions,
  load: LoadOptions,
  compiled: Compiled,
): Promise<{ file?: string; diagnostics: Diagnostic[]; note: string; cleanUp: () => void }> {
  const out = compiled.config.output;
  const whole = (cli.regexes ?? []).length === 0 ? { compiled, diagnostics: [] } : await compileProject({ ...cli, regexes: [] }, load);
  const nothing = () => undefined;
  if (whole.compiled) {
    const files = outputFiles(whole.compiled);
    const byName = new Map(whole.compiled.bake.targets.map((t) => [t.name, t]));
    const defined = compiled.bake.targets.every((t) => sameTarget(byName.get(t.name), t));
    if (defined && isClean(drift(out, files, load.cwd))) return { file: bakeFileOf(out, files), diagnostics: [], note: `${out}: up to date`, cleanUp: nothing };
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-build-'));
  const cleanUp = () => fs.rmSync(tmp, { recursive: true, force: true });
  const output = path.relative(load.cwd, path.join(tmp, 'generated')).split(path.sep).join('/');
  const priv = await compileProject({ ...cli, output }, load);
  if (!priv.compiled) {
    cleanUp();
    return { diagnostics: priv.diagnostics.filter((d) => d.severity === 'error'), note: '', cleanUp: nothing };
  }
  const files = outputFiles(priv.compiled);
  const problems = writeOutput(output, files, load.cwd);
  if (problems.length > 0) {
    cleanUp();
    return { diagnostics: problems, note: '', cleanUp: nothing };
  }
  const flags = Object.keys(madeWith({ ...cli, regexes: [] }, null).flags).map((f) => `--${f}`);
  // Whether the output dir holds kolla-gen.yaml's own generation: then only this run's flags (CI's --content-tags,
  // --cache-ref …) made it bake another, and regenerating with them would fail a plain check (KG713).
  const configs = flags.length === 0 ? whole : await compileProject({ regexes: [], ...(cli.output !== undefined ? { output: cli.output } : {}) }, load);
  const current = configs.compiled !== undefined && isClean(drift(out, outputFiles(configs.compiled), load.cwd));
  const why = !current
    ? `${out} is stale or was made with other options than kolla-gen.yaml's`
    : flags.length > 0
      ? `${out} holds kolla-gen.yaml's generation, which ${flags.join(' ')} of this run change${flags.length === 1 ? 's' : ''}`
      : 'these options define the selected targets otherwise';
  const hint = !current
    ? `to build the committed generation, run \`${commandLine('generate', { config: compiled.madeWith?.config ?? null, regexes: [], flags: {} }, out)}\` and commit, then build`
    : `expected for one-off flags (CI's per-arch builds pass some); to bake ${out} itself, build without them, or put them into kolla-gen.yaml, run \`kolla-gen generate\` and commit`;
  return {
    file: bakeFileOf(output, files),
    diagnostics: [warning('KG710', `${why}: building from a private generation in a temp dir (${out} is left as it is)`, { hint })],
    note: `${out}: not used (a private generation, removed after the build)`,
    cleanUp,
  };
}

function listing(compiled: Compiled, what: 'targets' | 'groups'): CommandResult {
  const rows =
    what === 'groups'
      ? compiled.bake.groups.map((g) => ({ name: g.name, description: g.description ?? '', targets: g.targets }))
      : compiled.bake.targets.map((t) => ({ name: t.name, description: t.description ?? '', platforms: t.platforms }));
  const width = Math.max(what.length - 1, ...rows.map((r) => r.name.length));
  const header = `${(what === 'groups' ? 'GROUP' : 'TARGET').padEnd(width)}  DESCRIPTION`;
  const text = [header, ...rows.map((r) => `${r.name.padEnd(width)}  ${r.description}`)].join('\n');
  return { exitCode: 0, diagnostics: compiled.diagnostics, text, json: { [what]: rows }, listing: true };
}

function fatalDiagnostic(run: DockerRun): Diagnostic | undefined {
  const failure = classifyBakeFailure(run.lines);
  if (failure.kind === 'push') {
    return error('KG803', `the registry refused the push${failure.refs.length ? ` of ${failure.refs.join(', ')}` : ''}: ${failure.line}`);
  }
  if (failure.kind === 'builder') return error('KG802', `the builder cannot build this: ${failure.line}`);
  if (failure.kind === 'unreachable') return error('KG805', failure.line);
  if (failure.kind === 'entitlement') return error('KG821', `the builder does not grant what network_mode asks for: ${failure.line}`);
  return undefined;
}

export async function build(cli: CliOptions, load: LoadOptions, options: BuildOptions): Promise<CommandResult> {
  if (options.list) {
    const { compiled, diagnostics } = await compileProject(cli, load);
    return compiled ? { ...listing(compiled, options.list), diagnostics } : failed(diagnostics);
  }
  // The setup checks start docker's CLI three times at once (probeDocker): they run while the tree compiles.
  const probing = probeDocker({ cwd: load.cwd, env: options.env }, { builder: options.builder, cliOnly: options.print });
  const { compiled, diagnostics } = await compileProject(cli, load);
  if (!compiled) {
    await probing;
    return failed(diagnostics);
  }
  const generation = await generationToBake(cli, load, compiled);
  diagnostics.push(...generation.diagnostics);
  if (generation.file === undefined) {
    await probing;
    return failed(diagnostics);
  }
  try {
    return await bakeGeneration(compiled, load, options, { file: generation.file, note: generation.note, diagnostics }, probing);
  } finally {
    generation.cleanUp();
  }
}

async function bakeGeneration(
  compiled: Compiled,
  load: LoadOptions,
  options: BuildOptions,
  generation: { file: string; note: string; diagnostics: Diagnostic[] },
  probing: ReturnType<typeof probeDocker>,
): Promise<CommandResult> {
  const { file, diagnostics } = generation;
  const where: DockerEnv = { cwd: load.cwd, env: options.env };
  // One target per image: a join's per-arch targets (no tags) are built through it.
  const plan = planTargets(compiled.targets);
  const names = plan.map((t) => t.name);
  const base: BakeOptions = {
    file,
    targets: names,
    push: options.push,
    builder: options.builder,
    set: options.set,
    progress: options.progress,
    provenance: options.provenance,
    noCache: options.noCache,
    pull: options.pull,
  };

  const probe = await probing;
  diagnostics.push(...probe.diagnostics);
  if (probe.diagnostics.length > 0) return failed(diagnostics);
  // Exactly what these targets read outside the working dir: their docker dirs, and a private generation's temp dir.
  if (probe.bakeAllow) {
    base.allow = generationReads({
      contexts: compiled.bake.targets.map((t) => t.context),
      output: path.posix.dirname(file),
      dockerDirs: compiled.config.dockerDirs,
      linkedOut: linkedOutside(load.cwd, compiled.config.dockerDirs),
    });
  }
  // network_mode: before buildx 0.18 (bake's --allow) a bake ignores the files' `network` without a word (0.13 knows no
  // such key; 0.17 reads it but grants nothing): every RUN would run in the default network instead.
  const network = compiled.config.networkMode;
  if (network !== 'default') {
    if (!probe.bakeAllow) {
      const where = compiled.config.configPath ?? 'the config';
      return failed([...diagnostics, error('KG821', `network_mode: ${network} of ${where}: this buildx predates 0.18 and would build every RUN in BuildKit's default network`)]);
    }
    base.entitlements = networkEntitlements(network);
  }

  if (options.print) {
    const run = await runDocker(bakeArgs({ ...base, print: true, progress: undefined }), where, { captureStdout: true });
    if (run.exitCode !== 0) return failed([...diagnostics, error('KG804', `docker buildx bake --print failed: ${classifyBakeFailure(run.lines).line}`)]);
    return { exitCode: 0, diagnostics, text: run.stdout.trimEnd(), json: JSON.parse(run.stdout) as unknown, listing: true };
  }
  if (names.length === 0 && compiled.existing.length === 0) return { exitCode: 0, diagnostics, text: 'nothing to build' };
  if (compiled.config.skipExisting === undefined) {
    diagnostics.push(...(await checkUnaffectedParents(compiled, options)));
    if (diagnostics.some((d) => d.severity === 'error')) return failed(diagnostics);
  }

  // Lists of per-arch images the registry holds (--skip-existing): made before the bake, which may build on them.
  const made = await makeLists(compiled, options, diagnostics);
  if (diagnostics.some((d) => d.severity === 'error')) return failed(diagnostics);

  const builder = probe.builder;
  base.rewriteTimestamp = rewritesTimestamps(builder?.driver);
  if (builder?.driver === 'docker' && builder.containerdStore === false && needsMultiPlatform(compiled.targets, options.set)) {
    diagnostics.push(
      error('KG802', `builder ${builder.name} (the docker driver without the containerd image store) cannot build several platforms in one image`),
    );
    return failed(diagnostics);
  }
  // buildx refuses attestations asked for explicitly on a builder that cannot store them (the classic image store).
  const attest = compiled.config.attest;
  const attests = attest !== undefined && (attest.sbom || ((attest.provenance === 'min' || attest.provenance === 'max') && options.provenance !== 'false'));
  if (builder?.driver === 'docker' && builder.containerdStore === false && attests) {
    diagnostics.push(
      error('KG820', `builder ${builder.name} (the docker driver without the containerd image store) cannot store the attestations attest: of ${compiled.config.configPath ?? 'the config'} asks for`),
    );
    return failed(diagnostics);
  }

  const inherit = options.progress === 'tty';
  const log = options.log;
  let metadataParts: string[] = [];
  // buildx asks git about each target's context (seven git commands, one target after another, before anything
  // builds: thousands at Kolla's scale) for the provenance's vcs fields; kolla-gen's labels name the checkout already.
  // BUILDX_GIT_INFO in the environment decides instead (docs/building.md).
  // bake gives all its targets one trace, and BuildKit keeps, in each target's build record, every span of that trace
  // it sees until the record is done: each of N records encodes and stores the spans of the whole bake, about a sixth
  // of the engine's CPU on the 35-image benchmark. No sampled trace, no such spans; the records keep their logs and
  // provenance. Any OTEL_ variable in the environment (a collector, a sampler of its own) leaves tracing as set.
  const tracing = Object.keys(options.env).some((k) => k.startsWith('OTEL_'));
  const bakeWhere: DockerEnv = {
    ...where,
    env: {
      ...where.env,
      ...(options.env.BUILDX_GIT_INFO === undefined ? { BUILDX_GIT_INFO: 'false' } : {}),
      ...(tracing ? {} : { OTEL_TRACES_SAMPLER: 'always_off' }),
    },
  };
  const bake = async (targets: string[], metadataFile?: string): Promise<DockerRun> =>
    runDocker(bakeArgs({ ...base, targets, metadataFile }), bakeWhere, { inherit, onOutput: log });

  const outcomes = new Map<string, TargetOutcome>();
  const first: DockerRun = names.length > 0 ? await bake(names, options.metadataFile) : { exitCode: 0, stdout: '', lines: [] };
  if (first.exitCode === 0) {
    for (const name of names) outcomes.set(name, { status: 'built' });
  } else {
    const fatal = fatalDiagnostic(first);
    if (fatal) {
      diagnostics.push(fatal);
      for (const name of names) outcomes.set(name, { status: 'failed', reason: `not built: ${fatal.message}` });
    } else {
      log?.(`\nkolla-gen: the bake failed; building in smaller bakes to learn which image failed\n`);
      const tmp = options.metadataFile !== undefined ? fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-metadata-')) : undefined;
      let call = 0;
      const isolation = await isolateFailures(plan, async (batch, retry): Promise<BakeAttempt> => {
        log?.(`\nkolla-gen: bake ${batch.join(' ')}${retry ? ` (it failed alone: try ${retry + 1})` : ''}\n`);
        const part = tmp !== undefined ? path.join(tmp, `${call++}.json`) : undefined;
        const run = await bake(batch, part);
        if (part !== undefined && fs.existsSync(part)) metadataParts.push(part);
        if (run.exitCode === 0) return { ok: true };
        const d = fatalDiagnostic(run);
        if (d) {
          diagnostics.push(d);
          return { ok: false, fatal: true, reason: d.message };
        }
        return { ok: false, reason: classifyBakeFailure(run.lines).line };
      }, { retries: options.retries ?? 1 });
      for (const [name, outcome] of isolation.outcomes) outcomes.set(name, outcome);
      if (isolation.fatal) for (const name of names) if (!outcomes.has(name)) outcomes.set(name, { status: 'failed', reason: `not built: ${isolation.fatal.reason}` });
      if (options.metadataFile !== undefined) {
        diagnostics.push(...mergeMetadata(metadataParts, path.resolve(load.cwd, options.metadataFile)));
        metadataParts = [];
      }
      if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true });
    }
  }

  for (const t of compiled.targets) {
    if (t.arch !== undefined) continue;
    const o = outcomes.get(t.name);
    if (o?.status === 'failed' && !o.reason.startsWith('not built:')) {
      diagnostics.push(error('KG804', `${t.name} (${t.image}) failed to build: ${o.reason}`, { hint: `read its log above; rebuild it alone with: kolla-gen build '^${t.image}$'` }));
    }
  }

  if (options.push) diagnostics.push(...(await tagArches(compiled, outcomes, options)));
  // --skip-existing: an image the registry holds is not built, but its tags must name that image, as a build would.
  const existing = options.push ? await retagExisting(compiled, made, options, diagnostics) : compiled.existing.map((target) => ({ target, retagged: [] }));
  const summary = summarizeBuild({ targets: compiled.targets.filter((t) => t.arch === undefined), existing, outcomes, manifest: compiled.manifest, pushed: options.push === true });
  if (options.summaryJsonFile !== undefined) {
    try {
      fs.writeFileSync(path.resolve(load.cwd, options.summaryJsonFile), `${JSON.stringify(summary, null, 2)}\n`);
    } catch (e) {
      diagnostics.push(error('KG808', `cannot write ${options.summaryJsonFile}: ${(e as Error).message}`));
    }
  }
  const bad = buildFailed(summary) || diagnostics.some((d) => d.severity === 'error');
  return { exitCode: bad ? 1 : 0, diagnostics, text: `${generation.note}\n${formatSummary(summary)}`, json: summary };
}

/** --affected-since with content tags: children build on their unaffected parents' content refs, which must exist. */
async function checkUnaffectedParents(compiled: Compiled, options: BuildOptions): Promise<Diagnostic[]> {
  const parents = unaffectedParents(compiled);
  if (parents.length === 0) return [];
  const platforms = new Map(parents.map((p) => [p.ref, p.arches.map((a) => `linux/${a}`)]));
  const registry = { env: options.env, insecure: compiled.config.insecureRegistries, verify: compiled.config.verifyExisting };
  const probes = await probeTags([...platforms.keys()], registry, platforms);
  const missing = parents.filter((p) => probes.get(p.ref)?.status === 'absent');
  const unanswered = [...probes.values()].flatMap((p) => (p.status === 'error' ? [p.message] : []));
  const out: Diagnostic[] = [];
  if (missing.length > 0) {
    const [first] = missing;
    const found = first ? probes.get(first.ref) : undefined;
    const lacks = found?.status === 'absent' && found.lacks ? `, which lacks ${found.lacks.join(' and ')}` : '';
    out.push(
      error('KG905', `${missing.length} unaffected parent${missing.length === 1 ? ' is' : 's are'} not in the registry, e.g. ${first?.image} (${first?.ref}${lacks}): the images built on ${missing.length === 1 ? 'it' : 'them'} would fail`),
    );
  }
  if (unanswered.length > 0) out.push(warning('KG902', `cannot check that the unaffected parents are in the registry: ${unanswered[0]}`));
  return out;
}

/**
 * After a push with content tags, each arch's image of a multi-arch target also gets its per-arch content tag
 * (`kg-<that arch's hash>`), the tag a one-arch run of the same arch pushes: so `--skip-existing` in a one-arch run
 * (a per-arch CI job) finds what a multi-arch run built, and the reverse. The registry copies each image's manifest
 * out of the list pushed under the target's content tag.
 */
async function tagArches(compiled: Compiled, outcomes: Map<string, TargetOutcome>, options: BuildOptions): Promise<Diagnostic[]> {
  const registry = { env: options.env, insecure: compiled.config.insecureRegistries };
  const out: Diagnostic[] = [];
  for (const t of compiled.targets) {
    if (t.contentTag === undefined || t.arch !== undefined || t.variantHashes.length < 2 || outcomes.get(t.name)?.status !== 'built') continue;
    const list = await listedImages(t.contentTag, registry);
    if (list.status === 'error') {
      out.push(warning('KG906', `cannot tag the arches of ${t.contentTag}: ${list.message}`));
      continue;
    }
    for (const v of t.variantHashes) {
      const tag = contentRef(t.ref, v.hash);
      const image = list.images.get(v.arch);
      if (image === undefined) {
        out.push(warning('KG906', `${t.contentTag} holds no linux/${v.arch} image to tag as ${tag}`));
        continue;
      }
      const copied = (await copyTag(image, [tag], registry)).get(tag);
      if (copied?.status === 'error') out.push(warning('KG906', `cannot tag ${image} as ${tag}: ${copied.message}`));
    }
  }
  return out;
}

/**
 * --skip-existing found every arch's image of some multi-arch targets under its per-arch content tag, but no list: with
 * --push, push the list under the target's content tag (then its tags are pointed at it, as for any existing target).
 * Target name → the list's digest.
 */
async function makeLists(compiled: Compiled, options: BuildOptions, diagnostics: Diagnostic[]): Promise<Map<string, string>> {
  const made = new Map<string, string>();
  const lists = compiled.existing.filter((t) => t.fromArches !== undefined && t.contentTag !== undefined);
  if (lists.length === 0) return made;
  if (!options.push) {
    diagnostics.push(
      warning('KG907', `${lists.length} image${lists.length === 1 ? ' is' : 's are'} in the registry per arch only, e.g. ${lists[0]?.contentTag}: their lists are made by a build with --push`),
    );
    return made;
  }
  for (const t of lists) {
    const result = await makeList(t.contentTag!, t.fromArches!, { env: options.env, insecure: compiled.config.insecureRegistries });
    if (result.status === 'copied') made.set(t.name, result.digest);
    else diagnostics.push(error('KG904', `cannot make the list ${t.contentTag} of ${t.fromArches!.map((a) => a.ref).join(', ')}: ${result.message}`));
  }
  return made;
}

/** Points each tag of an existing target at its content tag where it names another image: the registry copies the manifest. */
async function retagExisting(
  compiled: Compiled,
  made: Map<string, string>,
  options: BuildOptions,
  diagnostics: Diagnostic[],
): Promise<{ target: PlannedTarget; retagged: string[] }[]> {
  // The content tags' digests came with --skip-existing's answer: only the other tags are asked for.
  const refs = compiled.existing.flatMap((t) => t.tags);
  const probes = refs.length > 0 ? await probeTags(refs, { env: options.env, insecure: compiled.config.insecureRegistries }) : new Map();
  const out: { target: PlannedTarget; retagged: string[] }[] = [];
  for (const target of compiled.existing) {
    const digest = made.get(target.name) ?? target.digest;
    const stale = target.tags.filter((tag) => {
      const probe = probes.get(tag);
      return probe?.status !== 'present' || probe.digest !== digest;
    });
    if (stale.length === 0 || target.contentTag === undefined) {
      out.push({ target, retagged: [] });
      continue;
    }
    const copied = await copyTag(target.contentTag, stale, { env: options.env, insecure: compiled.config.insecureRegistries });
    const refused = [...copied].filter(([, r]) => r.status === 'error');
    for (const [tag, r] of refused) {
      if (r.status === 'error') diagnostics.push(error('KG904', `cannot tag ${target.contentTag} as ${tag}: ${r.message}`));
    }
    out.push({ target, retagged: stale.filter((tag) => copied.get(tag)?.status === 'copied') });
  }
  return out;
}

/** Each isolating bake wrote its own metadata: one file, as a single bake would have written it. */
function mergeMetadata(parts: string[], dest: string): Diagnostic[] {
  const merged: Record<string, unknown> = {};
  try {
    for (const part of parts) Object.assign(merged, JSON.parse(fs.readFileSync(part, 'utf8')) as Record<string, unknown>);
    fs.writeFileSync(dest, `${JSON.stringify(merged, null, 2)}\n`);
    return [];
  } catch (e) {
    return [error('KG808', `cannot write the metadata file ${dest}: ${(e as Error).message}`)];
  }
}
