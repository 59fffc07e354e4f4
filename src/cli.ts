#!/usr/bin/env node
// commander: flags → options, result → output and exit code. Nothing else.
import { Command, InvalidArgumentError, Option } from 'commander';
import type { CommandResult } from './commands/run.js';
import type { CliOptions } from './load/config/resolve.js';
import * as path from 'node:path';
import { diagnosticToJson, error, formatDiagnostic, formatDiagnosticHinted, hintOf } from './core/diagnostics.js';
import { DEPS_FORMATS, type DepsFormat } from './graph/format.js';
import { findConfigDir } from './load/files.js';
import { CONFIG_NAME, fromRoot, repoRoot } from './load/root.js';

// Start-up: a command's code (the template engine, the config schema, YAML, docker and registry clients) is loaded
// when that command runs, not before: `kolla-gen --help` or a usage error loads commander and this file only.
const commands = {
  build: () => import('./commands/build.js'),
  check: () => import('./commands/check.js'),
  deps: () => import('./commands/deps.js'),
  explain: () => import('./commands/explain.js'),
  generate: () => import('./commands/generate.js'),
  helpCode: () => import('./commands/help-code.js'),
  init: () => import('./commands/init.js'),
  list: () => import('./commands/list.js'),
  lock: () => import('./commands/lock.js'),
  summary: () => import('./commands/summary.js'),
  templateCache: () => import('./commands/template-cache.js'),
};

interface Flags {
  /** false: --no-config. */
  config?: string | false;
  dockerDir?: string[];
  output?: string;
  base?: string[];
  type?: string[];
  arch?: string[];
  baseArch?: string[];
  profile?: string[];
  skipParents?: boolean;
  enableUnbuildable?: boolean;
  templateOverride?: string[];
  vars?: string[];
  namespace?: string;
  registry?: string;
  imageNamePrefix?: string;
  tag?: string;
  buildArg?: string[];
  passEnv?: string[];
  json?: boolean;
  quiet?: boolean;
  format?: DepsFormat;
  preset?: string;
  kollaConfig?: string;
  contentTags?: boolean;
  contentTagsMode?: 'only';
  affectedSince?: string;
  skipExisting?: boolean;
  skipExistingMode?: 'error' | 'warn';
  verifyExisting?: boolean;
  cacheRef?: string;
  cacheExport?: boolean;
  insecureRegistry?: string[];
  strictUndefined?: boolean;
  maxValueSize?: number;
  maxOutputSize?: number;
  maxSteps?: number;
}

/** check --diff's bound (write/diff.ts says it too; the CLI does not load that module for --help). */
const DIFF_LINES = 2000;

const repeat = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];
const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('a whole number, 1 or more');
  return n;
};
const commaList = (value: string, previous: string[] | undefined) => [...(previous ?? []), ...value.split(',').map((v) => v.trim()).filter(Boolean)];
// `-p ''` is kept as one empty name, so that selection refuses it rather than selecting every image.
const profileList = (value: string, previous: string[] | undefined) => (value.trim() === '' ? [...(previous ?? []), ''] : commaList(value, previous));

// Each command takes only the options it uses, listed under a heading per group; an option a command does not take is
// a usage error there ("unknown option").
type OptionGroup = 'input' | 'selection' | 'naming' | 'registry' | 'bake' | 'output';

const GROUP_HEADINGS: Record<OptionGroup, string> = {
  input: 'Input options (the tree and its templates):',
  selection: 'Selection options (which images):',
  naming: 'Naming options (image references):',
  registry: 'Registry options:',
  bake: 'Output dir and bake file options:',
  output: 'Output options:',
};

function groupOptions(group: OptionGroup): Option[] {
  switch (group) {
    case 'input':
      return [
        new Option('-c, --config <file>', 'config file (default: kolla-gen.yaml, searched upward to the git top-level); paths in it are relative to its folder, the repo root'),
        new Option('--no-config', 'ignore kolla-gen.yaml: defaults and flags only'),
        new Option('-D, --docker-dir <dir>', 'docker dir; repeat to overlay a later dir on an earlier one, file by file (default: docker)').argParser(repeat),
        new Option('--preset <name>', 'the template context and defaults of a known tree: kolla (upstream kolla-build)'),
        new Option('--kolla-config <file>', 'a kolla-build.conf to read settings from (implies --preset kolla); kolla_config: in kolla-gen.yaml'),
        new Option('--template-override <file>', 'template override ({% extends parent_template %}), applied after template_override: of kolla-gen.yaml; repeatable').argParser(repeat),
        new Option('--vars <file>', 'extra template variables (YAML or JSON mapping), after vars_files: of kolla-gen.yaml; repeatable').argParser(repeat),
        new Option('--pass-env <names>', 'environment variables templates may read as env.NAME, besides pass_env: of kolla-gen.yaml').argParser(commaList),
        new Option('--strict-undefined', "an undefined template variable is an error (Jinja2's StrictUndefined), for CI"),
        new Option('--max-value-size <n>', 'render limit: characters or items of one str, list or dict a template builds').argParser(positiveInt),
        new Option('--max-output-size <n>', 'render limit: characters one render outputs').argParser(positiveInt),
        new Option('--max-steps <n>', 'render limit: steps of one render (loop iterations, calls, characters and items built)').argParser(positiveInt),
      ];
    case 'selection':
      return [
        new Option('-b, --base <bases>', 'base distros: ubuntu, debian, rocky, centos (repeatable or comma-separated)').argParser(commaList),
        new Option('-t, --type <types>', 'install types of the tree, e.g. binary, source').argParser(commaList),
        new Option('-a, --arch <arches>', 'arches: amd64, arm64 (or x86_64, aarch64)').argParser(commaList),
        new Option('--base-arch <arches>', 'alias of --arch').argParser(commaList).hideHelp(),
        new Option('-p, --profile <profiles>', 'profiles of kolla-gen.yaml to build (used when no regex is given), besides its profile: list').argParser(profileList),
        new Option('--skip-parents', 'skip every selected image that has children in the tree'),
        new Option('--enable-unbuildable', 'ignore the unbuildable table'),
        new Option('--affected-since <rev>', 'select only the images whose content hash differs from the git revision <rev>, and their descendants'),
      ];
    case 'naming':
      return [
        new Option('-n, --namespace <namespace>', 'image namespace (default: kolla)'),
        new Option('--registry <registry>', 'registry host of the images, e.g. localhost:5000'),
        new Option('--image-name-prefix <prefix>', 'image name prefix (default: <base>-<type>- with a type axis, else none)'),
        new Option('--tag <tag>', 'image tag (default: latest)'),
        new Option('--content-tags', 'also tag every image <repository>:kg-<content hash>; --content-tags=only: tag it so alone (implied by --skip-existing)'),
        new Option('--content-tags-mode <mode>').choices(['only']).hideHelp(),
      ];
    case 'registry':
      return [
        new Option('--skip-existing', "leave out images whose content tag the registry already holds; --skip-existing=warn: build everything when it cannot be asked"),
        new Option('--skip-existing-mode <mode>').choices(['error', 'warn']).hideHelp(),
        new Option(
          '--verify-existing',
          "--skip-existing (and build --affected-since) read each content tag's list and ask for each arch's image in it (a GET and a HEAD per arch), not only the tag's HEAD: for registries whose retention may delete an arch's image (verify_existing: in kolla-gen.yaml)",
        ),
        new Option('--insecure-registry <hosts>', 'registry hosts to ask over plain HTTP for --skip-existing (localhost falls back by itself)').argParser(commaList),
      ];
    case 'bake':
      return [
        new Option('-o, --output <dir>', 'output dir (default: generated)'),
        new Option('--build-arg <KEY=VALUE>', 'build arg for every target; repeatable').argParser(repeat),
        new Option('--cache-ref <repository>', 'registry cache: one ref per image, variant and arch under this repository (cache-from and cache-to)'),
        new Option('--no-cache-export', 'registry cache: read it (cache-from) but write none (no cache-to)'),
      ];
    case 'output':
      return [new Option('--json', 'print the result as JSON'), new Option('-q, --quiet', 'print only errors (and what list, deps and explain were asked for)')];
  }
}

/** The groups of options a command takes, each under its heading; `extra` (the command's own) go under Output options. */
function withOptions(cmd: Command, groups: readonly OptionGroup[], extra: Option[] = []): Command {
  for (const group of groups) {
    for (const option of [...(group === 'output' ? extra : []), ...groupOptions(group)]) cmd.addOption(option.helpGroup(GROUP_HEADINGS[group]));
  }
  return cmd;
}

/** generate, check and build: every group. list and explain write nothing: no output dir, build args or cache. */
const ALL: OptionGroup[] = ['input', 'selection', 'naming', 'registry', 'bake', 'output'];
const NO_OUTPUT_DIR: OptionGroup[] = ['input', 'selection', 'naming', 'registry', 'output'];

const configFlag = (flags: Flags) => (typeof flags.config === 'string' ? flags.config : undefined);
let found: { dir: string | undefined } | undefined;
/** The repo root; without -c or --no-config, kolla-gen.yaml is searched from the working directory upward (once). */
const rootOf = (flags: Flags) => {
  if (flags.config === undefined) found ??= { dir: findConfigDir(process.cwd(), CONFIG_NAME) };
  return repoRoot(process.cwd(), configFlag(flags), found?.dir);
};
/** A path flag, typed from the working directory, as the root sees it. */
const rooted = (flags: Flags, p: string) => fromRoot(process.cwd(), rootOf(flags), p);
const rootedAll = (flags: Flags, ps: string[] | undefined) => ps?.map((p) => rooted(flags, p));

function toCliOptions(regexes: string[], flags: Flags): CliOptions {
  return {
    regexes,
    dockerDirs: rootedAll(flags, flags.dockerDir),
    output: flags.output === undefined ? undefined : rooted(flags, flags.output),
    bases: flags.base,
    types: flags.type,
    arches: [...(flags.arch ?? []), ...(flags.baseArch ?? [])],
    profiles: flags.profile,
    skipParents: flags.skipParents,
    enableUnbuildable: flags.enableUnbuildable,
    templateOverrides: rootedAll(flags, flags.templateOverride),
    varsFiles: rootedAll(flags, flags.vars),
    namespace: flags.namespace,
    registry: flags.registry,
    imageNamePrefix: flags.imageNamePrefix,
    tag: flags.tag,
    buildArgs: flags.buildArg,
    passEnv: flags.passEnv,
    preset: flags.preset,
    contentTags: flags.contentTagsMode ?? flags.contentTags,
    affectedSince: flags.affectedSince,
    skipExisting: flags.skipExistingMode ?? (flags.skipExisting ? 'error' : undefined),
    verifyExisting: flags.verifyExisting,
    cacheRef: flags.cacheRef,
    cacheExport: flags.cacheExport === false ? false : undefined,
    insecureRegistries: flags.insecureRegistry,
    strictUndefined: flags.strictUndefined,
    renderLimits: { maxValueSize: flags.maxValueSize, maxOutputSize: flags.maxOutputSize, maxSteps: flags.maxSteps },
  };
}

/**
 * What a run prints by default: errors, the warnings, each hint once (with the first diagnostic that gives it: after
 * an upstream bump, 240 stale files share one), and the one-line result. `infos` (generate, which makes the output):
 * also what --preset kolla assumed. The config file is named only when it is not in the working directory (found
 * above, or -c): the command runs from its folder.
 */
async function report(result: CommandResult, flags: Flags, { infos = false } = {}): Promise<never> {
  if (flags.json) {
    const assumed = result.diagnostics.find((d) => d.code === 'KG115')?.data;
    const out = {
      ok: result.exitCode === 0,
      ...(loadedConfig !== undefined ? { config: loadedConfig } : {}),
      diagnostics: result.diagnostics.map(diagnosticToJson),
      ...(assumed ? { kolla: assumed } : {}),
      result: result.json ?? result.text ?? null,
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    const root = rootOf(flags);
    if (typeof loadedConfig === 'string' && !flags.quiet && root !== process.cwd()) {
      process.stderr.write(`kolla-gen: config ${loadedConfig} in ${path.relative(process.cwd(), root) || '.'}; paths are from there\n`);
    }
    for (const line of result.lines ?? []) process.stderr.write(`${line}\n`);
    const hinted = new Set<string>();
    for (const d of result.diagnostics) {
      if (d.severity === 'info') {
        if (infos && !flags.quiet) process.stderr.write(`${formatDiagnostic(d)}\n`);
        continue;
      }
      if (d.severity !== 'error' && flags.quiet) continue;
      const text = formatDiagnosticHinted(d, !hinted.has(hintOf(d)));
      hinted.add(hintOf(d));
      // A diagnostic of one line sits in a list of like ones; a longer one stands apart.
      process.stderr.write(`${text}\n${text.includes('\n') ? '\n' : ''}`);
    }
    if (!flags.quiet) for (const note of result.notes ?? []) process.stderr.write(`kolla-gen: ${note}\n`);
    if (result.text !== undefined && (!flags.quiet || result.listing)) process.stdout.write(`${result.text}\n`);
    const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
    if (errors > 0) process.stderr.write(`kolla-gen: ${errors} error${errors === 1 ? '' : 's'}\n`);
  }
  // process.exit does not wait for a pipe to take what was written: a large --json would be cut off.
  await Promise.all([process.stdout, process.stderr].map((stream) => new Promise<void>((resolve) => stream.write('', () => resolve()))));
  process.exit(stoppedBy !== undefined ? SIGNAL_EXIT[stoppedBy] : result.exitCode);
}

/** The conventional exit codes of a process stopped by a signal: 128 + its number. */
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;
/** The signal that stopped the run, if one did: its exit code replaces the command's. */
let stoppedBy: keyof typeof SIGNAL_EXIT | undefined;

/**
 * SIGINT and SIGTERM for generate: while it writes the output dir, the write is told to stop at its next pause (it
 * removes its temp dir and leaves the output dir as it was), then the run exits 130 or 143; at any other moment, or
 * on a second signal, it exits at once (nothing of it is on disk).
 */
function stoppable() {
  const controller = new AbortController();
  let writing = false;
  for (const name of Object.keys(SIGNAL_EXIT) as (keyof typeof SIGNAL_EXIT)[]) {
    process.on(name, () => {
      if (!writing || stoppedBy !== undefined) {
        process.stderr.write(`kolla-gen: stopped by ${name}\n`);
        process.exit(SIGNAL_EXIT[name]);
      }
      stoppedBy = name;
      controller.abort(name);
    });
  }
  return { signal: controller.signal, writing: (on: boolean) => (writing = on) };
}

/** A command's action: its result reported, a throw an internal error; `renders`: it uses the template cache. */
function action<F extends Flags = Flags>(run: (regexes: string[], flags: F) => Promise<CommandResult>, { renders = true, infos = false } = {}) {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const flags = cmd.opts<F>();
    const regexes = Array.isArray(args[0]) ? (args[0] as string[]) : [];
    try {
      const saveTemplates = renders ? (await commands.templateCache()).useTemplateCache(rootOf(flags), env()) : () => {};
      const result = await run(regexes, flags);
      saveTemplates();
      await report(result, flags, { infos });
    } catch (e) {
      process.stderr.write(
        `kolla-gen: internal error: this is a bug in kolla-gen, not in your input. Please report it with the command you ran.\n${
          e instanceof Error ? (e.stack ?? e.message) : String(e)
        }\n`,
      );
      process.exit(2);
    }
  };
}

const env = (): Record<string, string | undefined> => process.env;
/** The config file the command loaded (null: none), said once on stderr and as `config` in --json. */
let loadedConfig: string | null | undefined;
// Commands run in the repo root (see load/root.ts), with every path flag rebased onto it.
const loadOptions = (flags: Flags) => ({
  cwd: rootOf(flags),
  env: env(),
  configFile: configFlag(flags) === undefined ? undefined : rooted(flags, configFlag(flags) as string),
  noConfig: flags.config === false,
  onConfig: (config: string | null) => {
    loadedConfig = config;
  },
  kollaConfigFile: flags.kollaConfig === undefined ? undefined : rooted(flags, flags.kollaConfig),
});

const program = new Command()
  .name('kolla-gen')
  .description('Compiles a tree of Jinja-templated Dockerfiles into docker buildx bake files (generated/).')
  .version('0.1.0')
  .showHelpAfterError('(run `kolla-gen <command> --help` for the options)')
  .configureOutput({ outputError: (str, write) => write(str) })
  .helpCommand(false)
  .addHelpText(
    'after',
    `
Environment:
  KOLLA_GEN_CACHE_DIR=DIR  where runs keep the parsed templates, the renderings,
                           the last output and what the registry answered, for
                           the next (an absolute path; default:
                           $XDG_CACHE_HOME/kolla-gen, if absolute, else
                           ~/.cache/kolla-gen)
  KOLLA_GEN_CACHE=off      neither read nor write that cache
  BUILDX_GIT_INFO=true     build: let buildx ask git for each target's
                           provenance (kolla-gen bakes with false, unless set)
  OTEL_*                   build: any OTEL_ variable (OTEL_TRACES_SAMPLER, a
                           collector's OTEL_EXPORTER_OTLP_ENDPOINT) leaves
                           bake's tracing as set; else kolla-gen bakes with
                           OTEL_TRACES_SAMPLER=always_off`,
  );

// `kolla-gen help KG402` explains a diagnostic code (as rustc --explain does); `kolla-gen help generate` is --help.
program
  .command('help')
  .argument('[topic]', 'a command, or a diagnostic code such as KG402')
  .option('--json', 'print a code\'s explanation as JSON')
  .description('show help for a command, or explain a diagnostic code (kolla-gen help KG402)')
  .action(async (topic: string | undefined, flags: Flags) => {
    if (topic !== undefined) {
      const { helpCode, isCodeTopic } = await commands.helpCode();
      if (isCodeTopic(topic)) return report(helpCode(topic), flags);
    }
    const cmd = topic === undefined ? program : program.commands.find((c) => c.name() === topic);
    if (!cmd) return program.error(`error: unknown command '${topic}'`);
    cmd.outputHelp();
  });

withOptions(
  program
    .command('generate')
    .argument('[regex...]', 'build only images whose name matches one of these regexes (and their parents)')
    .description('render, resolve, select, fold and write the output dir (atomically)'),
  ALL,
).action(
  action(async (regexes, flags) => (await commands.generate()).generate(toCliOptions(regexes, flags), loadOptions(flags), stoppable()), { infos: true }),
);

withOptions(
  program
    .command('check')
    .argument('[regex...]', 'as for generate')
    .description('do what generate does but write nothing; exit 1 naming every stale, missing or extra file, a line each'),
  ALL,
  [new Option('--diff', `also print the unified diff of what generate would change (git-style, in path order; at most ${DIFF_LINES} lines)`)],
).action(
  action<Flags & { diff?: boolean }>(async (regexes, flags) => (await commands.check()).check(toCliOptions(regexes, flags), loadOptions(flags), { diff: flags.diff })),
);

withOptions(
  program.command('list').argument('[regex...]', 'as for generate').description('list the selected images per variant (--json for machines)'),
  NO_OUTPUT_DIR,
).action(
  action(async (regexes, flags) => (await commands.list()).list(toCliOptions(regexes, flags), loadOptions(flags))),
);

withOptions(
  program
    .command('explain')
    .argument('<image>', 'an image of the tree')
    .argument('[regex...]', 'as for generate: the selection to explain')
    .description('say why an image is or is not built on each variant: the filter, the changed input (--affected-since), the registry (--skip-existing)'),
  NO_OUTPUT_DIR,
).action(async (...args: unknown[]) => {
  const cmd = args[args.length - 1] as Command;
  const flags = cmd.opts<Flags>();
  const image = String(args[0]);
  const regexes = Array.isArray(args[1]) ? (args[1] as string[]) : [];
  await action(async () => (await commands.explain()).explain(image, toCliOptions(regexes, flags), loadOptions(flags)))(cmd);
});

// summary: markdown for a CI job summary; it needs the revision to compare with.
withOptions(
  program
    .command('summary')
    .argument('[regex...]', 'as for generate')
    .description('markdown for a CI job summary (--affected-since REV, required): the images added, removed and affected per variant, a mermaid graph of them and their parents, what changed in each rendered Dockerfile'),
  ['input', 'selection', 'naming', 'output'],
).action(async (...args: unknown[]) => {
  const cmd = args[args.length - 1] as Command;
  const flags = cmd.opts<Flags>();
  if (flags.affectedSince === undefined) cmd.error('error: summary compares with a revision: give --affected-since <rev> (e.g. origin/main)');
  await action(async (regexes) => (await commands.summary()).summary(toCliOptions(regexes, flags), loadOptions(flags)))(...args);
});

// deps draws the tree: no naming, registry, output dir or bake options.
withOptions(
  program
    .command('deps')
    .argument('[regex...]', 'as for generate')
    .description('print the dependency tree of the selected images, one document for every variant (first arch)'),
  ['input', 'selection', 'output'],
  [new Option('--format <format>', 'json, a graphviz digraph (dot) or a mermaid flowchart; a cluster or subgraph per variant').choices(DEPS_FORMATS).default('json')],
).action(async (...args: unknown[]) => {
  const cmd = args[args.length - 1] as Command;
  const flags = cmd.opts<Flags>();
  // --json prints the JSON document inside the result envelope: a text format beside it would be dropped silently.
  if (flags.json && flags.format !== 'json') cmd.error(`error: --json prints the dependency tree as JSON; --format ${flags.format} prints text: give one of them`);
  await action(async (regexes) => (await commands.deps()).deps(toCliOptions(regexes, flags), loadOptions(flags), flags.format ?? 'json'))(...args);
});

program
  .command('init')
  .description("start an ops repo: a commented kolla-gen.yaml, .github/workflows/images.yml (build and push), .github/workflows/refresh-bases.yml (the lock's weekly refresh), .gitattributes (never overwrites a file; --bump moves the pinned upstream)")
  .option('--preset <name>', 'kolla: an upstream Kolla checkout, read for its docker dir, branch, profiles and commit (default: the submodule kolla, else ../kolla)')
  .option('-D, --docker-dir <dir>', 'the docker dir, relative to this directory (default: docker); with --preset kolla, the checkout or its docker dir')
  .option('--registry <host>', 'the registry the images are pushed to: written to kolla-gen.yaml (the tags) and to the workflow (its login)')
  .option('--bump', "move upstream.commit of kolla-gen.yaml to the HEAD of the checkout beside the repo (then kolla-gen generate, and commit both)")
  .option('--json', 'print the result as JSON')
  .option('-q, --quiet', 'print only errors')
  .action(async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const flags = cmd.opts<Flags & { dockerDir?: string; registry?: string; bump?: boolean }>();
    const options = { cwd: process.cwd(), dockerDir: flags.dockerDir, preset: flags.preset, registry: flags.registry, bump: flags.bump };
    await action(async () => (await commands.init()).init(options), { renders: false })(cmd);
  });

// lock: the config's own bases and arches (a -b would drop the others' entries), no selection.
withOptions(
  program
    .command('lock')
    .argument('[ref...]', 'external bases to resolve again, as a FROM names them (default: every one)')
    .description(
      'resolve every external base (a FROM that is no image of the tree) to the digest its tag points to in the registry, and write kolla-gen.lock.json beside kolla-gen.yaml; once it exists, builds use those digests and check fails on a base it lacks',
    ),
  ['input', 'output'],
  [
    new Option('--check', 'write nothing; exit 1 when the lock would change (a base moved, is missing or no longer used)'),
    new Option('--insecure-registry <hosts>', 'registry hosts to ask over plain HTTP (localhost falls back by itself)').argParser(commaList),
  ],
).action(async (...args: unknown[]) => {
  const cmd = args[args.length - 1] as Command;
  const flags = cmd.opts<Flags & { check?: boolean }>();
  const refs = Array.isArray(args[0]) ? (args[0] as string[]) : [];
  await action(async () => (await commands.lock()).lock(toCliOptions([], flags), loadOptions(flags), { refs, check: flags.check }))(cmd);
});

// kolla-gen build: the one command that runs docker; its summary is the result.
interface BuildFlags extends Flags {
  push?: boolean;
  builder?: string;
  set?: string[];
  progress?: string;
  metadataFile?: string;
  provenance?: string;
  cache?: boolean;
  pull?: boolean;
  print?: boolean;
  list?: 'targets' | 'groups' | true;
  summaryJsonFile?: string;
  retries?: number;
}

withOptions(
  program
    .command('build')
    .argument('[regex...]', 'as for generate')
    .description('docker buildx bake the selected images (and their parents) of the committed generation (a private one in a temp dir when it is stale or made with other options); print what built, failed and was skipped'),
  ALL,
)
  .optionsGroup('Build options (docker buildx bake):')
    .option('--push', 'push every selected image (a multi-arch one as one manifest list; on a BuildKit of its own, its layers\' file times clamped to SOURCE_DATE_EPOCH: docs/building.md); with content tags, each arch\'s image also under its per-arch content tag, and --skip-existing makes lists of per-arch images the registry holds')
    .option('--builder <name>', 'the buildx builder to use (docker buildx ls)')
    .option('--set <target.key=value>', 'override a bake target value, as bake --set; repeatable', repeat)
    .option('--progress <type>', 'buildx progress output: auto, plain, tty')
    .option('--metadata-file <file>', "write bake's build result metadata to this file")
    .option('--provenance <value>', "bake --provenance (e.g. false, mode=max); default: buildx's")
    .option('--no-cache', 'do not use the build cache')
    .option('--pull', 'always pull external base images')
    .option('--print', "print bake's definition of the build (JSON) and build nothing")
    .addOption(new Option('--list [what]', 'list the targets or groups of the build and build nothing').choices(['targets', 'groups']))
    .option('--summary-json-file <file>', 'also write the summary as JSON to this file')
    .addOption(
      new Option('--retries <n>', 'when a bake fails: times an image that failed alone is tried again (default 1)').argParser((v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('a whole number, 0 or more');
        return n;
      }),
    )
  .action(
    action<BuildFlags>(async (regexes, flags) => {
      const { build } = await commands.build();
      return build(toCliOptions(regexes, flags), loadOptions(flags), {
        push: flags.push,
        builder: flags.builder,
        set: flags.set ?? [],
        progress: flags.progress,
        metadataFile: flags.metadataFile === undefined ? undefined : rooted(flags, flags.metadataFile),
        provenance: flags.provenance,
        noCache: flags.cache === false,
        pull: flags.pull,
        print: flags.print,
        list: flags.list === true ? 'targets' : flags.list,
        summaryJsonFile: flags.summaryJsonFile === undefined ? undefined : rooted(flags, flags.summaryJsonFile),
        retries: flags.retries,
        log: flags.quiet ? undefined : (text) => process.stderr.write(text),
        env: env(),
      });
    }),
  );

// `--skip-existing=warn` and `--content-tags=only` take their value only after "=", so that `--skip-existing nova`
// still reads nova as a regex.
const EQUALS_FLAGS = ['--skip-existing', '--content-tags'];
// ... but `--content-tags only` (a space) is almost surely meant as `--content-tags=only`: refuse it with the fix.
const MODES: Record<string, string[]> = { '--content-tags': ['only'], '--skip-existing': ['warn', 'error'] };
const spaced = process.argv.findIndex((arg, i) => i > 1 && MODES[process.argv[i - 1] ?? '']?.includes(arg));
if (spaced > 0) {
  const flag = process.argv[spaced - 1] as string;
  const value = process.argv[spaced] as string;
  process.stderr.write(
    `${formatDiagnostic(
      error('KG611', `${flag} ${value}: "${value}" would be read as a regex selecting images, not as the value of ${flag}`, {
        hint: `write ${flag}=${value}; to select images matching "${value}", put the regex first or anchor it (kolla-gen list '^${value}' ${flag})`,
      }),
    )}\n\nkolla-gen: 1 error\n`,
  );
  process.exit(1);
}
const argv = process.argv.flatMap((arg) => {
  const flag = EQUALS_FLAGS.find((f) => arg.startsWith(`${f}=`));
  return flag ? [flag, `${flag}-mode`, arg.slice(flag.length + 1)] : [arg];
});
await program.parseAsync(argv);
