// An ops repo on a real engine (test/e2e/engine), laid out as operators keep upstream: the image tree is a separate
// git checkout beside the ops repo (../upstream/docker), with an in-tree link across image folders as upstream Kolla
// has, and the ops repo's own overlay on it (overlays/app). kolla-gen runs once, from a subdir with -c as a CI step
// may; the ops repo commits generated/. Then only plain `docker buildx bake -f generated/docker-bake.hcl --push`, run
// from the ops repo's root with no kolla-gen, builds and pushes every image for both arches: every context outside
// the repo gets a cwd:// dockerfile, the link reaches the build as the file it points to, the overlay's file and
// template and upstream's file reach app's (a merged context). `kolla-gen check` and `kolla-gen build` then agree that the committed generation is the one
// to bake.
import { appendFileSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type Engine } from './engine/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli.js');
const TREE = join(ROOT, 'test', 'e2e', 'fixtures', 'tree');
const IMAGES = ['app', 'archinfo', 'archtool', 'base', 'plugin', 'runtime', 'service', 'tools', 'worker'];
const PLATFORMS = ['linux/amd64', 'linux/arm64'];

interface Printed {
  target: Record<string, { context?: string; dockerfile?: string; tags?: string[] }>;
}

describe('an ops repo with the image tree outside it, built by plain bake on a real engine', () => {
  let engine: Engine | undefined;
  let top = '';
  let ops = '';
  let upstream = '';
  let registry = '';
  /** The plain bake command `kolla-gen generate` says, as arguments after `docker`. */
  let said: string[] = [];

  const git = (cwd: string, args: string[]) =>
    execa('git', ['-c', 'user.name=kolla-gen e2e', '-c', 'user.email=e2e@kolla-gen.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd });
  const kg = (cwd: string, args: string[]) =>
    execa(process.execPath, [CLI, ...args], { cwd, env: { ...engine!.env }, extendEnv: false, reject: false });
  const bake = (args: string[]) => engine!.docker(['buildx', 'bake', ...args], { cwd: ops, reject: false, all: true });
  const ref = (image: string) => `${registry}/e2e/${image}:1`;
  const platformsOf = async (reference: string): Promise<string[]> => {
    const raw = await engine!.skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reference}`]);
    const index = JSON.parse(String(raw.stdout)) as { manifests?: { platform?: { os: string; architecture: string } }[] };
    return (index.manifests ?? []).map((m) => `${m.platform?.os}/${m.platform?.architecture}`).filter((p) => p !== 'unknown/unknown').sort();
  };

  beforeAll(async () => {
    engine = await startEngine();
    registry = engine.registry;
    top = mkdtempSync(join(tmpdir(), 'kolla-gen-e2e-ops-'));
    // ../upstream: its own git checkout holding the image tree, with a link from tools/ to a file of base/
    upstream = join(top, 'upstream');
    cpSync(join(TREE, 'docker'), join(upstream, 'docker'), { recursive: true });
    copyFileSync(engine.rootfs.amd64, join(upstream, 'docker', 'base', 'rootfs-amd64.tar'));
    copyFileSync(engine.rootfs.arm64, join(upstream, 'docker', 'base', 'rootfs-arm64.tar'));
    writeFileSync(join(upstream, 'docker', 'base', 'shared-note.txt'), 'kept in base/, linked from tools/\n');
    symlinkSync('../base/shared-note.txt', join(upstream, 'docker', 'tools', 'shared-note.txt'));
    writeFileSync(join(upstream, 'docker', 'app', 'upstream-note.txt'), 'from upstream app/\n');
    appendFileSync(join(upstream, 'docker', 'tools', 'Dockerfile.j2'), 'COPY shared-note.txt {{ marker_dir }}/shared-note\n');
    await git(upstream, ['init', '-q']);
    await git(upstream, ['add', '-A']);
    await git(upstream, ['commit', '-q', '-m', 'upstream image tree']);
    // the ops repo: its config names the tree beside it; paths in it are relative to its folder
    ops = join(top, 'ops');
    mkdirSync(join(ops, 'ci'), { recursive: true });
    const config = readFileSync(join(TREE, 'kolla-gen.yaml'), 'utf8');
    // the ops repo's own overlay on upstream's tree: app's template replaced, with a file of the ops repo beside it
    mkdirSync(join(ops, 'overlays', 'app'), { recursive: true });
    const appTemplate = readFileSync(join(upstream, 'docker', 'app', 'Dockerfile.j2'), 'utf8');
    writeFileSync(join(ops, 'overlays', 'app', 'Dockerfile.j2'), `${appTemplate}COPY ops-note.txt upstream-note.txt {{ marker_dir }}/\n`);
    writeFileSync(join(ops, 'overlays', 'app', 'ops-note.txt'), 'from the ops repo overlay\n');
    writeFileSync(join(ops, 'kolla-gen.yaml'), `${config}docker_dirs: [../upstream/docker, overlays]\nregistry: ${registry}\n`);
    await git(ops, ['init', '-q']);
  });

  afterAll(async () => {
    try {
      await engine?.stop();
    } finally {
      if (top) rmSync(top, { recursive: true, force: true });
    }
  });

  it('generates from a subdir of the ops repo with -c, the same bytes as from its root, and the ops repo commits them', async () => {
    const fromSubdir = await kg(join(ops, 'ci'), ['generate', '-c', '../kolla-gen.yaml']);
    expect(fromSubdir.exitCode, fromSubdir.stderr).toBe(0);
    // paths kolla-gen says are relative to the repo root (the config's folder), wherever it runs
    expect(fromSubdir.stderr).toContain('kolla-gen: config kolla-gen.yaml');
    const hcl = readFileSync(join(ops, 'generated', 'docker-bake.hcl'), 'utf8');
    // every context is the tree beside the repo; the linked folder's is a merged context inside generated/
    expect(hcl).toContain('context     = "../upstream/docker/base"');
    expect(hcl).toMatch(/context\s+= "generated\/contexts\/tools/);
    expect(hcl).toMatch(/context\s+= "generated\/contexts\/app/);
    const fromRoot = await kg(ops, ['generate']);
    expect(fromRoot.exitCode, fromRoot.stderr).toBe(0);
    // the plain bake command, granting the read of the one docker dir outside the repo (the overlay is inside it)
    const line = fromRoot.stderr.split('\n').find((l) => l.startsWith('kolla-gen: bake it with: '));
    expect(line).toBe('kolla-gen: bake it with: docker buildx bake -f generated/docker-bake.hcl --allow fs.read=../upstream/docker');
    expect(fromSubdir.stderr).toContain(line);
    said = line!.slice('kolla-gen: bake it with: docker '.length).split(' ');
    expect(fromRoot.stdout).toMatch(/0 changed, 0 added, 0 removed|up to date/);
    expect(readFileSync(join(ops, 'generated', 'docker-bake.hcl'), 'utf8')).toBe(hcl);
    await git(ops, ['add', '-A']);
    await git(ops, ['commit', '-q', '-m', 'kolla-gen: generated/']);
  });

  it('resolves every context and dockerfile of the committed file as buildx reads it', async () => {
    const r = await bake(['-f', 'generated/docker-bake.hcl', '--print']);
    expect(r.exitCode, String(r.all)).toBe(0);
    const printed = JSON.parse(String(r.stdout)) as Printed;
    const targets = Object.entries(printed.target);
    expect(targets.length).toBeGreaterThanOrEqual(IMAGES.length);
    for (const [name, t] of targets) {
      // a context outside the repo cannot name the rendered Dockerfile by a path from itself: cwd:// does
      if (t.context?.startsWith('../')) expect(t.dockerfile, name).toMatch(/^cwd:\/\/generated\//);
    }
  });

  it('builds and pushes every image for both arches with plain docker buildx bake from the ops repo root', async () => {
    const knowsAllow = /^\s*--allow\b/m.test(String((await engine!.docker(['buildx', 'bake', '--help'])).stdout));
    expect(knowsAllow, `${engine!.name}'s buildx knows bake --allow`).toBe(engine!.name === 'today');
    const withoutAllow = said.filter((arg, i) => arg !== '--allow' && said[i - 1] !== '--allow');
    if (knowsAllow) {
      // buildx >= 0.20 refuses the read outside the repo without the grant generate says. One target, whose context is
      // upstream's: buildx 0.29 keeps the missing grants of whichever target it checks last (Go's map order), so a bake
      // of targets of which some read only inside the repo (the merged contexts of app and tools) is refused at random.
      const refused = await engine!.docker([...withoutAllow, 'debian-base'], { cwd: ops, reject: false, all: true });
      expect(refused.exitCode).not.toBe(0);
      expect(String(refused.all)).toContain('additional privileges requested');
    }
    const t0 = Date.now();
    // buildx 0.13 has no bake --allow (and reads anywhere): the command without its grants is what runs there
    const r = await engine!.docker([...(knowsAllow ? said : withoutAllow), '--push', '--provenance=false', '--progress', 'plain'], { cwd: ops, reject: false, all: true });
    console.info(`[e2e ops] plain bake --push, docker dir outside the repo: ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    expect(r.exitCode, String(r.all).slice(-4000)).toBe(0);
    for (const image of IMAGES) expect(await platformsOf(ref(image)), image).toEqual(PLATFORMS);
    // the arm64 tools image, under emulation: the linked file arrived as the file it points to
    await engine!.docker(['pull', '--quiet', '--platform', 'linux/arm64', ref('tools')]);
    const run = await engine!.docker(['run', '--rm', '--platform', 'linux/arm64', ref('tools'), 'sh', '-c', 'cat /etc/e2e/shared-note /etc/e2e/tools-note']);
    expect(String(run.stdout).trim()).toBe('kept in base/, linked from tools/\ntools on aarch64');
    // the overlaid app, on amd64: the ops repo's file and upstream's RUN, on the tools image it was built on
    await engine!.docker(['pull', '--quiet', '--platform', 'linux/amd64', ref('app')]);
    const app = await engine!.docker(['run', '--rm', '--platform', 'linux/amd64', ref('app'), 'sh', '-c', 'cat /etc/e2e/ops-note.txt /etc/e2e/upstream-note.txt /etc/e2e/app-saw']);
    expect(String(app.stdout).trim()).toBe('from the ops repo overlay\nfrom upstream app/\ntools on x86_64\nx86_64');
  });

  it('checks the committed generation up to date from anywhere, and build bakes it (no private generation)', async () => {
    for (const [cwd, args] of [
      [ops, ['check']],
      [join(ops, 'ci'), ['check', '-c', '../kolla-gen.yaml']],
    ] as const) {
      const r = await kg(cwd, [...args]);
      expect(r.exitCode, `${cwd}: ${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toContain('generated: up to date');
    }
    const built = await kg(ops, ['build', '^tools$', '--push', '--provenance=false']);
    expect(built.exitCode, built.stderr.slice(-3000)).toBe(0);
    expect(built.stderr).not.toContain('KG710');
    expect(built.stdout).toContain('generated: up to date');
    expect((await git(ops, ['status', '--porcelain'])).stdout).toBe('');
    expect((await git(upstream, ['status', '--porcelain'])).stdout).toBe('');
  });

  it('stops, leaving nothing running', async () => {
    const e = engine!;
    await e.stop();
    expect(e.leftovers()).toEqual([]);
  });
});
