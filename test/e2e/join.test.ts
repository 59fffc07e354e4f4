// Joins on a real engine (test/e2e/engine): a tree whose base renders differently per arch (multi-stage, with stage
// names per arch), with children that render the same or differently, generated once by kolla-gen; then only plain
// `docker buildx bake` on the committed file, as a CI job runs it, with no kolla-gen at build time:
// - `KG_ARCHES=arm64 docker buildx bake --push` builds and pushes only arm64 (the registry and buildx's log say so);
// - `docker buildx bake --push` pushes a manifest list of both arches under every plain ref, each arch's image from
//   its own rendering (the ENV in the registry's image config, the files seen running the arm64 image emulated).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedTree, startEngine, type Engine } from './engine/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli.js');
const TREE = join(ROOT, 'test', 'e2e', 'fixtures', 'join');
const IMAGES = ['base', 'leaf', 'svc', 'tool'];
const TARGETS = ['debian-base', 'debian-leaf', 'debian-svc', 'debian-tool'];

interface IndexManifest {
  mediaType?: string;
  manifests?: Array<{ digest: string; platform?: { os: string; architecture: string } }>;
}
interface Printed {
  group: Record<string, { targets: string[] }>;
  target: Record<string, { contexts?: Record<string, string>; platforms?: string[]; tags?: string[] }>;
}

describe('joins from plain docker buildx bake on a real engine', () => {
  let engine: Engine | undefined;
  let work = '';
  let registry = '';

  const ref = (image: string, tag = '1') => `${registry}/e2e/${image}:${tag}`;
  const bake = (args: string[], env: Record<string, string> = {}) =>
    engine!.docker(['buildx', 'bake', ...args], { cwd: work, env, reject: false, all: true });
  const index = async (reference: string): Promise<IndexManifest> => {
    const raw = await engine!.skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reference}`]);
    return JSON.parse(String(raw.stdout)) as IndexManifest;
  };
  const platformsOf = async (reference: string): Promise<string[]> => {
    const list = await index(reference);
    expect(list.mediaType, `${reference} is a manifest list`).toMatch(/manifest\.list|image\.index/);
    return (list.manifests ?? []).map((m) => `${m.platform?.os}/${m.platform?.architecture}`).filter((p) => p !== 'unknown/unknown').sort();
  };
  /** The platforms a ref holds: a manifest list's, or a single image's (a one-platform bake pushes no list). */
  const pushedPlatforms = async (reference: string): Promise<string[]> => {
    const pushed = await index(reference);
    if (pushed.manifests !== undefined) return platformsOf(reference);
    const r = await engine!.skopeo(['inspect', '--config', '--tls-verify=false', `docker://${reference}`]);
    const config = JSON.parse(String(r.stdout)) as { os: string; architecture: string };
    return [`${config.os}/${config.architecture}`];
  };
  /** The image config of one arch of a manifest list, as the registry holds it. */
  const envOf = async (reference: string, arch: string): Promise<string[]> => {
    const r = await engine!.skopeo(['inspect', '--config', '--tls-verify=false', '--override-os', 'linux', '--override-arch', arch, `docker://${reference}`]);
    return ((JSON.parse(String(r.stdout)) as { config?: { Env?: string[] } }).config?.Env ?? []).filter((e) => e.startsWith('KG_'));
  };
  const exists = async (reference: string) =>
    (await engine!.skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reference}`], { reject: false })).exitCode === 0;
  const runIn = async (reference: string, platform: string, script: string): Promise<string> => {
    await engine!.docker(['pull', '--quiet', '--platform', platform, reference]);
    const r = await engine!.docker(['run', '--rm', '--platform', platform, reference, 'sh', '-c', script]);
    return String(r.stdout).trim();
  };
  const print = async (file: string, env: Record<string, string> = {}): Promise<Printed> => {
    const r = await bake(['-f', file, '--print'], env);
    expect(r.exitCode, String(r.all)).toBe(0);
    return JSON.parse(String(r.stdout)) as Printed;
  };

  beforeAll(async () => {
    engine = await startEngine();
    registry = engine.registry;
    work = mkdtempSync(join(tmpdir(), 'kolla-gen-e2e-join-'));
    seedTree(engine, TREE, work);
    // kolla-gen runs once, here, as a repo commits its output; every build below is plain bake
    const gen = await execa(process.execPath, [CLI, 'generate', '--registry', registry], { cwd: work, reject: false });
    expect(gen.exitCode, gen.stderr).toBe(0);
    expect(gen.stdout).toMatch(/4 image targets \(2 of them joins of 4 per-arch targets\)/);
  });

  afterAll(async () => {
    try {
      await engine?.stop();
    } finally {
      if (work) rmSync(work, { recursive: true, force: true });
    }
  });

  it('writes HCL and JSON that buildx reads identically, with every arch or only the ones KG_ARCHES names', async () => {
    const hcl = await print('generated/docker-bake.hcl');
    expect(await print('generated/docker-bake.json')).toEqual(hcl);
    expect(hcl.group.default?.targets).toEqual(TARGETS);
    expect(hcl.target['debian-base']?.contexts).toEqual({ 'kg-amd64': 'target:debian-base-amd64', 'kg-arm64': 'target:debian-base-arm64' });
    expect(hcl.target['debian-tool-arm64']?.contexts).toEqual({ [ref('base')]: 'target:debian-base' });
    for (const name of TARGETS) expect(hcl.target[name]?.platforms, name).toEqual(['linux/amd64', 'linux/arm64']);
    expect(hcl.target['debian-base-amd64']?.tags ?? []).toEqual([]);

    const arm = await print('generated/docker-bake.hcl', { KG_ARCHES: 'arm64' });
    expect(await print('generated/docker-bake.json', { KG_ARCHES: 'arm64' })).toEqual(arm);
    expect(arm.target['debian-base']?.contexts).toEqual({ 'kg-arm64': 'target:debian-base-arm64' });
    for (const name of TARGETS) expect(arm.target[name]?.platforms, name).toEqual(['linux/arm64']);
    // what bake resolves from the default group: nothing of amd64
    expect(Object.keys(arm.target).sort()).toEqual([...TARGETS, 'debian-base-arm64', 'debian-tool-arm64'].sort());
  });

  it('KG_ARCHES=arm64 docker buildx bake --push builds and pushes only arm64', async () => {
    const r = await bake(['-f', 'generated/docker-bake.hcl', '--push', '--provenance=false', '--progress', 'plain', '--metadata-file', 'arm64.json'], { KG_ARCHES: 'arm64' });
    expect(r.exitCode, String(r.all).slice(-4000)).toBe(0);
    for (const image of IMAGES) expect(await pushedPlatforms(ref(image)), image).toEqual(['linux/arm64']);
    // buildx's log: no step of an amd64 rendering, no step on linux/amd64
    const log = String(r.all);
    expect(log).toMatch(/\[debian-base-arm64 /);
    expect(log).not.toMatch(/debian-(base|tool)-amd64|linux\/amd64/);
    // buildx's metadata: each image's target pushed a digest (what a CI merge job joins) holding arm64 only
    const meta = JSON.parse(readFileSync(join(work, 'arm64.json'), 'utf8')) as Record<string, { 'image.name'?: string; 'containerimage.digest'?: string }>;
    for (const [i, name] of TARGETS.entries()) {
      expect(meta[name]?.['image.name'], name).toBe(ref(IMAGES[i] as string));
      expect(await pushedPlatforms(`${registry}/e2e/${IMAGES[i]}@${meta[name]?.['containerimage.digest']}`), name).toEqual(['linux/arm64']);
    }
    expect(Object.keys(meta).some((k) => k.endsWith('-amd64'))).toBe(false);
  });

  it('docker buildx bake --push pushes a manifest list of both arches under every plain ref, and no per-arch tag', async () => {
    const r = await bake(['-f', 'generated/docker-bake.json', '--push', '--provenance=false', '--progress', 'plain']);
    expect(r.exitCode, String(r.all).slice(-4000)).toBe(0);
    for (const image of IMAGES) expect(await platformsOf(ref(image)), image).toEqual(['linux/amd64', 'linux/arm64']);
    for (const image of ['base', 'tool']) {
      for (const arch of ['amd64', 'arm64']) expect(await exists(ref(image, `1-${arch}`)), `${image} ${arch}`).toBe(false);
    }
  });

  it("gives each arch its own rendering's image, and each child the parent of its arch", async () => {
    for (const arch of ['amd64', 'arm64']) {
      // ENV in the image config of that arch, as the registry holds it: base's rendering, then tool's on top
      expect(await envOf(ref('base'), arch)).toEqual([`KG_RENDERED=${arch}`]);
      expect(await envOf(ref('svc'), arch)).toEqual([`KG_RENDERED=${arch}`]);
      expect(await envOf(ref('tool'), arch)).toEqual([`KG_RENDERED=${arch}`, `KG_TOOL=${arch}`]);
      expect(await envOf(ref('leaf'), arch)).toEqual([`KG_RENDERED=${arch}`, `KG_TOOL=${arch}`]);
    }
    for (const [platform, arch, machine] of [['linux/arm64', 'arm64', 'aarch64'], ['linux/amd64', 'amd64', 'x86_64']] as const) {
      // files written by RUN steps of each arch's rendering, the arm64 ones under emulation
      expect(await runIn(ref('svc'), platform, 'cat /etc/e2e/svc-saw'), platform).toBe(`${arch} ${machine}\n${machine}`);
      expect(await runIn(ref('leaf'), platform, 'cat /etc/e2e/leaf-saw /etc/e2e/base-machine'), platform).toBe(`tool ${arch} on ${arch} ${machine}\n${machine}`);
    }
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
