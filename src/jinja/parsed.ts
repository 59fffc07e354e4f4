// Syntax trees by the hash of their template's text, kept serialized: with the cache on disk
// (commands/template-cache.ts) a text is parsed once across runs, and once per process across renderers (the
// revision's of --affected-since) and worker threads. Parsing is a sixth of a run's CPU time on upstream Kolla. A tree
// depends on the text alone. Kept as bytes, not objects: a run holds only the trees it is compiling, and reads back
// only those it uses.
import { createHash } from 'node:crypto';
import { deserialize, serialize } from 'node:v8';
import { normalizeSource, parseTemplate, type Node } from './syntax.js';
import { KeptEntries } from '../core/kept-entries.js';

/** The trees, by the hash of their text: those this process used and those it parsed itself. */
const trees = new KeptEntries();
/** The sources of the run's templates: their trees are kept though the run took their renderings (render/kept.ts). */
let live: (() => Iterable<string>) | undefined;

export function textKey(source: string): string {
  return createHash('sha256').update(source).digest('base64url');
}

/** Keeps the trees this process parses, starting from those `read` gives (read on the first parse). */
export function keepTrees(read?: () => Map<string, Uint8Array>): void {
  trees.keep(read);
}

/** The tree of a (normalized) template text, a new object on each call. Throws TemplateSyntaxError. */
export function parsedTemplate(source: string): Node {
  if (!trees.keeping) return plainTree(parseTemplate(source)) as Node;
  const key = textKey(source);
  trees.use(key);
  const blob = trees.get(key);
  if (blob !== undefined) {
    try {
      return deserialize(blob) as Node;
    } catch {
      // Damaged: parsed again below.
    }
  }
  const tree = plainTree(parseTemplate(source)) as Node;
  trees.set(key, serialize(tree));
  return tree;
}

/** Forgets a tree that came from outside (the disk, another thread) and did not compile: the text is parsed again. */
export function forgetTree(source: string): boolean {
  return trees.keeping && trees.forget(textKey(source));
}

/** What a worker thread hands back: the trees it parsed, and the keys it used. */
export interface TreeReport {
  parsed: [string, Uint8Array][];
  used: string[];
}

export function treeReport(): TreeReport {
  const { made, used } = trees.report();
  return { parsed: made, used };
}

export function mergeTreeReport(report: TreeReport): void {
  trees.adopt(report.parsed, true);
  trees.useAll(report.used);
}

/** The trees a worker thread starts with; undefined when this process keeps none. */
export function knownTrees(): Map<string, Uint8Array> | undefined {
  return trees.keeping ? trees.all() : undefined;
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
  return trees.toKeep(() => [...(live?.() ?? [])].map((source) => textKey(normalizeSource(source))));
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
