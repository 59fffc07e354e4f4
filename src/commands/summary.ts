// kolla-gen summary --affected-since REV: markdown for a CI job summary. What --affected-since selects (the revision's
// compile of since.ts and the affected set of the pipeline, nothing computed again), per variant; a mermaid graph of
// those images and their parents; and what changed in each image's rendered Dockerfile between the two generations.
import type { CliOptions } from '../load/config/resolve.js';
import type { LoadOptions } from '../load/load.js';
import type { Affected } from '../changes/content-hash.js';
import { familyId, type Arch } from '../core/types.js';
import { formatMermaidSections, type GraphNode, type GraphSection } from '../graph/format.js';
import { renderKey } from '../render/images.js';
import type { Compiled } from '../pipeline.js';
import { compileProject, failed, type CommandResult } from './run.js';
import { buildkitView } from '../render/dockerfile.js';

/** Bounds that keep a summary readable (and within what GitHub renders): names per list, graph nodes, changes. */
export const SUMMARY_LIMITS = { names: 30, graphNodes: 60, images: 20, lines: 8, chars: 160 };

export interface VariantSummary {
  /** base, or base-type. */
  variant: string;
  /** Changed themselves (their Dockerfile, context, args or FROM). */
  changed: string[];
  /** Affected because a parent changed: image → the changed ancestor. */
  throughParent: { image: string; ancestor: string }[];
  /** New since the revision. */
  added: string[];
  /** At the revision, gone now. */
  removed: string[];
  /** Selected and the same as at the revision. */
  unchanged: number;
}

export interface ImageChange {
  image: string;
  /** Where it changed so: variants, or variant/arch where not on every arch. */
  on: string[];
  /** What differs of its inputs (content-hash's words), e.g. "Dockerfile". */
  inputs: string[];
  /** Instructions of the rendered Dockerfile gone and new (continuations joined, comments and blank lines left out). */
  removed: string[];
  added: string[];
}

export interface Summary {
  revision: string;
  variants: VariantSummary[];
  graph: { mermaid: string; shown: number; leftOut: number };
  changes: ImageChange[];
  /** Image changes left out by the bound. */
  changesLeftOut: number;
  /** The tree at the revision did not compile: everything counts as added. */
  revisionFailed: boolean;
}

/**
 * The instructions of a Dockerfile as BuildKit reads them (render/dockerfile.ts's buildkitView, which the content hash
 * covers: continuations joined, comment and blank lines left out, directives and heredoc lines kept), spaces collapsed.
 */
export function instructions(text: string): string[] {
  return buildkitView(text)
    .split('\n')
    .map((line) => line.replace(/\s+/g, ' ').trim())
    .filter((line) => line !== '');
}

/** The instructions gone and new between two Dockerfiles, each in its file's order (a multiset difference). */
export function instructionChanges(then: string, now: string): { removed: string[]; added: string[] } {
  const a = instructions(then);
  const b = instructions(now);
  const minus = (from: string[], take: string[]) => {
    const counts = new Map<string, number>();
    for (const x of take) counts.set(x, (counts.get(x) ?? 0) + 1);
    return from.filter((x) => {
      const n = counts.get(x) ?? 0;
      if (n === 0) return true;
      counts.set(x, n - 1);
      return false;
    });
  };
  return { removed: minus(a, b), added: minus(b, a) };
}

const rank: Record<Affected['kind'], number> = { changed: 0, new: 1, ancestor: 2 };

/** What one (image, family) is across its arches: the strongest reason of any arch. */
function reasonOf(compiled: Compiled, image: string, family: Compiled['families'][number]['family']): Affected | undefined {
  let best: Affected | undefined;
  for (const arch of compiled.config.arches) {
    const why = compiled.affected?.get(renderKey(image, family, arch));
    if (why && (best === undefined || rank[why.kind] < rank[best.kind])) best = why;
  }
  return best;
}

export function summarize(compiled: Compiled): Summary {
  const since = compiled.since;
  if (!since) throw new Error('summary: the compile was not made with --affected-since');
  const then = since.hashes === 'current' ? compiled.hashes : since.hashes;
  const arches = compiled.config.arches;
  const variants: VariantSummary[] = [];
  const sections: GraphSection[] = [];
  const changes = new Map<string, ImageChange>();
  for (const result of compiled.families) {
    const id = familyId(result.family);
    const built = (name: string) => arches.some((a) => result.statuses.get(a)?.get(name) === 'selected');
    const unaffected = (name: string) => !built(name) && arches.some((a) => result.statuses.get(a)?.get(name) === 'unaffected');
    const v: VariantSummary = { variant: id, changed: [], throughParent: [], added: [], removed: [], unchanged: 0 };
    const graph = result.graphs.get(arches[0] as Arch);
    const order = graph?.order ?? [];
    const marked = new Set<string>();
    for (const name of order) {
      if (unaffected(name)) v.unchanged++;
      if (!built(name)) continue;
      const why = reasonOf(compiled, name, result.family);
      if (why === undefined) continue;
      marked.add(name);
      if (why.kind === 'new') v.added.push(name);
      else if (why.kind === 'ancestor') v.throughParent.push({ image: name, ancestor: why.ancestor });
      else {
        v.changed.push(name);
        for (const arch of arches) {
          const key = renderKey(name, result.family, arch);
          const own = compiled.affected?.get(key);
          if (own?.kind !== 'changed') continue;
          const before = since.texts?.get(key);
          const now = result.images.find((i) => i.name === name)?.texts.get(arch);
          const diff = before !== undefined && now !== undefined ? instructionChanges(before, now) : { removed: [], added: [] };
          const change = { image: name, inputs: own.changes, ...diff };
          const k = JSON.stringify(change);
          const seen = changes.get(k) ?? { ...change, on: [] };
          seen.on.push(`${id}/${arch}`);
          changes.set(k, seen);
        }
      }
    }
    const names = new Set(compiled.tree.images.map((i) => i.name));
    for (const key of then.keys()) {
      const [image, family] = key.split('|');
      if (family === id && image !== undefined && !v.removed.includes(image) && (!names.has(image) || !compiled.hashes.has(key))) v.removed.push(image);
    }
    v.removed.sort();
    variants.push(v);
    // The graph: what is built, and its parents for context.
    const shown = new Set(marked);
    for (const name of marked) for (const p of graph?.parents.get(name) ?? []) shown.add(p);
    const nodes: GraphNode[] = order.filter((n) => shown.has(n)).map((name) => ({ name, parents: graph?.parents.get(name) ?? [] }));
    sections.push({ title: id, nodes, marked });
  }
  // A change on every arch of a variant is said of the variant.
  const collapse = (on: string[]) =>
    [...new Set(on.map((o) => o.split('/')[0] as string))].flatMap((fam) => {
      const here = on.filter((o) => o.startsWith(`${fam}/`));
      return here.length === arches.length ? [fam] : here;
    });
  const all = [...changes.values()].map((c) => ({ ...c, on: collapse(c.on) }));
  // Changes alike on several variants are said once.
  const merged = new Map<string, ImageChange>();
  for (const c of all) {
    const k = JSON.stringify([c.image, c.inputs, c.removed, c.added]);
    const seen = merged.get(k);
    if (seen) seen.on.push(...c.on);
    else merged.set(k, { ...c, on: [...c.on] });
  }
  const list = [...merged.values()];
  return {
    revision: since.revision,
    variants,
    graph: mermaidOf(sections),
    changes: list.slice(0, SUMMARY_LIMITS.images),
    changesLeftOut: Math.max(0, list.length - SUMMARY_LIMITS.images),
    revisionFailed: since.hashes !== 'current' && since.hashes.size === 0,
  };
}

/** Variants with the same graph share one subgraph; at most graphNodes nodes, parents first, the rest counted. */
export function mermaidOf(sections: GraphSection[], limit = SUMMARY_LIMITS.graphNodes): Summary['graph'] {
  const same = new Map<string, GraphSection>();
  for (const s of sections) {
    if (s.nodes.length === 0) continue;
    const k = JSON.stringify([s.nodes, [...(s.marked ?? [])]]);
    const seen = same.get(k);
    same.set(k, seen ? { ...seen, title: `${seen.title}, ${s.title}` } : s);
  }
  let room = limit;
  let leftOut = 0;
  const kept: GraphSection[] = [];
  for (const s of same.values()) {
    const nodes = s.nodes.slice(0, Math.max(0, room));
    leftOut += s.nodes.length - nodes.length;
    room -= nodes.length;
    if (nodes.length > 0) kept.push({ ...s, nodes });
  }
  const shown = kept.reduce((n, s) => n + s.nodes.length, 0);
  return { mermaid: shown > 0 ? formatMermaidSections(kept) : '', shown, leftOut };
}

const code = (s: string) => `\`${s.replace(/`/g, "'")}\``;

function names(list: string[]): string {
  const shown = list.slice(0, SUMMARY_LIMITS.names).map(code);
  return `${shown.join(', ')}${list.length > shown.length ? ` and ${list.length - shown.length} more` : ''}`;
}

/** Characters two lines share at their start. */
function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/**
 * The lines of one side, each cut to its bound; a line that shares a long start with a line of the other side (an
 * edited RUN) shows its start and then where it begins to differ, so that the two sides do not read the same.
 */
function cut(lines: string[], other: string[], sign: string): string[] {
  const { chars } = SUMMARY_LIMITS;
  const show = (l: string) => {
    const shared = Math.max(0, ...other.map((o) => commonPrefix(l, o)));
    const s = shared > 60 ? `${l.slice(0, 30)} … ${l.slice(shared - 20)}` : l;
    return s.length > chars ? `${s.slice(0, chars)}…` : s;
  };
  const shown = lines.slice(0, SUMMARY_LIMITS.lines).map((l) => `${sign} ${show(l)}`);
  return lines.length > shown.length ? [...shown, `${sign} … ${lines.length - shown.length} more`] : shown;
}

export function summaryMarkdown(s: Summary): string {
  const out = [`## Images affected since ${s.revision}`, ''];
  if (s.revisionFailed) out.push(`The tree at ${s.revision} does not compile with these options: every image counts as added.`, '');
  const total = (f: (v: VariantSummary) => number) => s.variants.reduce((n, v) => n + f(v), 0);
  const build = (v: VariantSummary) => v.changed.length + v.throughParent.length + v.added.length;
  if (total(build) + total((v) => v.removed.length) === 0) {
    out.push(`Nothing to build: every image has the content hash it had at ${s.revision}.`, '');
    return out.join('\n');
  }
  out.push('| variant | to build | changed | through a parent | added | removed | unchanged |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const v of s.variants) out.push(`| ${v.variant} | ${build(v)} | ${v.changed.length} | ${v.throughParent.length} | ${v.added.length} | ${v.removed.length} | ${v.unchanged} |`);
  out.push(`| **all** | **${total(build)}** | ${total((v) => v.changed.length)} | ${total((v) => v.throughParent.length)} | ${total((v) => v.added.length)} | ${total((v) => v.removed.length)} | ${total((v) => v.unchanged)} |`, '');
  // Variants whose lists are the same are said once.
  const alike = new Map<string, VariantSummary>();
  for (const v of s.variants) {
    const k = JSON.stringify({ ...v, variant: '', unchanged: 0 });
    const seen = alike.get(k);
    alike.set(k, seen ? { ...seen, variant: `${seen.variant}, ${v.variant}` } : v);
  }
  for (const v of alike.values()) {
    if (build(v) + v.removed.length === 0) continue;
    out.push(`<details><summary>${v.variant}: ${build(v)} to build${v.removed.length > 0 ? `, ${v.removed.length} removed` : ''}</summary>`, '');
    if (v.changed.length > 0) out.push(`- changed: ${names(v.changed)}`);
    const byAncestor = new Map<string, string[]>();
    for (const { image, ancestor } of v.throughParent) byAncestor.set(ancestor, [...(byAncestor.get(ancestor) ?? []), image]);
    for (const [ancestor, images] of byAncestor) out.push(`- through ${code(ancestor)}: ${names(images)}`);
    if (v.added.length > 0) out.push(`- added: ${names(v.added)}`);
    if (v.removed.length > 0) out.push(`- removed: ${names(v.removed)}`);
    out.push('', '</details>', '');
  }
  if (s.graph.shown > 0) {
    out.push('### Graph', '', 'The images to build (highlighted) and their parents; variants with the same graph share a box.', '', '```mermaid', s.graph.mermaid.trimEnd(), '```', '');
    if (s.graph.leftOut > 0) out.push(`${s.graph.leftOut} more image${s.graph.leftOut === 1 ? '' : 's'} left out of the graph (it shows at most ${SUMMARY_LIMITS.graphNodes}).`, '');
  }
  if (s.changes.length > 0) {
    out.push('### What changed per image', '', `The rendered Dockerfile at ${s.revision} and now, by instruction (continuations joined, comments left out).`, '');
    for (const c of s.changes) {
      out.push(`**${c.image}** on ${c.on.join(', ')}: ${c.inputs.join(', ')}`);
      const lines = [...cut(c.removed, c.added, '-'), ...cut(c.added, c.removed, '+')];
      if (lines.length > 0) out.push('', '~~~diff', ...lines.map((l) => l.replace(/~~~/g, '~ ~ ~')), '~~~');
      out.push('');
    }
    if (s.changesLeftOut > 0) out.push(`${s.changesLeftOut} more image change${s.changesLeftOut === 1 ? '' : 's'} left out (kolla-gen check --diff, or git diff of generated/, shows all).`, '');
  }
  return out.join('\n');
}

export async function summary(cli: CliOptions, options: LoadOptions): Promise<CommandResult> {
  const { compiled, diagnostics } = await compileProject(cli, options);
  if (!compiled) return failed(diagnostics);
  const s = summarize(compiled);
  return { exitCode: 0, diagnostics, text: summaryMarkdown(s).replace(/\n+$/, ''), json: s, listing: true };
}
