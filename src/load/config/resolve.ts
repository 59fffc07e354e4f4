// WrittenConfig + command line → ResolvedConfig. Pure: the files arrive as text.
import { isMap, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { error, warning, type Diagnostic, type SourceLocation } from '../../core/diagnostics.js';
import { buildDateFromEpoch, kollaSettings, kollaTables, kollaUnbuildable, presetDefaults } from '../kolla/preset.js';
import { DEFAULT_BUILDKIT_POLICY, PRESETS, type AttestConfig, type BaseImage, type BuildkitPolicy, type CliOptions, type KollaCheckout, type KollaConfigValues, type PresetName, type ResolvedConfig, type SourceText, type UnbuildableRule } from './types.js';

export type { AttestConfig, BaseImage, CacheConfig, CliOptions, ResolvedConfig, SourceText, UnbuildableRule } from './types.js';
import { ARCHES, BASES, type Arch, type Base, type Family } from '../../core/types.js';
import { writtenConfigSchema, type WrittenConfig } from './schema.js';
import { DEFAULT_RENDER_LIMITS } from '../../jinja/limits.js';
import { checkBakeMap, checkRefParts, type ValueSource } from './validate.js';
import { expandPlaceholders, imagePrefix } from './placeholders.js';
import { regexOrError } from '../../core/regex.js';
import { closest, distance } from 'fastest-levenshtein';
import { familiarRepository, parseRef } from '../../core/ref.js';







export const DEFAULT_BASE_IMAGES: Record<Base, BaseImage> = {
  ubuntu: { image: 'ubuntu', tag: '24.04' },
  debian: { image: 'debian', tag: '12' },
  rocky: { image: 'quay.io/rockylinux/rockylinux', tag: '10' },
  centos: { image: 'quay.io/centos/centos', tag: 'stream10' },
};

const ARCH_ALIASES: Record<string, Arch> = { amd64: 'amd64', x86_64: 'amd64', arm64: 'arm64', aarch64: 'arm64' };

export interface ResolveInput {
  cli: CliOptions;
  /** kolla-gen.yaml, when there is one. */
  config?: SourceText;
  /** --vars files, in order. */
  varsFiles?: SourceText[];
  /** The process environment; only --pass-env names are read from it. */
  env?: Record<string, string | undefined>;
  /** --kolla-config, already read (its values for the command line are merged into `cli` by the loader). */
  kollaConfig?: KollaConfigValues;
  /** --preset kolla: what the loader read from the kolla checkout around the docker dirs. */
  kollaCheckout?: KollaCheckout;
}

export interface ResolveResult {
  config?: ResolvedConfig;
  diagnostics: Diagnostic[];
}

interface YamlFile {
  doc: Document;
  lines: LineCounter;
  source: SourceText;
}

function locate(file: YamlFile, path: readonly PropertyKey[], key = false): SourceLocation {
  let node: unknown = file.doc.contents;
  let offset = 0;
  for (const part of path) {
    if (!isMap(node) && !(node && typeof node === 'object' && 'items' in node)) break;
    const pairOrItem = isMap(node)
      ? node.items.find((p) => (p.key as { value?: unknown } | null)?.value === part)
      : (node as { items: unknown[] }).items[Number(part)];
    if (!pairOrItem) break;
    if (isMap(node)) {
      const pair = pairOrItem as { key: { range?: number[] }; value: unknown };
      offset = pair.key.range?.[0] ?? offset;
      if (key && part === path[path.length - 1]) break;
      node = pair.value;
    } else {
      node = pairOrItem;
    }
    const range = (node as { range?: number[] } | null)?.range;
    if (range?.[0] !== undefined) offset = range[0];
  }
  const pos = file.lines.linePos(offset);
  return { file: file.source.path, line: pos.line, column: pos.col };
}

function parseYaml(source: SourceText, code: 'KG101' | 'KG103'): { file?: YamlFile; diagnostics: Diagnostic[] } {
  const lines = new LineCounter();
  const doc = parseDocument(source.text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problem = doc.errors[0];
  if (problem) {
    const pos = lines.linePos(problem.pos[0]);
    const message = problem.message.split('\n')[0] ?? problem.message;
    return {
      diagnostics: [error(code, message, { location: { file: source.path, line: pos.line, column: pos.col }, source: source.text })],
    };
  }
  return { file: { doc, lines, source }, diagnostics: [] };
}

/** Aliases beyond this many are a resource exhaustion attack (yaml's own default, said here so the docs can cite it). */
export const MAX_YAML_ALIASES = 100;

/** The file's data, or a KG130 at its first alias when its aliases expand too far (a "billion laughs" file). */
function toData(file: YamlFile, diagnostics: Diagnostic[]): { data: unknown } | undefined {
  try {
    return { data: file.doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) };
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
    let offset = 0;
    visit(file.doc, {
      Alias(_key, node) {
        offset = node.range?.[0] ?? 0;
        return visit.BREAK;
      },
    });
    const pos = file.lines.linePos(offset);
    diagnostics.push(
      error('KG130', `${file.source.path}: its aliases expand to too many values (${e.message.toLowerCase()})`, {
        location: { file: file.source.path, line: pos.line, column: pos.col },
        source: file.source.text,
      }),
    );
    return undefined;
  }
}

/** The keys a schema's object takes at a path of the config (inside records and lists too); none where it is no object. */
function keysAt(schema: unknown, at: readonly PropertyKey[]): string[] {
  type Def = { type?: string; shape?: Record<string, unknown>; innerType?: unknown; valueType?: unknown; element?: unknown };
  const def = (s: unknown): Def => ((s as { _zod?: { def?: Def } } | undefined)?._zod?.def ?? {});
  const unwrap = (s: unknown): unknown => {
    let d = def(s);
    while (d.innerType !== undefined) {
      s = d.innerType;
      d = def(s);
    }
    return s;
  };
  let node = unwrap(schema);
  for (const step of at) {
    const d = def(node);
    node = unwrap(d.type === 'object' ? d.shape?.[String(step)] : d.type === 'record' ? d.valueType : d.type === 'array' ? d.element : undefined);
    if (node === undefined) return [];
  }
  const d = def(node);
  return d.type === 'object' ? Object.keys(d.shape ?? {}) : [];
}

/** The known key a mistyped one was probably meant to be. */
function nearKey(key: string, known: string[]): string | undefined {
  if (known.length === 0) return undefined;
  const best = closest(key, known);
  return distance(key, best) <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function readWritten(source: SourceText, diagnostics: Diagnostic[]): { written: WrittenConfig; file: YamlFile } | undefined {
  const parsed = parseYaml(source, 'KG101');
  diagnostics.push(...parsed.diagnostics);
  if (!parsed.file) return undefined;
  const js = toData(parsed.file, diagnostics);
  if (!js) return undefined;
  const data = js.data ?? {};
  const result = writtenConfigSchema.safeParse(data);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const unknownKeys = issue.code === 'unrecognized_keys' ? issue.keys : [];
      const path = unknownKeys.length > 0 ? [...issue.path, unknownKeys[0] as string] : issue.path;
      const where = path.length > 0 ? path.join('.') : 'the config';
      const near = unknownKeys.length > 0 ? nearKey(unknownKeys[0] as string, keysAt(writtenConfigSchema, issue.path)) : undefined;
      diagnostics.push(
        error('KG102', `${where}: ${issue.message}`, {
          location: locate(parsed.file, path, unknownKeys.length > 0),
          source: source.text,
          ...(near ? { hint: `did you mean ${near}? (docs/configuration.md describes every key)` } : {}),
        }),
      );
    }
    return undefined;
  }
  return { written: result.data, file: parsed.file };
}

/** kolla-gen.yaml checked against its schema, for what the loader needs before it reads files (options.ts). */
export function readConfig(source: SourceText): { written?: WrittenConfig; diagnostics: Diagnostic[]; at: (key: readonly PropertyKey[]) => SourceLocation | undefined } {
  const diagnostics: Diagnostic[] = [];
  const read = readWritten(source, diagnostics);
  return { written: read?.written, diagnostics, at: (key) => (read ? locate(read.file, key) : undefined) };
}

function checkNames<T extends string>(
  values: string[],
  allowed: Record<string, T> | readonly T[],
  what: string,
  diagnostics: Diagnostic[],
  where?: () => SourceLocation,
): T[] {
  const out: T[] = [];
  for (const raw of values) {
    const value = Array.isArray(allowed) ? (allowed.includes(raw as T) ? (raw as T) : undefined) : (allowed as Record<string, T>)[raw];
    if (value === undefined) {
      const names = Array.isArray(allowed) ? [...allowed] : Object.keys(allowed);
      const guess = names.length > 0 ? closest(raw, names) : undefined;
      const hint = guess !== undefined && distance(raw, guess) <= 2 ? { hint: `did you mean ${guess}? (${what}s: ${names.join(', ')})` } : {};
      diagnostics.push(error('KG104', `unknown ${what} "${raw}" (expected one of: ${names.join(', ')})`, { location: where?.(), ...hint }));
    } else if (!out.includes(value)) {
      out.push(value);
    }
  }
  return out;
}

function stringify(values: Record<string, string | number | boolean> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(values ?? {}).map(([k, v]) => [k, String(v)]));
}

function parseBuildArgs(raw: string[], diagnostics: Diagnostic[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of raw) {
    const eq = item.indexOf('=');
    if (eq <= 0) {
      diagnostics.push(error('KG105', `--build-arg "${item}" has no KEY=VALUE form`));
      continue;
    }
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

function readVarsFiles(files: SourceText[], diagnostics: Diagnostic[]): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  for (const source of files) {
    const parsed = parseYaml(source, 'KG103');
    diagnostics.push(...parsed.diagnostics);
    if (!parsed.file) continue;
    const js = toData(parsed.file, diagnostics);
    if (!js) continue;
    const data = js.data;
    if (data === null || data === undefined) continue;
    if (typeof data !== 'object' || Array.isArray(data)) {
      diagnostics.push(
        error('KG103', `${source.path} holds no mapping of variables`, {
          location: { file: source.path, line: 1, column: 1 },
          source: source.text,
        }),
      );
      continue;
    }
    Object.assign(vars, data);
  }
  return vars;
}

function parseUnbuildable(
  table: Record<string, string[]>,
  file: YamlFile | undefined,
  diagnostics: Diagnostic[],
): UnbuildableRule[] {
  const rules: UnbuildableRule[] = [];
  for (const [key, images] of Object.entries(table)) {
    const location = file ? locate(file, ['unbuildable', key], true) : undefined;
    const parts = key.split('+');
    let base: Base | undefined;
    let arch: Arch | undefined;
    let ok = parts.length <= 2;
    for (const part of parts) {
      if ((BASES as readonly string[]).includes(part) && base === undefined) base = part as Base;
      else if (ARCH_ALIASES[part] && arch === undefined) arch = ARCH_ALIASES[part];
      else ok = false;
    }
    if (!ok || (parts.length === 2 && (base === undefined || arch === undefined))) {
      diagnostics.push(
        error('KG102', `unbuildable: key "${key}" is not a base, an arch or base+arch`, {
          location,
          source: file?.source.text,
          hint: 'write a key such as "rocky", "arm64" or "rocky+arm64"',
        }),
      );
      continue;
    }
    rules.push({ key, base, arch, images, location });
  }
  return rules;
}

/**
 * SOURCE_DATE_EPOCH (reproducible builds), the one variable of the environment that reaches the output unasked: its
 * whole seconds, and its day for the preset's build_date (undefined when unset: the preset keeps its default).
 */
function sourceDate(env: ResolveInput['env'], diagnostics: Diagnostic[]): { epoch: string; day?: string } {
  const epoch = env?.SOURCE_DATE_EPOCH;
  if (epoch === undefined || epoch === '') return { epoch: '0' };
  const day = buildDateFromEpoch(epoch);
  if (day === undefined) {
    diagnostics.push(error('KG107', `SOURCE_DATE_EPOCH="${epoch}" is not a number of seconds since 1970-01-01 UTC`));
    return { epoch: '0' };
  }
  return { epoch: String(Number(epoch.trim())), day };
}

export function resolveConfig(input: ResolveInput): ResolveResult {
  const diagnostics: Diagnostic[] = [];
  const { cli } = input;
  let written: WrittenConfig = {};
  let file: YamlFile | undefined;
  if (input.config) {
    const read = readWritten(input.config, diagnostics);
    if (!read) return { diagnostics };
    ({ written, file } = read);
  }
  const configWhere = (key: string) => (file ? () => locate(file, [key]) : undefined);

  const presetName = cli.preset ?? written.preset;
  if (presetName !== undefined && !(PRESETS as readonly string[]).includes(presetName)) {
    diagnostics.push(error('KG110', `unknown preset "${presetName}" (expected one of: ${PRESETS.join(', ')})`));
    return { diagnostics };
  }
  const preset = presetName as PresetName | undefined;
  const defaults = presetDefaults(preset, input.kollaConfig, input.kollaCheckout);

  const bases = cli.bases?.length
    ? checkNames(cli.bases, BASES, 'base', diagnostics)
    : checkNames(written.bases ?? [...BASES], BASES, 'base', diagnostics, configWhere('bases'));
  const arches = cli.arches?.length
    ? checkNames(cli.arches, ARCH_ALIASES, 'arch', diagnostics)
    : checkNames(written.arches ?? [...ARCHES], ARCH_ALIASES, 'arch', diagnostics, configWhere('arches'));
  const treeTypes = written.types ?? [];
  const types = cli.types?.length ? checkNames(cli.types, treeTypes, 'type', diagnostics) : treeTypes;
  const hasTypeAxis = treeTypes.length > 0;

  const baseImages = { ...(defaults.baseImages ?? DEFAULT_BASE_IMAGES) };
  for (const [base, image] of Object.entries(written.base_images ?? {})) {
    if (!(BASES as readonly string[]).includes(base)) {
      diagnostics.push(
        error('KG104', `base_images: unknown base "${base}"`, { location: file && locate(file, ['base_images', base], true), source: file?.source.text }),
      );
      continue;
    }
    baseImages[base as Base] = image;
  }
  // kolla-build's base_image and base_tag name the one base it builds: here, every base of the run.
  for (const base of bases) {
    const { baseImage, baseTag } = input.kollaConfig ?? {};
    baseImages[base] = { image: baseImage || baseImages[base].image, tag: baseTag || baseImages[base].tag };
  }

  const profiles = { ...defaults.profiles, ...input.kollaConfig?.profiles, ...written.profiles };
  const buildArgs = { ...stringify(written.build_args), ...parseBuildArgs(cli.buildArgs ?? [], diagnostics) };
  const vars = { ...(written.vars ?? {}), ...readVarsFiles(input.varsFiles ?? [], diagnostics) };
  const unbuildable = [
    ...(preset === 'kolla' ? kollaUnbuildable(kollaTables(input.kollaCheckout).unbuildable, input.kollaCheckout?.release?.unbuildableByTag) : []),
    ...parseUnbuildable(written.unbuildable ?? {}, file, diagnostics),
  ];

  const env: Record<string, string> = {};
  for (const name of cli.passEnv ?? []) {
    const value = input.env?.[name];
    if (value === undefined) diagnostics.push(warning('KG102', `pass_env ${name}: the variable is not set; templates see no env.${name}`));
    else env[name] = value;
  }

  const families: Family[] = [];
  for (const base of bases) {
    if (hasTypeAxis) for (const type of types) families.push({ base, type });
    else families.push({ base });
  }

  const date = sourceDate(input.env, diagnostics);
  const config: ResolvedConfig = {
    configPath: input.config?.path,
    // kolla-build.conf's docker_dir overlays extra dirs on kolla's own tree: here, on the tree's dirs.
    dockerDirs: [...(cli.dockerDirs?.length ? cli.dockerDirs : (written.docker_dirs ?? ['docker'])), ...(input.kollaConfig?.dockerDir ?? [])],
    output: cli.output ?? written.output ?? 'generated',
    namespace: cli.namespace ?? written.namespace ?? 'kolla',
    registry: (cli.registry ?? written.registry) || undefined,
    imageNamePrefix: cli.imageNamePrefix ?? written.image_name_prefix,
    tag: cli.tag ?? written.tag ?? defaults.tag ?? 'latest',
    maintainer: input.kollaConfig?.maintainer ?? written.maintainer ?? defaults.maintainer ?? 'kolla-gen',
    families,
    arches,
    hasTypeAxis,
    baseImages,
    profiles,
    unbuildable,
    enableUnbuildable: cli.enableUnbuildable ?? false,
    regexes: cli.regexes ?? [],
    selectedProfiles: cli.profiles ?? [],
    skipParents: cli.skipParents ?? false,
    vars,
    buildArgs,
    labels: stringify(written.labels),
    sourceDateEpoch: date.epoch,
    templateOverrides: cli.templateOverrides ?? [],
    env,
    // --skip-existing looks for content tags, so the images it builds must push theirs.
    contentTags: cli.skipExisting !== undefined ? ((cli.contentTags ?? written.content_tags) === 'only' ? 'only' : true) : (cli.contentTags ?? written.content_tags ?? false),
    ...(cli.affectedSince !== undefined ? { affectedSince: cli.affectedSince } : {}),
    ...(cli.skipExisting !== undefined ? { skipExisting: cli.skipExisting } : {}),
    verifyExisting: cli.verifyExisting ?? written.verify_existing ?? false,
    networkMode: cli.networkMode ?? written.network_mode ?? 'default',
    ...(written.bake_formats ? { bakeFormats: [...new Set(written.bake_formats)] } : {}),
    ...(written.upstream ? { upstream: { ...written.upstream } } : {}),
    insecureRegistries: [...new Set([...(written.insecure_registries ?? []), ...(cli.insecureRegistries ?? [])])],
    strictUndefined: cli.strictUndefined ?? written.strict_undefined ?? false,
    buildkit: buildkitPolicy(written, file, diagnostics),
    renderLimits: {
      maxValueSize: cli.renderLimits?.maxValueSize ?? written.render_limits?.max_value_size ?? DEFAULT_RENDER_LIMITS.maxValueSize,
      maxOutputSize: cli.renderLimits?.maxOutputSize ?? written.render_limits?.max_output_size ?? DEFAULT_RENDER_LIMITS.maxOutputSize,
      maxSteps: cli.renderLimits?.maxSteps ?? written.render_limits?.max_steps ?? DEFAULT_RENDER_LIMITS.maxSteps,
    },
  };
  checkValues({ cli, written, file, config }, diagnostics);
  const cacheRef = cli.cacheRef ?? written.cache?.ref;
  if (cacheRef) {
    config.cache = { ref: cacheRef.replace(/\/+$/, ''), mode: written.cache?.mode ?? 'max', export: cli.cacheExport ?? written.cache?.export ?? true };
  }
  const attest = resolveAttest(written.attest, file, diagnostics);
  if (attest) config.attest = attest;
  if (preset) {
    config.preset = preset;
    if (preset === 'kolla') config.kolla = kollaSettings(input.kollaConfig, input.kollaCheckout, date.day);
  }
  return { config: diagnostics.some((d) => d.severity === 'error') ? undefined : config, diagnostics };
}

/** buildkit: of kolla-gen.yaml over the defaults; each repository it names checked and put in familiar form. */
function buildkitPolicy(written: WrittenConfig, file: YamlFile | undefined, diagnostics: Diagnostic[]): BuildkitPolicy {
  const own = written.buildkit ?? {};
  const repositories = (key: 'syntax' | 'external_from', entries: string[]): string[] =>
    entries.flatMap((entry, i) => {
      const parsed = parseRef(entry);
      if (parsed !== undefined && parsed.tag === undefined && parsed.digest === undefined) return [familiarRepository(entry) as string];
      diagnostics.push(
        error('KG102', `buildkit.${key}: ${JSON.stringify(entry)} is not an image repository`, {
          location: file && locate(file, ['buildkit', key, i]),
          source: file?.source.text,
          hint: 'write a repository without tag or digest, e.g. docker/dockerfile or registry.example:5000/frontends/dockerfile: it allows every tag and digest of it',
        }),
      );
      return [];
    });
  const externalFrom = own.external_from;
  return {
    syntax: own.syntax === undefined ? [...DEFAULT_BUILDKIT_POLICY.syntax] : [...new Set(repositories('syntax', own.syntax))].sort(),
    insecure: own.insecure ?? DEFAULT_BUILDKIT_POLICY.insecure,
    hostNetwork: own.host_network ?? DEFAULT_BUILDKIT_POLICY.hostNetwork,
    secretMounts: own.secret_mounts ?? DEFAULT_BUILDKIT_POLICY.secretMounts,
    sshMounts: own.ssh_mounts ?? DEFAULT_BUILDKIT_POLICY.sshMounts,
    devices: own.devices ?? DEFAULT_BUILDKIT_POLICY.devices,
    remoteAdd: own.remote_add ?? DEFAULT_BUILDKIT_POLICY.remoteAdd,
    externalFrom: Array.isArray(externalFrom) ? [...new Set(repositories('external_from', externalFrom))].sort() : (externalFrom ?? DEFAULT_BUILDKIT_POLICY.externalFrom),
  };
}

/**
 * attest: of kolla-gen.yaml. Its values go into the bake files' `attest` strings (comma-separated key=value), so the
 * generator must be an image ref, which has no comma or quote to break them.
 */
function resolveAttest(written: WrittenConfig['attest'], file: YamlFile | undefined, diagnostics: Diagnostic[]): AttestConfig | undefined {
  if (written === undefined) return undefined;
  const at = (key: string) => (file ? { location: locate(file, ['attest', key]), source: file.source.text } : {});
  const generator = written.sbom_generator;
  if (generator !== undefined && parseRef(generator) === undefined) {
    diagnostics.push(error('KG475', `attest.sbom_generator: "${generator}" is not an image reference`, at('sbom_generator')));
  } else if (generator !== undefined && written.sbom !== true) {
    diagnostics.push(error('KG476', `attest.sbom_generator names a scanner, but attest.sbom is ${written.sbom === false ? 'false' : 'not set'}: no SBOM is made`, at('sbom_generator')));
  }
  return {
    ...(written.provenance !== undefined ? { provenance: written.provenance } : {}),
    sbom: written.sbom === true,
    ...(generator !== undefined ? { sbomGenerator: generator } : {}),
  };
}

/** What goes into refs and bake files, each value checked with the flag or config key it came from. */
function checkValues(
  input: { cli: CliOptions; written: WrittenConfig; file: YamlFile | undefined; config: ResolvedConfig },
  diagnostics: Diagnostic[],
): void {
  const { cli, written, file, config } = input;
  const from = (flag: string, key: readonly string[], fromCli: boolean, atKey = false): ValueSource =>
    fromCli || !file ? { name: flag, flag: true } : { name: key.join('.'), flag: false, location: locate(file, key, atKey), source: file.source.text };
  const fromCliArgs = new Set(parseBuildArgKeys(cli.buildArgs ?? []));
  checkBakeMap('build_args', config.buildArgs, (k) => from('--build-arg', ['build_args', k], fromCliArgs.has(k), true), diagnostics);
  checkBakeMap('labels', config.labels, (k) => from('labels', ['labels', k], false, true), diagnostics);
  const prefixFrom = from('--image-name-prefix', ['image_name_prefix'], cli.imageNamePrefix !== undefined);
  const tagFrom = from('--tag', ['tag'], cli.tag !== undefined || written.tag === undefined);
  // Every profile's regexes, used or not: a bad one fails here with its place, not later at `list -p`.
  for (const [name, entries] of Object.entries(config.profiles)) {
    const ownEntry = Object.hasOwn(written.profiles ?? {}, name);
    entries.forEach((entry, i) => {
      const at = ownEntry && file ? { location: locate(file, ['profiles', name, i]), source: file.source.text } : {};
      const { diagnostic } = regexOrError(entry, `profiles.${name}${ownEntry ? '' : ' (kolla-build.conf or the preset)'}: entry`, at);
      if (diagnostic) diagnostics.push(diagnostic);
    });
  }
  const cacheRef = cli.cacheRef ?? written.cache?.ref;
  checkRefParts(
    {
      ...(config.registry !== undefined ? { registry: { value: config.registry, from: from('--registry', ['registry'], cli.registry !== undefined) } } : {}),
      namespace: { value: config.namespace, from: from('--namespace', ['namespace'], cli.namespace !== undefined || written.namespace === undefined) },
      prefixes: config.families.map((family) => ({ value: imagePrefix(config, family), raw: config.imageNamePrefix ?? '', from: prefixFrom })),
      tags: config.families.map((family) => ({ value: expandPlaceholders(config, config.tag, family), raw: config.tag, from: tagFrom })),
      ...(cacheRef ? { cacheRef: { value: cacheRef.replace(/\/+$/, ''), from: from('--cache-ref', ['cache', 'ref'], cli.cacheRef !== undefined) } } : {}),
    },
    diagnostics,
  );
}

function parseBuildArgKeys(raw: string[]): string[] {
  return raw.flatMap((item) => (item.indexOf('=') > 0 ? [item.slice(0, item.indexOf('='))] : []));
}
