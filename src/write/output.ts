// The compiled build as the set of files of the output dir. Pure: copies are named, not read.
import { emitHcl } from '../emit/bake/hcl.js';
import { emitJson } from '../emit/bake/json.js';
import { formatGraphMarkdown, type GraphNode } from '../graph/format.js';
import type { Compiled, FamilyResult } from '../pipeline.js';
import { familyId } from '../core/types.js';

/** A file's bytes as text, or a file of the tree to copy as it is (a mixed overlay context). */
export type OutputFile = { text: string } | { copyFrom: string };

export function graphNodes(result: FamilyResult): GraphNode[] {
  const first = [...result.graphs.values()][0];
  if (!first) return [];
  return first.order.map((name) => ({ name, parents: first.parents.get(name) ?? [] }));
}

/** GRAPH.md: one mermaid section per distinct graph, naming the variants that share it. */
function graphMarkdown(compiled: Compiled): string {
  const sections = new Map<string, { families: string[]; nodes: GraphNode[] }>();
  for (const result of compiled.families) {
    const nodes = graphNodes(result);
    const signature = JSON.stringify(nodes);
    const section = sections.get(signature) ?? { families: [], nodes };
    section.families.push(familyId(result.family));
    sections.set(signature, section);
  }
  return formatGraphMarkdown([...sections.values()].map((s) => ({ title: s.families.join(', '), nodes: s.nodes })));
}

export function outputFiles(compiled: Compiled): Map<string, OutputFile> {
  const files = new Map<string, OutputFile>();
  const formats = compiled.config.bakeFormats ?? ['hcl', 'json'];
  if (formats.includes('hcl')) files.set('docker-bake.hcl', { text: emitHcl(compiled.bake) });
  if (formats.includes('json')) files.set('docker-bake.json', { text: emitJson(compiled.bake) });
  files.set('GRAPH.md', { text: graphMarkdown(compiled) });
  for (const target of compiled.targets) {
    files.set(target.dockerfile, { text: target.text });
    // BuildKit reads it ahead of the context's .dockerignore: the build sees exactly what the content hash covers.
    const ignore = compiled.contextIgnores.get(target.image);
    if (ignore !== undefined) files.set(`${target.dockerfile}.dockerignore`, { text: ignore });
  }
  for (const image of compiled.tree.images) {
    if (image.contextDir !== undefined) continue;
    for (const file of image.files) files.set(`contexts/${image.name}/${file.rel.slice(image.rel.length + 1)}`, { copyFrom: file.path });
  }
  // The manifest lists every file kolla-gen writes: the next run removes only those (others are the user's).
  const names = [...files.keys(), 'manifest.json'].sort(byCodeUnit);
  const { version, images } = compiled.manifest;
  const manifest = compiled.recorded ? { version, options: compiled.recorded, images, files: names } : { version, images, files: names };
  files.set('manifest.json', { text: `${JSON.stringify(manifest, null, 2)}\n` });
  return new Map([...files].sort(([a], [b]) => byCodeUnit(a, b)));
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
