// --preset kolla: the functions upstream templates call, the checkout's tables, and the context templates see.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/load/config/resolve.js';
import { templateContext } from '../src/render/context.js';
import {
  debianPackageInstall,
  defaultKollaSettings,
  handleRepos,
  kollaUnbuildable,
  parseKollaConfigPy,
  parseKollaUnbuildable,
  parseKollaUsers,
  rpmSetupLines,
  type KollaSettings,
  type RepoContext,
} from '../src/load/kolla/preset.js';

describe('debian_package_install', () => {
  it.each([
    [['curl', 'vim'], true, 'apt-get --error-on=any update && apt-get -y install --no-install-recommends curl vim && apt-get clean && rm -rf /var/lib/apt/lists/*'],
    [['curl'], false, 'apt-get --error-on=any update && apt-get -y install --no-install-recommends curl'],
    [['https://x.example.org/a/b_1.deb'], true, 'curl --location https://x.example.org/a/b_1.deb -o b_1.deb && dpkg -i b_1.deb && rm -rf b_1.deb'],
    [[], true, ''],
  ])('%j (clean %s)', (packages, clean, expected) => {
    expect(debianPackageInstall(packages, clean)).toBe(expected);
  });

  it('puts URL packages after the apt-get ones, whatever their order', () => {
    expect(debianPackageInstall(['http://x/p.deb', 'curl'], false)).toBe(
      'apt-get --error-on=any update && apt-get -y install --no-install-recommends curl && curl --location http://x/p.deb -o p.deb && dpkg -i p.deb && rm -rf p.deb',
    );
  });
});

const REPOS = `
deb:
  tools: { url: "https://t/apt", suite: "{openstack_release_codename}-updates", component: "main", gpg_key: "t.asc" }
ubuntu:
  ubuntu: { distro: True }
  db: { url: "https://db/ubuntu", suite: "noble", component: "main", gpg_key: "/keys/db.gpg" }
ubuntu-aarch64:
  db: { url: "https://db/ports", arch: "arm64", trusted: yes }
rpm:
  tools: { name: "tools", baseurl: "https://t/a\\nhttps://t/b\\n", gpgkey: "https://t/k", gpgcheck: 1 }
rocky:
  crb: { name: "crb", distro: True }
  db: { name: "db", mirrorlist: "https://db/list", gpgkey: "https://db/k1\\nhttps://db/k2" }
rocky-aarch64:
  crb: { name: "crb-arm", baseurl: "https://crb/arm", gpgkey: "https://crb/k" }
`;

function settings(extra: Partial<KollaSettings> = {}): KollaSettings {
  return { ...defaultKollaSettings(), reposYaml: REPOS, ...extra };
}
const ubuntu = (arch = 'x86_64'): RepoContext => ({ basePackageType: 'deb', baseDistro: 'ubuntu', baseArch: arch, openstackReleaseCodename: 'Gazpacho' });
const rocky = (arch = 'x86_64'): RepoContext => ({ basePackageType: 'rpm', baseDistro: 'rocky', baseArch: arch, openstackReleaseCodename: 'Gazpacho' });
const src = (repo: string) => `/etc/apt/sources.list.d/${repo}.sources`;

describe('handle_repos', () => {
  it('writes deb822 sources, the codename lower-cased, keys under /etc/kolla/apt-keys unless absolute', () => {
    expect(handleRepos(settings(), ubuntu(), ['tools', 'db'], 'enable')).toBe(
      `RUN echo 'Uris: https://t/apt' >${src('tools')} && echo 'Components: main' >>${src('tools')} && echo 'Types: deb' >>${src('tools')} && ` +
        `echo 'Suites: gazpacho-updates' >>${src('tools')} && echo 'Signed-By: /etc/kolla/apt-keys/t.asc' >>${src('tools')} && ` +
        `echo 'Uris: https://db/ubuntu' >${src('db')} && echo 'Components: main' >>${src('db')} && echo 'Types: deb' >>${src('db')} && ` +
        `echo 'Suites: noble' >>${src('db')} && echo 'Signed-By: /keys/db.gpg' >>${src('db')}`,
    );
  });

  it('merges the distro-arch section over the distro one (YAML 1.1: "yes" is true)', () => {
    expect(handleRepos(settings(), ubuntu('aarch64'), ['db'], 'enable')).toBe(
      `RUN echo 'Uris: https://db/ports' >${src('db')} && echo 'Components: main' >>${src('db')} && echo 'Types: deb' >>${src('db')} && ` +
        `echo 'Suites: noble' >>${src('db')} && echo 'Signed-By: /keys/db.gpg' >>${src('db')} && echo 'Trusted: yes' >>${src('db')} && ` +
        `echo 'Architectures: arm64' >>${src('db')}`,
    );
  });

  it('leaves distro repos alone on deb, and says nothing when disabling', () => {
    expect(handleRepos(settings(), ubuntu(), ['ubuntu'], 'enable')).toBe('');
    expect(handleRepos(settings(), ubuntu(), ['tools', 'db'], 'disable')).toBe('');
  });

  it('writes .repo files on rpm: every baseurl and gpgkey line, gpgcheck as Python prints it', () => {
    const f = '/etc/yum.repos.d/tools.repo';
    expect(handleRepos(settings(), rocky(), ['tools'], 'enable')).toBe(
      `RUN grep -rlF '[tools]' /etc/yum.repos.d/ 2>/dev/null | xargs -r rm -f && echo '[tools]' >${f} && echo 'name=tools' >>${f} && ` +
        `echo 'enabled=1' >>${f} && echo 'gpgcheck=1' >>${f} && echo 'gpgkey=https://t/k' >>${f} && ` +
        `echo 'baseurl=https://t/a' >>${f} && echo 'baseurl=https://t/b' >>${f}`,
    );
  });

  it('enables and disables distro repos with dnf config-manager; a repo given a URL per arch stops being a distro repo', () => {
    expect(handleRepos(settings(), rocky(), ['crb', 'db'], 'disable')).toBe('RUN dnf config-manager --disable crb || true');
    expect(handleRepos(settings(), rocky(), ['crb'], 'enable')).toBe('RUN dnf config-manager --enable crb || true');
    expect(handleRepos(settings(), rocky('aarch64'), ['crb'], 'disable')).toBe('');
    expect(handleRepos(settings(), rocky('aarch64'), ['crb'], 'enable')).toMatch(/^RUN grep -rlF '\[crb-arm\]'.* && echo 'baseurl=https:\/\/crb\/arm' >>\/etc\/yum.repos.d\/crb.repo$/);
  });

  it('fails on an unknown repo, a non-list, or a tree without repos.yaml', () => {
    expect(() => handleRepos(settings(), rocky(), ['nope'], 'enable')).toThrow(/nope/);
    expect(() => handleRepos(settings(), rocky(), 'crb', 'enable')).toThrow(/list of repositories/);
    expect(() => handleRepos(settings({ reposYaml: undefined }), rocky(), ['crb'], 'enable')).toThrow(/repos\.yaml/);
  });

  it('takes a repos_yaml override section by section', () => {
    const override = { path: 'my-repos.yaml', text: 'deb:\n  tools: { url: "https://mirror/apt", suite: "s", component: "c", gpg_key: "m.asc" }\n' };
    expect(handleRepos(settings({ reposOverride: override }), ubuntu(), ['tools'], 'enable')).toMatch(/^RUN echo 'Uris: https:\/\/mirror\/apt'/);
  });
});

describe("the checkout's tables", () => {
  it('reads users.py: group defaults to the name, comments are skipped', () => {
    const text = "USERS = {\n    'kolla-user': {'uid': 1, 'gid': 2},  # {not a user}\n    'db-user': {\n        'uid': 3,\n        'gid': 4,\n        'group': 'mysql',\n    },\n}\n";
    expect(parseKollaUsers(text)).toEqual({ kolla: { uid: 1, gid: 2, group: 'kolla' }, db: { uid: 3, gid: 4, group: 'mysql' } });
  });

  it('reads unbuildable.py and turns its keys into rules; empty sets and impossible keys drop out', () => {
    const table = parseKollaUnbuildable("UNBUILDABLE_IMAGES = {\n  'aarch64': {\"a\"},  # x\n  'rocky+aarch64': {'b', 'c'},\n  'debian': {\n  },\n  'rocky+centos': {'d'},\n}\n");
    expect(table).toEqual({ aarch64: ['a'], 'rocky+aarch64': ['b', 'c'], 'rocky+centos': ['d'] });
    expect(kollaUnbuildable(table ?? {})).toEqual([
      { key: 'aarch64', base: undefined, arch: 'arm64', images: ['a'] },
      { key: 'rocky+aarch64', base: 'rocky', arch: 'arm64', images: ['b', 'c'] },
    ]);
  });

  it('turns rpm_setup_config entries into RUN and COPY lines', () => {
    expect(rpmSetupLines(['https://x/y.repo', 'local.repo', 'https://x/p.rpm', 'bad.txt'])).toEqual({
      lines: ['RUN curl -L https://x/y.repo -o /etc/yum.repos.d/y.repo', 'COPY local.repo /etc/yum.repos.d/', 'RUN dnf -y install https://x/p.rpm'],
      bad: ['bad.txt'],
    });
  });
});

describe('the template context of --preset kolla', () => {
  const image = { name: 'keystone', rel: 'keystone', template: 'keystone/Dockerfile.j2', files: [] };

  it("has kolla-build's defaults: base images and tags, the tag format, the maintainer, release and branch", () => {
    const { config } = resolveConfig({ cli: { preset: 'kolla' }, kollaCheckout: { usersPy: "USERS = {'keystone-user': {'uid': 9, 'gid': 9}}", gitShortSha: 'abc1234' } });
    expect(config).toBeDefined();
    if (!config) return;
    const ctx = templateContext(config, image, { base: 'debian', arch: 'arm64' });
    expect(ctx).toMatchObject({
      base_image: 'debian',
      base_distro_tag: 'trixie',
      tag: 'master-debian-trixie',
      namespace: 'kolla',
      image_prefix: '',
      maintainer: 'Kolla Project (https://launchpad.net/kolla)',
      base_arch: 'aarch64',
      debian_arch: 'arm64',
      base_package_type: 'deb',
      distro_package_manager: 'apt',
      supported_distro_name: 'Debian GNU/Linux 13 (trixie)',
      openstack_release: 'master',
      openstack_release_codename: 'Gazpacho',
      openstack_branch: 'master',
      openstack_branch_slashed: 'master',
      kolla_version: 'abc1234',
      users: { keystone: { uid: 9, gid: 9, group: 'keystone' } },
      use_dumb_init: true,
      docker_healthchecks: true,
      clean_package_cache: true,
      rpm_setup: [],
      patches_path: null,
      repos_yaml: '',
    });
    expect(config.profiles.infra).toContain('mariadb');
    expect(config.unbuildable.map((r) => r.key)).toEqual(['aarch64', 'centos', 'rocky']);
  });

  it('uses the checkout unbuildable table in place of the built-in one', () => {
    const { config } = resolveConfig({ cli: { preset: 'kolla' }, kollaCheckout: { unbuildablePy: "UNBUILDABLE_IMAGES = {'debian': {'x'}}" } });
    expect(config?.unbuildable).toEqual([{ key: 'debian', base: 'debian', arch: undefined, images: ['x'] }]);
  });

  it("takes the release, codename, base images, distro names and profiles from the checkout's config.py", () => {
    const configPy = [
      "DEFAULT_BASE_TAGS = {",
      "    'centos': {'name': 'c', 'tag': '1'},",
      "    'debian': {'name': 'd', 'tag': '2'},  # a comment",
      "    'rocky': {'name': 'r', 'tag': '3'},",
      "    'ubuntu': {'name': 'u', 'tag': '4'},",
      "}",
      "DISTRO_PRETTY_NAME = {'centos': 'C', 'debian': 'D', 'rocky': 'R', 'ubuntu': 'U'}",
      "",
      "OPENSTACK_RELEASE = '2030.2'",
      'OPENSTACK_RELEASE_CODENAME = "Yak"',
      "_PROFILE_OPTS = [",
      "    cfg.ListOpt('infra', default=['a', 'b'], help='x'),",
      "    cfg.ListOpt('tiny',",
      "                default=[",
      "                    'c',",
      "                ]),",
      "]",
    ].join('\n');
    expect(parseKollaConfigPy(configPy)).toEqual({
      release: '2030.2',
      codename: 'Yak',
      baseImages: { centos: { image: 'c', tag: '1' }, debian: { image: 'd', tag: '2' }, rocky: { image: 'r', tag: '3' }, ubuntu: { image: 'u', tag: '4' } },
      distroPrettyNames: { centos: 'C', debian: 'D', rocky: 'R', ubuntu: 'U' },
      profiles: { infra: ['a', 'b'], tiny: ['c'] },
    });
    const { config } = resolveConfig({ cli: { preset: 'kolla' }, kollaCheckout: { configPy } });
    if (!config) throw new Error('no config');
    expect(templateContext(config, image, { base: 'rocky', arch: 'amd64' })).toMatchObject({
      tag: '2030.2-rocky-3',
      base_image: 'r',
      supported_distro_name: 'R',
      openstack_release: '2030.2',
      openstack_branch_slashed: 'stable/2030.2',
      openstack_release_codename: 'Yak',
    });
    expect(config.profiles).toEqual({ infra: ['a', 'b'], tiny: ['c'] });
  });

  it('adds nothing without the preset, and refuses an unknown one (KG110)', () => {
    const { config } = resolveConfig({ cli: {} });
    expect(config?.kolla).toBeUndefined();
    expect(config && templateContext(config, image, { base: 'rocky', arch: 'amd64' })).not.toHaveProperty('users');
    const bad = resolveConfig({ cli: { preset: 'helm' } });
    expect(bad.config).toBeUndefined();
    expect(bad.diagnostics.map((d) => d.code)).toEqual(['KG110']);
  });

  it('derives stable branches from the release', () => {
    expect(defaultKollaSettings('2025.2')).toMatchObject({ openstackBranch: 'stable-2025.2', openstackBranchSlashed: 'stable/2025.2' });
  });
});
