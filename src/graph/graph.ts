// The image graph of each variant: FROM edges, cycles, topological order.
import { DirectedGraph } from 'graphology';
import { topologicalGenerations } from 'graphology-dag';
import { closest, distance } from 'fastest-levenshtein';
import { error, warning, type Diagnostic, type SourceLocation } from '../core/diagnostics.js';
import type { FromLine } from '../render/dockerfile.js';
import { familiarRef, parseRef } from '../core/ref.js';
import { variantId, type Variant } from '../core/types.js';

/** One rendered (image, variant), as the graph needs it. */
export interface RenderedImage {
  name: string;
  froms: FromLine[];
  /** Where a FROM comes from in the template (an error points there, not into the rendered text). */
  locate(from: FromLine): { location: SourceLocation; source: string };
}

export interface ParentLink {
  parent: string;
  from: FromLine;
}

export interface VariantGraph {
  variant: Variant;
  /** Image → its parents in the tree (sorted, unique). */
  parents: Map<string, string[]>;
  children: Map<string, string[]>;
  /** Parents before children; by depth, then name. */
  order: string[];
}

/** What marks a ref as the tree's own: its registry, namespace and tag. */
export interface OwnRefs {
  registry?: string;
  namespace: string;
  prefix: string;
  tag: string;
  /** familiar ref → image name, for this variant's family. */
  byRef: Map<string, string>;
}

const DOCKER_HUB = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

function sameRegistry(a: string | undefined, b: string | undefined): boolean {
  const norm = (r: string | undefined) => (r === undefined || DOCKER_HUB.has(r) ? undefined : r);
  return norm(a) === norm(b);
}

function suggest(name: string, candidates: string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const best = closest(name, candidates);
  return distance(name, best) <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** An image ref of the tree at most two edits away from an external FROM's familiar ref (kola/base for kolla/base). */
function nearOwnRef(familiar: string, own: OwnRefs): { ref: string; image: string } | undefined {
  // Only refs within 2 of its length can be within 2 edits of it: the same answer without measuring all of them.
  const refs = [...own.byRef.keys()].filter((r) => Math.abs(r.length - familiar.length) <= 2);
  if (refs.length === 0) return undefined;
  const best = closest(familiar, refs);
  const d = distance(familiar, best);
  return d > 0 && d <= 2 ? { ref: best, image: own.byRef.get(best) as string } : undefined;
}

/** The parents of one rendered image, or a KG402 for a FROM in the tree's namespace that names no image. */
export function resolveParents(image: RenderedImage, own: OwnRefs, imageNames: string[]): { links: ParentLink[]; diagnostics: Diagnostic[] } {
  const links: ParentLink[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const from of image.froms) {
    if (from.scratch || from.stage !== undefined) continue;
    const familiar = familiarRef(from.ref);
    const parent = familiar === undefined ? undefined : own.byRef.get(familiar);
    if (parent !== undefined) {
      links.push({ parent, from });
      continue;
    }
    const parsed = parseRef(from.ref);
    const ownNamespace = parsed !== undefined && sameRegistry(parsed.registry, own.registry) && (parsed.tag ?? 'latest') === own.tag && parsed.path.startsWith(`${own.namespace}/`);
    if (!parsed || !ownNamespace) {
      const near = familiar === undefined ? undefined : nearOwnRef(familiar, own);
      if (near) {
        diagnostics.push(
          warning('KG410', `FROM ${from.ref} is pulled as an external base, but it is one typo away from ${near.ref}, the image ${near.image} of the tree`, {
            ...image.locate(from),
            hint: `did you mean ${near.ref}? A FROM that is not exactly an image's ref of the tree is pulled from its registry (Docker Hub when it names none)`,
          }),
        );
      }
      continue;
    }
    const repo = parsed.path.slice(own.namespace.length + 1);
    const name = own.prefix && repo.startsWith(own.prefix) ? repo.slice(own.prefix.length) : repo;
    const guess = suggest(name, imageNames);
    diagnostics.push(
      error('KG402', `FROM ${from.ref} names no image of the tree`, {
        ...image.locate(from),
        hint: guess
          ? `did you mean ${guess}? (${own.namespace}/${own.prefix}${guess}:${own.tag})`
          : `the tree's images are named ${own.namespace}/${own.prefix}<image>:${own.tag}; a FROM outside that namespace, registry or tag is an external base`,
      }),
    );
  }
  return { links, diagnostics };
}

function cycleThrough(start: string, members: Set<string>, parents: Map<string, ParentLink[]>): ParentLink[] {
  // Walk child → parent inside the component until we are back at start; report it parent → child. Iterative: a
  // chain of FROMs thousands deep must not overflow the stack.
  const path: ParentLink[] = [];
  const seen = new Set<string>([start]);
  const frames: { links: ParentLink[]; next: number }[] = [{ links: parents.get(start) ?? [], next: 0 }];
  while (frames.length > 0) {
    const frame = frames[frames.length - 1] as { links: ParentLink[]; next: number };
    const link = frame.links[frame.next++];
    if (link === undefined) {
      frames.pop();
      path.pop();
      continue;
    }
    if (!members.has(link.parent)) continue;
    if (link.parent === start) return [...path, link];
    if (seen.has(link.parent)) continue;
    seen.add(link.parent);
    path.push(link);
    frames.push({ links: parents.get(link.parent) ?? [], next: 0 });
  }
  return [];
}

/** Tarjan's strongly connected components, with an explicit stack (graphology-components' walk recurses per node). */
export function stronglyConnected(nodes: readonly string[], edges: (node: string) => readonly string[]): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  for (const root of nodes) {
    if (index.has(root)) continue;
    const frames: { node: string; out: readonly string[]; next: number }[] = [];
    const enter = (node: string) => {
      index.set(node, counter);
      low.set(node, counter++);
      stack.push(node);
      onStack.add(node);
      frames.push({ node, out: edges(node), next: 0 });
    };
    enter(root);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1] as { node: string; out: readonly string[]; next: number };
      const to = frame.out[frame.next++];
      if (to !== undefined) {
        if (!index.has(to)) enter(to);
        else if (onStack.has(to)) low.set(frame.node, Math.min(low.get(frame.node) as number, index.get(to) as number));
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node) as number, low.get(frame.node) as number));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop() as string;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        components.push(component);
      }
    }
  }
  return components;
}

export interface GraphInput {
  variant: Variant;
  images: RenderedImage[];
  own: OwnRefs;
}

/** Builds one variant's graph. Cycles come back as diagnostics keyed so that the caller reports each once. */
export function buildGraph(input: GraphInput): { graph?: VariantGraph; diagnostics: (Diagnostic & { key?: string })[] } {
  const diagnostics: (Diagnostic & { key?: string })[] = [];
  const names = input.images.map((i) => i.name);
  const byName = new Map(input.images.map((i) => [i.name, i]));
  const links = new Map<string, ParentLink[]>();
  const g = new DirectedGraph();
  for (const name of names) g.addNode(name);
  for (const image of input.images) {
    const resolved = resolveParents(image, input.own, names);
    diagnostics.push(...resolved.diagnostics.map((d) => ({ ...d, variants: [variantId(input.variant)] })));
    links.set(image.name, resolved.links);
    for (const link of resolved.links) {
      if (link.parent === image.name) {
        diagnostics.push({
          ...error('KG501', `${image.name} builds FROM itself (${link.from.ref})`, image.locate(link.from)),
          key: `KG501:${image.name}`,
        });
        continue;
      }
      g.mergeEdge(link.parent, image.name);
    }
  }
  for (const component of stronglyConnected(names, (n) => g.outNeighbors(n))) {
    if (component.length < 2) continue;
    const members = new Set(component);
    const start = [...component].sort()[0] as string;
    // cycleThrough walks child → parent; link i is a FROM of childOf[i].
    const path = cycleThrough(start, members, links);
    const childOf = [start, ...path.map((l) => l.parent)];
    const chain = [...childOf].reverse();
    const related = path.map((link, i) => {
      const child = childOf[i] as string;
      const where = byName.get(child)?.locate(link.from);
      return { message: `${child} is built FROM ${link.parent}`, location: where?.location, source: where?.source };
    });
    const first = path[0];
    const firstImage = byName.get(start);
    diagnostics.push({
      ...error('KG500', `cycle in the image graph: ${chain.join(' → ')}`, {
        ...(first && firstImage ? firstImage.locate(first.from) : {}),
        related,
      }),
      key: `KG500:${[...members].sort().join(',')}`,
    });
  }
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };

  const parents = new Map<string, string[]>();
  const children = new Map<string, string[]>();
  for (const name of names) {
    parents.set(name, [...new Set(g.inNeighbors(name))].sort());
    children.set(name, [...new Set(g.outNeighbors(name))].sort());
  }
  const order = topologicalGenerations(g).flatMap((generation) => [...generation].sort());
  return { graph: { variant: input.variant, parents, children, order }, diagnostics };
}

/** Every image reached from `name` by following `edges` (parents or children) again and again. */
function reachable(edges: Map<string, string[]>, name: string): Set<string> {
  const out = new Set<string>();
  const stack = [...(edges.get(name) ?? [])];
  while (stack.length > 0) {
    const next = stack.pop() as string;
    if (out.has(next)) continue;
    out.add(next);
    stack.push(...(edges.get(next) ?? []));
  }
  return out;
}

/** Every ancestor of `name` in the graph. */
export function ancestors(graph: VariantGraph, name: string): Set<string> {
  return reachable(graph.parents, name);
}

/** Every descendant of `name` in the graph. */
export function descendants(graph: VariantGraph, name: string): Set<string> {
  return reachable(graph.children, name);
}
