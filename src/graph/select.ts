// Which images a run builds, with kolla-build's rules: regexes or profiles, ancestors, unbuildable, skip-parents.
import type { ResolvedConfig } from '../load/config/resolve.js';
import { closest, distance } from 'fastest-levenshtein';
import { error, type Diagnostic } from '../core/diagnostics.js';
import type { VariantGraph } from './graph.js';
import type { Variant } from '../core/types.js';
import { regexOrError, type SafeRegex } from '../core/regex.js';

/**
 * `unaffected`: selected, but its hash is what it was at the --affected-since revision; `existing`: selected, but its
 * content tag is already in the registry (--skip-existing).
 */
export type Status = 'selected' | 'unmatched' | 'skipped' | 'unbuildable' | 'unaffected' | 'existing';

export interface Selector {
  /** Empty: every image. */
  patterns: SafeRegex[];
  /** Where the patterns came from, for messages. */
  from: 'regex' | 'profile' | 'all';
}

function compile(source: string, what: string, diagnostics: Diagnostic[]): SafeRegex | undefined {
  const { regex, diagnostic } = regexOrError(source, what);
  if (diagnostic) diagnostics.push(diagnostic);
  return regex;
}

/** Profiles apply only when no regex is given, as in kolla-build; their entries are regexes too. */
export function compileSelector(config: ResolvedConfig): { selector?: Selector; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const patterns: SafeRegex[] = [];
  let from: Selector['from'] = 'all';
  if (config.regexes.length > 0) {
    from = 'regex';
    for (const source of config.regexes) {
      const re = compile(source, 'regex', diagnostics);
      if (re) patterns.push(re);
    }
  } else if (config.selectedProfiles.length > 0) {
    from = 'profile';
    for (const name of config.selectedProfiles) {
      const entries = Object.hasOwn(config.profiles, name) ? config.profiles[name] : undefined;
      if (name === '') {
        diagnostics.push(
          error('KG601', 'an empty profile name selects nothing', {
            hint: `name a profile (${Object.keys(config.profiles).sort().join(', ') || 'none is defined'}), or leave out -p to select every image`,
          }),
        );
        continue;
      }
      if (!entries || entries.length === 0) {
        const known = Object.keys(config.profiles).sort();
        const near = !entries && known.length > 0 ? closest(name, known) : undefined;
        const guess = near !== undefined && distance(name, near) <= Math.max(2, Math.floor(name.length / 3)) ? `did you mean ${near}? ` : '';
        diagnostics.push(
          error('KG601', `profile "${name}" is not defined${entries ? ' (it is empty)' : ''}`, {
            hint: known.length > 0 ? `${guess}${guess ? '(' : ''}known profiles: ${known.join(', ')}${guess ? ')' : ''}` : 'define profiles under "profiles" in kolla-gen.yaml',
          }),
        );
        continue;
      }
      for (const source of entries) {
        const re = compile(source, `profile ${name}: entry`, diagnostics);
        if (re) patterns.push(re);
      }
    }
  }
  return diagnostics.length > 0 ? { diagnostics } : { selector: { patterns, from }, diagnostics };
}

/** The images the unbuildable table names for this variant (before propagation to descendants). */
export function unbuildableFor(config: ResolvedConfig, variant: Variant): Set<string> {
  const out = new Set<string>();
  if (config.enableUnbuildable) return out;
  for (const rule of config.unbuildable) {
    if (rule.base !== undefined && rule.base !== variant.base) continue;
    if (rule.arch !== undefined && rule.arch !== variant.arch) continue;
    if (rule.baseTag !== undefined && rule.baseTag !== config.baseImages[variant.base].tag) continue;
    for (const image of rule.images) out.add(image);
  }
  return out;
}

export interface SelectInput {
  graph: VariantGraph;
  selector: Selector;
  unbuildable: Set<string>;
  skipParents: boolean;
}

export function selectImages(input: SelectInput): Map<string, Status> {
  const { graph, selector } = input;
  const status = new Map<string, Status>();
  // Parents come first in graph.order, so one pass carries unbuildable down to every descendant.
  for (const name of graph.order) {
    const parentUnbuildable = (graph.parents.get(name) ?? []).some((p) => status.get(p) === 'unbuildable');
    status.set(name, input.unbuildable.has(name) || parentUnbuildable ? 'unbuildable' : 'unmatched');
  }
  const matches = (name: string) => selector.patterns.length === 0 || selector.patterns.some((re) => re.test(name));
  for (const name of graph.order) {
    if (status.get(name) === 'unbuildable' || !matches(name)) continue;
    // An image already selected has its ancestors selected: stop there (a long chain stays linear, not quadratic).
    const stack = [name];
    while (stack.length > 0) {
      const next = stack.pop() as string;
      if (status.get(next) === 'selected') continue;
      status.set(next, 'selected');
      stack.push(...(graph.parents.get(next) ?? []));
    }
  }
  if (input.skipParents) {
    for (const name of graph.order) {
      if (status.get(name) === 'selected' && (graph.children.get(name) ?? []).length > 0) status.set(name, 'skipped');
    }
  }
  return status;
}
