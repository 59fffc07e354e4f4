// --kolla-config FILE: the kolla-build.conf (INI, as oslo.config reads it) that kolla-build users already have.
// Pure: the file arrives as text; its values become defaults under the command line's flags.
import type { CliOptions, KollaConfigValues, SourceText } from '../config/types.js';
import { error, warning, type Diagnostic, type SourceLocation } from '../../core/diagnostics.js';
import type { KollaUser } from '../config/types.js';

export type { KollaConfigValues } from '../config/types.js';


interface Entry {
  section: string;
  key: string;
  value: string;
  location: SourceLocation;
}

/** kolla-build options that only steer its own builds (engine, threads, logs): kolla-gen reads and ignores them. */
const BUILDER_ONLY = new Set([
  'debug', 'keep', 'list_dependencies', 'list_images', 'locals_base', 'buildkit', 'buildkit_builder', 'cache',
  'platform', 'push', 'push_threads', 'retries', 'save_dependency', 'format', 'summary_json_file', 'tarballs_base', 'threads',
  'template_only', 'timeout', 'logs_dir', 'pull', 'work_dir', 'squash', 'squash_cleanup', 'squash_tmp_dir', 'quiet', 'summary',
  'engine', 'podman_base_url', 'skip_existing', 'allowed_to_fail', 'apt_sources_list', 'apt_preferences', 'debian_arch',
  'config_file', 'config_dir', 'use_stderr', 'log_file', 'log_dir',
]);

type Setter = (values: KollaConfigValues, entries: Entry[], fail: (e: Entry, message: string) => void) => void;

const last = (entries: Entry[]) => entries[entries.length - 1] as Entry;
const list = (text: string) => text.split(',').map((s) => s.trim()).filter(Boolean);

function bool(e: Entry, fail: (e: Entry, message: string) => void): boolean | undefined {
  const v = e.value.toLowerCase();
  if (['true', '1', 'on', 'yes'].includes(v)) return true;
  if (['false', '0', 'off', 'no'].includes(v)) return false;
  fail(e, `${e.key} = ${e.value}: expected true or false`);
  return undefined;
}

const str =
  (field: keyof KollaConfigValues): Setter =>
  (values, entries) => {
    (values as unknown as Record<string, unknown>)[field] = last(entries).value;
  };
const flag =
  (field: keyof KollaConfigValues): Setter =>
  (values, entries, fail) => {
    const v = bool(last(entries), fail);
    if (v !== undefined) (values as unknown as Record<string, unknown>)[field] = v;
  };
/** oslo's MultiStrOpt: every line of the key, in order. */
const multi =
  (field: 'profile' | 'regex' | 'templateOverride' | 'dockerDir'): Setter =>
  (values, entries) => {
    values[field] = entries.map((e) => e.value);
  };

const DEFAULT_KEYS: Record<string, Setter> = {
  base: str('base'),
  base_arch: str('baseArch'),
  base_tag: str('baseTag'),
  base_image: str('baseImage'),
  namespace: str('namespace'),
  registry: str('registry'),
  tag: str('tag'),
  image_name_prefix: str('imageNamePrefix'),
  maintainer: str('maintainer'),
  profile: multi('profile'),
  regex: multi('regex'),
  template_override: multi('templateOverride'),
  docker_dir: multi('dockerDir'),
  skip_parents: flag('skipParents'),
  // kolla-build passes it to each build as --network; BuildKit knows three (an empty value is its default too).
  network_mode: (values, entries, fail) => {
    const e = last(entries);
    const v = e.value.trim();
    if (v === '' || v === 'default') values.networkMode = 'default';
    else if (v === 'host' || v === 'none') values.networkMode = v;
    else fail(e, `network_mode = ${v}: BuildKit runs a RUN in the network host, none or default, not a named network`);
  },
  enable_unbuildable: flag('enableUnbuildable'),
  openstack_release: str('openstackRelease'),
  openstack_release_codename: str('openstackReleaseCodename'),
  openstack_branch: str('openstackBranch'),
  openstack_branch_slashed: str('openstackBranchSlashed'),
  use_dumb_init: flag('useDumbInit'),
  docker_healthchecks: flag('dockerHealthchecks'),
  clean_package_cache: flag('cleanPackageCache'),
  distro_package_manager: str('distroPackageManager'),
  base_package_type: str('basePackageType'),
  patches_path: str('patchesPath'),
  repos_yaml: str('reposYaml'),
  rpm_setup_config: (values, entries) => {
    values.rpmSetupConfig = list(last(entries).value);
  },
  build_args: (values, entries, fail) => {
    // oslo's DictOpt: "KEY:VALUE,KEY2:VALUE2"
    for (const item of list(last(entries).value)) {
      const colon = item.indexOf(':');
      if (colon <= 0) fail(last(entries), `build_args: "${item}" is not KEY:VALUE`);
      else values.buildArgs[item.slice(0, colon).trim()] = item.slice(colon + 1).trim();
    }
  },
};

/** Reads the INI text: sections, `key = value` or `key: value`, continuation lines, `#` and `;` comments. */
function readEntries(source: SourceText, diagnostics: Diagnostic[]): Entry[] {
  const entries: Entry[] = [];
  let section: string | undefined;
  let current: Entry | undefined;
  const lines = source.text.replace(/\r\n?/g, '\n').split('\n');
  lines.forEach((line, i) => {
    const location = { file: source.path, line: i + 1, column: 1 };
    if (/^\s*([#;]|$)/.test(line)) {
      current = undefined;
      return;
    }
    if (/^\s/.test(line) && current) {
      current.value = `${current.value}\n${line.trim()}`.trim();
      return;
    }
    const header = /^\[([^\]]*)\]\s*$/.exec(line);
    if (header) {
      section = (header[1] ?? '').trim();
      current = undefined;
      return;
    }
    const kv = /^([^=:\s][^=:]*?)\s*[=:]\s*(.*)$/.exec(line);
    if (!kv || section === undefined) {
      diagnostics.push(
        error('KG111', section === undefined ? 'a key before any [section]' : `cannot read "${line.trim()}" as key = value`, {
          location,
          source: source.text,
        }),
      );
      current = undefined;
      return;
    }
    current = { section, key: (kv[1] ?? '').trim().replaceAll('-', '_'), value: (kv[2] ?? '').trim(), location };
    entries.push(current);
  });
  return entries;
}

function groupByKey(entries: Entry[]): Map<string, Entry[]> {
  const out = new Map<string, Entry[]>();
  for (const e of entries) out.set(e.key, [...(out.get(e.key) ?? []), e]);
  return out;
}

export function parseKollaConfig(source: SourceText): { values?: KollaConfigValues; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const entries = readEntries(source, diagnostics);
  const values: KollaConfigValues = {
    path: source.path,
    profile: [],
    regex: [],
    templateOverride: [],
    dockerDir: [],
    buildArgs: {},
    profiles: {},
    users: {},
  };
  const fail = (e: Entry, message: string) => diagnostics.push(error('KG112', message, { location: e.location, source: source.text }));
  const ignored = (e: Entry, why: string) =>
    diagnostics.push(warning('KG113', `[${e.section}] ${e.key}: ${why}`, { location: e.location, oneLine: true }));

  const sections = new Map<string, Entry[]>();
  for (const e of entries) sections.set(e.section, [...(sections.get(e.section) ?? []), e]);
  for (const [section, inSection] of sections) {
    const byKey = groupByKey(inSection);
    if (section === 'DEFAULT') {
      for (const [key, group] of byKey) {
        const set = DEFAULT_KEYS[key];
        if (set) set(values, group, fail);
        else if (BUILDER_ONLY.has(key)) ignored(group[0] as Entry, 'a kolla-build option for its own builds; kolla-gen ignores it');
        else ignored(group[0] as Entry, 'unknown key, ignored');
      }
    } else if (section === 'profiles') {
      for (const [key, group] of byKey) values.profiles[key] = list(last(group).value);
    } else if (section.endsWith('-user')) {
      const user: Partial<KollaUser> = {};
      for (const [key, group] of byKey) {
        const e = last(group);
        if (key === 'uid' || key === 'gid') {
          if (/^\d+$/.test(e.value)) user[key] = Number(e.value);
          else fail(e, `${key} = ${e.value}: expected a number`);
        } else if (key === 'group') user.group = e.value;
        else ignored(e, 'unknown key of a user section, ignored');
      }
      values.users[section.slice(0, -'-user'.length)] = user;
    } else {
      // [<image>], [<image>-plugin-…], [<image>-additions-…]: source locations, which steer builds, not templates.
      ignored(inSection[0] as Entry, 'source location sections steer kolla-build\'s source downloads; kolla-gen ignores them');
    }
  }
  return { values: diagnostics.some((d) => d.severity === 'error') ? undefined : values, diagnostics };
}

/**
 * The file's values under the command line's, as oslo.config merges them for kolla-build: a flag given on the command
 * line wins over a single-valued option; multi-valued ones (profile, template_override) take the file's values, then
 * the flags' (a --template-override then extends the file's overrides, it does not drop them); positional regexes
 * given on the command line replace the file's `regex`.
 */
export function withKollaConfig(cli: CliOptions, values: KollaConfigValues): CliOptions {
  const or = <T>(flag: T[] | undefined, file: T[]): T[] | undefined => (flag?.length ? flag : file.length ? file : flag);
  const buildArgs = Object.entries(values.buildArgs).map(([k, v]) => `${k}=${v}`);
  return {
    ...cli,
    preset: cli.preset ?? 'kolla',
    bases: or(cli.bases, values.base ? [values.base] : []),
    arches: or(cli.arches, values.baseArch ? [values.baseArch] : []),
    namespace: cli.namespace ?? values.namespace,
    registry: cli.registry ?? values.registry,
    tag: cli.tag ?? values.tag,
    imageNamePrefix: cli.imageNamePrefix ?? values.imageNamePrefix,
    profiles: [...values.profile.flatMap(list), ...(cli.profiles ?? [])],
    regexes: or(cli.regexes, values.regex),
    templateOverrides: [...values.templateOverride, ...(cli.templateOverrides ?? [])],
    skipParents: cli.skipParents ?? values.skipParents,
    networkMode: cli.networkMode ?? values.networkMode,
    enableUnbuildable: cli.enableUnbuildable ?? values.enableUnbuildable,
    buildArgs: [...buildArgs, ...(cli.buildArgs ?? [])],
  };
}
