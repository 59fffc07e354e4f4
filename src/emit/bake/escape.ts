// What the HCL and JSON emitters share: the template escapes, name checks, and one attribute order.

import { archesOf, joinContextsExpression, onlyOnExpression, onlyOnStageExpression, platformsExpression } from './arches.js';
import type { ArchVariable, BakeFile, BakeGroup, BakeTarget } from './model.js';

/** Bake target and group names, as buildx accepts them. */
const NAME = /^[A-Za-z0-9_-]+$/;

/**
 * Makes `s` a template whose value is `s`: bake evaluates every string, in HCL and in JSON,
 * as an HCL template, where `${` and `%{` start an interpolation or a directive.
 */
export function escapeTemplate(s: string): string {
  // Lone surrogates cannot be written as UTF-8, so neither file could say what `s` says. (The first test, on code
  // units, is the fast one; a pair is no lone surrogate.)
  if (SURROGATE.test(s) && LONE_SURROGATE.test(s)) throw new Error(`bake string is not well-formed Unicode: ${JSON.stringify(s)}`);
  return s.includes('{') ? s.replace(/([$%])\{/g, '$1$1{') : s;
}
const SURROGATE = /[\ud800-\udfff]/;
const LONE_SURROGATE = /\p{Cs}/u;

export type BakeValue =
  | { kind: 'string'; value: string }
  | { kind: 'list'; items: readonly string[] }
  | { kind: 'map'; entries: readonly (readonly [string, string])[] }
  /** An HCL expression on one line (JSON: a string that is one interpolation of it, which bake evaluates as it). */
  | { kind: 'expression'; hcl: string }
  /** `concat([items...], parts...)`: a list, then expressions that each give a list. */
  | { kind: 'concat'; items: readonly string[]; parts: readonly string[] };

export interface BakeAttribute {
  key: string;
  value: BakeValue;
}

/** By UTF-16 code unit, whatever the locale. */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortedEntries(record: Readonly<Record<string, string>>): [string, string][] {
  // Bake's strings are NFC-normalised (cty), so two such keys would be one duplicate key to bake.
  const seen = new Map<string, string>();
  for (const key of Object.keys(record)) {
    const other = seen.get(key.normalize('NFC'));
    if (other !== undefined) throw new Error(`bake map keys ${JSON.stringify(other)} and ${JSON.stringify(key)} are equal under NFC`);
    seen.set(key.normalize('NFC'), key);
  }
  return Object.entries(record).sort(([a], [b]) => compareCodeUnits(a, b));
}

function str(key: string, value: string | undefined): BakeAttribute[] {
  return value === undefined ? [] : [{ key, value: { kind: 'string', value } }];
}

function list(key: string, items: readonly string[] | undefined): BakeAttribute[] {
  return items === undefined || items.length === 0 ? [] : [{ key, value: { kind: 'list', items } }];
}

function map(key: string, record: Readonly<Record<string, string>>): BakeAttribute[] {
  const entries = sortedEntries(record);
  return entries.length === 0 ? [] : [{ key, value: { kind: 'map', entries } }];
}

/** A group's attributes in print order; `targets` is always there, even when empty. */
export function groupAttributes(g: BakeGroup, v?: ArchVariable): BakeAttribute[] {
  const onlyOn = g.onlyOn ?? [];
  if (onlyOn.length > 0 && v === undefined) throw new Error(`group ${g.name} has members on some arches only, but the file has no arch variable`);
  const targets: BakeValue =
    onlyOn.length === 0 || v === undefined
      ? { kind: 'list', items: g.targets }
      : { kind: 'concat', items: g.targets, parts: onlyOn.map((o) => onlyOnExpression(v, o.arches, o.targets)) };
  return [...str('description', g.description || undefined), { key: 'targets', value: targets }];
}

function expression(key: string, hcl: string): BakeAttribute[] {
  return [{ key, value: { kind: 'expression', hcl } }];
}

/** A target's attributes in print order, empty ones left out. */
export function targetAttributes(t: BakeTarget, v?: ArchVariable): BakeAttribute[] {
  if ((t.join !== undefined || t.followsArches) && v === undefined) throw new Error(`target ${t.name} follows the arch variable, but the file has none`);
  if (t.join !== undefined && Object.keys(t.contexts).length > 0) throw new Error(`join ${t.name} has contexts of its own`);
  return [
    ...str('description', t.description || undefined),
    ...str('context', t.context),
    ...str('dockerfile', t.dockerfile),
    ...(t.join !== undefined && v !== undefined ? expression('contexts', joinContextsExpression(v, t.name, t.join)) : map('contexts', t.contexts)),
    ...list('tags', t.tags),
    ...(t.followsArches && v !== undefined ? expression('platforms', platformsExpression(v, archesOf(t.platforms))) : list('platforms', t.platforms)),
    // a target left out of the variable's arches fails (naming them) instead of building for the machine's arch
    ...(t.followsArches && v !== undefined && !v.arches.every((a) => archesOf(t.platforms).includes(a))
      ? expression('target', onlyOnStageExpression(v, t.name, archesOf(t.platforms)))
      : []),
    ...map('args', t.args),
    ...map('labels', t.labels),
    ...str('network', t.network),
    ...list('attest', t.attest),
    ...list('cache-from', t.cacheFrom),
    ...list('cache-to', t.cacheTo),
  ];
}

/** Throws on names buildx would refuse and on duplicates: both are bugs of the caller. */
export function checkNames(file: BakeFile): void {
  const check = (kind: string, names: Iterable<string>): void => {
    const seen = new Set<string>();
    for (const name of names) {
      if (!NAME.test(name)) throw new Error(`invalid bake ${kind} name ${JSON.stringify(name)}: only [a-zA-Z0-9_-]`);
      if (seen.has(name)) throw new Error(`duplicate bake ${kind} name ${JSON.stringify(name)}`);
      seen.add(name);
    }
  };
  check('group', file.groups.map((g) => g.name));
  check('target', file.targets.map((t) => t.name));
  for (const g of file.groups) for (const name of g.targets) if (!NAME.test(name)) check('target', [name]);
}

/** The header as single lines: a line break inside an entry starts a new line. */
export function headerLines(header: readonly string[]): string[] {
  return header.flatMap((h) => h.split(/\r\n|\r|\n/));
}
