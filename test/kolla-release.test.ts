// --preset kolla on older upstream releases: what kolla-gen reads from a checkout's python to render each release as
// its own kolla-build does. Every fixture here is hand-written in the shape of those files, not taken from upstream.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/load/config/resolve.js';
import { templateContext } from '../src/render/context.js';
import { buildDateFromEpoch, defaultKollaSettings, describeKollaPreset, handleRepos, kollaUnbuildable, parseKollaConfigPy, type KollaSettings, type RepoContext } from '../src/load/kolla/preset.js';
import { evalRepoCondition, parsePythonVersions, parseRepoCondition, pythonVersion, readKollaRelease, type KollaRelease } from '../src/load/kolla/kolla-release.js';
import { unbuildableFor } from '../src/graph/select.js';

/** A config.py as 2025.1 and 2024.1 have it: EL9 tags, bookworm, a release and no codename. */
const CONFIG_PY_2025_1 = [
  '# a comment with OPENSTACK_RELEASE_CODENAME = "NotThis"',
  'DEFAULT_BASE_TAGS = {',
  "    'centos': {'name': 'quay.io/centos/centos', 'tag': 'stream9'},",
  "    'debian': {'name': 'debian', 'tag': 'bookworm'},",
  "    'rocky': {'name': 'quay.io/rockylinux/rockylinux', 'tag': '9'},",
  "    'ubuntu': {'name': 'ubuntu', 'tag': '22.04'},",
  '}',
  "DISTRO_PRETTY_NAME = {'centos': 'CentOS Stream 9', 'debian': 'Debian GNU/Linux 12 (bookworm)', 'rocky': 'Rocky Linux 9.* (Blue Onyx)', 'ubuntu': 'Ubuntu 22.04'}",
  "OPENSTACK_RELEASE = '2025.1'",
].join('\n');

/** The markers of each handle_repos() shape, in a few lines each. */
const METHODS = {
  skipMissing: [
    'def handle_repos(context, reponames, mode):',
    "    rpm_switch = '--enable' if mode == 'enable' else '--disable'",
    "    repofile = base + ('/repos-new.yaml' if (base_distro == 'rocky' and base_distro_tag.startswith(('10', 'ten'))) else '/repos.yaml')",
    "    repo_list = repo_data['%s-%s' % (base_distro, base_arch)]",
    '',
    'def raise_error(msg):',
    '    raise Exception(msg)',
  ].join('\n'),
  union: ['def handle_repos(context, reponames, mode):', '    repo_list = repo_data.get(base_package_type, dict()) | repo_data.get(base_distro, dict())'].join('\n'),
  merge: ['def handle_repos(context, reponames, mode):', '    def _build_repo_list(data):', '        return {}'].join('\n'),
};

/** A kolla_worker.py in the shape of 2024.1's: the values templates get, distro_python_version by base and tag. */
const WORKER_2024_1 = [
  'class KollaWorker(object):',
  '    def __init__(self, conf):',
  "        if self.base in ['centos', 'rocky']:",
  '            self.conf.distro_python_version = "3.9"',
  "        elif self.base in ['ubuntu']:",
  "            if self.base_tag.startswith(('24.04', 'noble')):",
  '                self.conf.distro_python_version = "3.12"',
  '            else:',
  '                self.conf.distro_python_version = "3.10"',
  '        else:',
  '            # Assume worst',
  '            self.conf.distro_python_version = "3.8"',
  '        self.x = 1',
  '',
  '    def _get_methods(self):',
  "        return {'debian_package_install': m.debian_package_install, 'handle_repos': m.handle_repos}",
  '',
  '    def create_dockerfiles(self):',
  "        values = {'base_distro': self.base, 'build_date': build_date, 'distro_python_version': self.distro_python_version,",
  "                  'openstack_release': self.openstack_release, 'users': self.get_users()}",
  '',
  '    def filter_images(self):',
  "        tag_element = r'(%s|%s|%s)' % (base, self.base_arch, self.base_tag)",
].join('\n');

describe('config.py of an older release', () => {
  it('gives its base images and tags, its release, and no codename', () => {
    expect(parseKollaConfigPy(CONFIG_PY_2025_1)).toMatchObject({
      release: '2025.1',
      codename: undefined,
      baseImages: {
        centos: { image: 'quay.io/centos/centos', tag: 'stream9' },
        debian: { image: 'debian', tag: 'bookworm' },
        rocky: { image: 'quay.io/rockylinux/rockylinux', tag: '9' },
        ubuntu: { image: 'ubuntu', tag: '22.04' },
      },
    });
  });

  it('makes the tag, base image and distro name of each variant; a release without a codename passes none', () => {
    const { config } = resolveConfig({ cli: { preset: 'kolla' }, kollaCheckout: { configPy: CONFIG_PY_2025_1, configPyPath: 'k/kolla/common/config.py' } });
    if (!config) throw new Error('no config');
    const ctx = templateContext(config, { name: 'base', rel: 'base', template: 'base/Dockerfile.j2', files: [] }, { base: 'ubuntu', arch: 'amd64' });
    expect(ctx).toMatchObject({ tag: '2025.1-ubuntu-22.04', base_image: 'ubuntu', base_distro_tag: '22.04', supported_distro_name: 'Ubuntu 22.04', openstack_branch: 'stable-2025.1' });
    expect(ctx.openstack_release_codename).toBeUndefined();
    expect(describeKollaPreset(config)?.message).toContain('kolla preset: release 2025.1 (from k/kolla/common/config.py); base images ubuntu ubuntu:22.04, debian debian:bookworm');
  });

  it('lets kolla-gen.yaml base_images and a kolla-build.conf release win over the checkout', () => {
    const { config } = resolveConfig({
      cli: { preset: 'kolla' },
      config: { path: 'kolla-gen.yaml', text: 'base_images:\n  ubuntu: { image: ubuntu, tag: "24.04" }\n' },
      kollaConfig: { path: 'kb.conf', openstackRelease: '2099.1', profile: [], regex: [], templateOverride: [], dockerDir: [], buildArgs: {}, profiles: {}, users: {} },
      kollaCheckout: { configPy: CONFIG_PY_2025_1, configPyPath: 'config.py' },
    });
    expect(config?.baseImages.ubuntu).toEqual({ image: 'ubuntu', tag: '24.04' });
    expect(config?.tag).toBe('2099.1-{base}-{base_tag}');
    expect(describeKollaPreset(config!)?.data).toMatchObject({ release: '2099.1', releaseFrom: 'kb.conf' });
  });
});

describe("methods.py and kolla_worker.py: the release's kolla-build", () => {
  it.each([
    ['skipMissing', 'skip-missing'],
    ['union', 'union'],
    ['merge', 'merge'],
  ] as const)('tells the %s shape of handle_repos()', (key, style) => {
    expect(readKollaRelease({ methodsPy: METHODS[key] })).toMatchObject({ release: { handleRepos: style }, problems: [] });
  });

  it("runs master's handle_repos(), and says so, for a shape it does not know", () => {
    const { release, problems } = readKollaRelease({ methodsPy: 'def handle_repos(context, reponames, mode):\n    return ""\n' });
    expect(release.handleRepos).toBe('merge');
    expect(problems).toEqual([expect.stringContaining('handle_repos() has a shape kolla-gen does not know')]);
  });

  it('reads which repos file handle_repos() picks, by the base and its tag', () => {
    const { release } = readKollaRelease({ methodsPy: METHODS.skipMissing });
    expect(release.reposFileRules.map((r) => r.file)).toEqual(['repos-new.yaml']);
    const when = release.reposFileRules[0]!.when;
    expect(evalRepoCondition(when, { base_distro: 'rocky', base_distro_tag: '10.1' })).toBe(true);
    expect(evalRepoCondition(when, { base_distro: 'rocky', base_distro_tag: '9' })).toBe(false);
    expect(evalRepoCondition(when, { base_distro: 'centos', base_distro_tag: '10' })).toBe(false);
  });

  it.each([
    ["base_distro == 'x'", { base_distro: 'x' }, true],
    ["base_distro_tag and base_distro_tag.startswith(('24.04', 'noble'))", { base_distro_tag: 'noble' }, true],
    ["base_distro_tag and base_distro_tag.startswith(('24.04', 'noble'))", { base_distro_tag: '' }, false],
    ["(base_distro == 'a' and base_distro_tag.startswith('1')) or base_distro == 'b'", { base_distro: 'b', base_distro_tag: '9' }, true],
  ])('evaluates %s', (text, vars, expected) => {
    const cond = parseRepoCondition(text);
    expect(cond).toBeDefined();
    expect(evalRepoCondition(cond!, vars)).toBe(expected);
  });

  it.each(["os.path.exists('x')", "base_distro == other", "base_distro =="])('refuses %s', (text) => {
    expect(parseRepoCondition(text)).toBeUndefined();
  });

  it('reads the variables and functions kolla_worker.py passes, distro_python_version, and unbuildable keys by tag', () => {
    const { release } = readKollaRelease({ workerPy: WORKER_2024_1 });
    expect(release.contextKeys).toEqual(['base_distro', 'build_date', 'distro_python_version', 'openstack_release', 'users']);
    expect(release.methods).toEqual(['debian_package_install', 'handle_repos']);
    expect(release.unbuildableByTag).toBe(true);
    const rules = parsePythonVersions(WORKER_2024_1);
    expect([pythonVersion(rules, 'rocky', '9'), pythonVersion(rules, 'ubuntu', '24.04'), pythonVersion(rules, 'ubuntu', '22.04'), pythonVersion(rules, 'debian', '12')]).toEqual([
      '3.9',
      '3.12',
      '3.10',
      '3.8',
    ]);
  });

  it('passes templates only what that kolla-build passes', () => {
    const { release } = readKollaRelease({ workerPy: WORKER_2024_1 });
    const { config } = resolveConfig({ cli: { preset: 'kolla' }, kollaCheckout: { release, configPy: CONFIG_PY_2025_1 } });
    if (!config) throw new Error('no config');
    const ctx = templateContext(config, { name: 'base', rel: 'base', template: 'base/Dockerfile.j2', files: [] }, { base: 'ubuntu', arch: 'amd64' });
    expect(ctx).toMatchObject({ distro_python_version: '3.10', build_date: '19700101', openstack_release: '2025.1' });
    for (const name of ['raise_error', 'patches_path', 'openstack_release_codename', 'use_dumb_init']) expect(ctx).not.toHaveProperty(name);
    expect(ctx).toHaveProperty('handle_repos');
  });
});

const REPOS = `
rpm:
  epel: { name: "epel", baseurl: "https://e/el", gpgkey: "https://e/k" }
centos:
  crb: "crb"
  epel: "epel"
rocky-aarch64:
  crb: "powertools"
debian:
  grafana: { url: "https://g/deb", suite: "stable", component: "main", gpg_key: "g.asc", arch: "amd64" }
  nokey: { url: "https://n/deb", suite: "s", component: "c" }
  plain: { url: "https://p/deb", suite: "s", component: "c", gpg_key: "p.asc", arch: "" }
`;

const repoContext = (baseDistro: string, baseArch = 'x86_64', baseDistroTag = '9'): RepoContext => ({
  basePackageType: baseDistro === 'debian' ? 'deb' : 'rpm',
  baseDistro,
  baseArch,
  baseDistroTag,
});

function settings(handleRepos: KollaRelease['handleRepos'], extra: Partial<KollaSettings> = {}): KollaSettings {
  const base = defaultKollaSettings('2025.1', undefined);
  return { ...base, reposYaml: REPOS, release: { ...base.release, handleRepos }, ...extra };
}

describe('handle_repos() by release', () => {
  it('skips the repos a distro lacks on 2024.1 and 2025.1, where master raises KeyError', () => {
    expect(handleRepos(settings('skip-missing'), repoContext('debian'), ['epel', 'crb'], 'enable')).toBe('');
    expect(() => handleRepos(settings('merge'), repoContext('debian'), ['epel', 'crb'], 'enable')).toThrow(/KeyError: 'epel'/);
    expect(() => handleRepos(settings('union'), repoContext('debian'), ['crb'], 'enable')).toThrow(/KeyError: 'crb'/);
  });

  it('switches rpm repos by name with one dnf config-manager, from the distro-arch section else the distro one', () => {
    expect(handleRepos(settings('skip-missing'), repoContext('centos'), ['crb', 'epel', 'none'], 'enable')).toBe('RUN dnf config-manager  --enable crb --enable epel || true');
    expect(handleRepos(settings('skip-missing'), repoContext('centos'), ['crb'], 'disable')).toBe('RUN dnf config-manager  --disable crb || true');
    expect(() => handleRepos(settings('skip-missing'), repoContext('rocky'), ['crb'], 'enable')).toThrow(/KeyError: 'rocky'/);
    expect(handleRepos(settings('skip-missing'), repoContext('rocky', 'aarch64'), ['crb', 'epel'], 'enable')).toBe('RUN dnf config-manager  --enable powertools || true');
  });

  it('writes deb sources, skipping a repo that lacks a field and an empty arch', () => {
    const f = (r: string) => `/etc/apt/sources.list.d/${r}.sources`;
    expect(handleRepos(settings('skip-missing'), repoContext('debian'), ['grafana', 'nokey', 'plain'], 'enable')).toBe(
      `RUN echo 'Uris: https://g/deb' >${f('grafana')} && echo 'Components: main' >>${f('grafana')} && echo 'Types: deb' >>${f('grafana')} && ` +
        `echo 'Suites: stable' >>${f('grafana')} && echo 'Signed-By: /etc/kolla/apt-keys/g.asc' >>${f('grafana')} && ` +
        `echo 'Architectures: amd64' >>${f('grafana')} && ` +
        `echo 'Uris: https://p/deb' >${f('plain')} && echo 'Components: c' >>${f('plain')} && echo 'Types: deb' >>${f('plain')} && ` +
        `echo 'Suites: s' >>${f('plain')} && echo 'Signed-By: /etc/kolla/apt-keys/p.asc' >>${f('plain')}`,
    );
    expect(handleRepos(settings('skip-missing'), repoContext('debian'), ['grafana'], 'disable')).toBe('');
    expect(() => handleRepos(settings('skip-missing'), repoContext('debian'), ['grafana'], 'toggle')).toThrow(/KeyError/);
  });

  it('reads the repos file the release picks for the variant', () => {
    const s = settings('skip-missing', {
      release: { ...settings('skip-missing').release, reposFileRules: readKollaRelease({ methodsPy: METHODS.skipMissing }).release.reposFileRules },
      reposFiles: { 'repos-new.yaml': 'rocky:\n  crb: "crb-ten"\n' },
    });
    expect(handleRepos(s, repoContext('rocky', 'x86_64', '10'), ['crb'], 'enable')).toBe('RUN dnf config-manager  --enable crb-ten || true');
  });

  it('on 2025.2 and 2026.1, joins the sections and writes the URLs of distro repos too', () => {
    const text = 'rpm:\n  r: { name: "r", distro: true, baseurl: "https://r/el" }\ndebian:\n  d: { url: "u", suite: "s", component: "c", gpg_key: "/abs.asc", distro: true }\n';
    expect(handleRepos(settings('union', { reposYaml: text }), repoContext('rocky'), ['r'], 'enable')).toBe(
      "RUN dnf config-manager --enable r || true && echo 'baseurl=https://r/el' >>/etc/yum.repos.d/r.repo",
    );
    expect(handleRepos(settings('union', { reposYaml: text }), repoContext('debian'), ['d'], 'enable')).toContain("echo 'Signed-By: /etc/kolla/apt-keys//abs.asc'");
  });
});

describe('build_date', () => {
  it.each([
    ['0', '19700101'],
    ['1741089600', '20250304'],
    ['1741132799', '20250304'],
    ['1741132800', '20250305'],
    ['x', undefined],
    ['-1', undefined],
  ])('SOURCE_DATE_EPOCH=%s gives %s (the UTC day, %%Y%%m%%d)', (epoch, day) => {
    expect(buildDateFromEpoch(epoch)).toBe(day);
  });

  const image = { name: 'base', rel: 'base', template: 'base/Dockerfile.j2', files: [] };
  const release = readKollaRelease({ workerPy: WORKER_2024_1 }).release;

  it('comes from SOURCE_DATE_EPOCH, else is 19700101 whatever the day; an invalid one is KG107', () => {
    const at = (env: Record<string, string>) => resolveConfig({ cli: { preset: 'kolla' }, env, kollaCheckout: { release } });
    expect(templateContext(at({ SOURCE_DATE_EPOCH: '1741089600' }).config!, image, { base: 'rocky', arch: 'amd64' }).build_date).toBe('20250304');
    expect(templateContext(at({}).config!, image, { base: 'rocky', arch: 'amd64' }).build_date).toBe('19700101');
    expect(at({ SOURCE_DATE_EPOCH: 'yesterday' }).diagnostics.map((d) => d.code)).toEqual(['KG107']);
  });

  it('is not passed by a release whose kolla-build passes none (master labels the build date at build time)', () => {
    const master = readKollaRelease({ workerPy: "    def create_dockerfiles(self):\n        values = {'base_distro': self.base}\n" }).release;
    const { config } = resolveConfig({ cli: { preset: 'kolla' }, env: { SOURCE_DATE_EPOCH: '0' }, kollaCheckout: { release: master } });
    expect(templateContext(config!, image, { base: 'rocky', arch: 'amd64' })).not.toHaveProperty('build_date');
  });
});

describe('unbuildable keys by base tag (2025.1)', () => {
  it('match the base tag of the variant only when the release matches them', () => {
    const table = { 'rocky+10': ['redis'], '9': ['old'], 'rocky+centos': ['never'] };
    expect(kollaUnbuildable(table)).toEqual([]);
    const rules = kollaUnbuildable(table, true);
    expect(rules.map((r) => [r.key, r.base, r.baseTag]).sort()).toEqual([
      ['9', undefined, '9'],
      ['rocky+10', 'rocky', '10'],
    ]);
    const { config } = resolveConfig({ cli: { preset: 'kolla' }, kollaCheckout: { configPy: CONFIG_PY_2025_1 } });
    if (!config) throw new Error('no config');
    config.unbuildable = rules;
    expect([...unbuildableFor(config, { base: 'rocky', arch: 'amd64' })]).toEqual(['old']);
    config.baseImages.rocky = { image: 'r', tag: '10' };
    expect([...unbuildableFor(config, { base: 'rocky', arch: 'amd64' })]).toEqual(['redis']);
  });
});
