// The options that made a generation: the flags of the run (KG701's and KG710's hints print the command that
// regenerates), and the record manifest.json keeps for people (recordOptions). The record is never input: no command
// reads options back from a manifest, which a pull request can edit.
import type { CliOptions } from './types.js';
import type { WrittenConfig } from './schema.js';
import { listOf } from './options.js';

/** The run's flags: the config file (false: --no-config), the regexes, then each flag by its long name. */
export interface MadeWith {
  /** The config file, relative to the repo root; false: --no-config; null: none was there. */
  config: string | false | null;
  kollaConfig?: string;
  regexes: string[];
  flags: Record<string, string | string[] | true>;
}

// CliOptions key → long flag. Order is the order of `kolla-gen generate --help`. The output dir is where the record
// lives, so it is not recorded.
const FLAGS: [keyof CliOptions, string][] = [
  ['dockerDirs', 'docker-dir'],
  ['bases', 'base'],
  ['types', 'type'],
  ['arches', 'arch'],
  ['profiles', 'profile'],
  ['skipParents', 'skip-parents'],
  ['enableUnbuildable', 'enable-unbuildable'],
  ['templateOverrides', 'template-override'],
  ['varsFiles', 'vars'],
  ['namespace', 'namespace'],
  ['registry', 'registry'],
  ['imageNamePrefix', 'image-name-prefix'],
  ['tag', 'tag'],
  ['buildArgs', 'build-arg'],
  ['passEnv', 'pass-env'],
  ['preset', 'preset'],
  ['contentTags', 'content-tags'],
  ['affectedSince', 'affected-since'],
  ['skipExisting', 'skip-existing'],
  ['verifyExisting', 'verify-existing'],
  ['cacheRef', 'cache-ref'],
  ['cacheExport', 'no-cache-export'],
  ['insecureRegistries', 'insecure-registry'],
];

export function madeWith(cli: CliOptions, config: string | false | null, kollaConfig?: string): MadeWith {
  const flags: MadeWith['flags'] = {};
  for (const [key, flag] of FLAGS) {
    const value = cli[key];
    if (value === undefined || (value === false && key !== 'cacheExport')) continue;
    if (Array.isArray(value)) {
      if (value.length > 0) flags[flag] = [...value];
    } else if (key === 'cacheExport') {
      if (value === false) flags[flag] = true;
    } else if (key === 'skipExisting' || key === 'contentTags') {
      flags[flag] = value === 'error' || value === true ? true : String(value);
    } else {
      flags[flag] = value === true ? true : String(value);
    }
  }
  return { config, ...(kollaConfig !== undefined ? { kollaConfig } : {}), regexes: [...(cli.regexes ?? [])], flags };
}

const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The shell command that makes this generation again, e.g. `kolla-gen generate -c ops.yaml --preset kolla -o out`. */
export function commandLine(command: string, made: MadeWith, output?: string): string {
  const words = ['kolla-gen', command];
  if (made.config === false) words.push('--no-config');
  else if (made.config !== null && made.config !== 'kolla-gen.yaml') words.push('-c', made.config);
  if (made.kollaConfig !== undefined) words.push('--kolla-config', made.kollaConfig);
  if (output !== undefined && output !== 'generated') words.push('-o', output);
  for (const [flag, value] of Object.entries(made.flags)) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      if (v === true) words.push(`--${flag}`);
      else if ((flag === 'skip-existing' || flag === 'content-tags') && v !== '') words.push(`--${flag}=${v}`);
      else words.push(`--${flag}`, v);
    }
  }
  words.push(...made.regexes);
  return words.map(quote).join(' ');
}

/**
 * The keys of kolla-gen.yaml a flag can set too, in the order manifest.json records them; then the flags of one run
 * that change the output but that kolla-gen.yaml cannot hold (they ask git or a registry at run time).
 */
export const RECORDED_KEYS = [
  'docker_dirs', 'preset', 'kolla_config', 'template_override', 'vars_files', 'pass_env', 'bases', 'types', 'arches',
  'regex', 'profile', 'skip_parents', 'enable_unbuildable', 'namespace', 'registry', 'image_name_prefix', 'tag',
  'build_args', 'content_tags', 'cache',
] as const;
export const RUN_ONLY_KEYS = ['affected_since', 'skip_existing', 'verify_existing'] as const;
type RecordedKey = (typeof RECORDED_KEYS)[number] | (typeof RUN_ONLY_KEYS)[number];

/** manifest.json's `options`: the config file (false: --no-config), then each option as kolla-gen.yaml would write it. */
export type RecordedOptions = { config: string | false | null } & Partial<Record<RecordedKey, unknown>>;

const nonEmpty = <T>(values: T[]): T[] | undefined => (values.length > 0 ? values : undefined);

/**
 * The options a run used, as kolla-gen.yaml keys: the config's values with the run's flags applied by the rules the
 * loader applies (options.ts, resolve.ts). The same output gives the same record whether an option came from the
 * config or from a flag, so that the lines a `check` names make it pass once they are in kolla-gen.yaml.
 */
export function recordOptions(written: WrittenConfig, cli: CliOptions, at: { config: string | false | null; kollaConfig?: string }): RecordedOptions {
  const buildArgs: Record<string, string> = Object.fromEntries(Object.entries(written.build_args ?? {}).map(([k, v]) => [k, String(v)]));
  for (const item of cli.buildArgs ?? []) {
    const eq = item.indexOf('=');
    if (eq > 0) buildArgs[item.slice(0, eq)] = item.slice(eq + 1);
  }
  const cacheRef = cli.cacheRef ?? written.cache?.ref;
  const cacheExport = cli.cacheExport ?? written.cache?.export;
  const values: Record<RecordedKey, unknown> = {
    docker_dirs: cli.dockerDirs?.length ? cli.dockerDirs : written.docker_dirs,
    preset: cli.preset ?? written.preset,
    kolla_config: at.kollaConfig ?? written.kolla_config,
    template_override: nonEmpty([...listOf(written.template_override), ...(cli.templateOverrides ?? [])]),
    vars_files: nonEmpty([...listOf(written.vars_files), ...(cli.varsFiles ?? [])]),
    pass_env: nonEmpty([...new Set([...(written.pass_env ?? []), ...(cli.passEnv ?? [])])]),
    bases: cli.bases?.length ? cli.bases : written.bases,
    types: cli.types?.length ? cli.types : written.types,
    arches: cli.arches?.length ? cli.arches : written.arches,
    regex: nonEmpty(cli.regexes?.length ? cli.regexes : (written.regex ?? [])),
    profile: nonEmpty([...(written.profile ?? []), ...(cli.profiles ?? [])]),
    skip_parents: cli.skipParents ?? written.skip_parents,
    enable_unbuildable: cli.enableUnbuildable ?? written.enable_unbuildable,
    namespace: cli.namespace ?? written.namespace,
    registry: cli.registry ?? written.registry,
    image_name_prefix: cli.imageNamePrefix ?? written.image_name_prefix,
    tag: cli.tag ?? written.tag,
    // Sorted, as the bake files hold them: the same args from the config or from flags are the same record.
    build_args: Object.keys(buildArgs).length > 0 ? Object.fromEntries(Object.entries(buildArgs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : undefined,
    content_tags: cli.contentTags ?? written.content_tags,
    cache: cacheRef
      ? { ref: cacheRef, ...(written.cache?.mode !== undefined ? { mode: written.cache.mode } : {}), ...(cacheExport !== undefined ? { export: cacheExport } : {}) }
      : undefined,
    affected_since: cli.affectedSince,
    skip_existing: cli.skipExisting,
    // how --skip-existing asked (which images it found there), so only with it
    verify_existing: cli.skipExisting !== undefined && (cli.verifyExisting ?? written.verify_existing) === true ? true : undefined,
  };
  const record: RecordedOptions = { config: at.config };
  for (const key of [...RECORDED_KEYS, ...RUN_ONLY_KEYS]) if (values[key] !== undefined) record[key] = values[key];
  return record;
}

/** A value of an untrusted record as one short line: JSON is YAML, and escapes every control character. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

/** Where a generation's record differs from the one this run would write: the kolla-gen.yaml lines that make them agree. */
export interface OptionsDiff {
  /** `key: value` lines to set in kolla-gen.yaml. */
  set: string[];
  /** Keys to remove from kolla-gen.yaml. */
  remove: string[];
  /** `--flag value` of one run that kolla-gen.yaml cannot hold. */
  runOnly: string[];
  /** The config file the record names, when it is another. */
  config?: string;
}

/**
 * `recorded` is what a manifest.json says (any JSON: a pull request can edit it). Only the known keys are compared,
 * and their values are only shown, quoted: nothing of the record is read, resolved or asked for.
 */
export function optionsDiff(recorded: unknown, expected: RecordedOptions): OptionsDiff | undefined {
  if (recorded === null || typeof recorded !== 'object' || Array.isArray(recorded)) return undefined;
  const theirs = recorded as Record<string, unknown>;
  const diff: OptionsDiff = { set: [], remove: [], runOnly: [] };
  for (const key of RECORDED_KEYS) {
    if (JSON.stringify(theirs[key]) === JSON.stringify(expected[key])) continue;
    if (theirs[key] === undefined) diff.remove.push(key);
    else diff.set.push(`${key}: ${shown(theirs[key])}`);
  }
  for (const key of RUN_ONLY_KEYS) {
    if (theirs[key] !== undefined) diff.runOnly.push(`--${key.replace('_', '-')}${theirs[key] === true ? '' : ` ${shown(theirs[key])}`}`);
  }
  if (theirs.config !== expected.config) diff.config = shown(theirs.config);
  return diff.set.length + diff.remove.length + diff.runOnly.length > 0 || diff.config !== undefined ? diff : undefined;
}
