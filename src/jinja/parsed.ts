// Syntax trees by the hash of their template's text: a text is parsed once per process, and with the cache on disk
// (commands/template-cache.ts) once across runs. Parsing is a sixth of a run's CPU time on upstream Kolla. The trees are
// plain data, so they cross to worker threads and to disk as they are; a tree depends on the text alone.
import { createHash } from 'node:crypto';
import { parseTemplate, type Node } from './syntax.js';

const trees = new Map<string, Node>();
/** The keys of the trees this process used, and of those it parsed itself. */
const used = new Set<string>();
const fresh = new Set<string>();
/** Reads the cache on disk: called on the first parse only, so a run that renders nothing never reads it. */
let pending: (() => Map<string, Node>) | undefined;

export function textKey(source: string): string {
  return createHash('sha256').update(source).digest('base64url');
}

/** The tree of a (normalized) template text. Throws TemplateSyntaxError. */
export function parsedTemplate(source: string): Node {
  if (pending) adoptTrees(takePending()());
  const key = textKey(source);
  used.add(key);
  let tree = trees.get(key);
  if (tree === undefined) {
    tree = plainTree(parseTemplate(source)) as Node;
    trees.set(key, tree);
    fresh.add(key);
  }
  return tree;
}

/** Forgets a tree that came from outside (the disk, another thread) and did not compile: the text is parsed again. */
export function forgetTree(source: string): boolean {
  const key = textKey(source);
  if (fresh.has(key)) return false;
  trees.delete(key);
  return true;
}

function takePending(): () => Map<string, Node> {
  const read = pending!;
  pending = undefined;
  return read;
}

/** Where the trees of earlier runs come from (read on the first parse). */
export function preloadTrees(read: () => Map<string, Node>): void {
  pending = read;
}

/** Takes trees parsed elsewhere; a tree already here stays. */
export function adoptTrees(entries: Iterable<[string, Node]>): void {
  for (const [key, tree] of entries) if (!trees.has(key)) trees.set(key, tree);
}

/** What a worker thread hands back: the trees it parsed, and the keys it used. */
export interface TreeReport {
  parsed: [string, Node][];
  used: string[];
}

export function treeReport(): TreeReport {
  return { parsed: [...fresh].map((key) => [key, trees.get(key)!]), used: [...used] };
}

export function mergeTreeReport(report: TreeReport): void {
  for (const [key, tree] of report.parsed) {
    if (!trees.has(key)) trees.set(key, tree);
    fresh.add(key);
  }
  for (const key of report.used) used.add(key);
}

/** The trees this process holds, for a worker thread to start with. */
export function knownTrees(): Map<string, Node> {
  if (pending) adoptTrees(takePending()());
  return trees;
}

/** The trees to keep on disk (those this run used), or undefined when what is there already holds them. */
export function treesToKeep(): Map<string, Node> | undefined {
  if (fresh.size === 0) return undefined;
  return new Map([...used].sort().flatMap((key) => (trees.has(key) ? [[key, trees.get(key)!] as [string, Node]] : [])));
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
