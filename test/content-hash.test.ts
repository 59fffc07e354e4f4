// Content hashes, in memory: what changes a hash and what does not, how two hashes say they differ, the target hash
// and content ref, and, on random image graphs, that --affected-since picks exactly the changed images and below.
import * as path from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileProject } from '../src/commands/run.js';
import {
  affectedImages,
  contentHash,
  contentRef,
  describeChanges,
  targetHash,
  type Affected,
  type ContentHash,
  type HashInputs,
} from '../src/changes/content-hash.js';
import type { Compiled } from '../src/pipeline.js';
import { renderKey } from '../src/render/images.js';
import type { Arch } from '../src/core/types.js';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);
const HASH = /^sha256:[0-9a-f]{64}$/;

const INPUTS: HashInputs = {
  dockerfile: 'FROM acme/base:1\nCOPY start.sh /usr/local/bin/start\n',
  files: [
    { name: 'Dockerfile.j2', executable: false, sha256: SHA_A },
    { name: 'start.sh', executable: false, sha256: SHA_B },
    { name: 'conf/app.ini', executable: false, sha256: SHA_A },
  ],
  args: { PIP_INDEX: 'https://pypi.org/simple', DEBIAN_FRONTEND: 'noninteractive' },
  labels: { maintainer: 'acme', 'org.opencontainers.image.source': 'https://example.org/tree' },
  platform: 'linux/amd64',
  parents: { base: `sha256:${'1'.repeat(64)}`, tools: `sha256:${'2'.repeat(64)}` },
  bases: ['ubuntu:24.04', 'golang:1.22'],
};

const hashOf = (inputs: HashInputs) => contentHash(inputs).hash;

describe('contentHash', () => {
  it('is a sha256 that the same inputs always give', () => {
    const first = contentHash(INPUTS);
    expect(first.hash).toMatch(HASH);
    expect(contentHash(structuredClone(INPUTS))).toEqual(first);
  });

  // Each row changes one input; the hash must change and explain must name that input.
  it.each<[string, (i: HashInputs) => HashInputs, string[]]>([
    ['the rendered Dockerfile', (i) => ({ ...i, dockerfile: `${i.dockerfile}RUN true\n` }), ['the rendered Dockerfile changed']],
    [
      "a file's contents",
      (i) => ({ ...i, files: i.files.map((f) => (f.name === 'start.sh' ? { ...f, sha256: SHA_A } : f)) }),
      ['context file start.sh changed'],
    ],
    [
      "a file's exec bit",
      (i) => ({ ...i, files: i.files.map((f) => (f.name === 'start.sh' ? { ...f, executable: true } : f)) }),
      ['context file start.sh changed mode (644 → 755)'],
    ],
    [
      "a file's name",
      (i) => ({ ...i, files: i.files.map((f) => (f.name === 'start.sh' ? { ...f, name: 'run.sh' } : f)) }),
      ['context file run.sh was added', 'context file start.sh was removed'],
    ],
    ['an added file', (i) => ({ ...i, files: [...i.files, { name: 'extra.txt', executable: false, sha256: SHA_A }] }), ['context file extra.txt was added']],
    ['a removed file', (i) => ({ ...i, files: i.files.filter((f) => f.name !== 'conf/app.ini') }), ['context file conf/app.ini was removed']],
    ['a build arg value', (i) => ({ ...i, args: { ...i.args, PIP_INDEX: 'https://mirror/simple' } }), ['build arg PIP_INDEX changed (https://pypi.org/simple → https://mirror/simple)']],
    ['an added build arg', (i) => ({ ...i, args: { ...i.args, HTTP_PROXY: 'http://proxy:3128' } }), ['build arg HTTP_PROXY was added']],
    ['a label value', (i) => ({ ...i, labels: { ...i.labels, maintainer: 'someone else' } }), ['label maintainer changed (acme → someone else)']],
    ['a removed label', (i) => ({ ...i, labels: { maintainer: 'acme' } }), ['label org.opencontainers.image.source was removed']],
    ['the platform', (i) => ({ ...i, platform: 'linux/arm64' }), ['the platform changed (linux/amd64 → linux/arm64)']],
    ["a parent's hash", (i) => ({ ...i, parents: { ...i.parents, base: `sha256:${'3'.repeat(64)}` } }), ['parent base changed']],
    ['an added parent', (i) => ({ ...i, parents: { ...i.parents, extra: `sha256:${'4'.repeat(64)}` } }), ['parent extra was added']],
    ['an external base', (i) => ({ ...i, bases: ['ubuntu:26.04', 'golang:1.22'] }), ['the external bases changed (ubuntu:24.04 → ubuntu:26.04)']],
    ['a removed external base', (i) => ({ ...i, bases: ['golang:1.22'] }), ['the external bases changed (ubuntu:24.04 → none)']],
    [
      'an arg moved to the labels',
      (i) => ({ ...i, args: { DEBIAN_FRONTEND: 'noninteractive' }, labels: { ...i.labels, PIP_INDEX: 'https://pypi.org/simple' } }),
      ['build arg PIP_INDEX was removed', 'label PIP_INDEX was added'],
    ],
  ])('changes with %s', (_what, change, lines) => {
    const before = contentHash(INPUTS);
    const after = contentHash(change(structuredClone(INPUTS)));
    expect(after.hash).toMatch(HASH);
    expect(after.hash).not.toBe(before.hash);
    expect(describeChanges(before.parts, after.parts)).toEqual(lines);
  });

  it.each<[string, (i: HashInputs) => HashInputs]>([
    ['the files', (i) => ({ ...i, files: [...i.files].reverse() })],
    ['the build args', (i) => ({ ...i, args: Object.fromEntries(Object.entries(i.args).reverse()) })],
    ['the labels', (i) => ({ ...i, labels: Object.fromEntries(Object.entries(i.labels).reverse()) })],
    ['the parents', (i) => ({ ...i, parents: Object.fromEntries(Object.entries(i.parents).reverse()) })],
    ['the external bases', (i) => ({ ...i, bases: [...i.bases].reverse() })],
    ['the external bases, one written twice', (i) => ({ ...i, bases: [...i.bases, ...i.bases] })],
  ])('does not change when %s are reordered', (_what, reorder) => {
    const before = contentHash(INPUTS);
    const after = contentHash(reorder(structuredClone(INPUTS)));
    expect(after.hash).toBe(before.hash);
    expect(describeChanges(before.parts, after.parts)).toEqual([]);
  });

  it('keeps names and values apart: no two inputs give the same text to hash', () => {
    // "a" = "b=c" and "a=b" = "c" would collide in a naive KEY=VALUE join.
    expect(hashOf({ ...INPUTS, args: { a: 'b=c' } })).not.toBe(hashOf({ ...INPUTS, args: { 'a=b': 'c' } }));
    expect(hashOf({ ...INPUTS, bases: ['a', 'b'] })).not.toBe(hashOf({ ...INPUTS, bases: ['a\nb'] }));
    expect(hashOf({ ...INPUTS, files: [] })).not.toBe(hashOf({ ...INPUTS, files: [], dockerfile: `${INPUTS.dockerfile} ` }));
  });

  it('describes a file that changed contents and mode as changed, once', () => {
    const before = contentHash(INPUTS);
    const after = contentHash({ ...INPUTS, files: INPUTS.files.map((f) => (f.name === 'start.sh' ? { ...f, executable: true, sha256: SHA_A } : f)) });
    expect(describeChanges(before.parts, after.parts)).toEqual(['context file start.sh changed']);
  });
});

describe('targetHash and contentRef', () => {
  const amd64 = { arch: 'amd64' as Arch, hash: hashOf(INPUTS) };
  const arm64 = { arch: 'arm64' as Arch, hash: hashOf({ ...INPUTS, platform: 'linux/arm64' }) };

  it('is over the arches and their variant hashes, in any order; on one arch, that arch\'s variant hash', () => {
    expect(targetHash([amd64, arm64])).toMatch(HASH);
    expect(targetHash([arm64, amd64])).toBe(targetHash([amd64, arm64]));
    expect(targetHash([amd64])).not.toBe(targetHash([amd64, arm64]));
    // the same hashes on swapped arches are another target
    expect(targetHash([{ ...amd64, hash: arm64.hash }, { ...arm64, hash: amd64.hash }])).not.toBe(targetHash([amd64, arm64]));
    // one arch: the same content tag whether a one-arch run, a split image's per-arch target or a CI job built it
    expect(targetHash([amd64])).toBe(amd64.hash);
    expect(targetHash([arm64])).toBe(arm64.hash);
  });

  it.each([
    ['localhost:5000/ns/img:1', 'localhost:5000/ns/img'],
    ['localhost:5000/ns/img', 'localhost:5000/ns/img'],
    ['acme/base:1.0-ubuntu', 'acme/base'],
    ['registry.example.org/kolla/nova-api', 'registry.example.org/kolla/nova-api'],
    ['127.0.0.1:32768/kolla/base:2026.1-debian', '127.0.0.1:32768/kolla/base'],
  ])('contentRef(%s) keeps the repository %s and tags kg-<32 hex>', (ref, repository) => {
    const hash = targetHash([amd64, arm64]);
    expect(contentRef(ref, hash)).toBe(`${repository}:kg-${hash.slice('sha256:'.length, 'sha256:'.length + 32)}`);
  });

  describe('on a compiled tree (test/fixtures/split: compute is split per arch)', () => {
    let compiled: Compiled;
    beforeAll(async () => {
      const dir = path.resolve(import.meta.dirname, 'fixtures', 'split');
      const result = await compileProject({ registry: 'localhost:5000', contentTags: true }, { cwd: dir, env: {} });
      if (!result.compiled) throw new Error(JSON.stringify(result.diagnostics));
      compiled = result.compiled;
    });
    const variantHashes = (image: string, variant: string) =>
      compiled.manifest.images
        .filter((e) => e.image === image && `${e.base}-${e.type}` === variant)
        .map((e) => ({ arch: e.arch, hash: compiled.hashes.get(renderKey(e.image, e, e.arch))?.hash ?? '' }));

    it("gives a join the hash and content tag a folded target of the same variants has; its per-arch targets push nothing", () => {
      const join = compiled.targets.find((t) => t.image === 'compute' && t.family.type === 'binary' && t.arch === undefined);
      expect(join?.join?.map((j) => j.arch)).toEqual(['amd64', 'arm64']);
      const hashes = variantHashes('compute', 'debian-binary');
      expect(hashes).toHaveLength(2);
      expect(join?.hash).toBe(targetHash(hashes));
      expect(join?.contentTag).toBe(contentRef('localhost:5000/kolla/debian-binary-compute:2026.1', targetHash(hashes)));
      // each per-arch target has its one arch's hash, and no tag at all: the join pushes the manifest list
      const perArch = compiled.targets.filter((t) => t.image === 'compute' && t.family.type === 'binary' && t.arch !== undefined);
      expect(perArch.map((t) => [t.name, t.hash, t.tags, t.contentTag])).toEqual(
        hashes.map((h) => [`debian-binary-compute-${h.arch}`, targetHash([h]), [], undefined]),
      );
      // and a folded target's hash is the same function of its variants
      const base = compiled.targets.find((t) => t.image === 'base' && t.family.type === 'binary');
      expect(base?.arch).toBeUndefined();
      expect(base?.hash).toBe(targetHash(variantHashes('base', 'debian-binary')));
      // no label carries it: it would differ between a one-arch and a multi-arch run, and so would the image's digest
      expect(compiled.bake.targets.find((t) => t.name === base?.name)?.labels['kolla-gen.content-hash']).toBeUndefined();
    });
  });
});

// --- affectedImages on random graphs ------------------------------------------------------------------------------

interface Graph {
  names: string[];
  parents: Map<string, string[]>;
  /** Each image's own inputs (without its parents' hashes). */
  own: Map<string, Omit<HashInputs, 'parents'>>;
}

const KEY = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,8}$/);
const ownInputs = fc.record({
  dockerfile: fc.string({ maxLength: 40 }),
  files: fc.uniqueArray(
    fc.record({ name: fc.stringMatching(/^[a-z][a-z0-9/._-]{0,10}$/), executable: fc.boolean(), sha256: fc.stringMatching(/^[0-9a-f]{64}$/) }),
    { selector: (f) => f.name, maxLength: 4 },
  ),
  args: fc.dictionary(KEY, fc.string({ maxLength: 8 }), { maxKeys: 3 }),
  labels: fc.dictionary(KEY, fc.string({ maxLength: 8 }), { maxKeys: 3 }),
  platform: fc.constantFrom('linux/amd64', 'linux/arm64'),
  bases: fc.array(fc.stringMatching(/^[a-z]{1,6}:[0-9]{1,2}$/), { maxLength: 2 }),
});

/** n images n0…n(n-1); an image's parents are images of lower index only, so the index order puts parents first. */
const graphs: fc.Arbitrary<Graph> = fc.integer({ min: 1, max: 12 }).chain((n) =>
  fc
    .tuple(
      fc.tuple(...Array.from({ length: n }, (_, j) => fc.subarray(Array.from({ length: j }, (_v, i) => i), { maxLength: Math.min(3, j) }))),
      fc.array(ownInputs, { minLength: n, maxLength: n }),
    )
    .map(([edges, inputs]) => {
      const names = Array.from({ length: n }, (_, i) => `n${i}`);
      return {
        names,
        parents: new Map(names.map((name, j) => [name, (edges[j] ?? []).map((i) => `n${i}`)])),
        own: new Map(names.map((name, j) => [name, inputs[j] as Omit<HashInputs, 'parents'>])),
      };
    }),
);

/** The Merkle hashes of a graph: each image's own inputs and its parents' hashes. */
function hashGraph(graph: Graph): Map<string, ContentHash> {
  const out = new Map<string, ContentHash>();
  for (const name of graph.names) {
    const parents = Object.fromEntries((graph.parents.get(name) ?? []).map((p) => [p, out.get(p)?.hash ?? '']));
    out.set(name, contentHash({ ...(graph.own.get(name) as Omit<HashInputs, 'parents'>), parents }));
  }
  return out;
}

/** The images below `from`, by a BFS over the children, independently of content-hash.ts. */
function descendantsOf(graph: Graph, from: Set<string>): Set<string> {
  const children = new Map<string, string[]>(graph.names.map((n) => [n, []]));
  for (const [child, parents] of graph.parents) for (const p of parents) children.get(p)?.push(child);
  const seen = new Set<string>();
  const queue = [...from].flatMap((n) => children.get(n) ?? []);
  while (queue.length > 0) {
    const next = queue.shift() as string;
    if (seen.has(next)) continue;
    seen.add(next);
    queue.push(...(children.get(next) ?? []));
  }
  for (const n of from) seen.delete(n);
  return seen;
}

/** The ancestors of one image (BFS up the parents). */
function ancestorsOf(graph: Graph, name: string): Set<string> {
  const seen = new Set<string>();
  const queue = [...(graph.parents.get(name) ?? [])];
  while (queue.length > 0) {
    const next = queue.shift() as string;
    if (seen.has(next)) continue;
    seen.add(next);
    queue.push(...(graph.parents.get(next) ?? []));
  }
  return seen;
}

type OwnInputs = Omit<HashInputs, 'parents'>;
const MUTATIONS: ((i: OwnInputs, salt: number) => OwnInputs)[] = [
  (i, salt) => ({ ...i, dockerfile: `${i.dockerfile}\nRUN echo ${salt}` }),
  (i, salt) => ({ ...i, files: [...i.files.filter((f) => f.name !== `KG-added-${salt}`), { name: `KG-added-${salt}`, executable: false, sha256: SHA_A }] }),
  (i) => (i.files.length > 0 ? { ...i, files: i.files.map((f, k) => (k === 0 ? { ...f, executable: !f.executable } : f)) } : { ...i, dockerfile: `${i.dockerfile}#` }),
  (i) => (i.files.length > 0 ? { ...i, files: i.files.map((f, k) => (k === 0 ? { ...f, sha256: f.sha256 === SHA_B ? SHA_A : SHA_B } : f)) } : { ...i, files: [{ name: 'x', executable: true, sha256: SHA_B }] }),
  (i, salt) => ({ ...i, args: { ...i.args, KG_SALT: `${salt}-${i.args.KG_SALT ?? ''}` } }),
  (i, salt) => ({ ...i, labels: { ...i.labels, 'kg.salt': `${salt}-${i.labels['kg.salt'] ?? ''}` } }),
  (i) => ({ ...i, platform: i.platform === 'linux/amd64' ? 'linux/arm64' : 'linux/amd64' }),
  (i, salt) => ({ ...i, bases: [...i.bases, `mutated:${salt}`] }),
];

/** A graph, and a random subset of its images each with one mutation of its own inputs. */
const mutatedGraphs = graphs.chain((graph) =>
  fc
    .uniqueArray(fc.tuple(fc.nat(graph.names.length - 1), fc.nat(MUTATIONS.length - 1)), { selector: ([i]) => i, maxLength: graph.names.length })
    .map((picks) => {
      const own = new Map(graph.own);
      for (const [i, m] of picks) {
        const name = graph.names[i] as string;
        own.set(name, (MUTATIONS[m] as (typeof MUTATIONS)[number])(own.get(name) as OwnInputs, i));
      }
      return { before: graph, after: { ...graph, own }, mutated: new Set(picks.map(([i]) => graph.names[i] as string)) };
    }),
);

function affected(graph: Graph, now: Map<string, ContentHash>, then: Map<string, ContentHash>): Map<string, Affected> {
  return affectedImages({ order: graph.names, parents: graph.parents, now, then });
}

describe('affectedImages (random graphs, Merkle hashes)', () => {
  it('finds nothing when nothing changed', () => {
    fc.assert(
      fc.property(graphs, (graph) => {
        expect(affected(graph, hashGraph(graph), hashGraph(structuredClone(graph)))).toEqual(new Map());
      }),
    );
  });

  it('finds exactly the changed images (changed) and everything below them (ancestor)', () => {
    fc.assert(
      fc.property(mutatedGraphs, ({ before, after, mutated }) => {
        const then = hashGraph(before);
        const now = hashGraph(after);
        const found = affected(after, now, then);
        const below = descendantsOf(after, mutated);
        expect(new Set(found.keys())).toEqual(new Set([...mutated, ...below]));
        for (const name of mutated) {
          const why = found.get(name);
          expect(why?.kind).toBe('changed');
          expect(now.get(name)?.hash).not.toBe(then.get(name)?.hash);
          if (why?.kind === 'changed') expect(why.changes.length).toBeGreaterThan(0);
        }
        for (const name of below) {
          const why = found.get(name);
          expect(why?.kind).toBe('ancestor');
          // the ancestor it names is one whose own inputs changed, above it
          if (why?.kind === 'ancestor') {
            expect(mutated.has(why.ancestor)).toBe(true);
            expect(ancestorsOf(after, name).has(why.ancestor)).toBe(true);
          }
        }
        // everything else kept its hash
        for (const name of after.names) if (!found.has(name)) expect(now.get(name)?.hash).toBe(then.get(name)?.hash);
      }),
    );
  });

  it('calls the images absent at the revision new, and the images below them affected through them', () => {
    fc.assert(
      fc.property(
        graphs.chain((graph) => fc.tuple(fc.constant(graph), fc.subarray(graph.names, { minLength: 1 }))),
        ([graph, added]) => {
          const now = hashGraph(graph);
          const then = new Map([...now].filter(([name]) => !added.includes(name)));
          const found = affected(graph, now, then);
          const below = descendantsOf(graph, new Set(added));
          expect(new Set(found.keys())).toEqual(new Set([...added, ...below]));
          for (const name of added) expect(found.get(name)).toEqual({ kind: 'new' });
          for (const name of below) {
            const why = found.get(name);
            expect(why?.kind).toBe('ancestor');
            if (why?.kind === 'ancestor') expect(added.includes(why.ancestor)).toBe(true);
          }
        },
      ),
    );
  });
});
