// Deterministic timestamps: the same target built on two fresh engines (one after the other, sharing nothing: own
// dockerd, data root, registry, no cache) with the same SOURCE_DATE_EPOCH gives the same image config `created`,
// labels and history times, all the epoch's. The layers are not compared for equality: on the docker driver (this
// engine's) a RUN layer keeps its files' build-time mtimes, which only a BuildKit builder's rewrite-timestamp clamps
// (docs/building.md); the test prints whether they matched.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { seedTree, startEngine } from './engine/index.js';

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

/** Builds and pushes `^runtime$` (base, then runtime) for amd64 on a fresh engine; its image config. */
async function buildOnFreshEngine(): Promise<ImageConfig> {
  const engine = await startEngine();
  const work = mkdtempSync(join(tmpdir(), 'kolla-gen-e2e-timestamps-'));
  try {
    seedTree(engine, TREE, work);
    const build = await execa(process.execPath, [CLI, 'build', '--registry', engine.registry, '-a', 'amd64', '--push', '^runtime$'], {
      cwd: work,
      reject: false,
      extendEnv: false,
      env: { ...engine.env, SOURCE_DATE_EPOCH: EPOCH },
    });
    expect(build.exitCode, `${build.stdout}\n${build.stderr.slice(-3000)}`).toBe(0);
    const r = await engine.skopeo(['inspect', '--config', '--tls-verify=false', `docker://${engine.registry}/e2e/runtime:1`]);
    return JSON.parse(String(r.stdout)) as ImageConfig;
  } finally {
    try {
      await engine.stop();
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
}

describe('SOURCE_DATE_EPOCH on two fresh engines', () => {
  it('gives the same created, labels and history times: the epoch\'s', async () => {
    const first = await buildOnFreshEngine();
    const second = await buildOnFreshEngine();
    for (const config of [first, second]) {
      expect(config.created).toBe(AT);
      expect(config.history?.length).toBeGreaterThan(0);
      expect(config.history!.map((h) => h.created)).toEqual(config.history!.map(() => AT));
    }
    expect(second.config?.Labels).toEqual(first.config?.Labels);
    expect(second.history).toEqual(first.history);
    const same = JSON.stringify(first.rootfs?.diff_ids) === JSON.stringify(second.rootfs?.diff_ids);
    console.info(`[e2e timestamps] created ${first.created} both times; layers ${same ? 'identical' : 'differ (the docker driver keeps RUN files\' mtimes)'}`);
  }, 1_200_000);
});
