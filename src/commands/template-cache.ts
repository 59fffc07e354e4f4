// The template cache: the syntax trees of the templates a run parsed, its renderings and the output of `generate` or
// `check`, kept on disk for the next run, as Jinja2's bytecode cache keeps compiled templates. Three files per repo
// root, each entry serialized on its own and read back only when a run uses it, each file rewritten only when the run
// made an entry it did not hold. A tree depends on its text alone (the key is the text's hash) and on kolla-gen's
// parser: its file is stamped with the parser's own code. A rendering (render/kept.ts) and an output
// (write/kept-output.ts) depend on their inputs and on all of kolla-gen's code: their files are stamped with every file
// of it. A file from another kolla-gen or node is not read. Nothing here can fail a run.
// CI restores the dir from earlier runs, so a file there is read as found, not as kolla-gen wrote it: only a regular
// file of this user's that no one else can write, bounded in size, and an entry only where its digest (kept in the
// index, apart from it, over its key and its bytes) matches; anything else is a miss.
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import { cacheDir, readCacheFile as readBoundedCacheFile } from '../engine/cache-dir.js';
import { keepTrees, treesToKeep } from '../jinja/parsed.js';
import { PARSER_MODULE } from '../jinja/syntax.js';
import { keepRenderings, renderingsToKeep } from '../render/kept.js';
import { keepOutputs, outputsToKeep } from '../write/kept-output.js';

const FORMAT = 2;

/** The largest cache file read or written (Kolla's 8 variants keep about 35 MB); a larger one is a miss. */
export const MAX_CACHE_FILE = 256 * 1024 * 1024;

/** A cache file's bytes (see readCacheFile in engine/cache-dir.ts), up to MAX_CACHE_FILE. */
export const readCacheFile = (file: string): Buffer | undefined => readBoundedCacheFile(file, MAX_CACHE_FILE);

/**
 * The cache file of a kind for a repo root; undefined with KOLLA_GEN_CACHE=off, or with no absolute dir to keep it in.
 * (see cacheDir: a relative XDG_CACHE_HOME is ignored).
 */
export function templateCacheFile(root: string, env: Record<string, string | undefined>, kind: 'templates' | 'renders' | 'outputs' = 'templates'): string | undefined {
  const dir = cacheDir(env);
  return dir === undefined ? undefined : join(dir, `${kind}-${createHash('sha256').update(root).digest('hex').slice(0, 16)}.bin`);
}

/**
 * Reads the trees, renderings and output of earlier runs when the first template is parsed, render looked up or output
 * asked for; the returned function saves this run's.
 */
export function useTemplateCache(root: string, env: Record<string, string | undefined>): () => void {
  const trees = templateCacheFile(root, env, 'templates');
  const renders = templateCacheFile(root, env, 'renders');
  const outputs = templateCacheFile(root, env, 'outputs');
  if (trees === undefined || renders === undefined || outputs === undefined) return () => {};
  keepTrees(() => readEntries(trees, parserStamp()));
  keepRenderings(() => readEntries(renders, codeStamp()));
  keepOutputs(() => readEntries(outputs, codeStamp()));
  return () => {
    const kept = treesToKeep();
    if (kept) saveEntries(trees, parserStamp(), kept);
    const rendered = renderingsToKeep();
    if (rendered) saveEntries(renders, codeStamp(), rendered);
    const output = outputsToKeep();
    if (output) saveEntries(outputs, codeStamp(), output);
  };
}

let ownStamp: string | undefined;
function parserStamp(): string {
  if (ownStamp === undefined) {
    let nunjucks = '';
    try {
      nunjucks = (createRequire(PARSER_MODULE)('nunjucks/package.json') as { version: string }).version;
    } catch {
      // The bundle: nunjucks' parser is in the same file as kolla-gen's.
    }
    const hash = createHash('sha256').update(`${FORMAT}\0${process.versions.v8}\0${nunjucks}\0`);
    ownStamp = hash.update(readFileSync(fileURLToPath(PARSER_MODULE))).digest('base64url');
  }
  return ownStamp;
}

let ownCode: string | undefined;
/**
 * Every file of kolla-gen's code: in the bundle, the dir this module is in (dist/); run from its sources (the tests),
 * the src/ dir above it.
 */
function codeStamp(): string {
  if (ownCode === undefined) {
    const here = dirname(fileURLToPath(import.meta.url));
    const dir = basename(here) === 'commands' ? dirname(here) : here;
    const files = readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && /\.(js|mjs|ts)$/.test(e.name))
      .map((e) => join(e.parentPath, e.name))
      .sort();
    const hash = createHash('sha256').update(`${FORMAT}\0${process.versions.v8}\0`);
    for (const file of files) hash.update(`${relative(dir, file)}\0`).update(readFileSync(file)).update('\0');
    ownCode = hash.digest('base64url');
  }
  return ownCode;
}

function readEntries(file: string, stamp: string): Map<string, Uint8Array> {
  try {
    const bytes = readCacheFile(file);
    const read = bytes && decodeEntries(bytes);
    if (read?.stamp === stamp) return read.entries;
  } catch {
    // Damaged: parse and render again.
  }
  return new Map();
}

/** An entry's digest: of its key and its bytes, so that an entry is whole and filed under the key it was made for. */
function entryDigest(key: string, bytes: Uint8Array): string {
  return createHash('sha256').update(key).update('\0').update(bytes).digest('base64url');
}

/**
 * A file: a 4-byte length, then the index (stamp, keys, each entry's length and digest) serialized, then the entries'
 * bytes one after another. The entries read are views of the file's bytes: nothing is copied, and each is
 * deserialized when a run uses it (a damaged one is made again then). An entry whose digest does not match is left
 * out (a miss). Throws on a file of another shape.
 */
export function decodeEntries(bytes: Buffer): { stamp: unknown; entries: Map<string, Uint8Array> } {
  if (bytes.length < 4) throw new Error('not a template cache');
  const end = 4 + bytes.readUInt32LE(0);
  if (end > bytes.length) throw new Error('not a template cache');
  const index = deserialize(bytes.subarray(4, end)) as { stamp?: unknown; keys?: unknown; lengths?: unknown; digests?: unknown } | null;
  const keys = index?.keys;
  const lengths = index?.lengths;
  const digests = index?.digests;
  if (!Array.isArray(keys) || !Array.isArray(lengths) || !Array.isArray(digests) || keys.length !== lengths.length || keys.length !== digests.length) throw new Error('not a template cache');
  const entries = new Map<string, Uint8Array>();
  let at = end;
  keys.forEach((key: unknown, i) => {
    const length: unknown = lengths[i];
    if (typeof key !== 'string' || typeof length !== 'number' || !Number.isInteger(length) || length < 0 || at + length > bytes.length) throw new Error('not a template cache');
    const entry = bytes.subarray(at, at + length);
    if (digests[i] === entryDigest(key, entry)) entries.set(key, entry);
    at += length;
  });
  if (at !== bytes.length) throw new Error('not a template cache');
  return { stamp: index?.stamp, entries };
}

export function encodeEntries(stamp: string, entries: Map<string, Uint8Array>): Buffer {
  return Buffer.concat(encodedParts(stamp, entries));
}

/** The file's bytes in parts: the entries are written as they are, not copied into one buffer (an output is tens of MB). */
function encodedParts(stamp: string, entries: Map<string, Uint8Array>): Uint8Array[] {
  const digests = [...entries].map(([key, bytes]) => entryDigest(key, bytes));
  const index = serialize({ stamp, keys: [...entries.keys()], lengths: [...entries.values()].map((t) => t.length), digests });
  const head = Buffer.alloc(4);
  head.writeUInt32LE(index.length, 0);
  return [head, index, ...entries.values()];
}

function saveEntries(file: string, stamp: string, entries: Map<string, Uint8Array>): void {
  const temp = `${file}.${process.pid}.tmp`;
  // A file the next run would not read is not written.
  if ([...entries.values()].reduce((sum, bytes) => sum + bytes.length, 0) > MAX_CACHE_FILE) return;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    // wx: never through a file or link someone else put there.
    const fd = openSync(temp, 'wx', 0o600);
    try {
      // writeSync may write less than asked (writeFileSync, which this replaced, loops the same way).
      for (const part of encodedParts(stamp, entries)) for (let at = 0; at < part.length; ) at += writeSync(fd, part, at);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch {
    try {
      unlinkSync(temp);
    } catch {
      // Not written.
    }
  }
}
