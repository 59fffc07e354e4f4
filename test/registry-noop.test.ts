// How many requests --skip-existing sends per target (issue 27 item 7), counted by the registry stand-in of
// bench/registry-noop.mjs: lists of two arches and one-arch images, as `build --push` leaves them, or nothing. By
// default a content tag is answered by its HEAD; with verify (verify_existing) its manifest is read and each arch's
// image asked for, as for any other tag. No time is asserted: only requests by method, and that the answers are right.
import { createHash } from 'node:crypto';
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

/** A content tag, `kg-` and 32 hex digits, as contentRef names one. */
const contentTag = (i: number) => `kg-${createHash('sha256').update(String(i)).digest('hex').slice(0, 32)}`;

/** `tag`: each target's tag (default: a content tag); `verify`: ask as verify_existing does. */
async function setUp({ tag = contentTag, verify = false }: { tag?: (i: number) => string; verify?: boolean } = {}) {
  const registry = (await startStandIn({ delayMs: 0 })) as StandIn;
  standIns.push(registry);
  // every tenth target is one arch's image, the others lists of amd64 and arm64
  const targets = Array.from({ length: N }, (_, i) => ({ ref: `${registry.host}/kolla/image${i}:${tag(i)}`, arches: i % 10 === 0 ? ['arm64'] : ['amd64', 'arm64'] }));
  const platforms = new Map(targets.map((t) => [t.ref, t.arches.map((a) => `linux/${a}`)]));
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-registry-noop-'));
  const ask = () => probeTags([...platforms.keys()], { env: { KOLLA_GEN_CACHE_DIR: cache }, insecure: [registry.host], verify }, platforms);
  return { registry, targets, cache, ask };
}

describe('--skip-existing requests per target: a content tag answered by its HEAD (the default)', () => {
  it('everything there, on a fresh runner: one HEAD per target, no GET, nothing kept in the digest store', async () => {
    const { registry, targets, cache, ask } = await setUp();
    const digests = new Map(targets.map((t) => [t.ref, registry.push(t.ref, t.arches)]));
    const first = await ask();
    expect(first).toEqual(new Map(targets.map((t) => [t.ref, { status: 'present', digest: digests.get(t.ref) }])));
    expect(registry.counts).toEqual({ HEAD: N, GET: 0, other: 0 });
    expect(fs.existsSync(path.join(cache, 'registry'))).toBe(false);
    registry.reset();
    expect(await ask()).toEqual(first);
    expect(registry.counts).toEqual({ HEAD: N, GET: 0, other: 0 });
  });

  it('a list under a two-arch content tag that lost an arch counts as there: its HEAD cannot tell (verify can, below)', async () => {
    const { registry, targets, ask } = await setUp();
    for (const t of targets) registry.push(t.ref, t.arches.length > 1 ? ['amd64'] : t.arches, {}, t.arches.length > 1);
    const probes = await ask();
    expect(probes.get(targets[1]?.ref ?? '')?.status).toBe('present');
    expect(registry.counts).toEqual({ HEAD: N, GET: 0, other: 0 });
  });

  it('one image under a content tag that must hold two arches lacks both, from its HEAD alone', async () => {
    const { registry, targets, ask } = await setUp();
    for (const t of targets) registry.push(t.ref, t.arches.slice(0, 1));
    const probes = await ask();
    expect(probes.get(targets[1]?.ref ?? '')).toEqual({ status: 'absent', lacks: ['linux/amd64', 'linux/arm64'] });
    // a one-arch target's image is there
    expect(probes.get(targets[0]?.ref ?? '')?.status).toBe('present');
    expect(registry.counts).toEqual({ HEAD: N, GET: 0, other: 0 });
  });

  it('a tag that is not a content tag is checked in full: read once per digest, then one HEAD', async () => {
    const { registry, targets, ask } = await setUp({ tag: (i) => `2026.1-${i}` });
    for (const t of targets) registry.push(t.ref, t.arches);
    expect([...(await ask()).values()].every((p) => p.status === 'present')).toBe(true);
    expect(registry.counts).toEqual({ HEAD: 54 * 3 + 6, GET: 54 + 6 * 2, other: 0 });
    registry.reset();
    await ask();
    expect(registry.counts).toEqual({ HEAD: N, GET: 0, other: 0 });
  });

  it('a list that lost an arch under a tag that is not a content tag lacks it', async () => {
    const { registry, targets, ask } = await setUp({ tag: (i) => `2026.1-${i}` });
    for (const t of targets) registry.push(t.ref, t.arches.length > 1 ? ['amd64'] : t.arches, {}, t.arches.length > 1);
    expect((await ask()).get(targets[1]?.ref ?? '')).toEqual({ status: 'absent', lacks: ['linux/arm64'] });
  });

  it('nothing there: one HEAD per target, no GET', async () => {
    const { registry, ask } = await setUp();
    const probes = await ask();
    expect([...probes.values()].every((p) => p.status === 'absent')).toBe(true);
    expect(registry.counts).toEqual({ HEAD: N, GET: 0, other: 0 });
  });
});

describe('--skip-existing --verify-existing requests per target: each content tag read in full', () => {
  it('everything there: read once per digest, then one HEAD per target and no GET', async () => {
    const { registry, targets, cache, ask } = await setUp({ verify: true });
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
    const { registry, targets, ask } = await setUp({ verify: true });
    for (const t of targets) registry.push(t.ref, t.arches.length > 1 ? ['amd64'] : t.arches, {}, t.arches.length > 1);
    const probes = await ask();
    expect(probes.get(targets[1]?.ref ?? '')).toEqual({ status: 'absent', lacks: ['linux/arm64'] });
    registry.reset();
    await ask();
    // nothing of the incomplete lists was taken from the cache: each is read again
    expect(registry.counts.GET).toBe(54);
  });

  it('nothing there: one HEAD per target, no GET', async () => {
    const { registry, ask } = await setUp({ verify: true });
    const probes = await ask();
    expect([...probes.values()].every((p) => p.status === 'absent')).toBe(true);
    expect(registry.counts).toEqual({ HEAD: N, GET: 0, other: 0 });
  });
});
