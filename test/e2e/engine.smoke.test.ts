// The e2e engine itself, proven end to end: a two-level, two-platform bake with a `target:` context, pushed
// to the engine's registry, the arm64 image run under emulation, then a teardown that leaves nothing behind.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, startEngine, type Engine } from './engine/index.js';

const PLATFORMS = ['linux/amd64', 'linux/arm64'];

interface IndexManifest {
  mediaType?: string;
  manifests?: Array<{ platform?: { os: string; architecture: string; variant?: string } }>;
}

describe('e2e engine', () => {
  let engine: Engine | undefined;
  let work = '';
  let baseRef = '';
  let childRef = '';

  beforeAll(async () => {
    engine = await startEngine();
    work = mkdtempSync(join(tmpdir(), 'kolla-gen-e2e-smoke-'));
    baseRef = `${engine.registry}/e2e/base:1`;
    childRef = `${engine.registry}/e2e/child:1`;

    mkdirSync(join(work, 'base'));
    mkdirSync(join(work, 'child'));
    copyFileSync(engine.rootfs.amd64, join(work, 'base/rootfs-amd64.tar'));
    copyFileSync(engine.rootfs.arm64, join(work, 'base/rootfs-arm64.tar'));
    writeFileSync(
      join(work, 'base/Dockerfile'),
      [
        'FROM scratch AS base-amd64',
        'ADD rootfs-amd64.tar /',
        'FROM scratch AS base-arm64',
        'ADD rootfs-arm64.tar /',
        'FROM base-${TARGETARCH}',
        'RUN uname -m > /base-arch',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(work, 'child/Dockerfile'),
      [`FROM ${baseRef}`, 'RUN cat /base-arch > /child-saw && uname -m >> /child-saw', ''].join('\n'),
    );
    const platforms = JSON.stringify(PLATFORMS);
    writeFileSync(
      join(work, 'docker-bake.hcl'),
      [
        'group "default" {',
        '  targets = ["base", "child"]',
        '}',
        'target "base" {',
        '  context = "base"',
        `  platforms = ${platforms}`,
        `  tags = ["${baseRef}"]`,
        '}',
        'target "child" {',
        '  context = "child"',
        `  contexts = { "${baseRef}" = "target:base" }`,
        `  platforms = ${platforms}`,
        `  tags = ["${childRef}"]`,
        '}',
        '',
      ].join('\n'),
    );
  });

  afterAll(async () => {
    try {
      await engine?.stop();
    } finally {
      if (work) rmSync(work, { recursive: true, force: true });
    }
  });

  it('runs the dockerd and buildx of the engine asked for (KOLLA_GEN_E2E_ENGINE)', async () => {
    const e = engine!;
    const server = await e.docker(['version', '--format', '{{.Server.Version}}']);
    expect(String(server.stdout).trim(), `${e.name}'s dockerd`).toMatch(new RegExp(`^${ENGINES[e.name].dockerd.replace('.', '\\.')}`));
    expect(e.buildxVersion, `${e.name}'s buildx`).toMatch(new RegExp(`^${ENGINES[e.name].buildx.replace('.', '\\.')}`));
  });

  it('bakes two levels for two platforms and pushes both manifest lists', async () => {
    const e = engine!;
    const t0 = Date.now();
    await e.docker(['buildx', 'bake', '--push', '--provenance=false'], { cwd: work });
    console.info(`[smoke] bake --push: ${((Date.now() - t0) / 1000).toFixed(1)}s`);

    for (const ref of [baseRef, childRef]) {
      const raw = await e.skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
      const index = JSON.parse(String(raw.stdout)) as IndexManifest;
      expect(index.mediaType, `${ref} is a manifest list`).toMatch(/manifest\.list|image\.index/);
      const platforms = (index.manifests ?? []).map((m) => `${m.platform?.os}/${m.platform?.architecture}`).sort();
      expect(platforms, `${ref} platforms`).toEqual(PLATFORMS);
    }
  });

  it('runs the arm64 child, pulled back from the registry, under emulation', async () => {
    const e = engine!;
    await e.docker(['image', 'rm', childRef]);
    for (const [platform, arch] of [['linux/arm64', 'aarch64'], ['linux/amd64', 'x86_64']] as const) {
      await e.docker(['pull', '--quiet', '--platform', platform, childRef]);
      const run = await e.docker(['run', '--rm', '--platform', platform, childRef, 'sh', '-c', 'cat /child-saw; uname -m']);
      // the parent's RUN, the child's RUN (both at build time) and this run all saw the same machine
      expect(String(run.stdout).trim().split('\n'), platform).toEqual([arch, arch, arch]);
    }
  });

  it('stops, leaving nothing running or changed', async () => {
    const e = engine!;
    await e.stop();
    console.info(`[smoke] engine timings (ms): ${JSON.stringify(e.timings)}`);
    expect(e.leftovers()).toEqual([]);
    const check = await execa('bash', [fileURLToPath(new URL('./engine/teardown-check.sh', import.meta.url)), e.cacheDir, e.tmpDir, e.bridge, e.binfmtEntry], { reject: false, all: true });
    expect(check.exitCode, String(check.all)).toBe(0);
  });
});
