// The expressions that let one bake file build every arch or only some: `KG_ARCHES=arm64 docker buildx bake` builds
// only arm64 (platforms, a join's named contexts and group members follow the variable), with nothing of amd64.
import type { ArchVariable } from './model.js';

/** The bake variable's name and what it holds: comma-separated arches, e.g. "amd64,arm64". */
export const ARCH_VARIABLE = 'KG_ARCHES';

/** A string literal of an expression; only for names and arches ([a-zA-Z0-9_-]), which need no escaping. */
function literal(s: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(s)) throw new Error(`not a plain bake name: ${JSON.stringify(s)}`);
  return `"${s}"`;
}

const listOf = (items: readonly string[]) => `[${items.map(literal).join(', ')}]`;
const named = (v: ArchVariable) => `split(",", ${v.name})`;

/** Every arch of the file builds the target: no filter needed. */
function allOf(v: ArchVariable, arches: readonly string[]): boolean {
  return v.arches.every((a) => arches.includes(a));
}

/** The for-clause over the variable's arches, filtered to `arches` when those are not all of the file's. */
function forArches(v: ArchVariable, arches: readonly string[]): { head: string; filter: string } {
  return { head: `for a in ${named(v)} :`, filter: allOf(v, arches) ? '' : ` if contains(${listOf(arches)}, a)` };
}

/** `[for a in split(",", KG_ARCHES) : "linux/${a}"]`, filtered to the arches the target builds on. */
export function platformsExpression(v: ArchVariable, arches: readonly string[]): string {
  const { head, filter } = forArches(v, arches);
  return `[${head} "linux/\${a}"${filter}]`;
}

/** A join's contexts: `kg-<arch>` = its per-arch target `<target>-<arch>`, for each arch the variable names. */
export function joinContextsExpression(v: ArchVariable, target: string, arches: readonly string[]): string {
  const { head, filter } = forArches(v, arches);
  literal(target);
  return `{ ${head} "kg-\${a}" => "target:${target}-\${a}"${filter} }`;
}

/** Whether the variable names one of `arches`. */
export function namesAnyOf(v: ArchVariable, arches: readonly string[]): string {
  if (arches.length === 1) return `contains(${named(v)}, ${literal(arches[0] as string)})`;
  return `length([for a in ${named(v)} : a if contains(${listOf(arches)}, a)]) > 0`;
}

/** A conditional part of a group's members: `contains(split(",", KG_ARCHES), "amd64") ? ["t"] : []`. */
export function onlyOnExpression(v: ArchVariable, arches: readonly string[], targets: readonly string[]): string {
  return `${namesAnyOf(v, arches)} ? ${listOf(targets)} : []`;
}

/**
 * The `target` (build stage) of a target that builds on only some arches: none (null) while the variable names one of
 * them, else a stage no Dockerfile has, so that BuildKit fails naming the target and the arches asked for. Without it,
 * bake given that target by name and an empty platform list would build it for the machine's own arch, and push it.
 */
export function onlyOnStageExpression(v: ArchVariable, target: string, arches: readonly string[]): string {
  literal(target);
  arches.forEach(literal);
  return `${namesAnyOf(v, arches)} ? null : "kolla-gen: ${target} builds only on ${arches.join(' and ')}, not for ${v.name}=\${${v.name}}"`;
}

/** Whether a target with these platforms must follow the variable. */
export function archesOf(platforms: readonly string[]): string[] {
  return platforms.map((p) => p.replace(/^linux\//, ''));
}
