// kolla-gen build on a real engine (test/e2e/engine): the fixture tree of test/e2e/fixtures/tree (9 images on 4
// levels, one of them rendered differently per arch, hence joined) generated, built for linux/amd64 and linux/arm64 and pushed to
// the engine's registry; then what the registry holds, what the images hold, the bake files as buildx reads them,
// the cache, a failing image, setups that cannot work, and a teardown that leaves nothing behind.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort } from '../support/net.js';
import { seedTree, startEngine, type Engine } from './engine/index.js';
import { stepsRunAgain } from './build-output.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli.js');
const TREE = join(ROOT, 'test', 'e2e', 'fixtures', 'tree');
const PLATFORMS = ['linux/amd64', 'linux/arm64'];
const IMAGES = ['app', 'archinfo', 'archtool', 'base', 'plugin', 'runtime', 'service', 'tools', 'worker'];

interface Entry {
  image: string;
  target: string;
  tags: string[];
  failedParent?: string;
  reason?: string;
}
interface Summary {
  pushed: boolean;
  built: Entry[];
  failed: Entry[];
  skipped: Entry[];
  unbuildable: Entry[];
}
interface JsonOut {
  ok: boolean;
  diagnostics: { code: string; severity: string; message: string; hint: string }[];
  result: Summary;
}
interface IndexManifest {
  mediaType?: string;
  manifests?: Array<{ platform?: { os: string; architecture: string } }>;
}

describe('kolla-gen build on a real engine', () => {
  let engine: Engine | undefined;
  let work = '';
  let registry = '';

  const kg = (args: string[], env: Record<string, string> = {}) =>
    execa(process.execPath, [CLI, ...args], { cwd: work, env: { ...engine!.env, ...env }, extendEnv: false, reject: false });
  const ref = (image: string, tag = '1') => `${registry}/e2e/${image}:${tag}`;
  const platformsOf = async (reference: string): Promise<string[]> => {
    const raw = await engine!.skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reference}`]);
    const index = JSON.parse(String(raw.stdout)) as IndexManifest;
    expect(index.mediaType, `${reference} is a manifest list`).toMatch(/manifest\.list|image\.index/);
    // buildx adds provenance attestations as unknown/unknown entries
    return (index.manifests ?? [])
      .map((m) => `${m.platform?.os}/${m.platform?.architecture}`)
      .filter((p) => p !== 'unknown/unknown')
      .sort();
  };
  const exists = async (reference: string) =>
    (await engine!.skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reference}`], { reject: false })).exitCode === 0;
  const runIn = async (reference: string, platform: string, script: string): Promise<string> => {
    await engine!.docker(['pull', '--quiet', '--platform', platform, reference]);
    const r = await engine!.docker(['run', '--rm', '--platform', platform, reference, 'sh', '-c', script]);
    return String(r.stdout).trim();
  };

  beforeAll(async () => {
    engine = await startEngine();
    registry = engine.registry;
    work = mkdtempSync(join(tmpdir(), 'kolla-gen-e2e-build-'));
    // the offline bases: busybox rootfs tars, into the base image's build context
    seedTree(engine, TREE, work);
  });

  afterAll(async () => {
    try {
      await engine?.stop();
    } finally {
      if (work) rmSync(work, { recursive: true, force: true });
    }
  });

  it('generates, then builds and pushes every image for linux/amd64 and linux/arm64', async () => {
    const gen = await kg(['generate', '--registry', registry]);
    expect(gen.exitCode, gen.stderr).toBe(0);
    expect(gen.stdout).toMatch(/9 image targets \(1 of them joins of 2 per-arch targets\) from 9 images/);

    const t0 = Date.now();
    const build = await kg(['build', '--registry', registry, '--push', '--summary-json-file', 'summary.json']);
    console.info(`[e2e build] first build --push: ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    expect(build.exitCode, `${build.stdout}\n${build.stderr.slice(-3000)}`).toBe(0);
    // buildx's own progress, shown as it ran
    expect(build.stderr).toContain('[internal] load local bake definitions');
    expect(build.stdout).toContain('generated: up to date');
    expect(build.stdout.split('\n').pop()).toBe('9 built, 0 failed, 0 skipped, 0 unbuildable');
    const summary = JSON.parse(readFileSync(join(work, 'summary.json'), 'utf8')) as Summary;
    expect(summary.built.map((e) => e.target).sort()).toEqual([
      'debian-app', 'debian-archinfo', 'debian-archtool',
      'debian-base', 'debian-plugin', 'debian-runtime', 'debian-service', 'debian-tools', 'debian-worker',
    ]);
    // bake made every manifest list, archinfo's join included: no imagetools call after it
    expect(build.stderr).not.toContain('imagetools');
  });

  it('leaves a manifest list with both platforms under every image\'s tag in the registry', async () => {
    for (const image of IMAGES) expect(await platformsOf(ref(image)), image).toEqual(PLATFORMS);
    // archinfo's per-arch targets push nothing of their own: its join's list is the only ref
    expect(await exists(ref('archinfo', '1-arm64'))).toBe(false);
    expect(await exists(ref('archinfo', '1-amd64'))).toBe(false);
  });

  it('builds each child on its parent, the arm64 image under emulation', async () => {
    for (const [platform, machine, arch] of [['linux/arm64', 'aarch64', 'arm64'], ['linux/amd64', 'x86_64', 'amd64']] as const) {
      // app's RUN read the file tools' RUN wrote, which read the file base's RUN wrote: three levels, one machine
      expect(await runIn(ref('plugin'), platform, 'cat /etc/e2e/app-saw; ls /etc/e2e'), platform).toBe(
        [`tools on ${machine}`, machine, 'app', 'app-saw', 'base', 'base-machine', 'plugin', 'tools', 'tools-note'].join('\n'),
      );
      // archinfo was rendered once per arch and joined; archtool, one target on archinfo's join, saw its own arch's rendering
      const extra = arch === 'arm64' ? 'only in the arm64 rendering' : 'none';
      expect(
        await runIn(ref('archtool'), platform, 'cat /etc/e2e/archtool-saw /etc/e2e/archinfo-machine; cat /etc/e2e/arm64-extra 2>/dev/null || echo none'),
      ).toBe([`${arch} ${machine}`, machine, extra].join('\n'));
    }
  });

  it('writes HCL and JSON bake files that buildx reads identically', async () => {
    const print = async (file: string) => {
      const r = await engine!.docker(['buildx', 'bake', '-f', file, '--print'], { cwd: work });
      return JSON.parse(String(r.stdout)) as { group: Record<string, unknown>; target: Record<string, { contexts?: Record<string, string> }> };
    };
    const hcl = await print('generated/docker-bake.hcl');
    const json = await print('generated/docker-bake.json');
    expect(hcl).toEqual(json);
    expect(Object.keys(hcl.target)).toHaveLength(11);
    expect(hcl.target['debian-archtool']?.contexts).toEqual({ [ref('archinfo')]: 'target:debian-archinfo' });
    expect(hcl.target['debian-archinfo']?.contexts).toEqual({ 'kg-amd64': 'target:debian-archinfo-amd64', 'kg-arm64': 'target:debian-archinfo-arm64' });
    // kolla-gen build --print is bake's own --print of the same targets
    const viaKg = await kg(['build', '--registry', registry, '--print']);
    expect(viaKg.exitCode, viaKg.stderr).toBe(0);
    expect((JSON.parse(viaKg.stdout) as typeof hcl).target).toEqual(json.target);
  });

  it('serves a second build from the cache', async () => {
    const t0 = Date.now();
    const again = await kg(['build', '--registry', registry, '--push', '--progress', 'plain']);
    console.info(`[e2e build] second build --push: ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    expect(again.exitCode, again.stderr.slice(-3000)).toBe(0);
    const { steps, ran, lines } = stepsRunAgain(again.stderr);
    expect(steps).toBeGreaterThan(10);
    expect(ran, lines).toEqual([]);
  });

  it('names a failed image and the images below it, and still builds and pushes the independent ones', async () => {
    const t0 = Date.now();
    const r = await kg(['build', '--registry', registry, '--tag', 'fail', '--push', '--set', 'debian-service.args.KG_E2E_FAIL=1', '--json']);
    console.info(`[e2e build] failing build with isolation: ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    expect(r.exitCode, r.stderr.slice(-3000)).toBe(1);
    const out = JSON.parse(r.stdout) as JsonOut;
    expect(out.ok).toBe(false);
    expect(out.result.failed.map((e) => e.target), JSON.stringify(out.result.failed, null, 2) + r.stderr.slice(-4000)).toEqual(['debian-service']);
    expect(out.result.failed[0]?.reason).toMatch(/exit code: 3/);
    expect(out.result.skipped.map((e) => [e.target, e.failedParent])).toEqual([['debian-worker', 'debian-service']]);
    expect(out.result.built).toHaveLength(7);
    // --tag fail is not what generated/ was made with: build bakes a private generation and says so (KG710)
    expect(out.diagnostics.map((d) => d.code)).toEqual(['KG710', 'KG804']);
    expect(out.diagnostics[0]?.message).toMatch(/building from a private generation/);
    expect(out.diagnostics[1]?.message).toMatch(/^debian-service \(service\) failed to build/);
    // the failing RUN's own output, in buildx's log
    expect(r.stderr).toContain('service: failing on purpose');

    for (const image of ['base', 'runtime', 'tools', 'app', 'plugin', 'archinfo', 'archtool']) {
      expect(await platformsOf(ref(image, 'fail')), image).toEqual(PLATFORMS);
    }
    expect(await exists(ref('service', 'fail'))).toBe(false);
    expect(await exists(ref('worker', 'fail'))).toBe(false);
  });

  it('says what is wrong with a setup that cannot build, without a stack trace', async () => {
    const noBuildx = await kg(['build', '--registry', registry, '--json'], { DOCKER_CONFIG: join(work, 'empty-docker-config') });
    expect(noBuildx.exitCode).toBe(1);
    const nb = JSON.parse(noBuildx.stdout) as JsonOut;
    expect(nb.diagnostics.map((d) => d.code)).toEqual(['KG801']);
    expect(nb.diagnostics[0]?.hint).toMatch(/cli-plugins\/docker-buildx/);

    const noDocker = await kg(['build', '--registry', registry, '--json'], { PATH: join(work, 'no-bin') });
    expect(noDocker.exitCode).toBe(1);
    expect((JSON.parse(noDocker.stdout) as JsonOut).diagnostics.map((d) => d.code)).toEqual(['KG800']);

    const port = await closedPort();
    const refused = await kg(['build', '--registry', `127.0.0.1:${port}`, '-o', 'generated-refused', '--push', '--json', '^runtime$']);
    expect(refused.exitCode).toBe(1);
    const rf = JSON.parse(refused.stdout) as JsonOut;
    // another registry and output dir than generated/ was made with: a private generation (KG710), then the refusal
    expect(rf.diagnostics.map((d) => d.code)).toEqual(['KG710', 'KG803']);
    expect(rf.diagnostics[1]?.message).toContain(`127.0.0.1:${port}/e2e/`);
    expect(existsSync(join(work, 'generated-refused')), 'build never writes an output dir').toBe(false);
    for (const run of [noBuildx, noDocker, refused]) expect(run.stderr).not.toMatch(/internal error|\n\s+at /);
  });

  it('stops, leaving nothing running or changed', async () => {
    const e = engine!;
    await e.stop();
    expect(e.leftovers()).toEqual([]);
    const check = await execa('bash', [fileURLToPath(new URL('./engine/teardown-check.sh', import.meta.url)), e.cacheDir, e.tmpDir, e.bridge, e.binfmtEntry], { reject: false, all: true });
    expect(check.exitCode, String(check.all)).toBe(0);
    expect(existsSync(e.tmpDir)).toBe(false);
  });
});
