// The options of kolla-gen.yaml that a flag can set too (kolla_config, template_override, vars_files, pass_env,
// regex, profile, skip_parents, enable_unbuildable), and how a run's flags combine with them. Pure: the config arrives
// parsed. kolla-gen.yaml is the whole truth of a generation; a flag is a one-off for one run.
import * as path from 'node:path/posix';
import type { CliOptions } from './types.js';
import type { WrittenConfig } from './schema.js';

/** What the loader needs of kolla-gen.yaml before it reads files: paths relative to the repo root. */
export interface ConfigOptions {
  kollaConfig?: string;
  templateOverrides: string[];
  varsFiles: string[];
  passEnv: string[];
  regexes: string[];
  profiles: string[];
  skipParents?: boolean;
  enableUnbuildable?: boolean;
}

/** A key that takes one value or a list of them (kolla-build's `template_override` is a MultiStrOpt). */
export const listOf = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** A path of kolla-gen.yaml, relative to the folder of the config file (`configPath` is relative to the repo root). */
export function fromConfig(configPath: string | undefined, p: string): string {
  if (configPath === undefined || path.isAbsolute(p)) return p;
  return path.normalize(path.join(path.dirname(configPath), p));
}

export function configOptions(written: WrittenConfig, configPath: string | undefined): ConfigOptions {
  const rebase = (p: string) => fromConfig(configPath, p);
  return {
    ...(written.kolla_config !== undefined ? { kollaConfig: rebase(written.kolla_config) } : {}),
    templateOverrides: listOf(written.template_override).map(rebase),
    varsFiles: listOf(written.vars_files).map(rebase),
    passEnv: written.pass_env ?? [],
    regexes: written.regex ?? [],
    profiles: written.profile ?? [],
    ...(written.skip_parents !== undefined ? { skipParents: written.skip_parents } : {}),
    ...(written.enable_unbuildable !== undefined ? { enableUnbuildable: written.enable_unbuildable } : {}),
  };
}

const unique = (values: string[]) => [...new Set(values)];

/**
 * The run's options: kolla-gen.yaml's under the flags (and a kolla-build.conf's values, already merged into `cli`).
 * Lists merge as kolla-build's oslo.config merges its multi-valued options: the config's entries first, then the
 * flags' (template overrides apply in that order, so a flag's override extends the config's); regexes given on the
 * command line replace the config's, as kolla-build's positional regexes do.
 */
export function withConfigOptions(cli: CliOptions, own: ConfigOptions): CliOptions {
  return {
    ...cli,
    regexes: cli.regexes?.length ? cli.regexes : own.regexes,
    profiles: [...own.profiles, ...(cli.profiles ?? [])],
    templateOverrides: [...own.templateOverrides, ...(cli.templateOverrides ?? [])],
    varsFiles: [...own.varsFiles, ...(cli.varsFiles ?? [])],
    passEnv: unique([...own.passEnv, ...(cli.passEnv ?? [])]),
    skipParents: cli.skipParents ?? own.skipParents,
    enableUnbuildable: cli.enableUnbuildable ?? own.enableUnbuildable,
  };
}
