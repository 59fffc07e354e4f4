// The trees of parsed templates kept on disk between runs: read by the next run, rewritten only when a run parsed a
// text the file did not hold, and never able to change what a run writes (a damaged, foreign or unwritable cache).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { decodeTrees, encodeTrees } from '../src/commands/template-cache.js';
import { copyFixture, run, snapshot, temps } from './support/cli.js';

type Tree = { typename: string; [field: string]: unknown };
type CacheFile = { stamp: string; trees: Map<string, Uint8Array> };

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
  return fs.existsSync(cache) ? fs.readdirSync(cache).map((name) => path.join(cache, name)) : [];
}

function readCache(file: string): CacheFile {
  return decodeTrees(fs.readFileSync(file)) as CacheFile;
}

function writeCache(file: string, data: CacheFile): void {
  fs.writeFileSync(file, encodeTrees(data.stamp, data.trees));
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
  for (const [key, blob] of data.trees) {
    const tree = deserialize(blob) as Tree;
    for (const node of nodes(tree)) {
      if (node.typename === 'TemplateData' && typeof node.value === 'string' && node.value.includes(find)) {
        node.value = node.value.replace(find, replace);
        changed++;
      }
    }
    data.trees.set(key, serialize(tree));
  }
  writeCache(file, { stamp: stamp ?? data.stamp, trees: data.trees });
  return changed;
}

describe('the template cache', () => {
  it('keeps the trees of a run for the next, which reads them; the output is the same with it and without it', async () => {
    const dir = copyFixture('basic');
    const cache = cacheDir();
    expect((await generate(dir, cache)).exitCode).toBe(0);
    const expected = output(dir);
    const files = cacheFiles(cache);
    expect(files).toHaveLength(1);
    const [file] = files as [string];
    expect(path.basename(file)).toMatch(/^templates-[0-9a-f]{16}\.bin$/);
    expect(fs.statSync(cache).mode & 0o777).toBe(0o700);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    // base, tools-base, tools-api, db and macros.j2: one tree per text.
    expect(readCache(file).trees.size).toBe(5);

    const before = fs.statSync(file);
    fs.rmSync(path.join(dir, 'out'), { recursive: true });
    expect((await generate(dir, cache)).exitCode).toBe(0);
    expect(output(dir)).toEqual(expected);
    // Nothing new parsed: the file is not rewritten.
    expect(fs.statSync(file).mtimeMs).toBe(before.mtimeMs);
    expect(fs.statSync(file).ino).toBe(before.ino);

    // The run takes its trees from the file: a text changed in a tree there shows in the output.
    expect(tamper(file, 'LABEL maintainer=', 'LABEL cached=')).toBe(1);
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

  it('parses a template edited since the cache was written, and keeps only the trees the run used', async () => {
    const dir = copyFixture('basic');
    const cache = cacheDir();
    expect((await generate(dir, cache)).exitCode).toBe(0);
    const [file] = cacheFiles(cache) as [string];
    const keys = [...readCache(file).trees.keys()];
    const template = path.join(dir, 'docker', 'db', 'Dockerfile.j2');
    fs.writeFileSync(template, fs.readFileSync(template, 'utf8').replace(/^FROM .*$/m, '$&\nLABEL edited="yes"'));
    expect((await generate(dir, cache)).exitCode).toBe(0);
    expect(outputFile(dir, 'ubuntu/db/Dockerfile')).toContain('LABEL edited="yes"');
    const now = [...readCache(file).trees.keys()];
    expect(now).toHaveLength(5);
    expect(now.filter((k) => !keys.includes(k))).toHaveLength(1);
  });

  it("never changes what a run writes: a damaged file, damaged trees, another kolla-gen's file, a cache it cannot write", async () => {
    const clean = copyFixture('basic');
    const cleanCache = cacheDir();
    expect((await generate(clean, cleanCache)).exitCode).toBe(0);
    const expected = output(clean);
    const [cleanFile] = cacheFiles(cleanCache) as [string];
    const cleanTrees = readCache(cleanFile).trees;
    /** A copy of the fixture, and a cache dir holding `bytes` where that copy's cache file goes. */
    const planted = async (bytes: Buffer | string) => {
      const dir = copyFixture('basic');
      const cache = cacheDir();
      // The file's name is the copy's own: learn it from a run into a scratch cache.
      const scratch = cacheDir();
      expect((await generate(dir, scratch, {})).exitCode).toBe(0);
      fs.rmSync(path.join(dir, 'out'), { recursive: true });
      fs.mkdirSync(cache);
      const file = path.join(cache, path.basename(cacheFiles(scratch)[0]!));
      fs.writeFileSync(file, bytes);
      return { dir, cache, file };
    };

    // Bytes that are no cache, a cache cut short: ignored, then replaced by this run's trees.
    const cleanBytes = fs.readFileSync(cleanFile);
    for (const bytes of ['not a cache', cleanBytes.subarray(0, cleanBytes.length - 10)]) {
      const junk = await planted(bytes);
      expect((await generate(junk.dir, junk.cache)).exitCode).toBe(0);
      expect(output(junk.dir)).toEqual(expected);
      expect(readCache(junk.file).trees).toEqual(cleanTrees);
    }

    // Trees that do not compile (an unknown node, no body, not an object), bytes that are no tree, a tree that is not
    // whole: each of those templates is parsed again.
    const data = readCache(cleanFile);
    const keys = [...data.trees.keys()];
    data.trees.set(keys[0]!, serialize({ typename: 'NoSuchNode', lineno: 0, colno: 0 }));
    data.trees.set(keys[1]!, serialize({ typename: 'Root', lineno: 0, colno: 0 }));
    data.trees.set(keys[2]!, serialize(42));
    data.trees.set(keys[3]!, Buffer.from('not a tree'));
    data.trees.set(keys[4]!, data.trees.get(keys[4]!)!.subarray(0, 5));
    const broken = await planted(encodeTrees(data.stamp, data.trees));
    const brokenRun = await generate(broken.dir, broken.cache);
    expect(brokenRun.stderr).not.toMatch(/internal error|error\[/);
    expect(brokenRun.exitCode).toBe(0);
    expect(output(broken.dir)).toEqual(expected);
    expect(readCache(broken.file).trees).toEqual(cleanTrees);

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
    expect(blockedRun.stderr.trim()).toBe('kolla-gen: config kolla-gen.yaml');
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
