// The options that made a generation, as manifest.json records them (paths relative to the repo root, nothing from the
// machine or the environment): `check` with no flags checks with them, and KG701's hint prints the command that regenerates.
import type { CliOptions } from './types.js';

/** The recorded options: the config file (false: --no-config), the regexes, then each flag by its long name. */
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

/** The recorded options as command-line options again (check with no flags). */
export function cliOptionsOf(made: MadeWith): CliOptions {
  const cli: Record<string, unknown> = { regexes: [...made.regexes] };
  for (const [key, flag] of FLAGS) {
    const value = made.flags[flag];
    if (value === undefined) continue;
    if (key === 'cacheExport') cli[key] = false;
    else if (key === 'skipExisting') cli[key] = value === true ? 'error' : value;
    else if (key === 'contentTags') cli[key] = value === true ? true : value;
    else cli[key] = value;
  }
  return cli as CliOptions;
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
