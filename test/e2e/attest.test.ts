// attest: of kolla-gen.yaml on a real engine (issue 27, item 3): `kolla-gen build --push` of an image (a join of per-arch
// renderings, both arches) with `attest: { provenance: max }`, then the registry's index of it: one provenance
// attestation manifest per platform image, naming that image's digest, whose in-toto statement is max-mode
// provenance; with `provenance: false`, none. The engine's builder is the docker driver with the containerd image
// store (dockerd 26 and 28.5), which stores attestations. The SBOM, made by a scanner image of the test's own, is
// sbom.test.ts's.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedTree, startEngine, type Engine } from './engine/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli.js');
const TREE = join(ROOT, 'test', 'e2e', 'fixtures', 'tree');

interface Descriptor {
  mediaType: string;
  digest: string;
  platform?: { os: string; architecture: string };
  annotations?: Record<string, string>;
}

describe('attestations from kolla-gen.yaml, pushed to a real registry', () => {
  let engine: Engine | undefined;
  let work = '';

  beforeAll(async () => {
    engine = await startEngine();
    work = mkdtempSync(join(tmpdir(), 'kolla-gen-e2e-attest-'));
    seedTree(engine, TREE, work);
  });

  afterAll(async () => {
    try {
      await engine?.stop();
    } finally {
      if (work) rmSync(work, { recursive: true, force: true });
    }
  });

  const kg = (args: string[]) => execa(process.execPath, [CLI, ...args], { cwd: work, env: engine!.env, extendEnv: false, reject: false });
  const raw = async (ref: string): Promise<{ mediaType?: string; manifests?: Descriptor[]; layers?: Descriptor[] }> =>
    JSON.parse(String((await engine!.skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${ref}`])).stdout)) as never;

  /** Builds base (a join: both arches) under `tag` with `attest` as kolla-gen.yaml's, pushed; returns its index. */
  async function pushWith(attest: string, tag: string): Promise<Descriptor[]> {
    const config = readFileSync(join(TREE, 'kolla-gen.yaml'), 'utf8');
    writeFileSync(join(work, 'kolla-gen.yaml'), `${config}${attest}`);
    const generated = await kg(['generate', '--registry', engine!.registry, '--tag', tag, '^base$']);
    expect(generated.exitCode, generated.stderr).toBe(0);
    const built = await kg(['build', '--registry', engine!.registry, '--tag', tag, '--push', '--progress', 'plain', '^base$']);
    expect(built.exitCode, built.stderr.slice(-3000)).toBe(0);
    const index = await raw(`${engine!.registry}/e2e/base:${tag}`);
    expect(index.mediaType).toMatch(/manifest\.list|image\.index/);
    return index.manifests ?? [];
  }

  it('provenance: max: each platform image has its attestation manifest in the index, with max-mode provenance', async () => {
    const manifests = await pushWith('attest:\n  provenance: max\n', 'max');
    const images = manifests.filter((m) => m.platform?.os === 'linux');
    expect(images.map((m) => `${m.platform?.os}/${m.platform?.architecture}`).sort()).toEqual(['linux/amd64', 'linux/arm64']);
    const attestations = manifests.filter((m) => m.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest');
    // one per platform image, naming it; platform unknown/unknown, as BuildKit writes them
    expect(attestations.map((a) => a.annotations?.['vnd.docker.reference.digest']).sort()).toEqual(images.map((m) => m.digest).sort());
    for (const a of attestations) expect(a.platform).toEqual({ os: 'unknown', architecture: 'unknown' });
    // the statement itself: SLSA provenance; max mode records the build's definition (buildConfig)
    const repo = `${engine!.registry}/e2e/base`;
    const manifest = await raw(`${repo}@${attestations[0]!.digest}`);
    const layer = (manifest.layers ?? []).find((l) => l.annotations?.['in-toto.io/predicate-type']?.startsWith('https://slsa.dev/provenance/'));
    expect(layer, JSON.stringify(manifest.layers)).toBeDefined();
    const dir = mkdtempSync(join(work, 'attestation-'));
    await engine!.skopeo(['copy', '--quiet', '--src-tls-verify=false', `docker://${repo}@${attestations[0]!.digest}`, `dir:${dir}`]);
    const blob = readdirSync(dir).find((f) => f === layer!.digest.slice('sha256:'.length));
    expect(blob, `the layer ${layer!.digest} in ${readdirSync(dir).join(' ')}`).toBeDefined();
    const statement = JSON.parse(readFileSync(join(dir, blob!), 'utf8')) as { predicateType: string; predicate: Record<string, unknown> };
    expect(statement.predicateType).toMatch(/^https:\/\/slsa\.dev\/provenance\//);
    expect(JSON.stringify(statement.predicate)).toContain('buildConfig');
  });

  it('provenance: false: no attestation in the index', async () => {
    const manifests = await pushWith('attest:\n  provenance: false\n', 'none');
    expect(manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`).sort()).toEqual(['linux/amd64', 'linux/arm64']);
    expect(manifests.filter((m) => m.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest')).toEqual([]);
  });
});
