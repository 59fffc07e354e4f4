// Building only what changed, with the built CLI on copies of the fixtures made git repos: content hashes in the
// output, --affected-since, explain, --skip-existing against a small registry served here, and KG900–KG903.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseHcl } from '@cdktf/hcl2json';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { closedPort, listenLocal } from './support/net.js';
import { contentRef, targetHash } from '../src/changes/content-hash.js';
import { FIXTURES, copyFixture, run, snapshot, temps, write } from './support/cli.js';
import { withHashes } from './support/hashes.js';
import { CODES } from '../src/core/diagnostics.js';
import type { Arch } from '../src/core/types.js';

const HASH = /^sha256:[0-9a-f]{64}$/;
const CONTENT_TAG = /:kg-[0-9a-f]{32}$/;

const servers: http.Server[] = [];

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

const git = (cwd: string, args: string[]) => execa('git', args, { cwd });

/** Everything in dir committed, in a git repo of its own. */
async function commitAll(dir: string, message = 'tree'): Promise<void> {
  if (!fs.existsSync(path.join(dir, '.git'))) {
    await git(dir, ['init', '-q']);
    await git(dir, ['config', 'user.email', 'test@example.org']);
    await git(dir, ['config', 'user.name', 'kolla-gen test']);
    await git(dir, ['config', 'commit.gpgsign', 'false']);
  }
  await git(dir, ['add', '-A']);
  await git(dir, ['commit', '-q', '-m', message]);
}

/** A fixture copy in a git repo, its tree committed, before `files` are written (committed too). */
async function repo(name: string, files: Record<string, string> = {}): Promise<string> {
  const dir = copyFixture(name);
  for (const [rel, text] of Object.entries(files)) write(dir, rel, text);
  await commitAll(dir);
  return dir;
}

interface JsonDiagnostic {
  code: string;
  severity: string;
  message: string;
  hint: string;
}
interface JsonOut<T> {
  ok: boolean;
  diagnostics: JsonDiagnostic[];
  result: T;
}
interface Listing {
  variants: { base: string; type?: string; arch: string; images: string[]; unaffected?: string[]; existing?: string[] }[];
}
interface Explanation {
  image: string;
  variant: string;
  arches: string[];
  status: string;
  reasons: string[];
  target?: string;
  platforms?: string[];
  hashes: Record<string, string>;
  contentTag?: string;
}
interface ManifestEntry {
  image: string;
  base: string;
  type?: string;
  arch: Arch;
  status: string;
  target?: string;
  dockerfileDigest: string;
  contextDigest: string;
  tags?: string[];
}
interface BakeTarget {
  contexts?: Record<string, string>;
  tags?: string[];
  labels?: Record<string, string>;
  'cache-from'?: string[];
  'cache-to'?: string[];
}
interface Bake {
  group: Record<string, { targets: string[] }>;
  target: Record<string, BakeTarget>;
}

async function json<T>(cwd: string, args: string[]): Promise<{ exitCode?: number; out: JsonOut<T>; stderr: string }> {
  const r = await run(cwd, [...args, '--json']);
  return { exitCode: r.exitCode, out: JSON.parse(r.stdout) as JsonOut<T>, stderr: r.stderr };
}

const codes = (out: JsonOut<unknown>) => out.diagnostics.map((d) => `${d.severity}:${d.code}`);

/** `list --affected-since HEAD`: each variant's selected images ("ubuntu-amd64" → "base,db"). */
async function affected(dir: string, args: string[] = []): Promise<{ codes: string[]; selected: Record<string, string> }> {
  const { exitCode, out } = await json<Listing>(dir, ['list', '--affected-since', 'HEAD', ...args]);
  expect(exitCode).toBe(0);
  return { codes: codes(out), selected: Object.fromEntries(out.result.variants.map((v) => [`${v.base}-${v.arch}`, v.images.join(',')])) };
}

/** The same images selected on every variant of test/fixtures/basic. */
const everyVariant = (images: string) => ({ 'ubuntu-amd64': images, 'ubuntu-arm64': images, 'rocky-amd64': images, 'rocky-arm64': images });

const readManifest = (dir: string) => (JSON.parse(fs.readFileSync(path.join(dir, 'generated', 'manifest.json'), 'utf8')) as { images: ManifestEntry[] }).images;
const readBakeJson = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'generated', 'docker-bake.json'), 'utf8')) as Bake;

async function readBakeHcl(dir: string): Promise<Bake> {
  const raw = (await parseHcl('docker-bake.hcl', fs.readFileSync(path.join(dir, 'generated', 'docker-bake.hcl'), 'utf8'))) as Record<string, Record<string, unknown[]>>;
  const unwrap = <T>(blocks: Record<string, unknown[]> = {}) => Object.fromEntries(Object.entries(blocks).map(([name, bodies]) => [name, bodies[0] as T]));
  return { group: unwrap(raw.group), target: unwrap(raw.target) };
}

/** The target hash of an image on a variant, from the manifest's per-arch hashes (what a folded target pushes). */
function imageTargetHash(manifest: (ManifestEntry & { hash: string })[], image: string, base: string): string {
  return targetHash(manifest.filter((e) => e.image === image && e.base === base).map((e) => ({ arch: e.arch, hash: e.hash })));
}

describe('content hashes in the output', () => {
  it('gives every (image, variant) a hash (list --json), and no bake target a label that would differ between one-arch and multi-arch runs', async () => {
    const dir = copyFixture('basic');
    expect((await run(dir, ['generate'])).exitCode).toBe(0);
    const manifest = await withHashes(dir, readManifest(dir));
    expect(manifest).toHaveLength(16);
    for (const entry of manifest) expect(entry.hash).toMatch(HASH);
    // 16 (image, variant)s, 16 different hashes: the platform is in every hash
    expect(new Set(manifest.map((e) => e.hash)).size).toBe(16);
    // manifest.json records each image's own inputs, no hash covering its parents'
    for (const entry of readManifest(dir)) {
      expect(entry).not.toHaveProperty('hash');
      expect(entry.dockerfileDigest).toMatch(HASH);
      expect(entry.contextDigest).toMatch(HASH);
    }
    const hcl = await readBakeHcl(dir);
    const bake = readBakeJson(dir);
    expect(Object.keys(bake.target)).toHaveLength(8);
    for (const [name, target] of Object.entries(bake.target)) {
      expect(target.labels?.['kolla-gen.image'], name).toBeDefined();
      expect(target.labels?.['kolla-gen.content-hash'], name).toBeUndefined();
      expect(hcl.target[name]?.labels?.['kolla-gen.content-hash'], name).toBeUndefined();
    }
    // no content tag without --content-tags
    expect(Object.values(bake.target).flatMap((t) => t.tags ?? []).filter((tag) => CONTENT_TAG.test(tag))).toEqual([]);
  });

  it('--content-tags adds <repository>:kg-<32 hex> to every target, in both bake files and the manifest', async () => {
    const dir = copyFixture('basic');
    expect((await run(dir, ['generate', '--content-tags'])).exitCode).toBe(0);
    const manifest = await withHashes(dir, readManifest(dir));
    const hcl = await readBakeHcl(dir);
    const bake = readBakeJson(dir);
    const expected = contentRef('acme/base:1.0-ubuntu', imageTargetHash(manifest, 'base', 'ubuntu'));
    expect(expected).toMatch(/^acme\/base:kg-[0-9a-f]{32}$/);
    expect(bake.target['ubuntu-base']?.tags).toEqual(['acme/base:1.0-ubuntu', expected]);
    expect(hcl.target['ubuntu-base']?.tags).toEqual(['acme/base:1.0-ubuntu', expected]);
    expect(manifest.filter((e) => e.image === 'base' && e.base === 'ubuntu').map((e) => e.tags)).toEqual([
      ['acme/base:1.0-ubuntu', expected],
      ['acme/base:1.0-ubuntu', expected],
    ]);
    for (const [name, target] of Object.entries(bake.target)) {
      expect(target.tags?.filter((t) => CONTENT_TAG.test(t)), name).toHaveLength(1);
      expect(hcl.target[name]?.tags).toEqual(target.tags);
    }
  });

  it('keeps every hash, and the kg- part of every content tag, under another tag, registry and namespace', async () => {
    const dir = copyFixture('basic');
    expect((await run(dir, ['generate', '--content-tags'])).exitCode).toBe(0);
    const hashes = (await withHashes(dir, readManifest(dir))).map((e) => e.hash);
    const kg = (bake: Bake) =>
      Object.fromEntries(Object.entries(bake.target).map(([name, t]) => [name, t.tags?.find((tag) => CONTENT_TAG.test(tag))?.replace(/^.*:/, '')]));
    const before = kg(readBakeJson(dir));
    expect((await run(dir, ['generate', '--content-tags', '--tag', '2.0', '--registry', 'reg.example:5000', '-n', 'other'])).exitCode).toBe(0);
    expect((await withHashes(dir, readManifest(dir), ['--tag', '2.0', '--registry', 'reg.example:5000', '-n', 'other'])).map((e) => e.hash)).toEqual(hashes);
    expect(Object.keys(before)).toHaveLength(8);
    expect(kg(readBakeJson(dir))).toEqual(before);
    expect(readBakeJson(dir).target['ubuntu-db']?.tags).toEqual(['reg.example:5000/other/db:2.0', `reg.example:5000/other/db:${before['ubuntu-db']}`]);
  });

  it('--cache-ref adds cache-from and cache-to per arch; --no-cache-export only cache-from', async () => {
    const dir = copyFixture('basic');
    expect((await run(dir, ['generate', '--cache-ref', 'reg:5000/cache'])).exitCode).toBe(0);
    const from = ['type=registry,ref=reg:5000/cache/db:ubuntu-amd64', 'type=registry,ref=reg:5000/cache/db:ubuntu-arm64'];
    const to = from.map((ref) => `${ref},mode=max`);
    for (const bake of [readBakeJson(dir), await readBakeHcl(dir)]) {
      expect(bake.target['ubuntu-db']?.['cache-from']).toEqual(from);
      expect(bake.target['ubuntu-db']?.['cache-to']).toEqual(to);
    }
    expect((await run(dir, ['generate', '--cache-ref', 'reg:5000/cache', '--no-cache-export'])).exitCode).toBe(0);
    for (const bake of [readBakeJson(dir), await readBakeHcl(dir)]) {
      expect(bake.target['ubuntu-db']?.['cache-from']).toEqual(from);
      expect(bake.target['ubuntu-db']?.['cache-to']).toBeUndefined();
    }
  });
});

describe('--affected-since', () => {
  it('selects nothing when nothing changed, and says so (KG602)', async () => {
    const dir = await repo('basic');
    const { exitCode, out } = await json<Listing>(dir, ['list', '--affected-since', 'HEAD']);
    expect(exitCode).toBe(0);
    expect(codes(out)).toEqual(['warning:KG602']);
    expect(out.diagnostics[0]?.message).toBe('no image selected is affected since HEAD');
    for (const v of out.result.variants) {
      expect(v.images).toEqual([]);
      expect(v.unaffected).toEqual(['base', 'db', 'tools-base', 'tools-api']);
    }
  });

  it('compiles the revision and never reads its manifest: a revision committed with the version 1 manifest (chained hashes) works, and generate replaces it', async () => {
    const dir = copyFixture('basic');
    expect((await run(dir, ['generate'])).exitCode).toBe(0);
    // generated/ as kolla-gen wrote it before manifest version 2: a chained `hash` per entry (here one no compile gives)
    const file = path.join(dir, 'generated', 'manifest.json');
    const v2 = JSON.parse(fs.readFileSync(file, 'utf8')) as { version: number; images: Record<string, unknown>[] };
    const v1 = {
      ...v2,
      version: 1,
      images: v2.images.map(({ dockerfileDigest: _d, contextDigest: _c, externalBases: _b, ...rest }) => ({ ...rest, hash: `sha256:${'0'.repeat(64)}` })),
    };
    fs.writeFileSync(file, `${JSON.stringify(v1, null, 2)}\n`);
    await commitAll(dir);
    expect(await affected(dir)).toEqual({ codes: ['warning:KG602'], selected: everyVariant('') });
    fs.appendFileSync(path.join(dir, 'docker/tools/tools-base/Dockerfile.j2'), 'RUN echo changed\n');
    expect(await affected(dir)).toEqual({ codes: [], selected: everyVariant('tools-base,tools-api') });
    // the version 1 output dir is kolla-gen's: generate replaces it with version 2
    const made = await run(dir, ['generate']);
    expect(made.exitCode, made.stderr).toBe(0);
    expect((JSON.parse(fs.readFileSync(file, 'utf8')) as { version: number }).version).toBe(2);
  });

  it('after a leaf template changed: only that leaf', async () => {
    const dir = await repo('basic');
    fs.appendFileSync(path.join(dir, 'docker/tools/tools-api/Dockerfile.j2'), 'RUN echo changed\n');
    expect(await affected(dir)).toEqual({ codes: [], selected: everyVariant('tools-api') });
  });

  it('after the root template changed: everything', async () => {
    const dir = await repo('basic');
    fs.appendFileSync(path.join(dir, 'docker/base/Dockerfile.j2'), 'RUN echo changed\n');
    expect(await affected(dir)).toEqual({ codes: [], selected: everyVariant('base,db,tools-base,tools-api') });
  });

  it("after a file was added to the root's folder: everything", async () => {
    const dir = await repo('basic');
    write(dir, 'docker/base/conf/extra.conf', 'setting = 1\n');
    expect(await affected(dir)).toEqual({ codes: [], selected: everyVariant('base,db,tools-base,tools-api') });
  });

  it("after a file the folder's .dockerignore excludes was added: nothing", async () => {
    const dir = await repo('basic', { 'docker/base/.dockerignore': '*.log\nscratch/\n' });
    write(dir, 'docker/base/debug.log', 'noise\n');
    write(dir, 'docker/base/scratch/notes.txt', 'noise\n');
    expect(await affected(dir)).toEqual({ codes: ['warning:KG602'], selected: everyVariant('') });
    // a file it does not exclude still counts
    write(dir, 'docker/base/kept.txt', 'kept\n');
    expect((await affected(dir)).selected).toEqual(everyVariant('base,db,tools-base,tools-api'));
  });

  it('after chmod +x of a context file: that image and its descendants', async () => {
    const dir = await repo('basic', { 'docker/tools/tools-base/setup.sh': '#!/bin/sh\necho setup\n' });
    fs.chmodSync(path.join(dir, 'docker/tools/tools-base/setup.sh'), 0o755);
    expect(await affected(dir)).toEqual({ codes: [], selected: everyVariant('tools-base,tools-api') });
  });

  it('a folded image is affected on every arch when it is on one', async () => {
    // compute renders one package per arch: split at HEAD. The vars change amd64's to arm64's, so compute folds and
    // its arm64 Dockerfile stays as it was: affected on amd64 only, but one target builds both arches.
    const dir = await repo('split', {
      'kolla-gen.yaml': 'bases: [debian]\ntypes: [binary]\ntag: "2026.1"\nvars:\n  qemu_amd64: qemu-system-x86\n  qemu_arm64: qemu-system-arm\n',
      'docker/compute/Dockerfile.j2': "FROM {{ namespace }}/{{ image_prefix }}base:{{ tag }}\nRUN apt-get install -y {{ qemu_amd64 if debian_arch == 'amd64' else qemu_arm64 }}\n",
    });
    expect((await run(dir, ['generate'])).exitCode).toBe(0);
    expect(Object.keys(readBakeJson(dir).target)).toContain('debian-binary-compute-amd64');
    write(dir, 'kolla-gen.yaml', 'bases: [debian]\ntypes: [binary]\ntag: "2026.1"\nvars:\n  qemu_amd64: qemu-system-arm\n  qemu_arm64: qemu-system-arm\n');
    expect(await affected(dir)).toEqual({ codes: [], selected: { 'debian-amd64': 'compute,compute-agent', 'debian-arm64': 'compute,compute-agent' } });
    expect((await run(dir, ['generate', '--affected-since', 'HEAD'])).exitCode).toBe(0);
    const bake = readBakeJson(dir);
    expect(Object.keys(bake.target).sort()).toEqual(['debian-binary-compute', 'debian-binary-compute-agent']);
    expect(readManifest(dir).filter((e) => e.status === 'selected').map((e) => `${e.image}/${e.arch}:${e.target}`)).toEqual([
      'compute/amd64:debian-binary-compute',
      'compute/arm64:debian-binary-compute',
      'compute-agent/amd64:debian-binary-compute-agent',
      'compute-agent/arm64:debian-binary-compute-agent',
    ]);
  });

  it('with --content-tags, links an affected child to the content tag its unaffected parent was pushed under', async () => {
    const dir = await repo('basic');
    // what a full run at HEAD pushed for the parent
    expect((await run(dir, ['generate', '--content-tags'])).exitCode).toBe(0);
    const pushed = readBakeJson(dir).target['ubuntu-base']?.tags?.find((t) => CONTENT_TAG.test(t));
    expect(pushed).toMatch(/^acme\/base:kg-[0-9a-f]{32}$/);
    fs.appendFileSync(path.join(dir, 'docker/db/Dockerfile.j2'), 'RUN echo changed\n');
    const r = await run(dir, ['generate', '--affected-since', 'HEAD', '--content-tags']);
    expect(r.exitCode, r.stderr).toBe(0);
    const hcl = await readBakeHcl(dir);
    const bake = readBakeJson(dir);
    expect(Object.keys(bake.target).sort()).toEqual(['rocky-db', 'ubuntu-db']);
    for (const b of [bake, hcl]) {
      expect(b.target['ubuntu-db']?.contexts).toEqual({ 'acme/base:1.0-ubuntu': `docker-image://${pushed}` });
      expect(b.target['rocky-db']?.contexts).toEqual({ 'acme/base:1.0-rocky': expect.stringMatching(/^docker-image:\/\/acme\/base:kg-[0-9a-f]{32}$/) });
    }
    expect(readManifest(dir).filter((e) => e.image === 'base').map((e) => e.status)).toEqual(['unaffected', 'unaffected', 'unaffected', 'unaffected']);
    // without content tags nothing names the parent's image by its content: the child builds FROM its tag
    expect((await run(dir, ['generate', '--affected-since', 'HEAD'])).exitCode).toBe(0);
    expect(readBakeJson(dir).target['ubuntu-db']?.contexts).toBeUndefined();
  });
});

describe('kolla-gen explain', () => {
  it('names the input that changed, the ancestor it came through, and says when an image is unaffected', async () => {
    const dir = await repo('basic');
    fs.appendFileSync(path.join(dir, 'docker/tools/tools-base/Dockerfile.j2'), 'RUN echo changed\n');
    const changed = await json<{ image: string; explanations: Explanation[] }>(dir, ['explain', 'tools-base', '--affected-since', 'HEAD', '-b', 'ubuntu']);
    expect(changed.exitCode).toBe(0);
    expect(changed.out.result.explanations.map((e) => [e.arches, e.status, e.reasons])).toEqual([
      [
        ['amd64', 'arm64'],
        'selected',
        [
          'no regex or profile given: every image is selected',
          'affected since HEAD: the rendered Dockerfile changed',
          "its parent base is not built in this run: its FROM takes base's ref as the registry holds it now",
        ],
      ],
    ]);
    const below = await run(dir, ['explain', 'tools-api', '--affected-since', 'HEAD', '-b', 'rocky']);
    expect(below.exitCode).toBe(0);
    expect(below.stdout).toMatch(/^tools-api on rocky amd64, arm64: selected \(target rocky-tools-api: linux\/amd64, linux\/arm64\)\n/);
    expect(below.stdout).toContain('\n  - affected since HEAD: its ancestor tools-base changed\n');
    const unaffected = await run(dir, ['explain', 'db', '--affected-since', 'HEAD', '-b', 'ubuntu']);
    expect(unaffected.exitCode).toBe(0);
    expect(unaffected.stdout).toMatch(/^db on ubuntu amd64, arm64: unaffected\n/);
    expect(unaffected.stdout).toContain("\n  - unaffected since HEAD: its hash and every ancestor's are what they were\n");
  });

  it('names a context file whose mode changed', async () => {
    const dir = await repo('basic');
    fs.chmodSync(path.join(dir, 'docker/base/start.sh'), 0o755);
    const r = await run(dir, ['explain', 'base', '--affected-since', 'HEAD', '-b', 'ubuntu', '-a', 'amd64']);
    expect(r.stdout).toContain('\n  - affected since HEAD: context file start.sh changed mode (644 → 755)\n');
  });

  it.each<{ what: string; image: string; args: string[]; files?: Record<string, string>; expected: [string[], string, string[]][] }>([
    {
      what: 'the regex that matches it',
      image: 'tools-api',
      args: ['tools-a', '-b', 'ubuntu'],
      expected: [[['amd64', 'arm64'], 'selected', ['matches the regex /tools-a/']]],
    },
    {
      what: 'the selected image it is a parent of',
      image: 'tools-base',
      args: ['tools-api', '-b', 'ubuntu'],
      expected: [[['amd64', 'arm64'], 'selected', ['a parent of tools-api, which is selected (matches the regex /tools-api/)']]],
    },
    {
      what: 'that no regex selects it',
      image: 'db',
      args: ['tools-api', '-b', 'rocky'],
      expected: [[['amd64', 'arm64'], 'unmatched', ['no regex matches it, and no image a regex selects builds on it']]],
    },
    {
      what: 'the profile that names it',
      image: 'db',
      args: ['-p', 'infra', '-b', 'ubuntu'],
      expected: [[['amd64', 'arm64'], 'selected', ['profile infra names it (/db/)']]],
    },
    {
      what: 'the profile entry of its child',
      image: 'base',
      args: ['-p', 'infra', '-b', 'ubuntu'],
      expected: [[['amd64', 'arm64'], 'selected', ['a parent of db, which is selected (profile infra names it (/db/))']]],
    },
    {
      what: 'that the profiles leave it out',
      image: 'tools-api',
      args: ['-p', 'infra', '-b', 'ubuntu'],
      expected: [[['amd64', 'arm64'], 'unmatched', ['the profiles (infra) name neither it nor an image that builds on it']]],
    },
    {
      what: '--skip-parents',
      image: 'tools-base',
      args: ['tools-a', '--skip-parents', '-b', 'ubuntu'],
      expected: [
        [['amd64', 'arm64'], 'skipped', ['a parent of tools-api, which is selected (matches the regex /tools-a/)', '--skip-parents: it has children in the tree (tools-api)']],
      ],
    },
    {
      what: 'the unbuildable rule that names it',
      image: 'tools-base',
      args: ['-b', 'ubuntu'],
      files: { 'kolla-gen.yaml': 'namespace: acme\ntag: "1.0-{base}"\nbases: [ubuntu, rocky]\narches: [amd64, arm64]\nunbuildable:\n  arm64: [tools-base]\n' },
      expected: [
        [['amd64'], 'selected', ['no regex or profile given: every image is selected']],
        [['arm64'], 'unbuildable', ['unbuildable.arm64 in the config names it']],
      ],
    },
    {
      what: 'the unbuildable ancestor',
      image: 'tools-api',
      args: ['-b', 'ubuntu'],
      files: { 'kolla-gen.yaml': 'namespace: acme\ntag: "1.0-{base}"\nbases: [ubuntu, rocky]\narches: [amd64, arm64]\nunbuildable:\n  arm64: [tools-base]\n' },
      expected: [
        [['amd64'], 'selected', ['no regex or profile given: every image is selected']],
        [['arm64'], 'unbuildable', ['its ancestor tools-base is unbuildable on ubuntu arm64']],
      ],
    },
  ])('says $what', async ({ image, args, files, expected }) => {
    const dir = copyFixture('basic');
    for (const [rel, text] of Object.entries(files ?? {})) write(dir, rel, text);
    const { exitCode, out } = await json<{ image: string; explanations: Explanation[] }>(dir, ['explain', image, ...args]);
    expect(exitCode).toBe(0);
    expect(out.result.explanations.map((e) => [e.arches, e.status, e.reasons])).toEqual(expected);
  });

  it('--json: the image, and per variant its arches, status, reasons, target, platforms, hashes, content tag and what it asks of BuildKit', async () => {
    const dir = copyFixture('basic');
    const { out } = await json<{ image: string; explanations: Explanation[] }>(dir, ['explain', 'db', '--content-tags']);
    expect(out.ok).toBe(true);
    expect(out.result.image).toBe('db');
    expect(out.result.explanations.map((e) => Object.keys(e))).toEqual([
      ['image', 'variant', 'arches', 'status', 'reasons', 'target', 'platforms', 'hashes', 'contentTag', 'frontend', 'buildkit'],
      ['image', 'variant', 'arches', 'status', 'reasons', 'target', 'platforms', 'hashes', 'contentTag', 'frontend', 'buildkit'],
    ]);
    expect((await run(dir, ['generate', '--content-tags'])).exitCode).toBe(0);
    const manifest = await withHashes(dir, readManifest(dir));
    const ubuntu = out.result.explanations[0];
    expect(ubuntu).toEqual({
      image: 'db',
      variant: 'ubuntu',
      arches: ['amd64', 'arm64'],
      status: 'selected',
      reasons: ['no regex or profile given: every image is selected'],
      target: 'ubuntu-db',
      platforms: ['linux/amd64', 'linux/arm64'],
      hashes: Object.fromEntries(manifest.filter((e) => e.image === 'db' && e.base === 'ubuntu').map((e) => [e.arch, e.hash])),
      contentTag: readBakeJson(dir).target['ubuntu-db']?.tags?.find((t) => CONTENT_TAG.test(t)),
      frontend: null,
      buildkit: [],
    });
    expect(ubuntu?.contentTag).toMatch(CONTENT_TAG);
  });
});

// --- a registry ---------------------------------------------------------------------------------------------------

interface Registry {
  /** "127.0.0.1:<port>". */
  host: string;
  /** "repository:tag" → digest of the manifests it holds. */
  manifests: Map<string, string>;
  /** "HEAD /v2/…/manifests/…", in order. */
  requests: string[];
  /** Holds ref (which names this registry) from now on. */
  add(ref: string): void;
}

const INDEX = 'application/vnd.oci.image.index.v1+json';
const IMAGE = 'application/vnd.oci.image.manifest.v1+json';
const MANIFEST_UNKNOWN = JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: null }] });

/** A v2 registry in memory: 200 with a digest for the manifests it holds (each a list of amd64 and arm64), 404 MANIFEST_UNKNOWN for the others. */
async function startRegistry(): Promise<Registry> {
  const manifests = new Map<string, string>();
  /** digest → the list (of amd64 and arm64) it names: its bytes hash to it, as kolla-gen checks. */
  const lists = new Map<string, string>();
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const match = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(req.url ?? '');
    // by digest: a list this registry holds, or an image such a list names (kolla-gen checks that a list holds every arch it needs)
    const reference = match?.[2] ?? '';
    const byDigest = reference.startsWith('sha256:') && !lists.has(reference);
    const digest = reference.startsWith('sha256:') ? reference : match ? manifests.get(`${match[1]}:${reference}`) : undefined;
    if (digest === undefined) {
      res.writeHead(404, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(MANIFEST_UNKNOWN) });
      res.end(MANIFEST_UNKNOWN);
      return;
    }
    const type = byDigest ? IMAGE : INDEX;
    const body = byDigest ? JSON.stringify({ schemaVersion: 2, mediaType: IMAGE, config: {}, layers: [] }) : (lists.get(digest) ?? '');
    res.writeHead(200, { 'Content-Type': type, 'Docker-Content-Digest': digest, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
  // kolla-gen tries HTTPS first on a local host, then HTTP, as docker does
  server.on('clientError', (_error, socket) => socket.destroy());
  servers.push(server);
  const host = await listenLocal(server);
  return {
    host,
    manifests,
    requests,
    add(ref) {
      expect(ref.startsWith(`${host}/`)).toBe(true);
      const entry = (arch: string) => ({ mediaType: IMAGE, digest: `sha256:${createHash('sha256').update(`${ref} ${arch}`).digest('hex')}`, size: 500, platform: { os: 'linux', architecture: arch } });
      const body = JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: [entry('amd64'), entry('arm64')] });
      const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
      lists.set(digest, body);
      manifests.set(ref.slice(host.length + 1), digest);
    },
  };
}

describe('--skip-existing', () => {
  it('leaves out the targets whose content tag the registry holds; their children take that image', async () => {
    const registry = await startRegistry();
    const dir = copyFixture('basic');
    const args = ['--registry', registry.host];
    expect((await run(dir, ['generate', '--content-tags', ...args])).exitCode).toBe(0);
    const all = readBakeJson(dir);
    const contentTag = (target: string) => all.target[target]?.tags?.find((t) => CONTENT_TAG.test(t)) ?? '';
    const baseTag = contentTag('ubuntu-base');
    const toolsTag = contentTag('ubuntu-tools-base');
    expect(baseTag).toBe(`${registry.host}/acme/base:kg-${baseTag.slice(-32)}`);
    registry.add(baseTag);
    registry.add(toolsTag);
    // the human tags alone do not count
    registry.add(`${registry.host}/acme/db:1.0-ubuntu`);

    const r = await run(dir, ['generate', '--skip-existing', ...args]);
    expect(r.exitCode, r.stderr).toBe(0);
    // one question per target's content tag; then, for each of the 6 the registry lacks, one per arch's content tag
    const heads = registry.requests.filter((q) => q.startsWith('HEAD ') && !q.includes('/manifests/sha256:'));
    const asked = Object.values(all.target).map((t) => `HEAD /v2/${(t.tags?.find((tag) => CONTENT_TAG.test(tag)) ?? '').slice(registry.host.length + 1).replace(/:kg-/, '/manifests/kg-')}`);
    for (const q of asked) expect(heads.filter((h) => h === q), q).toHaveLength(1);
    expect(heads).toHaveLength(asked.length + 6 * 2);
    expect(new Set(heads).size).toBe(heads.length);
    // a content tag's HEAD is the answer: no list is read, no entry asked for (--verify-existing would)
    expect(registry.requests.filter((q) => !heads.includes(q))).toEqual([]);
    const hcl = await readBakeHcl(dir);
    const bake = readBakeJson(dir);
    for (const b of [bake, hcl]) {
      expect(Object.keys(b.target).sort()).toEqual(['rocky-base', 'rocky-db', 'rocky-tools-api', 'rocky-tools-base', 'ubuntu-db', 'ubuntu-tools-api']);
      expect(b.group.default?.targets).not.toContain('ubuntu-base');
      expect(b.target['ubuntu-db']?.contexts).toEqual({ [`${registry.host}/acme/base:1.0-ubuntu`]: `docker-image://${baseTag}` });
      expect(b.target['ubuntu-tools-api']?.contexts).toEqual({ [`${registry.host}/acme/tools-base:1.0-ubuntu`]: `docker-image://${toolsTag}` });
      expect(b.target['rocky-db']?.contexts).toEqual({ [`${registry.host}/acme/base:1.0-rocky`]: 'target:rocky-base' });
    }
    const statuses = readManifest(dir).map((e) => `${e.base}/${e.image}/${e.arch}:${e.status}`);
    expect(statuses.filter((s) => s.endsWith(':existing'))).toEqual([
      'ubuntu/base/amd64:existing',
      'ubuntu/base/arm64:existing',
      'ubuntu/tools-base/amd64:existing',
      'ubuntu/tools-base/arm64:existing',
    ]);

    const listed = await json<Listing>(dir, ['list', '--skip-existing', ...args]);
    expect(listed.exitCode).toBe(0);
    expect(listed.out.result.variants.map((v) => [`${v.base}-${v.arch}`, v.images, v.existing])).toEqual([
      ['ubuntu-amd64', ['db', 'tools-api'], ['base', 'tools-base']],
      ['ubuntu-arm64', ['db', 'tools-api'], ['base', 'tools-base']],
      ['rocky-amd64', ['base', 'db', 'tools-base', 'tools-api'], []],
      ['rocky-arm64', ['base', 'db', 'tools-base', 'tools-api'], []],
    ]);
    const text = await run(dir, ['list', '--skip-existing', '-b', 'ubuntu', ...args]);
    expect(text.stdout).toBe('ubuntu-amd64: 2 selected, 2 already in the registry\n  db\n  tools-api\nubuntu-arm64: 2 selected, 2 already in the registry\n  db\n  tools-api');

    const explained = await json<{ explanations: Explanation[] }>(dir, ['explain', 'base', '--skip-existing', '-b', 'ubuntu', ...args]);
    expect(explained.out.result.explanations).toEqual([
      expect.objectContaining({ status: 'existing', contentTag: baseTag, reasons: expect.arrayContaining([`the registry already holds ${baseTag}: not built (--skip-existing)`]) }),
    ]);
  });
});

describe('--skip-existing with --affected-since', () => {
  it('builds an unaffected parent whose content tag the registry lacks, and links to it once the registry holds it', async () => {
    const registry = await startRegistry();
    const dir = await repo('basic');
    const args = ['--affected-since', 'HEAD', '--skip-existing', '--registry', registry.host, '-b', 'ubuntu'];
    fs.appendFileSync(path.join(dir, 'docker/db/Dockerfile.j2'), 'RUN echo changed\n');
    const images = async () => {
      const { exitCode, out } = await json<Listing>(dir, ['list', ...args]);
      expect(exitCode).toBe(0);
      return out.result.variants.map((v) => `${v.arch}: ${v.images.join(',')} (unaffected: ${v.unaffected?.join(',')})`);
    };
    // the registry holds nothing: db would build on base's content tag, which is not there, so base is built too
    expect(await images()).toEqual(['amd64: base,db (unaffected: tools-base,tools-api)', 'arm64: base,db (unaffected: tools-base,tools-api)']);
    expect((await run(dir, ['generate', ...args])).exitCode).toBe(0);
    expect(readBakeJson(dir).target['ubuntu-db']?.contexts).toEqual({ [`${registry.host}/acme/base:1.0-ubuntu`]: 'target:ubuntu-base' });
    const baseTag = readBakeJson(dir).target['ubuntu-base']?.tags?.find((t) => CONTENT_TAG.test(t)) ?? '';
    registry.add(baseTag);
    expect(await images()).toEqual(['amd64: db (unaffected: base,tools-base,tools-api)', 'arm64: db (unaffected: base,tools-base,tools-api)']);
    expect((await run(dir, ['generate', ...args])).exitCode).toBe(0);
    expect(readBakeJson(dir).target['ubuntu-db']?.contexts).toEqual({ [`${registry.host}/acme/base:1.0-ubuntu`]: `docker-image://${baseTag}` });
  });
});

// --- KG900 and up ---------------------------------------------------------------------------------------------------

interface CodeCase {
  code: string;
  what: string;
  /** Makes the case in dir (a committed copy of basic, generated); returns the arguments of the run. */
  setup: (dir: string) => Promise<string[]>;
  /** Not a git repo. */
  noGit?: boolean;
  message: RegExp | string;
  hint?: RegExp | string;
  warning?: boolean;
}

const CODE_CASES: CodeCase[] = [
  {
    code: 'KG900',
    what: 'a revision git does not know',
    setup: async () => ['generate', '--affected-since', 'no-such-branch'],
    message: '--affected-since no-such-branch: git knows no such revision',
    hint: CODES.KG900.hint,
  },
  {
    code: 'KG900',
    what: 'a dir that is not in a git checkout',
    noGit: true,
    setup: async () => ['generate', '--affected-since', 'HEAD'],
    message: /^--affected-since HEAD: \/.+ is not in a git checkout \(fatal: not a git repository/,
  },
  {
    code: 'KG901',
    what: 'the tree at the revision does not compile',
    setup: async (dir) => {
      const file = path.join(dir, 'docker/db/Dockerfile.j2');
      const good = fs.readFileSync(file, 'utf8');
      fs.appendFileSync(file, '{% if base_distro %}\n');
      await commitAll(dir, 'broken');
      fs.writeFileSync(file, good);
      return ['generate', '--affected-since', 'HEAD'];
    },
    message: /^the tree at HEAD \([0-9a-f]{7,}\) does not compile with these options \(KG300 .*\): every image counts as affected$/,
    warning: true,
  },
  {
    code: 'KG902',
    what: 'a registry that cannot be reached',
    setup: async () => {
      const port = await closedPort();
      return ['generate', '--skip-existing', '--registry', `127.0.0.1:${port}`];
    },
    message: /^cannot learn which images the registry holds: cannot reach registry 127\.0\.0\.1:(\d+): connect ECONNREFUSED 127\.0\.0\.1:\1 \(and 7 more\)$/,
  },
  {
    code: 'KG902',
    what: 'a registry that cannot be reached, with --skip-existing=warn',
    setup: async () => {
      const port = await closedPort();
      return ['generate', '--skip-existing=warn', '--registry', `127.0.0.1:${port}`];
    },
    message: /^cannot learn which images the registry holds: cannot reach registry .*; building every selected image \(--skip-existing=warn\)$/,
    warning: true,
  },
  {
    code: 'KG903',
    what: 'an image that is not in the tree',
    setup: async () => ['explain', 'tools-apu'],
    message: 'no image of the tree is named "tools-apu"',
    hint: 'did you mean tools-api?',
  },
  {
    code: 'KG903',
    what: 'an image like none in the tree',
    setup: async () => ['explain', 'keystone'],
    message: 'no image of the tree is named "keystone"',
    hint: CODES.KG903.hint,
  },
];

describe('diagnostics KG900 and up', () => {
  it.each(CODE_CASES)('$code: $what', async (c) => {
    const dir = copyFixture('basic');
    if (!c.noGit) await commitAll(dir);
    expect((await run(dir, ['generate', '--quiet'])).exitCode).toBe(0);
    const args = await c.setup(dir);
    const before = snapshot(path.join(dir, 'generated'));
    const r = await run(dir, [...args, '--json']);
    const out = JSON.parse(r.stdout) as JsonOut<unknown>;
    const found = out.diagnostics.filter((d) => d.code === c.code);
    expect(found, JSON.stringify(out.diagnostics, null, 2)).toHaveLength(1);
    const [d] = found;
    if (typeof c.message === 'string') expect(d?.message).toBe(c.message);
    else expect(d?.message).toMatch(c.message);
    if (typeof c.hint === 'string') expect(d?.hint).toBe(c.hint);
    else if (c.hint) expect(d?.hint).toMatch(c.hint);
    expect(d?.hint.length).toBeGreaterThan(10);

    if (c.warning) {
      expect(d?.severity).toBe('warning');
      expect(r.exitCode).toBe(0);
      expect(out.ok).toBe(true);
      // everything is selected and generated, as without the flag
      const manifest = readManifest(dir);
      expect(manifest.map((e) => e.status)).toEqual(Array(16).fill('selected'));
      expect(Object.keys(readBakeJson(dir).target)).toHaveLength(8);
      return;
    }
    expect(d?.severity).toBe('error');
    expect(r.exitCode).toBe(1);
    expect(out.ok).toBe(false);
    // a run that fails never touches the output dir
    expect(snapshot(path.join(dir, 'generated'))).toEqual(before);
    const text = await run(dir, args);
    expect(text.exitCode).toBe(1);
    expect(text.stderr).toContain(`error[${c.code}]: `);
  });

  it('KG902 with =warn: generates every selected image, with its content tag', async () => {
    const dir = copyFixture('basic');
    const r = await run(dir, ['generate', '--skip-existing=warn', '--registry', `127.0.0.1:${await closedPort()}`]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain('warning[KG902]');
    for (const target of Object.values(readBakeJson(dir).target)) expect(target.tags?.some((t) => CONTENT_TAG.test(t))).toBe(true);
  });

  it('has a case for every code from KG900 on', () => {
    const tested = [...new Set(CODE_CASES.map((c) => c.code))];
    // KG904 to KG907 are build's: test/build.test.ts has them, against a fake docker
    expect(Object.keys(CODES).filter((code) => code >= 'KG900' && code < 'KG910')).toEqual([...tested, 'KG904', 'KG905', 'KG906', 'KG907']);
  });
});

// --- regressions: what the first review of --affected-since found ---------------------------------------------------

describe('--affected-since and explain, corner cases', () => {
  it('names a context file called toString or constructor, and a build arg called constructor, without crashing', async () => {
    const dir = await repo('basic');
    write(dir, 'docker/db/toString', 'z\n');
    write(dir, 'docker/db/constructor', 'z\n');
    const config = path.join(dir, 'kolla-gen.yaml');
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('build_args:\n', 'build_args:\n  constructor: "1"\n'));
    const { exitCode, out } = await json<{ explanations: Explanation[] }>(dir, ['explain', 'db', '--affected-since', 'HEAD']);
    expect(exitCode).toBe(0);
    const reasons = out.result.explanations[0]?.reasons ?? [];
    expect(reasons).toContain('affected since HEAD: context file constructor was added');
    expect(reasons).toContain('affected since HEAD: context file toString was added');
    expect(reasons).toContain('affected since HEAD: build arg constructor was added');
  });

  it('says why a folded image affected on one arch is selected on the other', async () => {
    const dir = await repo('split', {
      'kolla-gen.yaml': 'bases: [debian]\ntypes: [binary]\ntag: "2026.1"\nvars:\n  qemu_amd64: qemu-system-x86\n  qemu_arm64: qemu-system-arm\n',
      'docker/compute/Dockerfile.j2': "FROM {{ namespace }}/{{ image_prefix }}base:{{ tag }}\nRUN apt-get install -y {{ qemu_amd64 if debian_arch == 'amd64' else qemu_arm64 }}\n",
    });
    write(dir, 'kolla-gen.yaml', 'bases: [debian]\ntypes: [binary]\ntag: "2026.1"\nvars:\n  qemu_amd64: qemu-system-arm\n  qemu_arm64: qemu-system-arm\n');
    const { out } = await json<{ explanations: Explanation[] }>(dir, ['explain', 'compute', '--affected-since', 'HEAD']);
    const byArch = Object.fromEntries(out.result.explanations.flatMap((e) => e.arches.map((a) => [a, [e.status, ...e.reasons.filter((r) => r.includes('HEAD'))]])));
    expect(byArch.amd64).toEqual(['selected', 'affected since HEAD: the rendered Dockerfile changed']);
    expect(byArch.arm64).toEqual(['selected', 'unchanged on arm64 since HEAD, but affected on amd64: one target builds every arch of an image']);
  });

  it('says why an unaffected parent is built with --skip-existing: the registry lacks its content tag', async () => {
    const registry = await startRegistry();
    const dir = await repo('basic');
    fs.appendFileSync(path.join(dir, 'docker/db/Dockerfile.j2'), 'RUN echo changed\n');
    const { out } = await json<{ explanations: Explanation[] }>(dir, ['explain', 'base', '--affected-since', 'HEAD', '--skip-existing', '--registry', registry.host, '-b', 'ubuntu']);
    const tag = out.result.explanations[0]?.contentTag;
    expect(tag).toMatch(/\/acme\/base:kg-[0-9a-f]{32}$/);
    expect(out.result.explanations.map((e) => [e.status, e.reasons.at(-1)])).toEqual([
      ['selected', `unaffected since HEAD, but the registry does not hold ${tag}: built for the images that build on it (--skip-existing)`],
    ]);
  });

  it('reads a docker dir outside the checkout, named by a relative path, as it is now: nothing changed', async () => {
    const outer = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-outside-'));
    temps.push(outer);
    fs.cpSync(path.join(FIXTURES, 'basic', 'docker'), path.join(outer, 'tree', 'docker'), { recursive: true });
    const dir = path.join(outer, 'repo');
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(FIXTURES, 'basic', 'kolla-gen.yaml'), path.join(dir, 'kolla-gen.yaml'));
    await commitAll(dir);
    for (const docker of ['../tree/docker', path.join(outer, 'tree', 'docker')]) {
      const { codes: found, selected } = await affected(dir, ['-D', docker]);
      expect([docker, found, selected]).toEqual([docker, ['warning:KG602'], everyVariant('')]);
    }
  });

  it('checks the revision out as git does, not as git archive exports it (export-ignore, export-subst)', async () => {
    const dir = await repo('basic', {
      '.gitattributes': 'docker/base/start.sh export-ignore\ndocker/db/version.txt export-subst\n',
      'docker/base/start.sh': '#!/bin/sh\n',
      'docker/db/version.txt': '$Format:%H$\n',
    });
    expect(await affected(dir)).toEqual({ codes: ['warning:KG602'], selected: everyVariant('') });
  });

  it('keeps content tags on with --skip-existing even when the config says content_tags: false', async () => {
    const dir = await repo('basic');
    write(dir, 'kolla-gen.yaml', `${fs.readFileSync(path.join(dir, 'kolla-gen.yaml'), 'utf8')}content_tags: false\n`);
    const { exitCode, out } = await json<Listing>(dir, ['list', '--skip-existing', '--registry', `127.0.0.1:${await closedPort()}`]);
    expect(exitCode).toBe(1);
    expect(codes(out)).toEqual(['error:KG902']);
  });

  it('leaves a parent ref out of the hash also when the FROM takes it from an ARG, or spans two lines', async () => {
    const dir = copyFixture('basic');
    write(dir, 'docker/db/Dockerfile.j2', 'ARG PARENT={{ namespace }}/{{ image_prefix }}base:{{ tag }}\nFROM ${PARENT}\nRUN true\n');
    write(dir, 'docker/tools/tools-base/Dockerfile.j2', 'FROM \\\n  {{ namespace }}/{{ image_prefix }}base:{{ tag }}\nRUN true\n');
    const hashes = async (tag: string) => {
      expect((await run(dir, ['generate', '--tag', tag, '--quiet'])).exitCode).toBe(0);
      return (await withHashes(dir, readManifest(dir), ['--tag', tag])).map((e) => `${e.image}/${e.base}/${e.arch} ${e.hash}`);
    };
    const first = await hashes('1.0-{base}');
    expect(await hashes('9.9-{base}')).toEqual(first);
  });
});
