// --preset kolla: what upstream kolla-build passes to templates, its defaults, profiles and unbuildable table, so that
// an upstream Kolla checkout renders as kolla-build renders it. Pure: the checkout's files arrive as text (load.ts).
import { parse as parseYaml } from 'yaml';
import { PRESETS, type BaseImage, type KollaCheckout, type KollaConfigValues, type KollaSettings, type KollaUser, type PresetName, type ResolvedConfig, type UnbuildableRule } from '../config/types.js';
import { raiseTemplateError } from '../../jinja/index.js';
import { RenderError, str } from '../../jinja/python.js';
import { BASES, KOLLA_ARCH, type Arch, type Base, type Variant } from '../../core/types.js';

import { evalRepoCondition, KOLLA_LABELS, pythonVersion, type KollaRelease } from './kolla-release.js';

export { PRESETS, type KollaCheckout, type KollaSettings, type KollaUser, type PresetName };


/** kolla-build's default base image and tag per distro (kolla/common/config.py, DEFAULT_BASE_TAGS). */
export const KOLLA_BASE_IMAGES: Record<Base, BaseImage> = {
  centos: { image: 'quay.io/centos/centos', tag: 'stream10' },
  debian: { image: 'debian', tag: 'trixie' },
  rocky: { image: 'quay.io/rockylinux/rockylinux', tag: '10' },
  ubuntu: { image: 'ubuntu', tag: '24.04' },
};

/** The PRETTY_NAME of /etc/os-release the base image checks against. */
export const KOLLA_DISTRO_PRETTY_NAME: Record<Base, string> = {
  centos: 'CentOS Stream 10',
  debian: 'Debian GNU/Linux 13 (trixie)',
  rocky: 'Rocky Linux 10.* (Red Quartz)',
  ubuntu: 'Ubuntu 24.04.* LTS',
};

export const KOLLA_OPENSTACK_RELEASE = 'master';
export const KOLLA_OPENSTACK_RELEASE_CODENAME = 'Gazpacho';
export const KOLLA_MAINTAINER = 'Kolla Project (https://launchpad.net/kolla)';

/** kolla-build's [profiles]: entries are regexes searched in image names. */
export const KOLLA_PROFILES: Record<string, string[]> = {
  infra: ['cron', 'etcd', 'fluentd', 'haproxy', 'hacluster', 'keepalived', 'kolla-toolbox', 'letsencrypt', 'mariadb', 'memcached', 'opensearch', 'openvswitch', 'proxysql', 'rabbitmq', 'tgtd', 'valkey'],
  main: ['ceilometer', 'cinder', 'glance', 'heat', 'horizon', 'iscsi', 'keystone', 'neutron', 'nova-', 'placement'],
  aux: ['aodh', 'blazar', 'cloudkitty', 'designate', 'gnocchi', 'ironic', 'kerbside', 'magnum', 'manila', 'masakari', 'mistral', 'octavia', 'tacker', 'trove', 'valkey'],
  default: ['cron', 'kolla-toolbox', 'fluentd', 'glance', 'haproxy', 'heat', 'horizon', 'keepalived', 'keystone', 'mariadb', 'memcached', 'neutron', 'nova-', 'placement', 'proxysql', 'openvswitch', 'rabbitmq'],
};

/** kolla-build's unbuildable table, keyed by distro, arch or distro+arch (used when the checkout has none). */
export const KOLLA_UNBUILDABLE: Record<string, string[]> = {
  aarch64: ['bifrost-base'],
  centos: ['collectd', 'hacluster-pcs', 'nova-spicehtml5proxy', 'ovsdpdk', 'tgtd'],
  rocky: ['collectd', 'hacluster-pcs', 'nova-spicehtml5proxy', 'ovsdpdk', 'tgtd'],
};



/** kolla-gen's build_date when SOURCE_DATE_EPOCH is not set: the day of epoch 0, so that output never changes by itself. */
export const KOLLA_BUILD_DATE = '19700101';

export const MASTER_RELEASE: KollaRelease = { handleRepos: 'merge', reposFileRules: [], pythonVersions: [], unbuildableByTag: false, labels: [...KOLLA_LABELS] };

/** kolla-build's build_date: the day, `%Y%m%d`, of a SOURCE_DATE_EPOCH (UTC); undefined when it is not a number. */
export function buildDateFromEpoch(epoch: string): string | undefined {
  if (!/^\d+$/.test(epoch.trim())) return undefined;
  const date = new Date(Number(epoch.trim()) * 1000);
  if (Number.isNaN(date.getTime())) return undefined;
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(date.getUTCFullYear(), 4)}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}`;
}

export function defaultKollaSettings(release = KOLLA_OPENSTACK_RELEASE, codename: string | undefined = KOLLA_OPENSTACK_RELEASE_CODENAME): KollaSettings {
  const branch = `${release === 'master' ? '' : 'stable-'}${release}`;
  return {
    openstackRelease: release,
    openstackReleaseCodename: codename,
    openstackBranch: branch,
    openstackBranchSlashed: branch.replaceAll('-', '/'),
    kollaVersion: '',
    users: {},
    useDumbInit: true,
    dockerHealthchecks: true,
    cleanPackageCache: true,
    rpmSetup: [],
    patchesPath: null,
    distroPrettyNames: { ...KOLLA_DISTRO_PRETTY_NAME },
    release: structuredClone(MASTER_RELEASE),
    reposFiles: {},
    buildDate: KOLLA_BUILD_DATE,
    releaseFrom: 'built-in',
    buildDateFrom: 'default',
  };
}

/** kolla-build's default tag, `<release>-<base>-<base tag>`, in kolla-gen's placeholder form. */
export function kollaTag(release: string): string {
  return `${release}-{base}-{base_tag}`;
}

/** kolla-build's rpm_setup_config: .rpm and .repo files or URLs become RUN or COPY lines of the base image. */
export function rpmSetupLines(entries: string[]): { lines: string[]; bad: string[] } {
  const lines: string[] = [];
  const bad: string[] = [];
  for (const entry of entries) {
    if (entry.endsWith('.rpm')) lines.push(`RUN dnf -y install ${entry}`);
    else if (entry.endsWith('.repo')) {
      lines.push(entry.startsWith('http') ? `RUN curl -L ${entry} -o /etc/yum.repos.d/${entry.split('/').pop() ?? ''}` : `COPY ${entry} /etc/yum.repos.d/`);
    } else if (entry === '') lines.push('');
    else bad.push(entry);
  }
  return { lines, bad };
}

export interface PresetDefaults {
  baseImages?: Record<Base, BaseImage>;
  tag?: string;
  maintainer?: string;
  profiles?: Record<string, string[]>;
}

/** kolla-build's own tables: the checkout's (kolla/common/config.py, users.py, unbuildable.py), else built-in copies. */
export interface KollaTables {
  baseImages: Record<Base, BaseImage>;
  distroPrettyNames: Record<Base, string>;
  release: string;
  /** undefined: the checkout's config.py has none (before 2025.2). */
  codename?: string;
  profiles: Record<string, string[]>;
  unbuildable: Record<string, string[]>;
  users: Record<string, KollaUser>;
}

export function kollaTables(checkout: KollaCheckout = {}): KollaTables {
  const fromConfig = checkout.configPy ? parseKollaConfigPy(checkout.configPy) : {};
  return {
    baseImages: { ...KOLLA_BASE_IMAGES, ...fromConfig.baseImages },
    distroPrettyNames: { ...KOLLA_DISTRO_PRETTY_NAME, ...fromConfig.distroPrettyNames },
    release: fromConfig.release ?? KOLLA_OPENSTACK_RELEASE,
    codename: checkout.configPy !== undefined ? fromConfig.codename : KOLLA_OPENSTACK_RELEASE_CODENAME,
    profiles: structuredClone(fromConfig.profiles ?? KOLLA_PROFILES),
    unbuildable: structuredClone((checkout.unbuildablePy && parseKollaUnbuildable(checkout.unbuildablePy)) || KOLLA_UNBUILDABLE),
    users: checkout.usersPy ? parseKollaUsers(checkout.usersPy) : {},
  };
}

/** The defaults a preset puts under kolla-gen.yaml and the command line. */
export function presetDefaults(preset: PresetName | undefined, conf?: KollaConfigValues, checkout?: KollaCheckout): PresetDefaults {
  if (preset !== 'kolla') return {};
  const tables = kollaTables(checkout);
  return {
    baseImages: tables.baseImages,
    tag: kollaTag(conf?.openstackRelease || tables.release),
    maintainer: KOLLA_MAINTAINER,
    profiles: tables.profiles,
  };
}

/** The preset's settings: kolla-build's defaults and the checkout's tables, under a kolla-build.conf's values. */
export function kollaSettings(conf?: KollaConfigValues, checkout: KollaCheckout = {}, buildDate?: string): KollaSettings {
  const tables = kollaTables(checkout);
  const settings = defaultKollaSettings(conf?.openstackRelease || tables.release);
  // A release whose config.py has no codename (before 2025.2) passes none.
  settings.openstackReleaseCodename = tables.codename;
  settings.distroPrettyNames = tables.distroPrettyNames;
  settings.users = tables.users;
  settings.reposYaml = checkout.reposYaml;
  settings.reposOverride = checkout.reposOverride;
  settings.kollaVersion = checkout.gitShortSha ?? '';
  if (checkout.gitCommit !== undefined) settings.gitCommit = checkout.gitCommit;
  settings.reposFiles = { ...checkout.reposFiles };
  if (checkout.release) settings.release = structuredClone(checkout.release);
  if (buildDate !== undefined) {
    settings.buildDate = buildDate;
    settings.buildDateFrom = 'SOURCE_DATE_EPOCH';
  }
  if (conf?.openstackRelease) settings.releaseFrom = conf.path;
  else if (checkout.configPy !== undefined && parseKollaConfigPy(checkout.configPy).release) settings.releaseFrom = checkout.configPyPath ?? 'config.py';
  if (!conf) return settings;
  for (const [name, override] of Object.entries(conf.users)) {
    const prior = settings.users[name];
    settings.users[name] = { uid: override.uid ?? prior?.uid ?? null, gid: override.gid ?? prior?.gid ?? null, group: override.group ?? prior?.group ?? name };
  }
  if (conf.openstackReleaseCodename) settings.openstackReleaseCodename = conf.openstackReleaseCodename;
  if (conf.openstackBranch) settings.openstackBranch = conf.openstackBranch;
  if (conf.openstackBranchSlashed) settings.openstackBranchSlashed = conf.openstackBranchSlashed;
  if (conf.useDumbInit !== undefined) settings.useDumbInit = conf.useDumbInit;
  if (conf.dockerHealthchecks !== undefined) settings.dockerHealthchecks = conf.dockerHealthchecks;
  if (conf.cleanPackageCache !== undefined) settings.cleanPackageCache = conf.cleanPackageCache;
  if (conf.distroPackageManager) settings.distroPackageManager = conf.distroPackageManager;
  if (conf.basePackageType) settings.basePackageType = conf.basePackageType;
  if (conf.patchesPath) settings.patchesPath = conf.patchesPath;
  if (conf.rpmSetupConfig) settings.rpmSetup = rpmSetupLines(conf.rpmSetupConfig).lines;
  return settings;
}

/** What the preset assumed, in one line and as data: the release, where it was read, its defaults, its handle_repos. */
export function describeKollaPreset(config: ResolvedConfig): { message: string; data: Record<string, unknown> } | undefined {
  const settings = config.kolla;
  if (config.preset !== 'kolla' || !settings) return undefined;
  const bases = [...new Set(config.families.map((f) => f.base))];
  const baseImages = Object.fromEntries(bases.map((b) => [b, `${config.baseImages[b].image}:${config.baseImages[b].tag}`]));
  const passesBuildDate = settings.release.contextKeys?.includes('build_date') ?? false;
  const data: Record<string, unknown> = {
    release: settings.openstackRelease,
    releaseFrom: settings.releaseFrom,
    ...(settings.openstackReleaseCodename !== undefined ? { codename: settings.openstackReleaseCodename } : {}),
    baseImages,
    tag: config.tag,
    handleRepos: settings.release.handleRepos,
    ...(passesBuildDate ? { buildDate: settings.buildDate, buildDateFrom: settings.buildDateFrom } : {}),
  };
  const parts = [
    `release ${settings.openstackRelease} (from ${settings.releaseFrom})`,
    `base images ${Object.entries(baseImages).map(([b, ref]) => `${b} ${ref}`).join(', ')}`,
    `tag ${config.tag}`,
    `handle_repos ${settings.release.handleRepos}`,
    ...(passesBuildDate ? [`build_date ${settings.buildDate} (${settings.buildDateFrom === 'default' ? 'default: set SOURCE_DATE_EPOCH for another day' : 'from SOURCE_DATE_EPOCH'})`] : []),
  ];
  return { message: `kolla preset: ${parts.join('; ')}`, data };
}

const KOLLA_ARCHES: Record<string, Arch> = { x86_64: 'amd64', aarch64: 'arm64' };

/**
 * kolla-build's unbuildable table as rules. A key is distro and arch names joined by "+" (kolla-build matches
 * `^(distro|arch)(\+(distro|arch))*$`, and 2025.1 also the base tag: `rocky+10`); a key naming two distros, two
 * arches or two tags can match no variant.
 */
export function kollaUnbuildable(table: Record<string, string[]>, byTag = false): UnbuildableRule[] {
  const rules: UnbuildableRule[] = [];
  for (const [key, images] of Object.entries(table)) {
    if (images.length === 0) continue;
    const bases = new Set<Base>();
    const arches = new Set<Arch>();
    const tags = new Set<string>();
    let ok = true;
    for (const part of key.split('+')) {
      if ((BASES as readonly string[]).includes(part)) bases.add(part as Base);
      else if (KOLLA_ARCHES[part]) arches.add(KOLLA_ARCHES[part]);
      else if (byTag) tags.add(part);
      else ok = false;
    }
    if (!ok || bases.size > 1 || arches.size > 1 || tags.size > 1) continue;
    const baseTag = [...tags][0];
    rules.push({ key, base: [...bases][0], arch: [...arches][0], ...(baseTag !== undefined ? { baseTag } : {}), images: [...images] });
  }
  return rules;
}


// --- the checkout's own tables ------------------------------------------------------------------------------

function stripPyComments(text: string): string {
  return text.replace(/#[^\n]*/g, '');
}

/** kolla/common/users.py: `'<name>-user': {'uid': N, 'gid': N[, 'group': 'g']}` → users by name without "-user". */
export function parseKollaUsers(text: string): Record<string, KollaUser> {
  const users: Record<string, KollaUser> = {};
  for (const m of stripPyComments(text).matchAll(/['"]([A-Za-z0-9_.-]+)-user['"]\s*:\s*\{([^}]*)\}/g)) {
    const [, name = '', body = ''] = m;
    const field = (key: string) => new RegExp(`['"]${key}['"]\\s*:\\s*(?:(\\d+)|['"]([^'"]*)['"])`).exec(body);
    const uid = field('uid');
    const gid = field('gid');
    if (!uid?.[1] || !gid?.[1]) continue;
    users[name] = { uid: Number(uid[1]), gid: Number(gid[1]), group: field('group')?.[2] ?? name };
  }
  return users;
}

/** The text inside the brackets of `NAME = {…}` (or `[…]`) at the start of a line: brackets nest; strings hold none. */
function bracketed(code: string, name: string, open: string, close: string): string | undefined {
  const start = new RegExp(`^${name}\\s*=\\s*\\${open}`, 'm').exec(code);
  if (!start) return undefined;
  let depth = 1;
  for (let i = start.index + start[0].length; i < code.length; i++) {
    if (code[i] === open) depth += 1;
    else if (code[i] === close && --depth === 0) return code.slice(start.index + start[0].length, i);
  }
  return undefined;
}

/** The parts of kolla/common/config.py that are kolla-build's defaults; what cannot be read keeps the built-in value. */
export function parseKollaConfigPy(text: string): Partial<KollaTables> {
  const code = stripPyComments(text);
  const out: Partial<KollaTables> = {};
  const constant = (name: string) => new RegExp(`^${name}\\s*=\\s*['"]([^'"]*)['"]`, 'm').exec(code)?.[1];
  out.release = constant('OPENSTACK_RELEASE');
  out.codename = constant('OPENSTACK_RELEASE_CODENAME');
  const dict = (name: string) => bracketed(code, name, '{', '}');
  const tags = dict('DEFAULT_BASE_TAGS');
  if (tags) {
    const images: Partial<Record<Base, BaseImage>> = {};
    for (const m of tags.matchAll(/['"](\w+)['"]\s*:\s*\{\s*['"]name['"]\s*:\s*['"]([^'"]+)['"]\s*,\s*['"]tag['"]\s*:\s*['"]([^'"]+)['"]\s*\}/g)) {
      if ((BASES as readonly string[]).includes(m[1] ?? '')) images[m[1] as Base] = { image: m[2] ?? '', tag: m[3] ?? '' };
    }
    if (BASES.every((b) => images[b])) out.baseImages = images as Record<Base, BaseImage>;
  }
  const pretty = dict('DISTRO_PRETTY_NAME');
  if (pretty) {
    const names: Partial<Record<Base, string>> = {};
    for (const m of pretty.matchAll(/['"](\w+)['"]\s*:\s*['"]([^'"]*)['"]/g)) if ((BASES as readonly string[]).includes(m[1] ?? '')) names[m[1] as Base] = m[2] ?? '';
    if (BASES.every((b) => names[b] !== undefined)) out.distroPrettyNames = names as Record<Base, string>;
  }
  const profileOpts = bracketed(code, '_PROFILE_OPTS', '[', ']');
  if (profileOpts) {
    const profiles: Record<string, string[]> = {};
    for (const m of profileOpts.matchAll(/ListOpt\(\s*['"]([\w-]+)['"]\s*,\s*default\s*=\s*\[([^\]]*)\]/g)) {
      profiles[m[1] ?? ''] = [...(m[2] ?? '').matchAll(/['"]([^'"]+)['"]/g)].map((e) => e[1] ?? '');
    }
    if (Object.keys(profiles).length > 0) out.profiles = profiles;
  }
  return out;
}

/** kolla/image/unbuildable.py: `'<tag>': {"image", ...}` → the table. */
export function parseKollaUnbuildable(text: string): Record<string, string[]> | undefined {
  const body = /UNBUILDABLE_IMAGES\s*=\s*\{([\s\S]*)\}/.exec(stripPyComments(text))?.[1];
  if (body === undefined) return undefined;
  const table: Record<string, string[]> = {};
  for (const m of body.matchAll(/['"]([A-Za-z0-9_+.-]+)['"]\s*:\s*\{([^}]*)\}/g)) {
    const images = [...(m[2] ?? '').matchAll(/['"]([^'"]+)['"]/g)].map((s) => s[1] ?? '');
    if (images.length > 0) table[m[1] ?? ''] = images;
  }
  return table;
}

// --- functions templates call ----------------------------------------------------------------------------------

/** kolla's debian_package_install(): apt-get for package names, curl + dpkg for URLs of .deb files. */
export function debianPackageInstall(packages: unknown, cleanPackageCache: unknown = true): string {
  if (!Array.isArray(packages)) throw new RenderError('debian_package_install: packages must be a list');
  const regular: string[] = [];
  const urls: string[] = [];
  for (const p of packages) (str(p).startsWith('http') ? urls : regular).push(str(p));
  const cmds: string[] = [];
  if (regular.length > 0) {
    cmds.push('apt-get --error-on=any update', `apt-get -y install --no-install-recommends ${regular.join(' ')}`);
    if (truthy(cleanPackageCache)) cmds.push('apt-get clean', 'rm -rf /var/lib/apt/lists/*');
  }
  for (const url of urls) {
    const name = url.slice(url.lastIndexOf('/') + 1);
    cmds.push(`curl --location ${url} -o ${name}`, `dpkg -i ${name}`, `rm -rf ${name}`);
  }
  return cmds.join(' && ');
}

function truthy(v: unknown): boolean {
  return !(v === null || v === undefined || v === false || v === '' || v === 0 || (Array.isArray(v) && v.length === 0));
}

type RepoInfo = Record<string, unknown>;
type RepoData = Record<string, Record<string, RepoInfo> | null>;

const parsedRepos = new Map<string, RepoData>();

/** PyYAML's safe_load reads YAML 1.1; parsed once per text. */
function reposData(text: string): RepoData {
  let data = parsedRepos.get(text);
  if (!data) {
    data = (parseYaml(text, { version: '1.1' }) ?? {}) as RepoData;
    parsedRepos.set(text, data);
  }
  return data;
}

/** Python's str.splitlines() for the texts of repos.yaml. */
const LINE_BREAKS = new Set([0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029]);
function splitlines(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (!LINE_BREAKS.has(text.charCodeAt(i))) continue;
    lines.push(text.slice(start, i));
    if (text[i] === '\r' && text[i + 1] === '\n') i++;
    start = i + 1;
  }
  if (start < text.length) lines.push(text.slice(start));
  return lines;
}

export interface RepoContext {
  basePackageType: string;
  baseDistro: string;
  baseArch: string;
  /** undefined on releases that pass none: handle_repos of those never reads it. */
  openstackReleaseCodename?: string;
  baseDistroTag?: string;
}

const has = (o: object, k: string) => Object.hasOwn(o, k);

function buildRepoList(data: RepoData, ctx: RepoContext): Record<string, RepoInfo> {
  const result: Record<string, RepoInfo> = {};
  for (const section of [ctx.basePackageType, ctx.baseDistro, `${ctx.baseDistro}-${ctx.baseArch}`]) {
    const repos = has(data, section) ? data[section] : undefined;
    if (repos === undefined) continue;
    if (repos === null || typeof repos !== 'object') throw new RenderError(`repos.yaml: section ${section} is not a mapping`);
    for (const [name, info] of Object.entries(repos)) {
      const prior = has(result, name) ? result[name] : undefined;
      if (prior) {
        const merged: RepoInfo = { ...prior, ...info };
        if (['baseurl', 'metalink', 'mirrorlist', 'url'].some((k) => has(merged, k))) delete merged.distro;
        result[name] = merged;
      } else {
        result[name] = info;
      }
    }
  }
  return result;
}

/** repos.yaml with an override merged in, section by section, as kolla's handle_repos merges them. */
function mergeRepos(base: RepoData, override: RepoData | undefined): RepoData {
  if (!override) return base;
  const out: RepoData = Object.fromEntries(Object.entries(base).map(([k, v]) => [k, v && { ...v }]));
  for (const [section, repos] of Object.entries(override)) {
    const existing = has(out, section) ? out[section] : undefined;
    if (existing) Object.assign(existing, repos);
    else out[section] = repos;
  }
  return out;
}

/**
 * kolla's handle_repos(reponames, mode): the RUN line that enables (or disables) the logical repos named, looked up in
 * repos.yaml by package type, distro and distro-arch.
 */
export function handleRepos(settings: KollaSettings, ctx: RepoContext, reponames: unknown, mode: unknown): string {
  if (settings.release.handleRepos === 'skip-missing') return handleReposSkipMissing(settings, ctx, reponames, mode);
  if (!Array.isArray(reponames)) throw new RenderError('First argument should be a list of repositories');
  if (settings.release.handleRepos === 'union') return handleReposUnion(settings, ctx, reponames, mode);
  if (settings.reposYaml === undefined) throw new RenderError('handle_repos: the tree has no repos.yaml (looked for kolla/template/repos.yaml next to the docker dir)');
  const defaults = reposData(settings.reposYaml);
  const override = settings.reposOverride ? reposData(settings.reposOverride.text) : undefined;
  const repoList = buildRepoList(mergeRepos(defaults, override), ctx);
  const field = (repo: RepoInfo, key: string) => (has(repo, key) ? str(repo[key]) : '');

  if (ctx.basePackageType === 'rpm' && override) {
    const defaultList = buildRepoList(defaults, ctx);
    const distroOverridden = Object.keys(repoList).filter((r) => !truthy(repoList[r]?.distro) && truthy(defaultList[r]?.distro));
    if (distroOverridden.length > 0) {
      const groups = new Set(distroOverridden.map((r) => defaultList[r]?.file_group).filter(truthy));
      const notOverridden = Object.entries(repoList)
        .filter(([r, d]) => truthy(d.distro) && !distroOverridden.includes(r) && groups.has(d.file_group))
        .map(([r]) => r)
        .sort();
      if (notOverridden.length > 0) {
        const list = (names: string[]) => `[${[...names].sort().map((n) => `'${n}'`).join(', ')}]`;
        throw new RenderError(
          `Repositories ${list(distroOverridden)} override distro-provided repos and will remove their .repo file. Repositories ${list(notOverridden)} are still using distro defaults and share the same file. Please also override them in your repos.yaml.`,
        );
      }
    }
  }

  let commands = '';
  reponames.forEach((raw, index) => {
    const { repo, info } = repoEntry(repoList, raw, ctx);
    const last = index === reponames.length - 1;
    if (ctx.basePackageType === 'rpm') {
      if (mode === 'enable') {
        if (!truthy(info.distro)) {
          const name = field(info, 'name');
          const file = `/etc/yum.repos.d/${repo}.repo`;
          commands += `grep -rlF '[${name}]' /etc/yum.repos.d/ 2>/dev/null | xargs -r rm -f && `;
          commands += `echo '[${name}]' >${file} && echo 'name=${name}' >>${file} && echo 'enabled=1' >>${file}`;
          if (truthy(info.gpgcheck)) commands += ` && echo 'gpgcheck=${field(info, 'gpgcheck')}' >>${file}`;
          if (truthy(info.repo_gpgcheck)) commands += ` && echo 'repo_gpgcheck=${field(info, 'repo_gpgcheck')}' >>${file}`;
          if (!['baseurl', 'metalink', 'mirrorlist'].some((k) => has(info, k))) throw new RenderError(`Repository '${repo}' has no baseurl, metalink, or mirrorlist`);
          if (!has(info, 'gpgkey')) throw new RenderError(`Repository '${repo}' has no gpgkey`);
          splitlines(field(info, 'gpgkey')).forEach((key, i) => {
            commands += i === 0 ? ` && echo 'gpgkey=${key}' >>${file}` : ` && echo '       ${key}' >>${file}`;
          });
          if (has(info, 'baseurl')) for (const url of splitlines(field(info, 'baseurl'))) commands += ` && echo 'baseurl=${url}' >>${file}`;
          else if (has(info, 'metalink')) commands += ` && echo 'metalink=${field(info, 'metalink')}' >>${file}`;
          else if (has(info, 'mirrorlist')) commands += ` && echo 'mirrorlist=${field(info, 'mirrorlist')}' >>${file}`;
        } else {
          commands += `dnf config-manager --enable ${field(info, 'name')} || true`;
        }
        if (!last) commands += ' && ';
      } else if (mode === 'disable' && truthy(info.distro)) {
        commands += `dnf config-manager --disable ${field(info, 'name')} || true`;
      }
    } else if (ctx.basePackageType === 'deb') {
      if (mode === 'enable' && !truthy(info.distro)) {
        const gpgKey = field(info, 'gpg_key');
        const signedBy = gpgKey.startsWith('/') ? gpgKey : `/etc/kolla/apt-keys/${gpgKey}`;
        const suite = field(info, 'suite').replaceAll('{openstack_release_codename}', (ctx.openstackReleaseCodename ?? 'None').toLowerCase());
        const file = `/etc/apt/sources.list.d/${repo}.sources`;
        for (const key of ['url', 'suite', 'component', 'gpg_key']) if (!has(info, key)) throw new RenderError(`KeyError: '${key}' (repository '${repo}')`);
        commands +=
          `echo 'Uris: ${field(info, 'url')}' >${file} && echo 'Components: ${field(info, 'component')}' >>${file} && ` +
          `echo 'Types: deb' >>${file} && echo 'Suites: ${suite}' >>${file} && echo 'Signed-By: ${signedBy}' >>${file}`;
        if (truthy(info.trusted)) commands += ` && echo 'Trusted: yes' >>${file}`;
        if (has(info, 'arch')) commands += ` && echo 'Architectures: ${field(info, 'arch')}' >>${file}`;
        if (!last) commands += ' && ';
      }
    }
  });
  return commands ? `RUN ${commands}` : commands;
}

/** Python's `d[key]` on a repo of repos.yaml: a KeyError names the key. */
function item(info: RepoInfo, key: string): string {
  if (!has(info, key)) throw new RenderError(`KeyError: '${key}'`);
  return str(info[key]);
}

function sectionOf(data: RepoData, name: string): Record<string, RepoInfo> | undefined {
  if (!has(data, name)) return undefined;
  const section = data[name];
  if (section === null || typeof section !== 'object') throw new RenderError(`repos.yaml: section ${name} is not a mapping`);
  return section;
}

/** A repo handle_repos() names, and its entry in the sections read: a KeyError when none holds it. */
function repoEntry(repoList: Record<string, RepoInfo>, raw: unknown, ctx: RepoContext): { repo: string; info: RepoInfo } {
  const repo = str(raw);
  const info = has(repoList, repo) ? repoList[repo] : undefined;
  if (!info) throw new RenderError(`KeyError: '${repo}' (no such repository in repos.yaml for ${ctx.baseDistro} ${ctx.baseArch})`);
  return { repo, info };
}

/** handle_repos() of 2025.2 and 2026.1: the sections joined (a later one replaces a repo whole), a missing repo raises. */
function handleReposUnion(settings: KollaSettings, ctx: RepoContext, reponames: unknown[], mode: unknown): string {
  const text = settings.reposOverride?.text ?? settings.reposYaml;
  if (text === undefined) throw new RenderError('handle_repos: the tree has no repos.yaml (looked for kolla/template/repos.yaml next to the docker dir)');
  const data = reposData(text);
  const repoList: Record<string, RepoInfo> = {};
  for (const name of [ctx.basePackageType, ctx.baseDistro, `${ctx.baseDistro}-${ctx.baseArch}`]) Object.assign(repoList, sectionOf(data, name));
  let commands = '';
  reponames.forEach((raw, index) => {
    const { repo, info } = repoEntry(repoList, raw, ctx);
    const last = index === reponames.length - 1;
    if (ctx.basePackageType === 'rpm') {
      if (mode === 'enable') {
        const file = `/etc/yum.repos.d/${repo}.repo`;
        if (!truthy(info.distro)) {
          const name = item(info, 'name');
          commands += `echo '[${name}]' >${file} && echo 'name=${name}' >>${file} && echo 'enabled=1' >>${file}`;
          if (truthy(info.gpgcheck)) commands += ` && echo 'gpgcheck=${item(info, 'gpgcheck')}' >>${file}`;
          if (truthy(info.repo_gpgcheck)) commands += ` && echo 'repo_gpgcheck=${item(info, 'repo_gpgcheck')}' >>${file}`;
          splitlines(item(info, 'gpgkey')).forEach((key, i) => {
            commands += i === 0 ? ` && echo 'gpgkey=${key}' >>${file}` : ` && echo '       ${key}' >>${file}`;
          });
        } else {
          commands += `dnf config-manager --enable ${item(info, 'name')} || true`;
        }
        // This release writes the URLs of distro repos too.
        if (has(info, 'baseurl')) for (const url of splitlines(item(info, 'baseurl'))) commands += ` && echo 'baseurl=${url}' >>${file}`;
        else if (has(info, 'metalink')) commands += ` && echo 'metalink=${item(info, 'metalink')}' >>${file}`;
        else if (has(info, 'mirrorlist')) commands += ` && echo 'mirrorlist=${item(info, 'mirrorlist')}' >>${file}`;
        if (!last) commands += ' && ';
      } else if (mode === 'disable' && truthy(info.distro)) {
        commands += `dnf config-manager --disable ${item(info, 'name')} || true`;
      }
    } else if (ctx.basePackageType === 'deb' && mode === 'enable') {
      const file = `/etc/apt/sources.list.d/${repo}.sources`;
      // str.format's keyword arguments, in the order kolla-build evaluates them.
      const [component, gpgKey, suite, url] = ['component', 'gpg_key', 'suite', 'url'].map((k) => item(info, k));
      commands +=
        `echo 'Uris: ${url}' >${file} && echo 'Components: ${component}' >>${file} && echo 'Types: deb' >>${file} && ` +
        `echo 'Suites: ${suite}' >>${file} && echo 'Signed-By: /etc/kolla/apt-keys/${gpgKey}' >>${file}`;
      if (has(info, 'arch')) commands += ` && echo 'Architectures: ${item(info, 'arch')}' >>${file}`;
      if (!last) commands += ' && ';
    }
  });
  return commands ? `RUN ${commands}` : commands;
}

/** The repos file a skip-missing handle_repos() reads: the override, else the first of the release's files whose condition holds. */
function skipMissingReposText(settings: KollaSettings, ctx: RepoContext): string {
  if (settings.reposOverride) return settings.reposOverride.text;
  const vars = { base_distro: ctx.baseDistro, base_distro_tag: ctx.baseDistroTag ?? '', base_arch: ctx.baseArch, base_package_type: ctx.basePackageType };
  const rule = settings.release.reposFileRules.find((r) => evalRepoCondition(r.when, vars));
  const text = rule ? settings.reposFiles[rule.file] : settings.reposYaml;
  if (text === undefined) throw new RenderError(`handle_repos: the tree has no ${rule?.file ?? 'repos.yaml'} (looked in kolla/template next to the docker dir)`);
  return text;
}

/**
 * handle_repos() of 2024.1 and 2025.1: the repos of the `<distro>-<arch>` section (else `<distro>`); a repo the
 * section lacks, or a deb repo missing a field, is skipped. rpm repos name what `dnf config-manager` switches.
 */
function handleReposSkipMissing(settings: KollaSettings, ctx: RepoContext, reponames: unknown, mode: unknown): string {
  if (mode !== 'enable' && mode !== 'disable') throw new RenderError('KeyError');
  if (!Array.isArray(reponames)) throw new RenderError('First argument should be a list of repositories');
  const data = reposData(skipMissingReposText(settings, ctx));
  const repoList = sectionOf(data, `${ctx.baseDistro}-${ctx.baseArch}`) ?? sectionOf(data, ctx.baseDistro);
  if (!repoList) throw new RenderError(`KeyError: '${ctx.baseDistro}' (no section for it in repos.yaml)`);
  let commands = '';
  for (const raw of reponames) {
    const repo = str(raw);
    if (!has(repoList, repo)) continue;
    const info = repoList[repo];
    if (ctx.basePackageType === 'rpm') {
      commands += ` --${mode} ${str(info)}`;
    } else if (ctx.basePackageType === 'deb' && mode === 'enable') {
      if (info === null || typeof info !== 'object') throw new RenderError(`TypeError: repository '${repo}' is not a mapping`);
      if (!['url', 'component', 'suite', 'gpg_key'].every((k) => has(info, k))) continue;
      const file = `/etc/apt/sources.list.d/${repo}.sources`;
      commands +=
        `echo 'Uris: ${str(info.url)}' >${file} && echo 'Components: ${str(info.component)}' >>${file} && ` +
        `echo 'Types: deb' >>${file} && echo 'Suites: ${str(info.suite)}' >>${file} && ` +
        `echo 'Signed-By: /etc/kolla/apt-keys/${str(info.gpg_key)}' >>${file} && `;
      if (has(info, 'arch') && truthy(info.arch)) commands += `echo 'Architectures: ${str(info.arch)}' >>${file} && `;
    }
  }
  if (ctx.basePackageType === 'rpm' && commands) commands = `dnf config-manager ${commands} || true`;
  // Each deb repo ends with " && ": kolla-build cuts the last four characters.
  else if (ctx.basePackageType === 'deb') commands = commands.slice(0, -4);
  return commands ? `RUN ${commands}` : commands;
}

// --- the context --------------------------------------------------------------------------------------------

function packaging(base: Base, settings: KollaSettings): { manager: string; type: string } {
  const rpm = base === 'centos' || base === 'rocky';
  return {
    manager: settings.distroPackageManager ?? (rpm ? 'dnf' : 'apt'),
    type: settings.basePackageType || (rpm ? 'rpm' : 'deb'),
  };
}

/** Only what the checkout's kolla-build passes: a release before a variable or function existed has none of it. */
function passedByRelease(release: KollaRelease, values: Record<string, unknown>, kind: 'contextKeys' | 'methods'): Record<string, unknown> {
  const names = release[kind];
  return names ? Object.fromEntries(Object.entries(values).filter(([k]) => names.includes(k))) : values;
}

/** Template functions that need no variant: for the renderer's globals (templates imported without context). */
export function presetGlobals(config: ResolvedConfig): Record<string, unknown> {
  if (config.preset !== 'kolla') return {};
  const functions = {
    debian_package_install: debianPackageInstall,
    raise_error: (message: unknown) => raiseTemplateError(str(message)),
  };
  return config.kolla ? passedByRelease(config.kolla.release, functions, 'methods') : functions;
}

/** The variables kolla-build passes to every template, beyond those kolla-gen always passes. */
export function presetContext(config: ResolvedConfig, variant: Variant): Record<string, unknown> {
  const settings = config.kolla;
  if (config.preset !== 'kolla' || !settings) return {};
  const { manager, type } = packaging(variant.base, settings);
  const baseTag = config.baseImages[variant.base].tag;
  const repoContext: RepoContext = {
    basePackageType: type,
    baseDistro: variant.base,
    baseArch: KOLLA_ARCH[variant.arch],
    openstackReleaseCodename: settings.openstackReleaseCodename,
    baseDistroTag: baseTag,
  };
  const values: Record<string, unknown> = {
    repos_yaml: settings.reposOverride?.path ?? '',
    use_dumb_init: settings.useDumbInit,
    base_package_type: type,
    docker_healthchecks: settings.dockerHealthchecks,
    supported_distro_name: settings.distroPrettyNames[variant.base],
    openstack_release: settings.openstackRelease,
    openstack_release_codename: settings.openstackReleaseCodename,
    openstack_branch: settings.openstackBranch,
    openstack_branch_slashed: settings.openstackBranchSlashed,
    kolla_version: settings.kollaVersion,
    // Shared, not copied: the renderer copies a context dict or list when a template first reads it.
    users: settings.users,
    distro_package_manager: manager,
    rpm_setup: settings.rpmSetup,
    clean_package_cache: settings.cleanPackageCache,
    patches_path: settings.patchesPath,
    build_date: settings.buildDate,
    distro_python_version: pythonVersion(settings.release.pythonVersions, variant.base, baseTag),
  };
  const functions = {
    debian_package_install: debianPackageInstall,
    handle_repos: (reponames: unknown, mode: unknown) => handleRepos(settings, repoContext, reponames, mode),
    raise_error: (message: unknown) => raiseTemplateError(str(message)),
  };
  // Unknown releases (no kolla_worker.py read) get every variable kolla-gen knows, but none that kolla-build passes
  // only on some releases (build_date, distro_python_version).
  if (!settings.release.contextKeys) {
    delete values.build_date;
    delete values.distro_python_version;
  }
  return { ...passedByRelease(settings.release, values, 'contextKeys'), ...passedByRelease(settings.release, functions, 'methods') };
}
