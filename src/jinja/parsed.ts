// Syntax trees by the hash of their template's text, kept serialized: with the cache on disk
// (commands/template-cache.ts) a text is parsed once across runs, and once per process across renderers (the
// revision's of --affected-since) and worker threads. Parsing is a sixth of a run's CPU time on upstream Kolla. A tree
// depends on the text alone. Kept as bytes, not objects: a run holds only the trees it is compiling, and reads back
// only those it uses.
import { createHash } from 'node:crypto';
import { deserialize, serialize } from 'node:v8';
import { normalizeSource, parseTemplate, type Node } from './syntax.js';

const blobs = new Map<string, Uint8Array>();
/** The keys of the trees this process used, and of those it parsed itself. */
const used = new Set<string>();
const fresh = new Set<string>();
/** Off (every text parsed, nothing kept) until a command keeps trees. */
let keeping = false;
/** Reads the cache on disk: on the first parse only, so a run that renders nothing never reads it. */
let pending: (() => Map<string, Uint8Array>) | undefined;
/** The sources of the run's templates: their trees are kept though the run took their renderings (render/kept.ts). */
let live: (() => Iterable<string>) | undefined;

export function textKey(source: string): string {
  return createHash('sha256').update(source).digest('base64url');
}

/** Keeps the trees this process parses, starting from those `read` gives (read on the first parse). */
export function keepTrees(read: () => Map<string, Uint8Array> = () => new Map()): void {
  keeping = true;
  pending = read;
}

/** The tree of a (normalized) template text, a new object on each call. Throws TemplateSyntaxError. */
export function parsedTemplate(source: string): Node {
  if (!keeping) return plainTree(parseTemplate(source)) as Node;
  adoptPending();
  const key = textKey(source);
  used.add(key);
  const blob = blobs.get(key);
  if (blob !== undefined) {
    try {
      return deserialize(blob) as Node;
    } catch {
      // Damaged: parsed again below.
    }
  }
  const tree = plainTree(parseTemplate(source)) as Node;
  blobs.set(key, serialize(tree));
  fresh.add(key);
  return tree;
}

/** Forgets a tree that came from outside (the disk, another thread) and did not compile: the text is parsed again. */
export function forgetTree(source: string): boolean {
  if (!keeping) return false;
  const key = textKey(source);
  if (fresh.has(key) || !blobs.has(key)) return false;
  blobs.delete(key);
  return true;
}

function adoptPending(): void {
  if (pending === undefined) return;
  const read = pending;
  pending = undefined;
  adoptTrees(read());
}

/** Takes trees parsed elsewhere; a tree already here stays. */
function adoptTrees(entries: Iterable<[string, Uint8Array]>): void {
  for (const [key, blob] of entries) if (!blobs.has(key)) blobs.set(key, blob);
}

/** What a worker thread hands back: the trees it parsed, and the keys it used. */
export interface TreeReport {
  parsed: [string, Uint8Array][];
  used: string[];
}

export function treeReport(): TreeReport {
  return { parsed: [...fresh].map((key) => [key, blobs.get(key)!]), used: [...used] };
}

export function mergeTreeReport(report: TreeReport): void {
  for (const [key, blob] of report.parsed) {
    if (!blobs.has(key)) blobs.set(key, blob);
    fresh.add(key);
  }
  for (const key of report.used) used.add(key);
}

/** The trees a worker thread starts with; undefined when this process keeps none. */
export function knownTrees(): Map<string, Uint8Array> | undefined {
  if (!keeping) return undefined;
  adoptPending();
  return blobs;
}

/** Keeps the trees of these template sources (read only if the file is rewritten) besides those the run used. */
export function keepTreesOf(sources: () => Iterable<string>): void {
  live = sources;
}

/**
 * The trees to keep on disk (those this run used, and those of its templates' texts that it holds), or undefined when
 * what is there already holds them.
 */
export function treesToKeep(): Map<string, Uint8Array> | undefined {
  if (fresh.size === 0) return undefined;
  const keys = new Set(used);
  for (const source of live?.() ?? []) keys.add(textKey(normalizeSource(source)));
  return new Map([...keys].sort().flatMap((key) => (blobs.has(key) ? [[key, blobs.get(key)!] as [string, Uint8Array]] : [])));
}

/** nunjucks builds class instances (their typename on the prototype); the compiler reads own fields only. */
function plainTree(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainTree);
  if (value === null || typeof value !== 'object') return value;
  const node = value as Node;
  const out: Node = { typename: node.typename, lineno: node.lineno, colno: node.colno };
  for (const key of Object.keys(node)) out[key] = plainTree(node[key]);
  return out;
}
