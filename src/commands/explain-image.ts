// kolla-gen explain IMAGE: why an image is or is not built, per variant: the filter that selected it or left it out,
// the input that changed since --affected-since, the registry that already holds it. Pure: reads a Compiled.
import { closest, distance } from 'fastest-levenshtein';
import { error, type Diagnostic } from '../core/diagnostics.js';
import { ancestors, descendants } from '../graph/graph.js';
import { familyResult, type Compiled } from '../pipeline.js';
import { renderKey } from '../render/images.js';
import { compileSelector, unbuildableFor, type Status } from '../graph/select.js';
import { familyId, type Arch, type Family } from '../core/types.js';
import { allows, describeFeature, ruleKey } from '../render/buildkit-policy.js';
import type { BuildkitFeature, FeatureKind } from '../render/buildkit-features.js';

/** A BuildKit feature the image's rendered Dockerfile asks for, and whether kolla-gen.yaml's buildkit: policy allows it. */
export interface ExplainedFeature {
  kind: FeatureKind;
  /** Line and column in the rendered Dockerfile. */
  line: number;
  column: number;
  value: string;
  /** The key of kolla-gen.yaml's buildkit: that allows it (`buildkit.host_network`). */
  policy: string;
  allowed: boolean;
  description: string;
  onbuild?: true;
  unresolved?: string[];
}

export interface Explanation {
  image: string;
  /** `<base>[-<type>]`. */
  variant: string;
  /** The arches this explanation holds for (the same status and reasons on each). */
  arches: Arch[];
  status: Status;
  reasons: string[];
  /** The target that builds it, when it is built. */
  target?: string;
  platforms?: string[];
  /** Content hash per arch. */
  hashes: Partial<Record<Arch, string>>;
  contentTag?: string;
  /** The frontend its `# syntax` line names; null: BuildKit's own Dockerfile frontend (no such line). */
  frontend: string | null;
  /** What its rendered Dockerfile asks of BuildKit (docs/security.md, "BuildKit features"), in line order. */
  buildkit: ExplainedFeature[];
}

function explainFeatures(compiled: Compiled, features: BuildkitFeature[]): ExplainedFeature[] {
  return features.map((f) => ({
    kind: f.kind,
    line: f.line,
    column: f.column,
    value: f.value,
    policy: `buildkit.${ruleKey(f.kind)}`,
    allowed: allows(compiled.config.buildkit, f),
    description: describeFeature(f),
    ...(f.onbuild ? { onbuild: true as const } : {}),
    ...(f.unresolved ? { unresolved: f.unresolved } : {}),
  }));
}

/** Why the filters (regexes, profiles, unbuildable, --skip-parents) gave the image its status on one variant. */
function filterReasons(compiled: Compiled, family: Family, arch: Arch, name: string): string[] {
  const { config } = compiled;
  const result = familyResult(compiled.families, family);
  const graph = result?.graphs.get(arch);
  const statuses = result?.statuses.get(arch);
  if (!graph || !statuses) return [];
  const status = statuses.get(name);
  if (status === 'unbuildable') {
    const keys = config.unbuildable
      .filter((rule) => rule.images.includes(name) && (rule.base === undefined || rule.base === family.base) && (rule.arch === undefined || rule.arch === arch))
      .map((rule) => `unbuildable.${rule.key} in the config names it`);
    if (keys.length > 0 && unbuildableFor(config, { ...family, arch }).has(name)) return keys;
    const parent = [...ancestors(graph, name)].find((a) => statuses.get(a) === 'unbuildable');
    return [`its ancestor ${parent ?? '?'} is unbuildable on ${familyId(family)} ${arch}`];
  }

  const { selector } = compileSelector(config);
  const matching = (image: string): string[] => {
    if (!selector) return [];
    if (selector.from === 'all') return ['no regex or profile given: every image is selected'];
    if (selector.from === 'regex') return selector.patterns.filter((re) => re.test(image)).map((re) => `matches the regex /${re.source}/`);
    return config.selectedProfiles.flatMap((profile) =>
      (config.profiles[profile] ?? []).filter((entry) => new RegExp(entry).test(image)).map((entry) => `profile ${profile} names it (/${entry}/)`),
    );
  };
  const own = matching(name);
  const reasons: string[] = [];
  if (own.length > 0) reasons.push(...own);
  else {
    const child = [...descendants(graph, name)].sort().find((d) => statuses.get(d) !== 'unbuildable' && statuses.get(d) !== 'unmatched' && matching(d).length > 0);
    if (child !== undefined) reasons.push(`a parent of ${child}, which is selected (${matching(child)[0] ?? ''})`);
    else if (selector?.from === 'regex') reasons.push('no regex matches it, and no image a regex selects builds on it');
    else if (selector?.from === 'profile') reasons.push(`the profiles (${config.selectedProfiles.join(', ')}) name neither it nor an image that builds on it`);
  }
  if (status === 'skipped') reasons.push(`--skip-parents: it has children in the tree (${(graph.children.get(name) ?? []).join(', ')})`);
  return reasons;
}

/** Why the registry does not serve a content ref (--skip-existing); undefined when it was not asked for it. */
function registryLacks(compiled: Compiled, ref: string | undefined): string | undefined {
  const absent = ref === undefined ? undefined : compiled.absent.get(ref);
  if (absent === undefined) return undefined;
  return absent.lacks ? `the registry's ${ref} lacks ${absent.lacks.join(' and ')}` : `the registry does not hold ${ref}`;
}

function changeReasons(compiled: Compiled, family: Family, arch: Arch, name: string, status: Status, contentTag: string | undefined): string[] {
  const revision = compiled.config.affectedSince;
  if (revision === undefined || compiled.affected === undefined) return [];
  const why = compiled.affected.get(renderKey(name, family, arch));
  if (why === undefined) {
    if (status === 'unaffected') return [`unaffected since ${revision}: its hash and every ancestor's are what they were`];
    if (status !== 'selected') return [];
    const result = familyResult(compiled.families, family);
    const other = compiled.config.arches.find((a) => a !== arch && compiled.affected?.has(renderKey(name, family, a)));
    if (result !== undefined && other !== undefined) {
      return [`unchanged on ${arch} since ${revision}, but affected on ${other}: one target builds every arch of an image`];
    }
    if (compiled.rebuilt.has(renderKey(name, family, arch))) {
      const lacks = registryLacks(compiled, contentTag) ?? 'the registry does not hold its content tag';
      return [`unaffected since ${revision}, but ${lacks}: built for the images that build on it (--skip-existing)`];
    }
    return [`unaffected since ${revision}: its hash and every ancestor's are what they were`];
  }
  if (why.kind === 'new') return [`affected since ${revision}: it was not in the tree then (or the tree did not compile)`];
  if (why.kind === 'ancestor') return [`affected since ${revision}: its ancestor ${why.ancestor} changed`];
  return why.changes.map((change) => `affected since ${revision}: ${change}`);
}

export function explainImage(compiled: Compiled, name: string): { explanations: Explanation[]; diagnostics: Diagnostic[] } {
  const names = compiled.tree.images.map((i) => i.name);
  if (!names.includes(name)) {
    const guess = names.length > 0 ? closest(name, names) : undefined;
    const near = guess !== undefined && distance(name, guess) <= Math.max(2, Math.floor(name.length / 3)) ? guess : undefined;
    return { explanations: [], diagnostics: [error('KG903', `no image of the tree is named "${name}"`, near ? { hint: `did you mean ${near}?` } : {})] };
  }
  const explanations: Explanation[] = [];
  for (const result of compiled.families) {
    const { family } = result;
    let previous: Explanation | undefined;
    for (const arch of compiled.config.arches) {
      const status = result.statuses.get(arch)?.get(name) ?? 'unmatched';
      const target = compiled.targets.find((t) => t.image === name && familyId(t.family) === familyId(family) && t.arches.includes(arch));
      const reasons = [...filterReasons(compiled, family, arch, name), ...changeReasons(compiled, family, arch, name, status, target?.contentTag)];
      const lacks = compiled.rebuilt.has(renderKey(name, family, arch)) ? undefined : registryLacks(compiled, target?.contentTag);
      if (lacks !== undefined) reasons.push(`${lacks}: built (--skip-existing)`);
      const existing = compiled.existing.find((t) => t.image === name && familyId(t.family) === familyId(family) && t.arches.includes(arch));
      if (existing?.fromArches !== undefined) {
        reasons.push(`the registry holds its image of each arch (${existing.fromArches.map((a) => a.ref).join(', ')}): not built; build --push makes their list ${existing.contentTag} (--skip-existing)`);
      } else if (existing) reasons.push(`the registry already holds ${existing.contentTag ?? existing.ref}: not built (--skip-existing)`);
      for (const p of target?.parents ?? []) {
        if (p.pushed !== undefined) reasons.push(`its parent ${p.image} is not built in this run: it builds on ${p.pushed}`);
      }
      if (target) {
        const linked = new Set(target.parents.map((p) => p.image));
        for (const parent of result.graphs.get(arch)?.parents.get(name) ?? []) {
          if (!linked.has(parent)) reasons.push(`its parent ${parent} is not built in this run: its FROM takes ${parent}'s ref as the registry holds it now`);
        }
      }
      const hash = compiled.hashes.get(renderKey(name, family, arch))?.hash ?? '';
      const buildkit = explainFeatures(compiled, compiled.buildkitFeatures.get(renderKey(name, family, arch)) ?? []);
      const frontend = buildkit.find((f) => f.kind === 'syntax')?.value ?? null;
      const built = target ?? existing;
      const same =
        previous &&
        previous.status === status &&
        previous.reasons.join('\n') === reasons.join('\n') &&
        previous.target === target?.name &&
        previous.contentTag === built?.contentTag &&
        JSON.stringify(previous.buildkit) === JSON.stringify(buildkit);
      if (previous && same) {
        previous.arches.push(arch);
        previous.hashes[arch] = hash;
        continue;
      }
      previous = {
        image: name,
        variant: familyId(family),
        arches: [arch],
        status,
        reasons,
        ...(target ? { target: target.name, platforms: target.arches.map((a) => `linux/${a}`) } : {}),
        hashes: { [arch]: hash },
        ...(built?.contentTag !== undefined ? { contentTag: built.contentTag } : {}),
        frontend,
        buildkit,
      };
      explanations.push(previous);
    }
  }
  return { explanations, diagnostics: [] };
}

export function formatExplanations(explanations: Explanation[]): string {
  const blocks = explanations.map((e) => {
    const head = `${e.image} on ${e.variant} ${e.arches.join(', ')}: ${e.status}${e.target ? ` (target ${e.target}: ${e.platforms?.join(', ')})` : ''}`;
    const hashes = Object.entries(e.hashes).map(([arch, hash]) => `  hash ${arch}: ${hash}`);
    // Nothing for a Dockerfile that asks for nothing (no # syntax line: BuildKit's own frontend).
    const asks = e.buildkit.map((f) => `  asks BuildKit (line ${f.line}): ${f.description}: ${f.allowed ? `allowed by ${f.policy}` : `REFUSED, ${f.policy} does not allow it`}`);
    return [head, ...e.reasons.map((r) => `  - ${r}`), ...asks, ...(e.contentTag ? [`  content tag: ${e.contentTag}`] : []), ...hashes].join('\n');
  });
  return blocks.join('\n\n');
}
