// The image dependency graph as text: graphviz, mermaid, kolla-build's JSON tree, and generated/GRAPH.md.

/** The formats of `kolla-gen deps` (here, not in commands/deps.ts, so that the CLI names them without loading it). */
export const DEPS_FORMATS = ['json', 'dot', 'mermaid'] as const;
export type DepsFormat = (typeof DEPS_FORMATS)[number];

/** One image, given in topological order (parents first), its parents sorted. */
export interface GraphNode {
  name: string;
  parents: string[];
}

/** By UTF-16 code unit, whatever the locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Each edge parent → child once, in node order then parent order; parents not among the nodes are left out. */
function edges(nodes: readonly GraphNode[]): [string, string][] {
  const names = new Set(nodes.map((n) => n.name));
  return nodes.flatMap((n) => [...new Set(n.parents)].filter((p) => names.has(p)).map((p): [string, string] => [p, n.name]));
}

function dotId(s: string): string {
  return `"${s.replace(/[\\"]/g, '\\$&').replace(/\r\n|\r|\n/g, '\\n')}"`;
}

/** One variant's graph: the cluster (dot) or subgraph (mermaid) that holds its images. */
export interface GraphSection {
  /** The variant, e.g. "ubuntu-binary": the cluster's label. */
  title: string;
  nodes: readonly GraphNode[];
  /** Images drawn as changed (mermaid: class `changed`); the others as context (`summary`: their parents). */
  marked?: ReadonlySet<string>;
}

/**
 * One graphviz digraph whatever the number of variants: a cluster per variant (left out when it has no image), its
 * nodes named "<variant>/<image>" so that the variants' images stay apart, each labelled with the image's name.
 */
export function formatDot(sections: readonly GraphSection[]): string {
  const out = ['digraph "images" {', '  rankdir=LR'];
  for (const s of sections) {
    if (s.nodes.length === 0) continue;
    const node = (name: string) => dotId(`${s.title}/${name}`);
    out.push(`  subgraph ${dotId(`cluster_${s.title}`)} {`, `    label=${dotId(s.title)}`);
    for (const n of s.nodes) out.push(`    ${node(n.name)} [label=${dotId(n.name)}]`);
    for (const [p, c] of edges(s.nodes)) out.push(`    ${node(p)} -> ${node(c)}`);
    out.push('  }');
  }
  out.push('}', '');
  return out.join('\n');
}

/**
 * Mermaid ids: letters, digits and "_" only ("-" is an edge, "." and ":" have meanings too),
 * behind a prefix so that no id is a keyword ("end", "style", "class") or starts an edge ("o", "x").
 * Two names that sanitise alike get a numeric suffix, in node order.
 */
function mermaidIds(nodes: readonly GraphNode[], prefix = 'img_'): Map<string, string> {
  const ids = new Map<string, string>();
  const used = new Set<string>();
  for (const { name } of nodes) {
    if (ids.has(name)) continue;
    const base = `${prefix}${name.replace(/[^A-Za-z0-9]/g, '_')}`;
    let id = base;
    for (let i = 2; used.has(id); i++) id = `${base}_${i}`;
    ids.set(name, id);
    used.add(id);
  }
  return ids;
}

/** A label inside `["…"]`: mermaid has no backslash escapes, only entity codes. */
function mermaidLabel(s: string): string {
  return s.replace(/[#"<>]/g, (c) => `#${c.charCodeAt(0)};`);
}

/** A mermaid flowchart, left to right (the trees are wide and shallow): every image declared, then each edge. */
export function formatMermaid(nodes: readonly GraphNode[]): string {
  const ids = mermaidIds(nodes);
  const id = (name: string): string => ids.get(name) ?? name;
  return [
    'graph LR',
    ...[...ids].map(([name, i]) => `  ${i}["${mermaidLabel(name)}"]`),
    ...edges(nodes).map(([p, c]) => `  ${id(p)} --> ${id(c)}`),
    '',
  ].join('\n');
}

/**
 * One mermaid flowchart whatever the number of variants: a subgraph per variant (left out when it has no image),
 * its ids behind "v<n>_" (n counts the variants shown) so that the variants' images stay apart.
 */
export function formatMermaidSections(sections: readonly GraphSection[]): string {
  const out = ['graph LR'];
  let n = 0;
  let anyMarked = false;
  for (const s of sections) {
    if (s.nodes.length === 0) continue;
    n++;
    const ids = mermaidIds(s.nodes, `v${n}_`);
    const id = (name: string): string => ids.get(name) ?? name;
    out.push(`  subgraph v${n}["${mermaidLabel(s.title)}"]`);
    for (const [name, i] of ids) out.push(`    ${i}["${mermaidLabel(name)}"]`);
    for (const [p, c] of edges(s.nodes)) out.push(`    ${id(p)} --> ${id(c)}`);
    const marked = [...ids].filter(([name]) => s.marked?.has(name)).map(([, i]) => i);
    if (marked.length > 0) out.push(`    class ${marked.join(',')} changed`);
    out.push('  end');
    anyMarked ||= marked.length > 0;
  }
  if (anyMarked) out.push('  classDef changed fill:#fff3cd,stroke:#d29922,stroke-width:2px');
  out.push('');
  return out.join('\n');
}

/** `deps --format json` and `deps --json`: one shape whatever the number of variants, flat (parents named, not nested). */
export interface DepsDocument {
  variants: {
    /** base, or base-type when the tree has install types. */
    name: string;
    base: string;
    type?: string;
    /** The arch whose graph is shown (the first configured). */
    arch: string;
    /** Parents first; each image's parents among these images, sorted. */
    images: { name: string; parents: string[] }[];
  }[];
}

/** Each image's parents once, among the section's images, sorted by code unit. */
export function depsImages(nodes: readonly GraphNode[]): DepsDocument['variants'][number]['images'] {
  const names = new Set(nodes.map((n) => n.name));
  return nodes.map((n) => ({ name: n.name, parents: [...new Set(n.parents)].filter((p) => names.has(p)).sort(compare) }));
}

/** generated/GRAPH.md: one mermaid chart per section. */
export function formatGraphMarkdown(sections: readonly { title: string; nodes: readonly GraphNode[] }[]): string {
  const out = ['# Image dependency graph', '', 'Generated by kolla-gen: do not edit. Run `kolla-gen generate` to update it.', ''];
  for (const s of sections) out.push(`### ${s.title}`, '', '```mermaid', formatMermaid(s.nodes).trimEnd(), '```', '');
  return out.join('\n');
}
