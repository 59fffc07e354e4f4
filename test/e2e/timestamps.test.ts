// Deterministic timestamps: the same target built on two fresh engines (one after the other, sharing nothing: own
// dockerd, data root, registry, no cache) with the same SOURCE_DATE_EPOCH gives the same image config `created`,
// labels and history times, all the epoch's. On today's engine (dockerd 28.5, containerd image store) a build --push
// given `--set '*.output=type=image,push=true,store=false,rewrite-timestamp=true'` (docs/building.md) gives
// bit-identical layers, and the same image manifest, too; on the oldest (dockerd 26, which fails such a push) a RUN
// layer keeps its files' build-time mtimes, and the test prints whether they matched.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { seedTree, startEngine } from './engine/index.js';
import { clampedPush } from './build-output.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli.js');
const TREE = join(ROOT, 'test', 'e2e', 'fixtures', 'tree');
const EPOCH = '1700000000';
const AT = '2023-11-14T22:13:20Z';

interface ImageConfig {
  created?: string;
  config?: { Labels?: Record<string, string> };
  history?: { created?: string; created_by?: string }[];
  rootfs?: { diff_ids?: string[] };
}

/** Builds and pushes `^runtime$` (base, then runtime) for amd64 on a fresh engine; its image config and manifest. */
async function buildOnFreshEngine(): Promise<{ engine: string; config: ImageConfig; layers: string[] }> {
  const engine = await startEngine();
  const work = mkdtempSync(join(tmpdir(), 'kolla-gen-e2e-timestamps-'));
  try {
    seedTree(engine, TREE, work);
    const build = await execa(process.execPath, [CLI, 'build', '--registry', engine.registry, '-a', 'amd64', '--push', ...clampedPush(engine.name), '^runtime$'], {
      cwd: work,
      reject: false,
      extendEnv: false,
      env: { ...engine.env, SOURCE_DATE_EPOCH: EPOCH },
    });
    expect(build.exitCode, `${build.stdout}\n${build.stderr.slice(-3000)}`).toBe(0);
    const ref = `docker://${engine.registry}/e2e/runtime:1`;
    const config = JSON.parse(String((await engine.skopeo(['inspect', '--config', '--tls-verify=false', ref])).stdout)) as ImageConfig;
    // the amd64 image's layers as pushed (compressed digests), out of the index buildx pushes with its attestation
    const index = JSON.parse(String((await engine.skopeo(['inspect', '--raw', '--tls-verify=false', ref])).stdout)) as { manifests?: { digest: string; platform?: { architecture: string } }[]; layers?: { digest: string }[] };
    const image = index.manifests?.find((m) => m.platform?.architecture === 'amd64');
    const manifest = image === undefined ? index : (JSON.parse(String((await engine.skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${engine.registry}/e2e/runtime@${image.digest}`])).stdout)) as { layers?: { digest: string }[] });
    return { engine: engine.name, config, layers: (manifest.layers ?? []).map((l) => l.digest) };
  } finally {
    try {
      await engine.stop();
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
}

describe('SOURCE_DATE_EPOCH on two fresh engines', () => {
  it('gives the same created, labels and history times: the epoch\'s; on today\'s engine the same layers too', async () => {
    const first = await buildOnFreshEngine();
    const second = await buildOnFreshEngine();
    for (const { config } of [first, second]) {
      expect(config.created).toBe(AT);
      expect(config.history?.length).toBeGreaterThan(0);
      expect(config.history!.map((h) => h.created)).toEqual(config.history!.map(() => AT));
    }
    expect(second.config.config?.Labels).toEqual(first.config.config?.Labels);
    expect(second.config.history).toEqual(first.config.history);
    expect(first.layers.length).toBeGreaterThan(1);
    const same = JSON.stringify(first.config.rootfs?.diff_ids) === JSON.stringify(second.config.rootfs?.diff_ids) && JSON.stringify(first.layers) === JSON.stringify(second.layers);
    if (first.engine === 'today') {
      // rewrite-timestamp: every file time in every layer clamped to the epoch, so the same bytes and digests
      expect(second.config.rootfs?.diff_ids).toEqual(first.config.rootfs?.diff_ids);
      expect(second.layers).toEqual(first.layers);
    }
    console.info(`[e2e timestamps] ${first.engine}: created ${first.config.created} both times; layers ${same ? 'identical' : 'differ (the docker driver keeps RUN files\' mtimes)'}`);
  }, 1_200_000);
});
