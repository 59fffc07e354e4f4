// Building only what changed, on a real engine (test/e2e/engine): the fixture tree of test/e2e/fixtures/tree in a git
// repo, built and pushed once with content tags; then --skip-existing (nothing to build; an arch's image deleted,
// seen with --verify-existing only; one deleted image rebuilt),
// --affected-since (one changed leaf, a changed root), explain, the registry cache (--cache-ref), and a registry that
// cannot be asked.
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { closedPort } from '../support/net.js';
import { seedTree, startEngine, type Engine } from './engine/index.js';
import { stepsRunAgain } from './build-output.js';
import { targetHash } from '../../src/changes/content-hash.js';
import type { Arch } from '../../src/core/types.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli.js');
const TREE = join(ROOT, 'test', 'e2e', 'fixtures', 'tree');
const IMAGES = ['app', 'archinfo', 'archtool', 'base', 'plugin', 'runtime', 'service', 'tools', 'worker'];
// one target per image: archinfo renders differently per arch, so its target joins two per-arch targets (no tags)
const TARGETS = [
  'debian-app', 'debian-archinfo', 'debian-archtool',
  'debian-base', 'debian-plugin', 'debian-runtime', 'debian-service', 'debian-tools', 'debian-worker',
];
const CONTENT_TAG = /:kg-[0-9a-f]{32}$/;
const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

interface Entry {
  image: string;
  target: string;
  tags?: string[];
  contentTag?: string;
  retagged?: string[];
}
interface Summary {
  pushed: boolean;
  built: Entry[];
  failed: Entry[];
  skipped: Entry[];
  existing: Entry[];
  unbuildable: Entry[];
}
interface Diagnostic {
  code: string;
  severity: string;
  message: string;
}
interface JsonOut<T> {
  ok: boolean;
  diagnostics: Diagnostic[];
  result: T;
}
interface Listing {
  variants: { base: string; arch: string; images: string[]; unaffected?: string[] }[];
}
interface Explanation {
  variant: string;
  arches: string[];
  status: string;
  reasons: string[];
  target?: string;
  contentTag?: string;
}
interface BakeJson {
  target: Record<string, { tags?: string[]; contexts?: Record<string, string>; 'cache-from'?: string[]; 'cache-to'?: string[] }>;
}
interface Manifest {
  mediaType?: string;
  manifests?: { mediaType?: string; digest: string; platform?: { os: string; architecture: string } }[];
  config?: { mediaType?: string };
  layers?: { digest: string }[];
}

const names = (entries: Entry[]) => entries.map((e) => e.target).sort();

describe('kolla-gen builds only what changed, on a real engine', () => {
  let engine: Engine | undefined;
  let work = '';
  let registry = '';
  // target → its content tag, as the first build pushed them (the tree at HEAD)
  let contentTags = new Map<string, string>();
  // every tag the first build pushed → its digest
  let pushed = new Map<string, string>();

  const kg = (args: string[], env: Record<string, string> = {}) =>
    execa(process.execPath, [CLI, ...args], { cwd: work, env: { ...engine!.env, ...env }, extendEnv: false, reject: false });
  /** Runs kolla-gen with --json; the parsed output, or a failure that shows what it printed. */
  const kgJson = async <T>(args: string[], exitCode = 0, env: Record<string, string> = {}): Promise<{ out: JsonOut<T>; stderr: string }> => {
    const r = await kg([...args, '--json'], env);
    const shown = `kolla-gen ${args.join(' ')}\n${r.stdout}\n${r.stderr.slice(-4000)}`;
    expect(r.exitCode, shown).toBe(exitCode);
    return { out: JSON.parse(r.stdout) as JsonOut<T>, stderr: r.stderr };
  };
  /**
   * As operators run it: `generate` with the build's generation options (no regexes, no --push or --provenance), then
   * `build`, which bakes that committed generation (no KG710) and writes nothing.
   */
  const generateThenBuild = async <T>(args: string[], exitCode = 0): Promise<{ out: JsonOut<T>; stderr: string }> => {
    const buildOnly = (a: string) => a === '--push' || a.startsWith('--provenance') || a.startsWith('^');
    await kgJson<unknown>(['generate', ...args.slice(1).filter((a) => !buildOnly(a))]);
    const built = await kgJson<T>(args, exitCode);
    expect(built.out.diagnostics.map((d) => d.code), 'build bakes the generation generate wrote').not.toContain('KG710');
    return built;
  };
  const git = (args: string[]) =>
    execa('git', ['-c', 'user.name=kolla-gen e2e', '-c', 'user.email=e2e@kolla-gen.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd: work });
  const template = (image: string) => join(work, 'docker', image, 'Dockerfile.j2');
  /** manifest.json's entries, each with its chained hash from list --json (manifest.json records only own inputs). */
  const generatedManifest = async () => {
    type Entry = { image: string; base: string; type?: string; target?: string; arch: Arch };
    const entries = (JSON.parse(readFileSync(join(work, 'generated', 'manifest.json'), 'utf8')) as { images: Entry[] }).images;
    const { out } = await kgJson<{ variants: (Omit<Entry, 'image'> & { hashes: Record<string, string> })[] }>(['list', '--registry', registry]);
    const key = (e: Omit<Entry, 'image'>, image: string) => `${image}|${e.base}|${e.type ?? ''}|${e.arch}`;
    const hashes = new Map(out.result.variants.flatMap((v) => Object.entries(v.hashes).map(([image, hash]) => [key(v, image), hash] as const)));
    return entries.map((e) => ({ ...e, hash: hashes.get(key(e, e.image)) ?? '' }));
  };
  const bakeFile = (output = 'generated') => JSON.parse(readFileSync(join(work, output, 'docker-bake.json'), 'utf8')) as BakeJson;

  // The registry's own API (plain HTTP): what a tag points to, and deleting a manifest.
  const api = (ref: string) => {
    const m = /^([^/]+)\/(.+):([^:/]+)$/.exec(ref);
    if (!m) throw new Error(`not a tagged ref: ${ref}`);
    return { base: `http://${m[1]}/v2/${m[2]}/manifests`, tag: m[3]! };
  };
  const manifest = async (ref: string, reference?: string): Promise<{ digest: string; body: Manifest } | undefined> => {
    const { base, tag } = api(ref);
    const res = await fetch(`${base}/${reference ?? tag}`, { headers: { accept: MANIFEST_TYPES } });
    if (res.status === 404) return undefined;
    expect(res.status, `GET ${ref}`).toBe(200);
    return { digest: res.headers.get('docker-content-digest') ?? '', body: (await res.json()) as Manifest };
  };
  const exists = async (ref: string) => (await manifest(ref)) !== undefined;
  /**
   * Deletes every image of a list from the registry (so its per-arch content tags are gone too: with them, --skip-existing
   * would make the list again instead of building; test/build.test.ts and the per-arch CI test below cover that).
   */
  const deleteImages = async (ref: string, list: { body: Manifest }) => {
    for (const m of list.body.manifests ?? []) {
      if (m.platform?.os !== 'linux') continue;
      expect((await fetch(`${api(ref).base}/${m.digest}`, { method: 'DELETE' })).status, m.digest).toBe(202);
    }
  };
  /** Every tag of the images of the fixture → its digest. */
  const digests = async (): Promise<Map<string, string>> => {
    const out = new Map<string, string>();
    for (const image of IMAGES) {
      const listed = (await (await fetch(`http://${registry}/v2/e2e/${image}/tags/list`)).json()) as { tags: string[] | null };
      for (const tag of listed.tags ?? []) out.set(`${registry}/e2e/${image}:${tag}`, (await manifest(`${registry}/e2e/${image}:${tag}`))?.digest ?? '');
    }
    return out;
  };
  /** The layers of one platform's image under ref. */
  const layers = async (ref: string, arch: string): Promise<string[]> => {
    const index = await manifest(ref);
    expect(index, ref).toBeDefined();
    const entry = index!.body.manifests?.find((m) => m.platform?.architecture === arch);
    expect(entry, `${ref} has a linux/${arch} image`).toBeDefined();
    const image = await manifest(ref, entry!.digest);
    return (image?.body.layers ?? []).map((l) => l.digest);
  };

  beforeAll(async () => {
    engine = await startEngine();
    registry = engine.registry;
    work = mkdtempSync(join(tmpdir(), 'kolla-gen-e2e-changes-'));
    // the offline bases: busybox rootfs tars, committed with the tree since they are part of base's content
    seedTree(engine, TREE, work);
    writeFileSync(join(work, '.gitignore'), 'generated*/\n');
    await git(['init', '-q']);
    await git(['add', '-A']);
    await git(['commit', '-q', '-m', 'the e2e fixture tree']);
  });

  afterAll(async () => {
    try {
      await engine?.stop();
    } finally {
      if (work) rmSync(work, { recursive: true, force: true });
    }
  });

  it('builds and pushes every image with a content tag the registry then holds', async () => {
    const t0 = Date.now();
    const { out } = await generateThenBuild<Summary>(['build', '--registry', registry, '--content-tags', '--push', '--provenance=false']);
    console.info(`[e2e changes] full build --content-tags --push: ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    expect(names(out.result.built)).toEqual(TARGETS);
    expect(out.result.existing).toEqual([]);

    const bake = bakeFile();
    // a join's per-arch targets push nothing: the join carries the image's tags and content tag
    const tagged = Object.entries(bake.target).filter(([, t]) => (t.tags ?? []).length > 0);
    contentTags = new Map(tagged.map(([name, t]) => [name, (t.tags ?? []).find((tag) => CONTENT_TAG.test(tag)) ?? '']));
    expect([...contentTags.keys()].sort()).toEqual(TARGETS);
    for (const [target, tag] of contentTags) {
      expect(tag, target).toMatch(new RegExp(`^${registry}/e2e/[a-z]+:kg-[0-9a-f]{32}$`));
      expect(await exists(tag), `${tag} (${target}) is in the registry`).toBe(true);
      // the tag names the target's hash over its arches' hashes in manifest.json (one arch: that arch's hash)
      const hash = targetHash((await generatedManifest()).filter((e) => e.target === target).map((e) => ({ arch: e.arch, hash: e.hash })));
      expect(hash, target).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(tag.endsWith(`:kg-${hash.slice(7, 39)}`), `${tag} names ${hash}`).toBe(true);
    }
    expect(new Set(contentTags.values()).size).toBe(TARGETS.length);
    // archinfo's join pushed one manifest list, both arches, under its plain tag and its content tag
    const list = await manifest(contentTags.get('debian-archinfo') ?? '');
    expect(list?.body.manifests?.map((m) => m.platform?.architecture).sort()).toEqual(['amd64', 'arm64']);
    expect(list?.digest).toBe((await manifest(`${registry}/e2e/archinfo:1`))?.digest);
    // each arch's image in a list also has its per-arch content tag, kg-<that arch's hash>: what a one-arch run pushes
    for (const [target, tag] of contentTags) {
      const listed = await manifest(tag);
      for (const entry of (await generatedManifest()).filter((e) => e.target === target)) {
        const perArch = `${tag.slice(0, tag.lastIndexOf(':'))}:kg-${entry.hash.slice(7, 39)}`;
        const inList = listed?.body.manifests?.find((m) => m.platform?.architecture === entry.arch)?.digest;
        expect(inList, `${tag} holds linux/${entry.arch}`).toBeDefined();
        expect((await manifest(perArch))?.digest, `${perArch} (${target} on ${entry.arch})`).toBe(inList);
      }
    }
    pushed = await digests();
    // per image: its human tag, its content tag, and one per-arch content tag per arch
    expect(pushed.size).toBe(9 * 4);
  });

  it('builds nothing in a one-arch run with --skip-existing: it finds the per-arch content tags the multi-arch run pushed', async () => {
    const { out } = await kgJson<Summary>(['build', '-a', 'arm64', '--registry', registry, '--content-tags=only', '--skip-existing', '--push', '--provenance=false']);
    expect(out.result.built).toEqual([]);
    expect(out.result.existing).toHaveLength(TARGETS.length);
    for (const e of out.result.existing) expect(pushed.has(e.contentTag ?? ''), `${e.target}: ${e.contentTag}`).toBe(true);
    expect(await digests()).toEqual(pushed);
  });

  it('builds nothing again: --skip-existing finds every target in the registry', async () => {
    const t0 = Date.now();
    const { out, stderr } = await generateThenBuild<Summary>(['build', '--registry', registry, '--skip-existing', '--push', '--provenance=false']);
    console.info(`[e2e changes] --skip-existing with everything pushed: ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    expect(out.result.built).toEqual([]);
    expect(names(out.result.existing)).toEqual(TARGETS);
    for (const e of out.result.existing) {
      expect(e.contentTag, e.target).toBe(contentTags.get(e.target));
      // every human tag already names the image of its content tag
      expect(e.retagged, e.target).toBeUndefined();
    }
    // no bake ran, and every tag still names what the first build pushed
    expect(stderr).not.toContain('load local bake definitions');
    expect(await digests()).toEqual(pushed);
    const text = await kg(['build', '--registry', registry, '--skip-existing', '--push', '--provenance=false']);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout.split('\n').pop()).toBe('0 built, 0 failed, 0 skipped, 9 already in the registry, 0 unbuildable');
  });

  it('selects, builds and explains only a changed leaf, built on its parent as the registry holds it', async () => {
    appendFileSync(template('plugin'), 'RUN echo "changed since HEAD" > {{ marker_dir }}/plugin-changed\n');
    const common = ['--registry', registry, '--affected-since', 'HEAD', '--content-tags'];

    const { out: listed } = await kgJson<Listing>(['list', ...common]);
    expect(listed.result.variants.map((v) => [v.arch, v.images, v.unaffected?.slice().sort()])).toEqual(
      ['amd64', 'arm64'].map((arch) => [arch, ['plugin'], IMAGES.filter((i) => i !== 'plugin')]),
    );

    const t0 = Date.now();
    const { out } = await generateThenBuild<Summary>(['build', ...common, '--push', '--provenance=false']);
    console.info(`[e2e changes] --affected-since HEAD, one leaf changed: ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    expect(names(out.result.built)).toEqual(['debian-plugin']);
    // its parent app is not built: plugin builds on app's content tag, pulled from the registry
    const appTag = contentTags.get('debian-app')!;
    const plugin = bakeFile().target['debian-plugin'];
    expect(plugin?.contexts).toEqual({ [`${registry}/e2e/app:1`]: `docker-image://${appTag}` });
    const newTag = plugin?.tags?.find((t) => CONTENT_TAG.test(t));
    expect(newTag).toBeDefined();
    expect(newTag).not.toBe(contentTags.get('debian-plugin'));
    const human = await manifest(`${registry}/e2e/plugin:1`);
    expect(human?.digest).toBe((await manifest(newTag!))?.digest);
    for (const arch of ['amd64', 'arm64']) {
      const parent = await layers(appTag, arch);
      const child = await layers(newTag!, arch);
      expect(child.slice(0, parent.length), `plugin's ${arch} layers start with app's`).toEqual(parent);
      expect(child.length).toBeGreaterThan(parent.length);
    }
    // the new plugin, on arm64 under emulation: its own new file, and what app's RUN wrote
    await engine!.docker(['pull', '--quiet', '--platform', 'linux/arm64', newTag!]);
    const run = await engine!.docker(['run', '--rm', '--platform', 'linux/arm64', newTag!, 'sh', '-c', 'cat /etc/e2e/plugin-changed /etc/e2e/app-saw']);
    expect(String(run.stdout).trim()).toBe('changed since HEAD\ntools on aarch64\naarch64');

    const { out: why } = await kgJson<{ image: string; explanations: Explanation[] }>(['explain', 'plugin', ...common]);
    expect(why.result.explanations).toHaveLength(1);
    const [leaf] = why.result.explanations;
    expect(leaf).toMatchObject({ variant: 'debian', arches: ['amd64', 'arm64'], status: 'selected', target: 'debian-plugin', contentTag: newTag });
    expect(leaf?.reasons).toContain('affected since HEAD: the rendered Dockerfile changed');
    // The template is no file of the build context (the ignore file beside the Dockerfile keeps it out).
    expect(leaf?.reasons).not.toContain('affected since HEAD: context file Dockerfile.j2 changed');
    expect(leaf?.reasons).toContain(`its parent app is not built in this run: it builds on ${appTag}`);
    for (const image of ['app', 'worker']) {
      const { out: other } = await kgJson<{ image: string; explanations: Explanation[] }>(['explain', image, ...common]);
      expect(other.result.explanations.map((e) => [e.status, e.target]), image).toEqual([['unaffected', undefined]]);
      expect(other.result.explanations[0]?.reasons).toContain('unaffected since HEAD: its hash and every ancestor\'s are what they were');
    }
    // and in words
    const text = await kg(['explain', 'plugin', ...common]);
    expect(text.stdout).toContain('plugin on debian amd64, arm64: selected (target debian-plugin: linux/amd64, linux/arm64)');
    expect(text.stdout).toContain('  - affected since HEAD: the rendered Dockerfile changed');
  });

  it('selects every image when the root changed', async () => {
    await git(['checkout', '--', 'docker/plugin/Dockerfile.j2']);
    // an instruction: a comment or blank line is no change to what BuildKit builds (test/e2e/comments.test.ts)
    appendFileSync(template('base'), 'ENV KG_E2E_ROOT_CHANGED=1\n');
    try {
      const { out } = await kgJson<Listing>(['list', '--registry', registry, '--affected-since', 'HEAD']);
      expect(out.result.variants.map((v) => [v.arch, v.images.slice().sort(), v.unaffected])).toEqual(
        ['amd64', 'arm64'].map((arch) => [arch, IMAGES, []]),
      );
      const { out: why } = await kgJson<{ image: string; explanations: Explanation[] }>(['explain', 'worker', '--registry', registry, '--affected-since', 'HEAD']);
      expect(why.result.explanations.map((e) => [e.status, e.reasons])).toEqual([
        ['selected', ['no regex or profile given: every image is selected', 'affected since HEAD: its ancestor base changed']],
      ]);
    } finally {
      await git(['checkout', '--', 'docker/base/Dockerfile.j2']);
    }
    expect((await git(['status', '--porcelain'])).stdout).toBe('');
  });

  it('rebuilds the one image whose content tag the registry lost, and tags the others again where needed', async () => {
    const lost = contentTags.get('debian-service')!;
    const found = await manifest(lost);
    expect(found).toBeDefined();
    // first its arm64 image alone, by digest, as a retention rule on untagged manifests would: the list stays under
    // the tag, whose HEAD cannot tell (the default finds service there); --verify-existing reads the list and asks, on
    // a runner with no kolla-gen cache (one that kept the list from an earlier check trusts it: docs/changes.md)
    const arm64 = found!.body.manifests?.find((m) => m.platform?.os === 'linux' && m.platform.architecture === 'arm64');
    expect(arm64, `${lost} holds linux/arm64`).toBeDefined();
    expect((await fetch(`${api(lost).base}/${arm64!.digest}`, { method: 'DELETE' })).status).toBe(202);
    expect(await exists(lost), 'the list is still under its tag').toBe(true);
    const fresh = { KOLLA_GEN_CACHE: 'off' };
    const existing = async (extra: string[]) =>
      (await kgJson<{ variants: { existing?: string[] }[] }>(['list', '--registry', registry, '--skip-existing', ...extra], 0, fresh)).out.result.variants.flatMap((v) => v.existing ?? []);
    expect(await existing([])).toContain('service');
    expect(await existing(['--verify-existing'])).not.toContain('service');
    const verified = await kgJson<{ explanations: Explanation[] }>(['explain', 'service', '--registry', registry, '--skip-existing', '--verify-existing'], 0, fresh);
    expect(verified.out.result.explanations[0]?.reasons).toContain(`the registry's ${lost} lacks linux/arm64: built (--skip-existing)`);
    // then the rest of it: the tag is gone
    await deleteImages(lost, { body: { ...found!.body, manifests: found!.body.manifests?.filter((m) => m !== arm64) } });
    const del = await fetch(`${api(lost).base}/${found!.digest}`, { method: 'DELETE' });
    expect(del.status).toBe(202);
    expect(await exists(lost)).toBe(false);
    expect(await exists(`${registry}/e2e/service:1`), 'the human tag named the same manifest').toBe(false);

    const explained = async (image: string) =>
      (await kgJson<{ image: string; explanations: Explanation[] }>(['explain', image, '--registry', registry, '--skip-existing'])).out.result.explanations;
    expect(await explained('service')).toEqual([
      expect.objectContaining({
        status: 'selected',
        target: 'debian-service',
        contentTag: lost,
        reasons: [
          'no regex or profile given: every image is selected',
          `the registry does not hold ${lost}: built (--skip-existing)`,
          `its parent runtime is not built in this run: it builds on ${contentTags.get('debian-runtime')}`,
        ],
      }),
    ]);
    expect(await explained('worker')).toEqual([
      expect.objectContaining({
        status: 'existing',
        contentTag: contentTags.get('debian-worker'),
        reasons: ['no regex or profile given: every image is selected', `the registry already holds ${contentTags.get('debian-worker')}: not built (--skip-existing)`],
      }),
    ]);

    const t0 = Date.now();
    const { out } = await generateThenBuild<Summary>(['build', '--registry', registry, '--skip-existing', '--push', '--provenance=false']);
    console.info(`[e2e changes] --skip-existing, one content tag deleted: ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    expect(names(out.result.built)).toEqual(['debian-service']);
    expect(names(out.result.existing)).toEqual(TARGETS.filter((t) => t !== 'debian-service'));
    // the test before pushed a changed plugin under plugin:1: it names HEAD's plugin again
    expect(out.result.existing.filter((e) => e.retagged).map((e) => [e.target, e.retagged])).toEqual([
      ['debian-plugin', [`${registry}/e2e/plugin:1`]],
    ]);
    expect((await manifest(`${registry}/e2e/plugin:1`))?.digest).toBe((await manifest(contentTags.get('debian-plugin')!))?.digest);
    // service was built on runtime's content tag, and pushed under its own again
    expect(bakeFile().target['debian-service']?.contexts).toEqual({ [`${registry}/e2e/runtime:1`]: `docker-image://${contentTags.get('debian-runtime')}` });
    expect(await exists(lost)).toBe(true);
    expect((await manifest(`${registry}/e2e/service:1`))?.digest).toBe((await manifest(lost))?.digest);
  });

  it('after a new --tag, builds nothing and points the new tags at the images the registry holds', async () => {
    const { out } = await generateThenBuild<Summary>(['build', '--registry', registry, '--tag', '2', '--skip-existing', '--push', '--provenance=false']);
    expect(out.result.built).toEqual([]);
    expect(names(out.result.existing)).toEqual(TARGETS);
    // a parent's ref in a FROM line is not hashed: the content tags are those of --tag 1
    expect(new Map(out.result.existing.map((e) => [e.target, e.contentTag]))).toEqual(contentTags);
    for (const e of out.result.existing) {
      expect(e.retagged, e.target).toEqual(e.tags?.filter((tag) => !CONTENT_TAG.test(tag)));
      for (const tag of e.retagged ?? []) {
        expect(tag, e.target).toMatch(/:2$/);
        expect((await manifest(tag))?.digest, tag).toBe((await manifest(e.contentTag!))?.digest);
      }
    }
  });

  it('refuses to build on an unaffected parent the registry lost (KG905), and with --skip-existing builds it too', async () => {
    const lost = contentTags.get('debian-app')!;
    const found = await manifest(lost);
    expect(found).toBeDefined();
    await deleteImages(lost, found!);
    expect((await fetch(`${api(lost).base}/${found!.digest}`, { method: 'DELETE' })).status).toBe(202);
    appendFileSync(template('plugin'), 'RUN echo changed again > /etc/e2e/plugin-again\n');
    try {
      const refused = await kgJson<Summary>(['build', '--registry', registry, '--affected-since', 'HEAD', '--content-tags', '--push', '--provenance=false'], 1);
      const kg905 = refused.out.diagnostics.find((d) => d.code === 'KG905');
      expect(kg905?.message, JSON.stringify(refused.out.diagnostics)).toContain(lost);
      expect(refused.out.result).toBeNull();
      expect(await exists(lost), 'nothing was pushed').toBe(false);

      const { out } = await generateThenBuild<Summary>(['build', '--registry', registry, '--affected-since', 'HEAD', '--skip-existing', '--push', '--provenance=false']);
      expect(names(out.result.built)).toEqual(['debian-app', 'debian-plugin']);
      expect(await exists(lost), 'app was built again under its content tag').toBe(true);
      expect(bakeFile().target['debian-app']?.contexts).toEqual({ [`${registry}/e2e/tools:1`]: `docker-image://${contentTags.get('debian-tools')}` });
      expect(bakeFile().target['debian-plugin']?.contexts).toEqual({ [`${registry}/e2e/app:1`]: 'target:debian-app' });
    } finally {
      await git(['checkout', '--', 'docker/plugin/Dockerfile.j2']);
    }
  });

  it('reads and writes a registry cache per image, variant and arch', async () => {
    const cache = `${registry}/cache`;
    const args = ['build', '^base$', '--registry', registry, '--tag', 'cache', '--cache-ref', cache, '--push', '--provenance=false', '-o', 'generated-cache'];
    const t0 = Date.now();
    const { stderr: first } = await generateThenBuild<Summary>(args);
    console.info(`[e2e changes] --cache-ref, export: ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    expect(bakeFile('generated-cache').target['debian-base']).toMatchObject({
      'cache-from': [`type=registry,ref=${cache}/base:debian-amd64`, `type=registry,ref=${cache}/base:debian-arm64`],
      'cache-to': [`type=registry,ref=${cache}/base:debian-amd64,mode=max`, `type=registry,ref=${cache}/base:debian-arm64,mode=max`],
    });
    expect(first).toContain('exporting cache to registry');
    for (const arch of ['amd64', 'arm64']) {
      const ref = `${cache}/base:debian-${arch}`;
      const found = await manifest(ref);
      // a cache manifest: layers and BuildKit's cache config, no image. The oldest engine's BuildKit writes it as an index
      // listing the config; today's (image-manifest=true by default) as an image manifest whose config it is.
      const kinds = [...(found?.body.manifests?.map((m) => m.mediaType) ?? []), found?.body.config?.mediaType];
      expect(kinds, ref).toContain('application/vnd.buildkit.cacheconfig.v0');
    }

    await engine!.docker(['buildx', 'prune', '-af']);
    const t1 = Date.now();
    const { stderr } = await generateThenBuild<Summary>([...args, '--no-cache-export']);
    console.info(`[e2e changes] --cache-ref --no-cache-export after prune: ${((Date.now() - t1) / 1000).toFixed(1)}s`);
    expect(bakeFile('generated-cache').target['debian-base']?.['cache-to']).toBeUndefined();
    for (const arch of ['amd64', 'arm64']) expect(stderr).toContain(`importing cache manifest from ${cache}/base:debian-${arch}`);
    expect(stderr).not.toContain('failed to configure registry cache importer');
    const { steps, ran, lines } = stepsRunAgain(stderr);
    // ADD rootfs, RUN mkdir, RUN uname: on each arch
    expect(steps, stderr.slice(-3000)).toBe(6);
    expect(ran, lines).toEqual([]);
    expect(stderr).not.toContain('exporting cache to registry');
  });

  it('per-arch CI: two one-arch runs, then a multi-arch --skip-existing run that only makes the lists, give the tags of one multi-arch run', async () => {
    // The commands of this repository's images.yml (its build jobs on main, then its lists job), in a repository of
    // their own (another namespace: nothing of the runs above is there).
    const workflow = parseYaml(readFileSync(join(ROOT, '.github', 'workflows', 'images.yml'), 'utf8')) as { jobs: Record<string, { steps: { name?: string; run?: string }[] }> };
    const command = (job: string, step: string, arch = '') => {
      const run = workflow.jobs[job]?.steps.find((s) => s.name?.startsWith(step))?.run ?? '';
      expect(run, `${job}: ${step}`).toMatch(/^npx kolla-gen build /);
      return run.replaceAll('${{ matrix.arch }}', arch).trim().split(/\s+/).slice(2);
    };
    const ns = ['--registry', registry, '--namespace', 'ci'];
    const perArch = new Map<string, string>();
    for (const arch of ['amd64', 'arm64']) {
      const t0 = Date.now();
      const { out } = await kgJson<Summary>([...command('build', 'build what the registry lacks', arch), ...ns]);
      console.info(`[e2e changes] one-arch run ${arch}: ${((Date.now() - t0) / 1000).toFixed(1)}s`);
      expect(names(out.result.built), arch).toEqual(TARGETS);
      for (const e of out.result.built) {
        const tag = e.tags?.find((t) => CONTENT_TAG.test(t));
        expect(tag, e.target).toBeDefined();
        perArch.set(`${e.target} ${arch}`, tag!);
      }
    }
    const t0 = Date.now();
    const { out } = await kgJson<Summary>([...command('lists', 'make the manifest lists'), ...ns]);
    console.info(`[e2e changes] multi-arch --skip-existing after the one-arch runs (lists only): ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    expect(out.result.built).toEqual([]);
    expect(names(out.result.existing)).toEqual(TARGETS);
    for (const e of out.result.existing) {
      // the same content tag a multi-arch run pushed (the first test), in this repository
      expect(e.contentTag?.split(':').pop(), e.target).toBe(contentTags.get(e.target)?.split(':').pop());
      expect(e.contentTag?.startsWith(`${registry}/ci/`), e.contentTag).toBe(true);
      // its list holds the images the one-arch runs pushed, and the human tag names that list
      const list = await manifest(e.contentTag!);
      for (const arch of ['amd64', 'arm64']) {
        const entry = list?.body.manifests?.find((m) => m.platform?.architecture === arch);
        // a one-arch run pushes its image with its provenance (attest: of kolla-gen.yaml): an index of the image
        // and its attestation manifest, whose image the list names
        const pushed = await manifest(perArch.get(`${e.target} ${arch}`)!);
        const image = pushed?.body.manifests ? pushed.body.manifests.find((m) => m.platform?.architecture === arch)?.digest : pushed?.digest;
        expect(entry?.digest, `${e.contentTag} ${arch}`).toBe(image);
      }
      expect((await manifest(`${registry}/ci/${e.target.replace(/^debian-/, '')}:1`))?.digest, e.target).toBe(list?.digest);
    }
    // the arm64 image of a list runs, emulated, as the arm64 run built it
    const worker = out.result.existing.find((e) => e.target === 'debian-worker')!;
    await engine!.docker(['pull', '--quiet', '--platform', 'linux/arm64', `${registry}/ci/worker:1`]);
    const run = await engine!.docker(['run', '--rm', '--platform', 'linux/arm64', `${registry}/ci/worker:1`, 'uname', '-m']);
    expect(String(run.stdout).trim(), worker.target).toBe('aarch64');
  });

  it('stops, or with =warn builds everything, when the registry cannot be asked', async () => {
    const port = await closedPort();
    const args = ['build', '^base$', '--registry', `127.0.0.1:${port}`, '-o', 'generated-offline'];
    const { out, stderr } = await kgJson<Summary | null>([...args, '--skip-existing'], 1);
    expect(out.diagnostics.map((d) => [d.code, d.severity])).toEqual([['KG902', 'error']]);
    expect(out.diagnostics[0]?.message).toContain(`127.0.0.1:${port}`);
    expect(out.result).toBeNull();
    expect(stderr).not.toContain('load local bake definitions');

    // build alone: generated-offline was never written, so build bakes a private generation and says so (KG710)
    const { out: warned } = await kgJson<Summary>([...args, '--skip-existing=warn']);
    expect(warned.diagnostics.map((d) => [d.code, d.severity])).toEqual([['KG902', 'warning'], ['KG710', 'warning']]);
    expect(existsSync(join(work, 'generated-offline')), 'build never writes an output dir').toBe(false);
    expect(names(warned.result.built)).toEqual(['debian-base']);
    expect(warned.result.existing).toEqual([]);
  });
});
