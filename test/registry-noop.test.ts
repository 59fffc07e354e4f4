// How many requests --skip-existing sends per target (issue 27 item 7), counted by the registry stand-in of
// bench/registry-noop.mjs: lists of two arches and one-arch images, as `build --push` leaves them, or nothing.
// No time is asserted: only requests by method, and that the answers are right.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module of the bench, no types
import { startStandIn } from '../bench/registry-standin.mjs';
import { probeTags } from '../src/engine/registry.js';

interface StandIn {
  host: string;
  counts: { HEAD: number; GET: number; other: number };
  total: number;
  reset(): void;
  clear(): void;
  push(ref: string, arches: string[], perArch?: Record<string, string>, asList?: boolean): string;
  close(): Promise<void>;
}

const standIns: StandIn[] = [];
afterAll(async () => {
  await Promise.all(standIns.map((s) => s.close()));
});

const N = 60;

async function setUp() {
  const registry = (await startStandIn({ delayMs: 0 })) as StandIn;
  standIns.push(registry);
  // every tenth target is one arch's image, the others lists of amd64 and arm64
  const targets = Array.from({ length: N }, (_, i) => ({ ref: `${registry.host}/kolla/image${i}:kg-${i}`, arches: i % 10 === 0 ? ['arm64'] : ['amd64', 'arm64'] }));
  const platforms = new Map(targets.map((t) => [t.ref, t.arches.map((a) => `linux/${a}`)]));
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-registry-noop-'));
  const ask = () => probeTags([...platforms.keys()], { env: { KOLLA_GEN_CACHE_DIR: cache }, insecure: [registry.host] }, platforms);
  return { registry, targets, cache, ask };
}

describe('--skip-existing requests per target', () => {
  it('everything there: read once per digest, then one HEAD per target and no GET', async () => {
    const { registry, targets, cache, ask } = await setUp();
    for (const t of targets) registry.push(t.ref, t.arches);
    const first = await ask();
    expect([...first.values()].every((p) => p.status === 'present')).toBe(true);
    // a fresh cache: a list costs a HEAD, its GET and a HEAD per arch; an image a HEAD and two GETs (manifest, config)
    expect(registry.counts).toEqual({ HEAD: 54 * 3 + 6, GET: 54 + 6 * 2, other: 0 });

    registry.reset();
    const again = await ask();
    expect(again).toEqual(first);
    expect(registry.counts).toEqual({ HEAD: N, GET: 0, other: 0 });
    expect(registry.total / N).toBeLessThanOrEqual(1.2);

    // a cache file whose bytes are not those of its digest is not believed: that list is read again
    const [file] = fs.readdirSync(path.join(cache, 'registry'));
    fs.writeFileSync(path.join(cache, 'registry', file as string), '{"schemaVersion":2,"manifests":[]}');
    registry.reset();
    expect(await ask()).toEqual(first);
    expect(registry.counts.GET).toBeGreaterThan(0);
  });

  it('a list that lost an arch in the registry is found lacking it, and is not kept', async () => {
    const { registry, targets, ask } = await setUp();
    for (const t of targets) registry.push(t.ref, t.arches.length > 1 ? ['amd64'] : t.arches, {}, t.arches.length > 1);
    const probes = await ask();
    expect(probes.get(targets[1]?.ref ?? '')).toEqual({ status: 'absent', lacks: ['linux/arm64'] });
    registry.reset();
    await ask();
    // nothing of the incomplete lists was taken from the cache: each is read again
    expect(registry.counts.GET).toBe(54);
  });

  it('nothing there: one HEAD per target, no GET', async () => {
    const { registry, ask } = await setUp();
    const probes = await ask();
    expect([...probes.values()].every((p) => p.status === 'absent')).toBe(true);
    expect(registry.counts).toEqual({ HEAD: N, GET: 0, other: 0 });
  });
});
