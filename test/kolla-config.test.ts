// --kolla-config: kolla-build.conf (INI) to kolla-gen settings, with every ignored key said.
import { describe, expect, it } from 'vitest';
import { resolveConfig, type CliOptions } from '../src/load/config/resolve.js';
import { formatDiagnostic } from '../src/core/diagnostics.js';
import { parseKollaConfig, withKollaConfig } from '../src/load/kolla/config.js';

const parse = (text: string) => parseKollaConfig({ path: 'kolla-build.conf', text });

describe('parseKollaConfig', () => {
  it('reads [DEFAULT], repeated keys, [profiles] and user sections', () => {
    const { values, diagnostics } = parse(`# my build
[DEFAULT]
base = rocky
base-arch = aarch64
namespace: acme
registry = registry.example.org:5000
tag = 2026.1
profile = infra
regex = ^nova-
regex = keystone
template_override = over1.j2
template_override = over2.j2
skip_parents = True
openstack_release = 2026.1
build_args = PIP_INDEX:https://pypi.example.org,X:1
rpm_setup_config = a.repo,
  https://x/b.rpm

[profiles]
mine = nova-api, keystone

; a user with a new uid
[keystone-user]
uid = 60000
group = ks
`);
    expect(diagnostics).toEqual([]);
    expect(values).toMatchObject({
      base: 'rocky',
      baseArch: 'aarch64',
      namespace: 'acme',
      registry: 'registry.example.org:5000',
      tag: '2026.1',
      profile: ['infra'],
      regex: ['^nova-', 'keystone'],
      templateOverride: ['over1.j2', 'over2.j2'],
      skipParents: true,
      openstackRelease: '2026.1',
      buildArgs: { PIP_INDEX: 'https://pypi.example.org', X: '1' },
      rpmSetupConfig: ['a.repo', 'https://x/b.rpm'],
      profiles: { mine: ['nova-api', 'keystone'] },
      users: { keystone: { uid: 60000, group: 'ks' } },
    });
  });

  it('warns (KG113) on unknown keys, builder-only keys and source sections, at their line', () => {
    const { values, diagnostics } = parse('[DEFAULT]\nthreads = 4\nbsae = ubuntu\n\n[nova-base]\ntype = git\n');
    expect(values).toBeDefined();
    expect(diagnostics.map((d) => [d.code, d.severity, d.location?.line])).toEqual([
      ['KG113', 'warning', 2],
      ['KG113', 'warning', 3],
      ['KG113', 'warning', 6],
    ]);
    expect(formatDiagnostic(diagnostics[1]!)).toContain('[DEFAULT] bsae: unknown key');
  });

  it('refuses text that is no INI (KG111) and values of the wrong kind (KG112)', () => {
    expect(parse('base = ubuntu\n').diagnostics.map((d) => [d.code, d.location?.line])).toEqual([['KG111', 1]]);
    expect(parse('[DEFAULT]\njust words\n').diagnostics.map((d) => [d.code, d.location?.line])).toEqual([['KG111', 2]]);
    const bad = parse('[DEFAULT]\nskip_parents = maybe\n[x-user]\nuid = many\n');
    expect(bad.values).toBeUndefined();
    expect(bad.diagnostics.map((d) => [d.code, d.location?.line])).toEqual([
      ['KG112', 2],
      ['KG112', 4],
    ]);
  });
});

describe('withKollaConfig', () => {
  const { values } = parse('[DEFAULT]\nbase = rocky\nbase_arch = x86_64\nprofile = infra,main\nregex = nova\ntag = t1\ndocker_dir = extra\n');

  it('fills what the command line left out, and implies --preset kolla', () => {
    expect(withKollaConfig({ dockerDirs: ['kolla/docker'] }, values!)).toMatchObject({
      preset: 'kolla',
      bases: ['rocky'],
      arches: ['x86_64'],
      profiles: ['infra', 'main'],
      regexes: ['nova'],
      tag: 't1',
    });
  });

  it("overlays the file's docker_dir on the tree's dirs, whichever gave them", () => {
    const cases: [CliOptions, string | undefined, string[]][] = [
      [{ dockerDirs: ['kolla/docker'] }, undefined, ['kolla/docker', 'extra']],
      [{}, 'docker_dirs: [upstream]\n', ['upstream', 'extra']],
      [{}, undefined, ['docker', 'extra']],
    ];
    for (const [cli, written, expected] of cases) {
      const { config } = resolveConfig({
        cli: withKollaConfig(cli, values!),
        config: written ? { path: 'kolla-gen.yaml', text: written } : undefined,
        kollaConfig: values,
      });
      expect(config?.dockerDirs).toEqual(expected);
    }
  });

  it('lets flags win', () => {
    expect(withKollaConfig({ bases: ['ubuntu'], regexes: ['keystone'], tag: 'mine' }, values!)).toMatchObject({
      bases: ['ubuntu'],
      regexes: ['keystone'],
      tag: 'mine',
    });
  });

  it("appends the flags of a multi-valued option to the file's, as oslo.config does for kolla-build", () => {
    const { values: overrides } = parse('[DEFAULT]\ntemplate_override = ops.j2\nprofile = infra\n');
    expect(withKollaConfig({ templateOverrides: ['extra.j2'], profiles: ['main'] }, overrides!)).toMatchObject({
      templateOverrides: ['ops.j2', 'extra.j2'],
      profiles: ['infra', 'main'],
    });
  });
});
