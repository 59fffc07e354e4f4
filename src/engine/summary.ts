// The end of `kolla-gen build`: what was built, failed, skipped and unbuildable, per image, as kolla-build says it.
import type { TargetOutcome } from './plan.js';
import { pushedTags, type PlannedTarget } from '../emit/fold.js';
import type { Manifest } from '../emit/manifest.js';
import { familyId, type Arch } from '../core/types.js';

export interface SummaryEntry {
  image: string;
  /** `<base>[-<type>]`. */
  variant: string;
  target?: string;
  /** Set for unbuildable and skipped entries, which are per (image, variant, arch). */
  arch?: Arch;
  tags?: string[];
  platforms?: string[];
  /** Why it failed, or why it was skipped. */
  reason?: string;
  /** The failed target a skipped one was waiting for. */
  failedParent?: string;
}

export interface BuildSummary {
  pushed: boolean;
  built: SummaryEntry[];
  failed: SummaryEntry[];
  /** Never started: a parent failed (or `--skip-parents` skipped it). */
  skipped: SummaryEntry[];
  /** Not built: the registry already holds their content tag (--skip-existing). */
  existing: (SummaryEntry & { contentTag: string; retagged?: string[] })[];
  unbuildable: SummaryEntry[];
}

export interface SummaryInput {
  targets: PlannedTarget[];
  /** Left out by --skip-existing, with the tags pointed again at their content tag. */
  existing?: { target: PlannedTarget; retagged: string[] }[];
  outcomes: Map<string, TargetOutcome>;
  manifest: Manifest;
  pushed: boolean;
}

function targetEntry(t: PlannedTarget): SummaryEntry {
  return {
    image: t.image,
    variant: familyId(t.family),
    target: t.name,
    ...(t.arch !== undefined ? { arch: t.arch } : {}),
    tags: pushedTags(t),
    platforms: t.arches.map((a) => `linux/${a}`),
  };
}

export function summarizeBuild(input: SummaryInput): BuildSummary {
  const summary: BuildSummary = { pushed: input.pushed, built: [], failed: [], skipped: [], existing: [], unbuildable: [] };
  for (const { target: t, retagged } of input.existing ?? []) {
    // Its tags as a person reads them: the content tag is said on its own.
    summary.existing.push({ ...targetEntry(t), tags: t.tags, contentTag: t.contentTag ?? t.ref, ...(retagged.length > 0 ? { retagged } : {}) });
  }
  for (const t of input.targets) {
    const entry = targetEntry(t);
    const outcome = input.outcomes.get(t.name) ?? { status: 'failed', reason: 'not built' };
    if (outcome.status === 'built') summary.built.push(entry);
    else if (outcome.status === 'failed') summary.failed.push({ ...entry, reason: outcome.reason });
    else summary.skipped.push({ ...entry, reason: `its parent ${outcome.parent} failed`, failedParent: outcome.parent });
  }
  for (const row of input.manifest.images) {
    const variant = row.type === undefined ? row.base : `${row.base}-${row.type}`;
    if (row.status === 'unbuildable') summary.unbuildable.push({ image: row.image, variant, arch: row.arch });
    if (row.status === 'skipped') summary.skipped.push({ image: row.image, variant, arch: row.arch, reason: '--skip-parents' });
  }
  return summary;
}

export function buildFailed(summary: BuildSummary): boolean {
  return summary.failed.length > 0;
}

function section(title: string, lines: string[]): string[] {
  return lines.length === 0 ? [] : [`${title} (${lines.length}):`, ...lines.map((l) => `  ${l}`)];
}

const label = (e: SummaryEntry) => e.target ?? `${e.variant}-${e.image}${e.arch ? ` (${e.arch})` : ''}`;

/** kolla-build's summary: the images that built, then those that failed, were skipped or are unbuildable. */
export function formatSummary(summary: BuildSummary): string {
  const lines = [
    ...section('Built', summary.built.map((e) => `${label(e)}${summary.pushed && e.tags ? `: pushed ${e.tags.join(', ')}` : ''}`)),
    ...section('Failed', summary.failed.map((e) => `${label(e)}: ${e.reason ?? 'failed'}`)),
    ...section('Skipped', summary.skipped.map((e) => `${label(e)}: ${e.reason ?? 'skipped'}`)),
    ...section(
      'Already in the registry',
      summary.existing.map((e) => `${label(e)}: ${e.contentTag}${e.retagged ? ` (tagged again: ${e.retagged.join(', ')})` : ''}`),
    ),
    ...section('Unbuildable', summary.unbuildable.map(label)),
  ];
  const existing = summary.existing.length > 0 ? `, ${summary.existing.length} already in the registry` : '';
  const counts = `${summary.built.length} built, ${summary.failed.length} failed, ${summary.skipped.length} skipped${existing}, ${summary.unbuildable.length} unbuildable`;
  return [...lines, counts].join('\n');
}
