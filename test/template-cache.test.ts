// The template cache: the trees of parsed templates and the renderings kept on disk between runs, read by the next
// run, rewritten only when a run made an entry the file did not hold, and never able to change what a run writes (a
// damaged, foreign or unwritable cache, or any change to what a rendering depends on).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { decodeEntries, encodeEntries } from '../src/commands/template-cache.js';
import { copyFixture, run, snapshot, temps } from './support/cli.js';

type Tree = { typename: string; [field: string]: unknown };
type CacheFile = { stamp: string; entries: Map<string, Uint8Array> };

function cacheDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-cache-'));
  temps.push(dir);
  return path.join(dir, 'cache');
}

function generate(dir: string, cache: string, extra: Record<string, string> = {}) {
  return run(dir, ['generate', '-o', 'out'], { PATH: process.env.PATH ?? '', KOLLA_GEN_CACHE_DIR: cache, ...extra });
}

/** The output of a run (in a copy of its own, so that runs compare byte for byte). */
const output = (dir: string) => snapshot(path.join(dir, 'out'));

function outputFile(dir: string, suffix: string): string {
  const rel = fs.readdirSync(path.join(dir, 'out'), { recursive: true }).map(String).find((f) => f.endsWith(suffix));
  if (rel === undefined) throw new Error(`no ${suffix} in ${dir}/out`);
  return fs.readFileSync(path.join(dir, 'out', rel), 'utf8');
}

function cacheFiles(cache: string): string[] {
  return fs.existsSync(cache) ? fs.readdirSync(cache).sort().map((name) => path.join(cache, name)) : [];
}

/** The cache's file of parsed templates, of renderings, or of the last output. */
function cacheFile(cache: string, kind: 'templates' | 'renders' | 'outputs'): string {
  const file = cacheFiles(cache).find((f) => path.basename(f).startsWith(`${kind}-`));
  if (file === undefined) throw new Error(`no ${kind} file in ${cache}`);
  return file;
}

/** Removes the kept output: the next run compiles, so it reads the renderings. */
function dropOutputs(cache: string): void {
  for (const file of cacheFiles(cache)) if (path.basename(file).startsWith('outputs-')) fs.rmSync(file);
}

/** Removes the kept output and renderings: the next run renders, so it reads the trees. */
function dropRenders(cache: string): void {
  dropOutputs(cache);
  for (const file of cacheFiles(cache)) if (path.basename(file).startsWith('renders-')) fs.rmSync(file);
}

function readCache(file: string): CacheFile {
  return decodeEntries(fs.readFileSync(file)) as CacheFile;
}

function writeCache(file: string, data: CacheFile): void {
  fs.writeFileSync(file, encodeEntries(data.stamp, data.entries));
}

/** Every node of a tree, depth first. */
function* nodes(value: unknown): Generator<Tree> {
  if (Array.isArray(value)) for (const v of value) yield* nodes(v);
  else if (value && typeof value === 'object') {
    yield value as Tree;
    for (const v of Object.values(value)) yield* nodes(v);
  }
}

/** The cache with every literal text of the templates' trees that contains `find` replaced by `replace`. */
function tamper(file: string, find: string, replace: string, stamp?: string): number {
  const data = readCache(file);
  let changed = 0;
  for (const [key, blob] of data.entries) {
    const tree = deserialize(blob) as Tree;
    for (const node of nodes(tree)) {
      if (node.typename === 'TemplateData' && typeof node.value === 'string' && node.value.includes(find)) {
        node.value = node.value.replace(find, replace);
        changed++;
      }
    }
    data.entries.set(key, serialize(tree));
  }
  writeCache(file, { stamp: stamp ?? data.stamp, entries: data.entries });
  return changed;
}

describe('the template cache', () => {
  it('keeps the trees of a run for the next, which reads them; the output is the same with it and without it', async () => {
    const dir = copyFixture('basic');
    const cache = cacheDir();
    expect((await generate(dir, cache)).exitCode).toBe(0);
    const expected = output(dir);
    const files = cacheFiles(cache).map((f) => path.basename(f));
    expect(files).toHaveLength(3);
    expect(files[0]).toMatch(/^outputs-[0-9a-f]{16}\.bin$/);
    expect(files.slice(1)).toEqual(['renders-', 'templates-'].map((kind) => files[0]!.replace('outputs-', kind)));
    const file = cacheFile(cache, 'templates');
    expect(fs.statSync(cache).mode & 0o777).toBe(0o700);
    for (const f of cacheFiles(cache)) expect(fs.statSync(f).mode & 0o777).toBe(0o600);
    // base, tools-base, tools-api, db and macros.j2: one tree per text.
    expect(readCache(file).entries.size).toBe(5);

    const stamps = () => cacheFiles(cache).map((f) => [fs.statSync(f).mtimeMs, fs.statSync(f).ino]);
    const before = stamps();
    fs.rmSync(path.join(dir, 'out'), { recursive: true });
    expect((await generate(dir, cache)).exitCode).toBe(0);
    expect(output(dir)).toEqual(expected);
    // Nothing new parsed or rendered: neither file is rewritten.
    expect(stamps()).toEqual(before);

    // A run that renders takes its trees from the file: a text changed in a tree there shows in the output.
    expect(tamper(file, 'LABEL maintainer=', 'LABEL cached=')).toBe(1);
    dropRenders(cache);
    expect((await generate(dir, cache)).exitCode).toBe(0);
    expect(outputFile(dir, 'ubuntu/base/Dockerfile')).toContain('LABEL cached=');

    // KOLLA_GEN_CACHE=off: neither read nor written.
    const off = copyFixture('basic');
    const offCache = cacheDir();
    expect((await generate(off, cache, { KOLLA_GEN_CACHE: 'off' })).exitCode).toBe(0);
    expect(output(off)).toEqual(expected);
    expect((await generate(off, offCache, { KOLLA_GEN_CACHE: 'off' })).exitCode).toBe(0);
    expect(cacheFiles(offCache)).toEqual([]);
  });

  it("parses a template edited since the cache was written, and keeps the trees of the run's templates' texts", async () => {
    const dir = copyFixture('basic');
    const cache = cacheDir();
    expect((await generate(dir, cache)).exitCode).toBe(0);
    const file = cacheFile(cache, 'templates');
    const keys = [...readCache(file).entries.keys()];
    const template = path.join(dir, 'docker', 'db', 'Dockerfile.j2');
    fs.writeFileSync(template, fs.readFileSync(template, 'utf8').replace(/^FROM .*$/m, '$&\nLABEL edited="yes"'));
    expect((await generate(dir, cache)).exitCode).toBe(0);
    expect(outputFile(dir, 'ubuntu/db/Dockerfile')).toContain('LABEL edited="yes"');
    // Only db rendered again, but the trees of the other templates stay: the old text's tree goes.
    const now = [...readCache(file).entries.keys()];
    expect(now).toHaveLength(5);
    expect(now.filter((k) => !keys.includes(k))).toHaveLength(1);
  });

  it("never changes what a run writes: a damaged file, damaged trees, another kolla-gen's file, a cache it cannot write", async () => {
    const clean = copyFixture('basic');
    const cleanCache = cacheDir();
    expect((await generate(clean, cleanCache)).exitCode).toBe(0);
    const expected = output(clean);
    const cleanFile = cacheFile(cleanCache, 'templates');
    const cleanTrees = readCache(cleanFile).entries;
    /** A copy of the fixture, and a cache dir holding `bytes` where that copy's cache file goes. */
    const planted = async (bytes: Buffer | string) => {
      const dir = copyFixture('basic');
      const cache = cacheDir();
      // The file's name is the copy's own: learn it from a run into a scratch cache.
      const scratch = cacheDir();
      expect((await generate(dir, scratch, {})).exitCode).toBe(0);
      fs.rmSync(path.join(dir, 'out'), { recursive: true });
      fs.mkdirSync(cache);
      const file = path.join(cache, path.basename(cacheFile(scratch, 'templates')));
      fs.writeFileSync(file, bytes);
      return { dir, cache, file };
    };

    // Bytes that are no cache, a cache cut short: ignored, then replaced by this run's trees.
    const cleanBytes = fs.readFileSync(cleanFile);
    for (const bytes of ['not a cache', cleanBytes.subarray(0, cleanBytes.length - 10)]) {
      const junk = await planted(bytes);
      expect((await generate(junk.dir, junk.cache)).exitCode).toBe(0);
      expect(output(junk.dir)).toEqual(expected);
      expect(readCache(junk.file).entries).toEqual(cleanTrees);
    }

    // Trees that do not compile (an unknown node, no body, not an object), bytes that are no tree, a tree that is not
    // whole: each of those templates is parsed again.
    const data = readCache(cleanFile);
    const keys = [...data.entries.keys()];
    data.entries.set(keys[0]!, serialize({ typename: 'NoSuchNode', lineno: 0, colno: 0 }));
    data.entries.set(keys[1]!, serialize({ typename: 'Root', lineno: 0, colno: 0 }));
    data.entries.set(keys[2]!, serialize(42));
    data.entries.set(keys[3]!, Buffer.from('not a tree'));
    data.entries.set(keys[4]!, data.entries.get(keys[4]!)!.subarray(0, 5));
    const broken = await planted(encodeEntries(data.stamp, data.entries));
    const brokenRun = await generate(broken.dir, broken.cache);
    expect(brokenRun.stderr).not.toMatch(/internal error|error\[/);
    expect(brokenRun.exitCode).toBe(0);
    expect(output(broken.dir)).toEqual(expected);
    expect(readCache(broken.file).entries).toEqual(cleanTrees);

    // A file stamped by another parser (another kolla-gen or node): not read.
    const foreign = await planted(fs.readFileSync(cleanFile));
    expect(tamper(foreign.file, 'LABEL maintainer=', 'LABEL cached=', 'another parser')).toBe(1);
    expect((await generate(foreign.dir, foreign.cache)).exitCode).toBe(0);
    expect(output(foreign.dir)).toEqual(expected);

    // The cache dir's place is a file: the run goes on without it.
    const blocked = copyFixture('basic');
    const blockedCache = cacheDir();
    fs.writeFileSync(blockedCache, 'a file');
    const blockedRun = await generate(blocked, blockedCache);
    expect(blockedRun.exitCode).toBe(0);
    // no warning: the bake command only
    expect(blockedRun.stderr.trim()).toBe('kolla-gen: bake it with: docker buildx bake -f out/docker-bake.hcl');
    expect(output(blocked)).toEqual(expected);
  });

  it("reports a template's error the same with the trees cached", async () => {
    const dir = copyFixture('error-template');
    const cache = cacheDir();
    const cold = await generate(dir, cache);
    const warm = await generate(dir, cache);
    expect(cold.exitCode).toBe(1);
    expect(warm.exitCode).toBe(1);
    expect(warm.stderr).toBe(cold.stderr);
    expect(cold.stderr).toMatch(/error\[KG3\d\d\]/);
  });
});

type Kept = { loaded: [string, string][]; rendering: { text: string; froms: unknown[] } };

/** Every kept rendering's text changed by `change`; returns how many there are. */
function tamperRenders(file: string, change: (text: string) => string, stamp?: string): number {
  const data = readCache(file);
  for (const [key, blob] of data.entries) {
    const kept = deserialize(blob) as Kept;
    kept.rendering.text = change(kept.rendering.text);
    data.entries.set(key, serialize(kept));
  }
  writeCache(file, { stamp: stamp ?? data.stamp, entries: data.entries });
  return data.entries.size;
}

/** The output's Dockerfiles (not the bake files, which name them), each with whether it holds `marker`. */
function marked(dir: string, marker: string): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const rel of fs.readdirSync(path.join(dir, 'out'), { recursive: true }).map(String)) {
    if (/(^|\/)Dockerfile(\.(amd64|arm64))?$/.test(rel)) out[rel] = fs.readFileSync(path.join(dir, 'out', rel), 'utf8').includes(marker);
  }
  return out;
}

/** The output of the same change made in a fresh copy of the fixture, generated with no cache. */
async function uncached(change: (dir: string) => void, args: readonly string[] = []) {
  const dir = copyFixture('basic');
  change(dir);
  const r = await run(dir, ['generate', '-o', 'out', ...args], { PATH: process.env.PATH ?? '', KOLLA_GEN_CACHE: 'off' });
  expect(r.exitCode).toBe(0);
  return output(dir);
}

/** A change to one file of a copy. */
const edit = (rel: string, change: (text: string) => string) => (dir: string) => {
  const file = path.join(dir, rel);
  fs.writeFileSync(file, change(fs.readFileSync(file, 'utf8')));
};

describe('the kept renderings', () => {
  const MARK = '# taken from the cache';
  /** A copy of the fixture whose cache holds its renderings, each marked: a rendering taken shows the mark. */
  async function warmed() {
    const dir = copyFixture('basic');
    const cache = cacheDir();
    expect((await generate(dir, cache)).exitCode).toBe(0);
    const file = cacheFile(cache, 'renders');
    // 4 images x 2 bases x 2 arches
    expect(tamperRenders(file, (text) => `${text}${MARK}\n`)).toBe(16);
    dropOutputs(cache);
    return { dir, cache, file };
  }

  it('are taken by the next run, where all they depend on is the same', async () => {
    const { dir, cache } = await warmed();
    expect((await generate(dir, cache)).exitCode).toBe(0);
    const all = marked(dir, MARK);
    expect(Object.keys(all).length).toBeGreaterThanOrEqual(8);
    expect(Object.values(all).every(Boolean)).toBe(true);
    // Off: not read.
    expect((await generate(dir, cache, { KOLLA_GEN_CACHE: 'off' })).exitCode).toBe(0);
    expect(Object.values(marked(dir, MARK)).some(Boolean)).toBe(false);
  });

  it('are rendered again when a template they loaded, the config or the options change', async () => {
    // An edited template: its image's renderings only.
    const db = edit('docker/db/Dockerfile.j2', (t) => t.replace('echo db', 'echo database'));
    let w = await warmed();
    db(w.dir);
    expect((await generate(w.dir, w.cache)).exitCode).toBe(0);
    let now = marked(w.dir, MARK);
    expect(Object.entries(now).filter(([, kept]) => !kept).map(([rel]) => rel.split('/')[1])).toEqual(['db', 'db']);
    expect(output(w.dir)).not.toEqual(await uncached(() => {}));
    const fresh = await uncached(db);
    // Taken renderings carry the mark; the rest is byte for byte a run without the cache.
    const unmark = (d: string) => {
      for (const rel of Object.keys(marked(d, MARK))) edit(`out/${rel}`, (t) => t.replace(`${MARK}\n`, ''))(d);
    };
    unmark(w.dir);
    // (manifest.json holds the marked texts' digests)
    const { 'manifest.json': _, ...rest } = output(w.dir);
    expect(rest).toEqual(Object.fromEntries(Object.entries(fresh).filter(([rel]) => rel !== 'manifest.json')));

    // An edited macro file: the renderings that imported it (base, tools-base).
    w = await warmed();
    edit('docker/macros.j2', (t) => t.replace('--no-install-recommends', '--no-install-recommends -q'))(w.dir);
    expect((await generate(w.dir, w.cache)).exitCode).toBe(0);
    now = marked(w.dir, MARK);
    expect([...new Set(Object.entries(now).filter(([, kept]) => !kept).map(([rel]) => rel.split('/')[1]))].sort()).toEqual(['base', 'tools-base']);

    // The template context (the config's namespace, the environment passed), a template override, --strict-undefined:
    // every rendering.
    const namespace = edit('kolla-gen.yaml', (t) => t.replace('namespace: acme', 'namespace: other'));
    w = await warmed();
    namespace(w.dir);
    expect((await generate(w.dir, w.cache)).exitCode).toBe(0);
    expect(output(w.dir)).toEqual(await uncached(namespace));
    const override = (dir: string) => fs.writeFileSync(path.join(dir, 'override.j2'), '{% extends parent_template %}\n{% block tools_api_header %}LABEL o=1{% endblock %}\n');
    for (const [change, args] of [
      [override, ['--template-override', 'override.j2']],
      [() => {}, ['--strict-undefined']],
      // env is in every context: a variable passed, or its value changed
      [() => {}, ['--pass-env', 'PATH']],
    ] as const) {
      w = await warmed();
      change(w.dir);
      expect((await run(w.dir, ['generate', '-o', 'out', ...args], { PATH: process.env.PATH ?? '', KOLLA_GEN_CACHE_DIR: w.cache })).exitCode).toBe(0);
      expect(Object.values(marked(w.dir, MARK)).some(Boolean)).toBe(false);
      expect(output(w.dir)).toEqual(await uncached(change, args));
    }
  });

  it('never change what a run writes when damaged or kept by another kolla-gen', async () => {
    const expected = await uncached(() => {});
    // Another kolla-gen's code (the file's stamp): not read.
    let w = await warmed();
    tamperRenders(w.file, (t) => t, 'another kolla-gen');
    expect((await generate(w.dir, w.cache)).exitCode).toBe(0);
    expect(output(w.dir)).toEqual(expected);
    // Entries that do not deserialize, or are of another shape, and a file that is no cache: rendered again.
    w = await warmed();
    const data = readCache(w.file);
    const keys = [...data.entries.keys()];
    // Whole entries of the wrong shape, and whole ones with one field wrong: a template's digest, a FROM line's ref.
    const damaged = (blob: Uint8Array, i: number): Uint8Array => {
      const kept = deserialize(blob) as Kept;
      if (i % 6 === 4) kept.loaded[0] = [kept.loaded[0]![0], 7 as unknown as string];
      if (i % 6 === 5) kept.rendering.froms[0] = { ...(kept.rendering.froms[0] as object), ref: 42 };
      return i % 6 >= 4 ? serialize(kept) : [Buffer.from('junk'), serialize({ loaded: 'x' }), serialize({ loaded: [], rendering: { text: 1 } }), serialize(null)][i % 6]!;
    };
    keys.forEach((key, i) => data.entries.set(key, damaged(data.entries.get(key)!, i)));
    writeCache(w.file, data);
    const r = await generate(w.dir, w.cache);
    expect(r.stderr).not.toMatch(/internal error|error\[/);
    expect(output(w.dir)).toEqual(expected);
    fs.writeFileSync(w.file, 'not a cache');
    dropOutputs(w.cache);
    expect((await generate(w.dir, w.cache)).exitCode).toBe(0);
    expect(output(w.dir)).toEqual(expected);
    expect(readCache(w.file).entries.size).toBe(16);
  });
});

type StoredOutput = { texts: string[]; files: [string, number | { copyFrom: string }][]; summary: Record<string, number>; diagnostics: Record<string, unknown>[] };

/** The kept output's entry changed by `change`; returns how many entries the file holds. */
function tamperOutputs(file: string, change: (stored: StoredOutput) => unknown, stamp?: string): number {
  const data = readCache(file);
  for (const [key, blob] of data.entries) data.entries.set(key, serialize(change(deserialize(blob) as StoredOutput)));
  writeCache(file, { stamp: stamp ?? data.stamp, entries: data.entries });
  return data.entries.size;
}

/** The output dir's files, each with whether it holds `marker`. */
function markedFiles(dir: string, marker: string): boolean[] {
  const out = path.join(dir, 'out');
  return fs
    .readdirSync(out, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => fs.readFileSync(path.join(e.parentPath, e.name), 'utf8').includes(marker));
}

describe('the kept output', () => {
  const MARK = '# kept output';
  /** A copy of the fixture (changed by `setUp`) whose cache holds its output, every text marked. */
  async function warmed(setUp: (dir: string) => void = () => {}, args: readonly string[] = []) {
    const dir = copyFixture('basic');
    setUp(dir);
    const cache = cacheDir();
    const first = await run(dir, ['generate', '-o', 'out', ...args], { PATH: process.env.PATH ?? '', KOLLA_GEN_CACHE_DIR: cache });
    expect(first.exitCode).toBe(0);
    const file = cacheFile(cache, 'outputs');
    // Every text but manifest.json's, which must stay JSON: it says the output dir is kolla-gen's.
    const mark = (stored: StoredOutput) => {
      const manifest = stored.files.find(([name]) => name === 'manifest.json')?.[1];
      return { ...stored, texts: stored.texts.map((t, i) => (i === manifest ? t : `${t}${MARK}\n`)) };
    };
    expect(tamperOutputs(file, mark)).toBe(1);
    fs.rmSync(path.join(dir, 'out'), { recursive: true });
    return { dir, cache, file, first };
  }

  it('is what the next generate writes and check compares with, where the project and options are the same', async () => {
    const { dir, cache, file, first } = await warmed();
    const stamp = () => [fs.statSync(file).mtimeMs, fs.statSync(file).ino];
    const before = stamp();
    const again = await generate(dir, cache);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toBe(first.stdout);
    expect(again.stdout).toMatch(/^out: 8 image targets .* from 4 images x 4 variants; 20 files, 0 changed, 20 added, 0 removed$/);
    const marks = markedFiles(dir, MARK);
    expect(marks.length).toBe(20);
    expect(marks.filter(Boolean).length).toBe(19);
    // Taken, not made: the file is not rewritten.
    expect(stamp()).toEqual(before);
    // check compares the output dir with the kept output: up to date; without the cache, it compiles and finds the
    // marks.
    const checked = await run(dir, ['check', '-o', 'out'], { PATH: process.env.PATH ?? '', KOLLA_GEN_CACHE_DIR: cache });
    expect(checked.stdout).toMatch(/^out: up to date/);
    expect(checked.exitCode).toBe(0);
    const off = await run(dir, ['check', '-o', 'out'], { PATH: process.env.PATH ?? '', KOLLA_GEN_CACHE: 'off' });
    expect(off.exitCode).toBe(1);
    expect(off.stderr).toMatch(/error\[KG701\]/);
  });

  it('is compiled again when anything the compile reads changes, and is then the output without the cache', async () => {
    const changes: [string, (dir: string) => void, readonly string[]][] = [
      ['a template', edit('docker/db/Dockerfile.j2', (t) => t.replace('echo db', 'echo database')), []],
      ['a macro file', edit('docker/macros.j2', (t) => t.replace('--no-install-recommends', '--no-install-recommends -q')), []],
      ['a file of a build context', edit('docker/base/start.sh', (t) => `${t}# edited\n`), []],
      ['the config', edit('kolla-gen.yaml', (t) => t.replace('namespace: acme', 'namespace: other')), []],
      ['a new file in a build context', (dir) => fs.writeFileSync(path.join(dir, 'docker', 'db', 'extra.conf'), 'x\n'), []],
      ['an option', () => {}, ['--profile', 'infra']],
      // The same output (manifest.json records the same options), under another key: the flags differ.
      ['an option the config already sets', () => {}, ['-b', 'ubuntu,rocky']],
    ];
    for (const [what, change, args] of changes) {
      const w = await warmed();
      change(w.dir);
      const r = await run(w.dir, ['generate', '-o', 'out', ...args], { PATH: process.env.PATH ?? '', KOLLA_GEN_CACHE_DIR: w.cache });
      expect(r.exitCode, what).toBe(0);
      expect(markedFiles(w.dir, MARK).some(Boolean), what).toBe(false);
      expect(output(w.dir), what).toEqual(await uncached(change, args));
    }
    // A file of a build context that no template can import (not text): only its digest tells.
    const binary = (byte: number) => (dir: string) => fs.writeFileSync(path.join(dir, 'docker', 'base', 'blob.bin'), Buffer.from([0, byte]));
    const bin = await warmed(binary(1));
    binary(2)(bin.dir);
    expect((await generate(bin.dir, bin.cache)).exitCode).toBe(0);
    expect(markedFiles(bin.dir, MARK).some(Boolean)).toBe(false);
    expect(output(bin.dir)).toEqual(await uncached(binary(2)));
    // The value of a variable passed to the templates.
    const passed = await warmed(() => {}, ['--pass-env', 'LEVEL']);
    const r = await run(passed.dir, ['generate', '-o', 'out', '--pass-env', 'LEVEL'], { PATH: process.env.PATH ?? '', KOLLA_GEN_CACHE_DIR: passed.cache, LEVEL: 'other' });
    expect(r.exitCode).toBe(0);
    expect(markedFiles(passed.dir, MARK).some(Boolean)).toBe(false);
    // Another output dir: the files name it.
    const moved = await warmed();
    const elsewhere = await run(moved.dir, ['generate', '-o', 'elsewhere'], { PATH: process.env.PATH ?? '', KOLLA_GEN_CACHE_DIR: moved.cache });
    expect(elsewhere.exitCode).toBe(0);
    expect(fs.readFileSync(path.join(moved.dir, 'elsewhere', 'docker-bake.hcl'), 'utf8')).not.toContain(MARK);
  });

  it("keeps a run's warnings, and nothing of a run with errors", async () => {
    // One tag for both bases: KG604, a warning of the compile.
    const oneTag = edit('kolla-gen.yaml', (t) => t.replace('tag: "1.0-{base}"', 'tag: "1.0"'));
    const w = await warmed(oneTag);
    expect(w.first.stderr).toMatch(/warning\[KG604\]/);
    const again = await generate(w.dir, w.cache);
    expect(markedFiles(w.dir, MARK).filter(Boolean).length).toBe(19);
    expect(again.stderr).toBe(w.first.stderr);

    const dir = copyFixture('error-template');
    const cache = cacheDir();
    expect((await generate(dir, cache)).exitCode).toBe(1);
    expect(cacheFiles(cache).some((f) => path.basename(f).startsWith('outputs-'))).toBe(false);
  });

  it("never changes what a run writes when damaged or kept by another kolla-gen", async () => {
    const expected = await uncached(() => {});
    const damages: [string, (stored: StoredOutput) => unknown, string?][] = [
      ['another kolla-gen', (s) => s, 'another kolla-gen'],
      ['not an object', () => 42],
      ['a text that is no string', (s) => ({ ...s, texts: [7, ...s.texts.slice(1)] })],
      ['a file naming no text', (s) => ({ ...s, files: s.files.map(([name]) => [name, s.texts.length]) })],
      ['a summary without a figure', (s) => ({ ...s, summary: { ...s.summary, targets: 'many' } })],
      ['an error among the warnings', (s) => ({ ...s, diagnostics: [{ code: 'KG604', severity: 'error', message: 'x' }] })],
      ['a diagnostic of no code', (s) => ({ ...s, diagnostics: [{ code: 'KG999', severity: 'warning', message: 'x' }] })],
      ['a location of the wrong shape', (s) => ({ ...s, diagnostics: [{ code: 'KG604', severity: 'warning', message: 'x', location: { file: 1 } }] })],
    ];
    for (const [what, damage, stamp] of damages) {
      const w = await warmed();
      tamperOutputs(w.file, (stored) => damage({ ...stored, texts: stored.texts.map((t) => t.replace(MARK, '')) }) as StoredOutput, stamp);
      const r = await generate(w.dir, w.cache);
      expect(r.stderr, what).not.toMatch(/internal error|error\[|warning\[/);
      expect(r.exitCode, what).toBe(0);
      expect(output(w.dir), what).toEqual(expected);
    }
    const w = await warmed();
    fs.writeFileSync(w.file, 'not a cache');
    expect((await generate(w.dir, w.cache)).exitCode).toBe(0);
    expect(output(w.dir)).toEqual(expected);
    expect(readCache(w.file).entries.size).toBe(1);
  });
});
