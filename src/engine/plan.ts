// What `kolla-gen build` asks of buildx, as data: the bake arguments, the order failures are isolated in, and what a
// failed bake's output says. Pure: buildx.ts runs the calls.
import type { PlannedTarget } from '../emit/fold.js';
import { allowArgs } from '../emit/bake/allow.js';

export interface BakeOptions {
  /** The bake file, relative to the directory bake runs in. Always exactly one: the HCL and JSON files are the same build. */
  file: string;
  targets: string[];
  push?: boolean;
  /**
   * With push: the image exporter's `rewrite-timestamp=true` (layers' file times clamped to SOURCE_DATE_EPOCH, for
   * bit-identical layers). Only a BuildKit builder of its own gets it (see rewritesTimestamps).
   */
  rewriteTimestamp?: boolean;
  builder?: string;
  /** `--set` overrides, in order. */
  set?: string[];
  progress?: string;
  metadataFile?: string;
  /** `--provenance` value (`false`, `mode=max`, …); absent: buildx's default. */
  provenance?: string;
  noCache?: boolean;
  pull?: boolean;
  print?: boolean;
  /** Dirs outside the working dir the bake may read (`--allow fs.read=`): only for a buildx that knows the flag. */
  allow?: string[];
  /** Entitlements granted as `--allow <name>` (`network.host` for network_mode: host): only for a buildx that knows the flag. */
  entitlements?: string[];
}

/**
 * Whether a push rewrites timestamps: on BuildKit's own exporter (docker-container, remote, kubernetes drivers). The
 * docker driver refuses to while it unpacks the image into the engine's store; without that unpack (`store=false`)
 * dockerd 28.5 does, but a fully cached build then showed, now and then, a step that was not CACHED (e2e, today's
 * engine): not the default until that is understood. `--set '*.output=type=image,push=true,store=false,rewrite-timestamp=true'`
 * asks for it (docs/building.md).
 */
export function rewritesTimestamps(driver: string | undefined): boolean {
  return driver !== undefined && driver !== 'docker' && driver !== 'unknown';
}

export function bakeArgs(o: BakeOptions): string[] {
  return [
    'buildx',
    'bake',
    '-f',
    o.file,
    ...(o.builder !== undefined ? ['--builder', o.builder] : []),
    ...allowArgs(o.allow ?? [], o.entitlements),
    ...(o.push ? (o.rewriteTimestamp ? ['--set', '*.output=type=registry,rewrite-timestamp=true'] : ['--push']) : []),
    ...(o.provenance !== undefined ? [`--provenance=${o.provenance}`] : []),
    ...(o.noCache ? ['--no-cache'] : []),
    ...(o.pull ? ['--pull'] : []),
    ...(o.set ?? []).flatMap((s) => ['--set', s]),
    ...(o.progress !== undefined ? ['--progress', o.progress] : []),
    ...(o.metadataFile !== undefined ? ['--metadata-file', o.metadataFile] : []),
    ...(o.print ? ['--print'] : []),
    ...o.targets,
  ];
}

/** A target as failure isolation sees it: its name and the targets it builds on. */
export interface PlanTarget {
  name: string;
  parents: string[];
}

/** The targets `build` names: one per image. A join stands for its per-arch targets, and builds on their parents. */
export function planTargets(targets: PlannedTarget[]): PlanTarget[] {
  const byName = new Map(targets.map((t) => [t.name, t]));
  const parentsOf = (t: PlannedTarget) => t.parents.flatMap((p) => (p.target !== undefined ? [p.target] : []));
  return targets
    .filter((t) => t.arch === undefined)
    .map((t) => {
      const parents = t.join ? t.join.flatMap((j) => { const per = byName.get(j.target); return per ? parentsOf(per) : []; }) : parentsOf(t);
      return { name: t.name, parents: [...new Set(parents)] };
    });
}

/** Targets by generation: each only on targets of earlier generations, so one generation's targets never share a failure. */
export function generations(targets: PlanTarget[]): string[][] {
  const byName = new Map(targets.map((t) => [t.name, t]));
  const depth = new Map<string, number>();
  const depthOf = (name: string, seen: Set<string>): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    if (seen.has(name)) throw new Error(`cycle through target ${name}`);
    seen.add(name);
    const parents = (byName.get(name)?.parents ?? []).filter((p) => byName.has(p));
    const d = parents.length === 0 ? 0 : 1 + Math.max(...parents.map((p) => depthOf(p, seen)));
    depth.set(name, d);
    return d;
  };
  const out: string[][] = [];
  for (const t of targets) {
    const d = depthOf(t.name, new Set());
    (out[d] ??= []).push(t.name);
  }
  return out.filter((g) => g !== undefined);
}

export type TargetOutcome =
  | { status: 'built' }
  | { status: 'failed'; reason: string }
  /** Never started: `parent` is the failed target above it. */
  | { status: 'skipped'; parent: string };

export interface BakeAttempt {
  ok: boolean;
  /** What failed, in a line (the last ERROR of the output). */
  reason?: string;
  /** A failure of the setup rather than of an image (push refused, builder unusable): isolation stops. */
  fatal?: boolean;
}

export interface Isolation {
  outcomes: Map<string, TargetOutcome>;
  /** The failure that stopped isolation, when one did. */
  fatal?: BakeAttempt;
  /** How many bake calls isolation made. */
  calls: number;
}

/**
 * Bake cancels every target when one fails and does not say which failed. So, one generation at a time, bake the
 * targets whose parents all built, and split a failing batch in halves until each failure is one target. Retried
 * targets come from the cache; descendants of a failed target are never started.
 */
export async function isolateFailures(
  targets: PlanTarget[],
  bake: (names: string[], retry?: number) => Promise<BakeAttempt>,
  options: { retries?: number } = {},
): Promise<Isolation> {
  const byName = new Map(targets.map((t) => [t.name, t]));
  const outcomes = new Map<string, TargetOutcome>();
  let calls = 0;
  let fatal: BakeAttempt | undefined;

  const failedAbove = (name: string): string | undefined => {
    for (const parent of byName.get(name)?.parents ?? []) {
      const o = outcomes.get(parent);
      if (o?.status === 'failed') return parent;
      if (o?.status === 'skipped') return o.parent;
    }
    return undefined;
  };

  const bisect = async (batch: string[]): Promise<void> => {
    if (batch.length === 0 || fatal) return;
    calls++;
    const attempt = await bake(batch);
    if (attempt.fatal) {
      fatal = attempt;
      return;
    }
    if (attempt.ok) {
      for (const name of batch) outcomes.set(name, { status: 'built' });
      return;
    }
    if (batch.length === 1) {
      // As kolla-build's --retries: a target alone fails for good only when it fails again (a push cut off by the
      // cancelled first bake, a flaky mirror); a RUN that really fails costs one more run.
      for (let retry = 0; retry < (options.retries ?? 0); retry++) {
        calls++;
        const again = await bake(batch, retry + 1);
        if (again.fatal) {
          fatal = again;
          return;
        }
        if (again.ok) {
          outcomes.set(batch[0] as string, { status: 'built' });
          return;
        }
      }
      outcomes.set(batch[0] as string, { status: 'failed', reason: attempt.reason ?? 'the build failed' });
      return;
    }
    const half = Math.ceil(batch.length / 2);
    await bisect(batch.slice(0, half));
    await bisect(batch.slice(half));
  };

  for (const generation of generations(targets)) {
    const ready: string[] = [];
    for (const name of generation) {
      const parent = failedAbove(name);
      if (parent !== undefined) outcomes.set(name, { status: 'skipped', parent });
      else ready.push(name);
    }
    await bisect(ready);
    if (fatal) break;
  }
  return { outcomes, calls, ...(fatal ? { fatal } : {}) };
}

export type FailureKind = 'build' | 'push' | 'builder' | 'unreachable' | 'entitlement';

export interface BakeFailure {
  kind: FailureKind;
  /** The line of the output that says so. */
  line: string;
  /** Refs a push failed for. */
  refs: string[];
}

const PUSH = [/failed to push/i, /push access denied/i, /unauthorized: /i, /denied: requested access/i, /insufficient_scope/i, /server gave HTTP response to HTTPS client/i];
const BUILDER = [
  /multi-platform build is not supported/i,
  /docker exporter does not currently support exporting manifest lists/i,
  /multiple platforms feature is currently not supported/i,
  /push is not supported for the docker driver/i,
];
// BuildKit's own daemon (docker-container, remote, kubernetes drivers) refuses network.host unless buildkitd allows it.
const ENTITLEMENT = [/granting entitlement \S+ is not allowed/i];
const UNREACHABLE = [/no builder ".*" found/i, /cannot connect to the docker daemon/i, /error during connect/i];

// Progress lines start "#12 "; the tail repeats the error without it.
const stripStep = (line: string) => line.replace(/^#\d+\s+(\d+\.\d+\s+)?/, '').trim();

/** What a failed bake's output says went wrong: an image's build, a push, or the builder itself. */
export function classifyBakeFailure(lines: string[]): BakeFailure {
  const errors = lines.filter((l) => /\bERROR\b|error:/i.test(l)).map(stripStep);
  const any = (patterns: RegExp[]) => [...errors, ...lines.map(stripStep)].find((l) => patterns.some((p) => p.test(l)));
  const last = errors[errors.length - 1] ?? lines.map(stripStep).filter(Boolean).pop() ?? 'docker buildx bake failed';
  const builder = any(BUILDER);
  if (builder) return { kind: 'builder', line: builder, refs: [] };
  const entitlement = any(ENTITLEMENT);
  if (entitlement) return { kind: 'entitlement', line: entitlement.replace(/^ERROR:\s*/, ''), refs: [] };
  const unreachable = any(UNREACHABLE);
  if (unreachable) return { kind: 'unreachable', line: unreachable, refs: [] };
  const push = any(PUSH);
  if (push) {
    const refs = [...new Set(lines.flatMap((l) => [...l.matchAll(/failed to push (\S+?):? /g)].map((m) => m[1] as string)))];
    return { kind: 'push', line: push.replace(/^ERROR:\s*/, ''), refs };
  }
  return { kind: 'build', line: last.replace(/^ERROR:\s*/, ''), refs: [] };
}

/** Whether any target builds several platforms, unless a `--set` overrides the platforms. */
export function needsMultiPlatform(targets: PlannedTarget[], set: string[]): boolean {
  if (set.some((s) => /\.platform=/.test(s))) return false;
  return targets.some((t) => t.arches.length > 1);
}
