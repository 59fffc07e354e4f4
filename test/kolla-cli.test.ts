// --preset kolla and --kolla-config through the built CLI, on a copy of the hand-written kolla-like fixture.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const temps: string[] = [];

afterAll(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
});

function checkout(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-kolla-'));
  temps.push(dir);
  fs.cpSync(path.join(ROOT, 'test', 'fixtures', 'kolla-mini', 'kolla'), path.join(dir, 'kolla'), { recursive: true });
  return dir;
}

const run = (cwd: string, args: string[]) => execa('node', [CLI, ...args], { cwd, reject: false, env: { PATH: process.env.PATH ?? '' }, extendEnv: false });
const read = (dir: string, rel: string) => fs.readFileSync(path.join(dir, rel), 'utf8');

describe('--kolla-config', () => {
  it("takes base, arch, namespace, release, profiles, users and a repos.yaml override from a kolla-build.conf", async () => {
    const dir = checkout();
    fs.writeFileSync(
      path.join(dir, 'kolla-build.conf'),
      [
        '[DEFAULT]',
        'base = rocky',
        'base_arch = aarch64',
        'namespace = acme',
        'openstack_release = 2025.2',
        'profile = db',
        'repos_yaml = my-repos.yaml',
        'threads = 8',
        '',
        '[profiles]',
        'db = ^mariadb',
        '',
        '[mariadb-user]',
        'uid = 61000',
        '',
      ].join('\n'),
    );
    fs.writeFileSync(path.join(dir, 'my-repos.yaml'), 'rocky:\n  dbrepo:\n    name: "db"\n    baseurl: "https://db.internal.invalid/el"\n    gpgkey: "https://db.internal.invalid/k"\n');
    const result = await run(dir, ['generate', '-D', 'kolla/docker', '--kolla-config', 'kolla-build.conf']);
    expect(result.exitCode, result.stderr).toBe(0);
    // The builder-only key is said, not dropped silently.
    expect(result.stderr).toContain('warning[KG113]: kolla-build.conf:8:1: [DEFAULT] threads');
    const manifest = JSON.parse(read(dir, 'generated/manifest.json')) as { images: { image: string; status: string; base: string; arch: string; tags?: string[] }[] };
    const selected = manifest.images.filter((row) => row.status === 'selected');
    expect(selected.map((row) => `${row.image} ${row.base} ${row.arch}`).sort()).toEqual(['base rocky arm64', 'mariadb-server rocky arm64']);
    expect(selected.find((row) => row.image === 'mariadb-server')?.tags).toEqual(['acme/mariadb-server:2025.2-rocky-10']);
    const base = read(dir, 'generated/rocky/base/Dockerfile');
    expect(base).toContain('# release 2025.2 (Zebra), branch stable-2025.2 stable/2025.2');
    expect(base).toContain('--uid 61000 --gid 50002 mariadb');
    // The override's baseurl, and the distro-arch section of the checkout's repos.yaml still merged over it.
    expect(base).toContain("echo 'baseurl=https://db.internal.invalid/el' >>/etc/yum.repos.d/dbrepo.repo");
    expect(base).not.toContain('metalink');
    expect(read(dir, 'generated/rocky/mariadb-server/Dockerfile')).toContain('FROM acme/base:2025.2-rocky-10');
  });

  it('lets the command line win over the file', async () => {
    const dir = checkout();
    fs.writeFileSync(path.join(dir, 'kolla-build.conf'), '[DEFAULT]\nbase = rocky\nregex = tgtd\n');
    const result = await run(dir, ['list', '--json', '-D', 'kolla/docker', '--kolla-config', 'kolla-build.conf', '-b', 'ubuntu', '-a', 'amd64', 'keystone$']);
    expect(result.exitCode, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout) as { result: { variants: { base: string; images: string[] }[] } };
    expect(out.result.variants.map((v) => [v.base, v.images])).toEqual([['ubuntu', ['base', 'openstack-base', 'keystone-base', 'keystone']]]);
  });
});

describe('--preset kolla on a git checkout', () => {
  it("labels the base image with the checkout's short sha, as kolla-build's kolla_version", async () => {
    const dir = checkout();
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'commit.gpgsign=false', ...args], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    git('init', '-q');
    git('add', '.');
    git('commit', '-q', '-m', 'fixture');
    const sha = git('log', '-n1', '--pretty=format:%h').trim();
    const result = await run(dir, ['generate', '--preset', 'kolla', '-D', 'kolla/docker', '-b', 'ubuntu', '-a', 'amd64', '^base$']);
    expect(result.exitCode, result.stderr).toBe(0);
    // One line saying what the preset assumed, the bake command (its tree is inside), and nothing else.
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^kolla-gen: kolla preset: release \S+ \(from kolla\/common\/config\.py\); base images ubuntu /),
      'kolla-gen: bake it with: docker buildx bake -f generated/docker-bake.hcl',
    ]);
    expect(read(dir, 'generated/ubuntu/base/Dockerfile')).toContain(`LABEL kolla_version="${sha}"`);
  });
});

describe('what --preset kolla assumed', () => {
  it('is one stderr line of generate (none of the other commands, none with -q), and a "kolla" object with --json', async () => {
    const dir = checkout();
    const args = ['--preset', 'kolla', '-D', 'kolla/docker', '-b', 'rocky', '-a', 'amd64'];
    const plain = await run(dir, ['generate', ...args]);
    expect(plain.exitCode, plain.stderr).toBe(0);
    expect(plain.stderr).toMatch(/^kolla-gen: kolla preset: release .*; base images rocky \S+; tag \S+; handle_repos merge$/m);
    for (const command of ['check', 'list']) expect((await run(dir, [command, ...args])).stderr, command).not.toContain('kolla preset');
    const quiet = await run(dir, ['generate', ...args, '-q']);
    expect(quiet.stderr).not.toContain('kolla preset');
    const json = await run(dir, ['list', ...args, '--json']);
    const out = JSON.parse(json.stdout) as { kolla: Record<string, unknown> };
    expect(out.kolla).toMatchObject({ releaseFrom: 'kolla/common/config.py', handleRepos: 'merge', baseImages: { rocky: expect.any(String) } });
  });
});
