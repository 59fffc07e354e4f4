// The compiler in one readable function: render → parse FROM → graph → select → fold → emit. Pure: no I/O here.
import { assembleBake, memberKey } from './emit/bake/assemble.js';
import type { BakeFile } from './emit/bake/model.js';
import type { ResolvedConfig } from './load/config/resolve.js';
import { targetArgs, targetLabels } from './load/config/build-inputs.js';
import { imagePrefix, imageRef, imageTag, targetStem } from './render/context.js';
import { error, hasErrors, warning, type Diagnostic, type SourceLocation } from './core/diagnostics.js';
import { affectedImages, contentHash, contentRef, targetHash, type Affected, type ContentHash } from './changes/content-hash.js';
import { buildkitView, type FromLine } from './render/dockerfile.js';
import { checkBuildkit } from './render/buildkit-policy.js';
import type { BuildkitFeature } from './render/buildkit-features.js';
import { foldedImages, foldFamily, type FamilyImage, type FoldedTarget, type PlannedTarget } from './emit/fold.js';
import { ancestors, buildGraph, type RenderedImage, type VariantGraph } from './graph/graph.js';
import { buildManifest, type Manifest, type ManifestRow } from './emit/manifest.js';
import { familiarRef } from './core/ref.js';
import type { TemplateSourceFile } from './jinja/index.js';
import { renderImages, renderJobs, renderKey, type RenderOutcome, type Rendering } from './render/images.js';
import { compileSelector, selectImages, unbuildableFor, type Selector, type Status } from './graph/select.js';
import { selectionDiagnostics, type SelectionOutcome } from './graph/selected-nothing.js';
import { familyId, type Arch, type Family, type Image, type Tree } from './core/types.js';
import type { Project } from './load/project.js';
import { checkImageName } from './load/config/validate.js';
import { compileRegex } from './core/regex.js';
import type { MadeWith, RecordedOptions } from './load/config/made-with.js';

export type { Project } from './load/project.js';

export interface FamilyResult {
  family: Family;
  graphs: Map<Arch, VariantGraph>;
  statuses: Map<Arch, Map<string, Status>>;
  images: FamilyImage[];
  /** image → whether it renders the same on every arch (else its target joins per-arch targets). */
  folded: Map<string, boolean>;
}

export interface CompileOptions {
  /** Rendered in worker threads by the caller (large trees); else rendered here. */
  rendered?: RenderOutcome[];
  /** --affected-since: the hash of every (image, variant) at that revision, by renderKey, or 'current': those of now. */
  since?: { revision: string; hashes: Map<string, ContentHash> | 'current'; texts?: Map<string, string> };
  /** A selection that selects no image on any variant: an error (the default), or a warning (explain explains it). */
  emptySelection?: 'error' | 'warning';
  /** What the BuildKit policy refuses: errors (the default), or warnings (explain lists them). */
  buildkitPolicy?: 'error' | 'warning';
}

export interface Compiled {
  config: ResolvedConfig;
  tree: Tree;
  families: FamilyResult[];
  /** The content hash of every rendered (image, variant), by renderKey. */
  hashes: Map<string, ContentHash>;
  /** The external bases of every rendered (image, variant), by renderKey. */
  bases: Map<string, BaseUse[]>;
  /** What every rendered (image, variant) asks of BuildKit (its # syntax frontend, RUN flags, remote ADDs…), by renderKey. */
  buildkitFeatures: Map<string, BuildkitFeature[]>;
  /** With --affected-since: the affected (image, variant)s, by renderKey, and why. */
  affected?: Map<string, Affected>;
  /** With --affected-since: what the revision's compile made (its hashes, its rendered Dockerfiles), for `summary`. */
  since?: CompileOptions['since'];
  /**
   * With --skip-existing: the targets left out because the registry holds their content ref, with its digest there;
   * or, for a multi-arch target, every arch's per-arch content ref (`fromArches`): `build --push` makes its list.
   */
  existing: (PlannedTarget & { digest: string; fromArches?: { arch: Arch; ref: string }[] })[];
  /** With --affected-since and --skip-existing: unaffected (image, variant)s built anyway, by renderKey, as the registry lacks them. */
  rebuilt: Set<string>;
  /**
   * With --skip-existing: the content refs the registry was asked for and does not hold, so their targets are built;
   * `lacks`: it holds the tag, but not as images of these platforms ("linux/arm64"): a list that lost an arch, or one
   * image where a list should be.
   */
  absent: Map<string, { lacks?: string[] }>;
  targets: PlannedTarget[];
  /** image → its build context, relative to the repo root. */
  contexts: Map<string, string>;
  /** image → the ignore file beside its rendered Dockerfiles: what its build sees of the context. */
  contextIgnores: Map<string, string>;
  bake: BakeFile;
  manifest: Manifest;
  /** The flags of the run that made this output, for the command a hint prints (set by the command that compiled it). */
  madeWith?: MadeWith;
  /** The options of the run as kolla-gen.yaml keys, recorded in manifest.json (set by the command that compiled it). */
  recorded?: RecordedOptions;
  diagnostics: Diagnostic[];
}

type Keyed = Diagnostic & { key?: string };

/**
 * Each problem once. A problem of a template found on several variants (a FROM naming no image, a malformed FROM)
 * is one diagnostic at its place in the template, listing the variants it hits; the first variant's message stays.
 */
function dedupe(diagnostics: Keyed[]): Diagnostic[] {
  const seen = new Map<string, Diagnostic>();
  const out: Diagnostic[] = [];
  for (const { key, ...d } of diagnostics) {
    const perVariant = d.variants !== undefined && d.location !== undefined;
    // A key of its own says which diagnostics are one problem (a BuildKit feature: at each variant's rendered file).
    const k =
      key ??
      (perVariant ? `${d.code}|${d.location?.file}|${d.location?.line}|${d.location?.column}` : `${d.code}|${d.location?.file}|${d.location?.line}|${d.location?.column}|${d.message}`);
    const first = seen.get(k);
    if (first) {
      if (perVariant && first.variants) first.variants = [...new Set([...first.variants, ...(d.variants ?? [])])];
      continue;
    }
    const copy = perVariant ? { ...d, variants: [...(d.variants ?? [])] } : d;
    seen.set(k, copy);
    out.push(copy);
  }
  return out;
}

/** A FROM's place in the template: the n-th FROM line of the template when the counts agree, else the first line naming it. */
function locateInTemplate(template: TemplateSourceFile, froms: FromLine[], from: FromLine): { location: SourceLocation; source: string } {
  const lines = template.source.split('\n');
  const fromLines = lines.flatMap((text, i) => (/^\s*FROM\s/i.test(text) ? [i] : []));
  let index = fromLines.length === froms.length ? fromLines[froms.indexOf(from)] : undefined;
  index ??= fromLines.find((i) => lines[i]?.includes(from.raw)) ?? fromLines[0] ?? 0;
  const text = lines[index] ?? '';
  const column = Math.max(0, text.search(/\S/)) + 1;
  return { location: { file: template.path, line: index + 1, column }, source: template.source };
}

/** Target names keep only [a-zA-Z0-9_-], so "a.b" and "a_b" would collide. */
function checkTargetNames(tree: Tree): Diagnostic[] {
  const seen = new Map<string, Image>();
  const out: Diagnostic[] = [];
  for (const image of tree.images) {
    const name = targetStem(image.name);
    const other = seen.get(name);
    if (other) {
      const file = (i: Image) => i.files.find((f) => f.rel === i.template)?.path ?? i.template;
      out.push(
        error('KG702', `images "${other.name}" and "${image.name}" map to the same target names (${name})`, {
          location: { file: file(image), line: 1, column: 1 },
          related: [{ message: `the other image`, location: { file: file(other), line: 1, column: 1 } }],
        }),
      );
    }
    seen.set(name, image);
  }
  return out;
}

/** Names Windows reserves for devices, whatever the case and extension: a clone cannot check out such a file or folder. */
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$/i;
/** distribution/reference's limit on a repository name, registry included. */
const MAX_NAME_LENGTH = 255;

/**
 * Every image folder name goes into refs: with each family's prefix, it must be a repository name, and the whole
 * name a registry takes; and it names a folder under the output dir, which every clone checks out.
 */
function checkImageNames(config: ResolvedConfig, tree: Tree): Diagnostic[] {
  const prefixes = [...new Set(config.families.map((family) => imagePrefix(config, family)))];
  return tree.images.flatMap((image) => {
    const location = { file: image.files.find((f) => f.rel === image.template)?.path ?? image.template, line: 1, column: 1 };
    if (WINDOWS_RESERVED.test(image.name)) {
      return [error('KG135', `image folder "${image.name}" would name a folder Windows cannot check out (${image.name.split('.')[0]} is a device name there)`, { location })];
    }
    for (const prefix of prefixes) {
      const problem = checkImageName(image.name, prefix, location);
      if (problem) return [problem];
    }
    for (const family of config.families) {
      const ref = imageRef(config, image.name, family);
      const name = ref.slice(0, ref.length - imageTag(config, family).length - 1);
      if (name.length > MAX_NAME_LENGTH) return [error('KG136', `the ref of image "${image.name}" names a repository of ${name.length} characters (at most ${MAX_NAME_LENGTH}): ${name}`, { location })];
    }
    return [];
  });
}

/** Unbuildable entries naming no image, for the rules of the run's variants: a rule of a base it does not render is not its concern. */
function checkConfigNames(config: ResolvedConfig, tree: Tree): Diagnostic[] {
  const names = new Set(tree.images.map((i) => i.name));
  const bases = new Set(config.families.map((f) => f.base));
  const applies = (rule: ResolvedConfig['unbuildable'][number]) =>
    (rule.base === undefined || bases.has(rule.base)) && (rule.arch === undefined || config.arches.includes(rule.arch)) && (rule.baseTag === undefined || [...bases].some((b) => config.baseImages[b].tag === rule.baseTag));
  return config.unbuildable.filter(applies).flatMap((rule) =>
    rule.images
      .filter((image) => !names.has(image))
      .map((image) =>
        warning('KG603', `unbuildable.${rule.key} names "${image}", which is no image of the tree`, { location: rule.location }),
      ),
  );
}

/** The first half of compile: renderings, graphs and content hashes, before any selection. */
interface Hashed {
  selector: Selector;
  renderings: Map<string, Rendering>;
  families: FamilyResult[];
  hashes: Map<string, ContentHash>;
  bases: Map<string, BaseUse[]>;
  buildkitFeatures: Map<string, BuildkitFeature[]>;
  diagnostics: Keyed[];
}

/** A FROM of an (image, variant) naming an external base: neither an image of the tree nor an earlier stage. */
export interface BaseUse {
  /** As written, after ARG expansion. */
  ref: string;
  /** docker's familiar form: the key of the lock and of a target's `contexts`. */
  familiar: string;
  /** The FROM already names a digest: nothing to lock. */
  digested: boolean;
  /** The lock's digest for it, when the project has a lock holding it. */
  digest?: string;
  image: string;
  from: FromLine;
}

function hashTree(project: Project, rendered: RenderOutcome[] | undefined, policy: 'error' | 'warning' = 'error'): Hashed | { diagnostics: Diagnostic[] } {
  const { config, tree } = project;
  const diagnostics: Keyed[] = [...checkImageNames(config, tree), ...checkTargetNames(tree), ...checkConfigNames(config, tree)];
  if (hasErrors(diagnostics)) return { diagnostics: dedupe(diagnostics) };
  const { selector, diagnostics: selectorProblems } = compileSelector(config);
  diagnostics.push(...selectorProblems);
  if (!selector) return { diagnostics: dedupe(diagnostics) };

  // Rendered in worker threads when the caller did it (large trees), else here.
  const outcomes = [...(rendered ?? renderImages(project, renderJobs(project)))].sort((x, y) => x.job - y.job);
  const renderings = new Map<string, Rendering>();
  for (const outcome of outcomes) {
    diagnostics.push(...outcome.diagnostics);
    if (outcome.rendering) renderings.set(outcome.key, outcome.rendering);
  }
  if (hasErrors(diagnostics)) return { diagnostics: dedupe(diagnostics) };
  // What the rendered Dockerfiles ask of BuildKit, against kolla-gen.yaml's buildkit: policy.
  const buildkit = checkBuildkit(project, renderings, policy);
  diagnostics.push(...buildkit.diagnostics);
  if (hasErrors(diagnostics)) return { diagnostics: dedupe(diagnostics) };

  const names = tree.images.map((i) => i.name);
  const families: FamilyResult[] = [];
  const hashes = new Map<string, ContentHash>();
  const bases = new Map<string, BaseUse[]>();
  for (const family of config.families) {
    const own = {
      registry: config.registry,
      namespace: config.namespace,
      prefix: imagePrefix(config, family),
      tag: imageTag(config, family),
      byRef: new Map(names.map((name) => [familiarRef(imageRef(config, name, family)) ?? '', name])),
    };
    const graphs = new Map<Arch, VariantGraph>();
    for (const arch of config.arches) {
      const images = tree.images.map((image): RenderedImage => {
        const r = renderings.get(renderKey(image.name, family, arch)) as Rendering;
        const template = project.templates.get(image.template) ?? { path: image.template, source: '' };
        return { name: image.name, froms: r.froms, locate: (from) => locateInTemplate(template, r.froms, from) };
      });
      const built = buildGraph({ variant: { ...family, arch }, images, own });
      diagnostics.push(...built.diagnostics);
      if (!built.graph) continue;
      graphs.set(arch, built.graph);
      hashVariant({ project, family, arch, graph: built.graph, renderings, byRef: own.byRef, hashes, bases });
    }
    families.push({ family, graphs, statuses: new Map(), images: [], folded: new Map() });
  }
  if (hasErrors(diagnostics)) return { diagnostics: dedupe(diagnostics) };
  return { selector, renderings, families, hashes, bases, buildkitFeatures: buildkit.features, diagnostics };
}

/**
 * The content hash of every (image, variant), or the errors that stop the tree compiling (what --affected-since
 * needs of the tree at a revision). Past the hashes, compile adds only warnings: it fails exactly when this does.
 */
export function compileHashes(project: Project, rendered?: RenderOutcome[]): { hashes?: Map<string, ContentHash>; bases?: Map<string, BaseUse[]>; diagnostics: Diagnostic[] } {
  const hashed = hashTree(project, rendered);
  return 'hashes' in hashed ? { hashes: hashed.hashes, bases: hashed.bases, diagnostics: dedupe(hashed.diagnostics) } : hashed;
}

export function compile(project: Project, options: CompileOptions = {}): Compiled | { diagnostics: Diagnostic[] } {
  const { config, tree } = project;
  const hashed = hashTree(project, options.rendered, options.buildkitPolicy);
  if (!('hashes' in hashed)) return hashed;
  const { selector, renderings, families, hashes, bases, buildkitFeatures, diagnostics } = hashed;

  const affected = options.since ? new Map<string, Affected>() : undefined;
  const selected: SelectionOutcome['variants'] = [];
  for (const result of families) {
    const { family } = result;
    for (const arch of config.arches) {
      const graph = result.graphs.get(arch) as VariantGraph;
      const unbuildable = unbuildableFor(config, { ...family, arch });
      const statuses = selectImages({ graph, selector, unbuildable, skipParents: config.skipParents });
      result.statuses.set(arch, statuses);
      // Before --affected-since narrows it: that it builds nothing is a legitimate answer, a selection of nothing is not.
      selected.push({ id: `${familyId(family)}-${arch}`, statuses: new Map(statuses) });
    }
    result.images = tree.images.map((image) => ({
      name: image.name,
      texts: new Map(config.arches.map((arch) => [arch, renderings.get(renderKey(image.name, family, arch))?.text ?? ''])),
    }));
    result.folded = foldedImages({ images: result.images });
    if (options.since && affected) restrictToAffected(result, config.arches, hashes, options.since.hashes === 'current' ? hashes : options.since.hashes, affected);
  }

  const selection = selectionDiagnostics({
    images: tree.images.map((i) => i.name),
    variants: selected,
    selector,
    regexes: config.regexes,
    profiles: config.selectedProfiles,
    empty: options.emptySelection ?? 'error',
  });
  diagnostics.push(...selection);
  const planned = plan({ config, tree, families, hashes, bases });
  diagnostics.push(...unlockedBases(project, planned.targets, bases));
  if (planned.targets.length === 0 && options.since && !selection.some((d) => d.code === 'KG605')) {
    const by = selector.from === 'all' ? '' : ` by the ${selector.from === 'regex' ? 'regexes' : 'profiles'}`;
    diagnostics.push(
      warning('KG602', `no image selected${by} is affected since ${options.since.revision}`, {
        hint: `every image has the hash it had at ${options.since.revision}: there is nothing to build (kolla-gen explain IMAGE says why for one image)`,
      }),
    );
  }
  diagnostics.push(...checkRefCollisions(planned.targets), ...checkGeneratedNames(tree, planned));
  return { config, tree, families, hashes, bases, buildkitFeatures, contextIgnores: project.contextIgnores, ...(affected ? { affected } : {}), ...(options.since ? { since: options.since } : {}), existing: [], rebuilt: new Set(), absent: new Map(), ...planned, diagnostics: dedupe(diagnostics) };
}

/** The hash of every image of one variant, parents first: a hash covers its parents' hashes. */
function hashVariant(input: {
  project: Project;
  family: Family;
  arch: Arch;
  graph: VariantGraph;
  renderings: Map<string, Rendering>;
  byRef: Map<string, string>;
  hashes: Map<string, ContentHash>;
  bases: Map<string, BaseUse[]>;
}): void {
  const { project, family, arch, graph, hashes } = input;
  const locked = project.lock?.entries;
  const args = targetArgs(project.config);
  // Without the preset's labels, every image shares the config's: one object, serialised once.
  const shared = project.config.preset === 'kolla' ? undefined : targetLabels(project.config, '', family, true);
  for (const name of graph.order) {
    const key = renderKey(name, family, arch);
    const rendering = input.renderings.get(key);
    if (!rendering) continue;
    const parents = graph.parents.get(name) ?? [];
    // Each FROM naming an image: a tree image (its parent) or an external base.
    const links: { from: FromLine; parent: string }[] = [];
    const bases: string[] = [];
    const uses: BaseUse[] = [];
    for (const from of rendering.froms) {
      if (from.scratch || from.stage !== undefined) continue;
      const familiar = familiarRef(from.ref) ?? '';
      const parent = input.byRef.get(familiar);
      if (parent !== undefined) {
        links.push({ from, parent });
        continue;
      }
      // A locked base is hashed with its digest: a refreshed lock changes the hash of every image built on it.
      const digested = familiar.includes('@');
      const digest = digested ? undefined : locked?.get(familiar);
      bases.push(digest === undefined ? from.ref : `${from.ref}@${digest}`);
      uses.push({ ref: from.ref, familiar, digested, ...(digest !== undefined ? { digest } : {}), image: name, from });
    }
    input.bases.set(key, uses);
    hashes.set(
      key,
      contentHash({
        // As BuildKit reads it: a comment or a blank line changes what people review, not what BuildKit builds.
        dockerfile: buildkitView(withoutParentRefs(rendering.text, links)),
        files: project.contextFiles.get(name) ?? [],
        args,
        labels: shared ?? targetLabels(project.config, name, family, true),
        platform: `linux/${arch}`,
        parents: Object.fromEntries(parents.map((p) => [p, hashes.get(renderKey(p, family, arch))?.hash ?? ''])),
        bases,
      }),
    );
  }
}

/**
 * The rendered text with each parent's ref in its FROM line replaced by the parent's name: bake swaps that ref for
 * the parent's target, and the parent's hash stands for it, so a new --tag or --registry alone changes no hash.
 */
function withoutParentRefs(text: string, links: { from: FromLine; parent: string }[]): string {
  if (links.length === 0) return text;
  const lines = text.split('\n');
  for (const { from, parent } of links) {
    const placeholder = `<parent ${parent}>`;
    // The FROM instruction, continuation lines included.
    for (let i = from.line - 1; i < lines.length; i++) {
      const line = lines[i] as string;
      lines[i] = line.split(from.raw.includes('$') ? from.ref : from.raw).join(placeholder);
      if (!/\\\s*$/.test(line)) break;
    }
    // A FROM ${PARENT} takes the ref from an ARG default.
    if (from.raw.includes('$')) {
      for (let i = 0; i < from.line - 1; i++) {
        const line = lines[i] as string;
        if (/^\s*ARG\s/i.test(line)) lines[i] = line.split(from.ref).join(placeholder);
      }
    }
  }
  return lines.join('\n');
}

/**
 * --affected-since: a selected image stays selected only where it is affected; elsewhere it is `unaffected`. An image
 * is one target for every arch (a join where renders differ), so it is affected on all its arches when it is on one.
 */
function restrictToAffected(
  result: FamilyResult,
  arches: Arch[],
  hashes: Map<string, ContentHash>,
  then: Map<string, ContentHash>,
  affected: Map<string, Affected>,
): void {
  const { family } = result;
  const onArch = new Map<Arch, Map<string, Affected>>();
  for (const arch of arches) {
    const graph = result.graphs.get(arch) as VariantGraph;
    const keyed = (m: Map<string, ContentHash>) =>
      new Map(graph.order.flatMap((name) => {
        const h = m.get(renderKey(name, family, arch));
        return h ? [[name, h] as const] : [];
      }));
    const found = affectedImages({ order: graph.order, parents: graph.parents, now: keyed(hashes), then: keyed(then) });
    onArch.set(arch, found);
    for (const [name, why] of found) affected.set(renderKey(name, family, arch), why);
  }
  for (const arch of arches) {
    const statuses = result.statuses.get(arch) as Map<string, Status>;
    for (const [name, status] of statuses) {
      if (status !== 'selected') continue;
      const hit = arches.some((a) => onArch.get(a)?.has(name));
      if (!hit) statuses.set(name, 'unaffected');
    }
  }
}

interface PlanInput {
  config: ResolvedConfig;
  tree: Tree;
  families: FamilyResult[];
  hashes: Map<string, ContentHash>;
  bases: Map<string, BaseUse[]>;
}

/**
 * The locked bases a target's Dockerfile names: familiar ref → `docker-image://<ref>@<digest>`, the named context that
 * makes BuildKit build FROM the pinned digest while the Dockerfile keeps its tag. A join names only its per-arch targets.
 */
function pinnedBases(t: FoldedTarget, bases: Map<string, BaseUse[]>): Record<string, string> {
  if (t.join) return {};
  const out: Record<string, string> = {};
  for (const arch of t.arches) {
    for (const use of bases.get(renderKey(t.image, t.family, arch)) ?? []) {
      if (use.digest !== undefined) out[use.familiar] = `docker-image://${use.familiar}@${use.digest}`;
    }
  }
  return out;
}

/**
 * With a lock, every external base of the targets built must be in it: one error per FROM line that names a base the
 * lock lacks. Without a lock (no file), nothing is asked.
 */
function unlockedBases(project: Project, targets: PlannedTarget[], bases: Map<string, BaseUse[]>): Keyed[] {
  const lock = project.lock;
  if (lock?.entries === undefined) return [];
  const out: Keyed[] = [];
  for (const t of targets) {
    if (t.join) continue;
    for (const arch of t.arches) {
      const key = renderKey(t.image, t.family, arch);
      const rendering = bases.get(key) ?? [];
      for (const use of rendering) {
        if (use.digested || use.digest !== undefined) continue;
        const image = project.tree.images.find((i) => i.name === use.image);
        const template = (image && project.templates.get(image.template)) ?? { path: image?.template ?? use.image, source: '' };
        const froms = rendering.map((u) => u.from);
        const { location, source } = locateInTemplate(template, froms.length > 0 ? froms : [use.from], use.from);
        out.push({
          ...error('KG481', `external base ${use.familiar} has no entry in ${lock.path}`, {
            location,
            source,
            hint: `run \`kolla-gen lock ${use.familiar}\` (or kolla-gen lock for every base), then commit ${lock.path}`,
          }),
          key: `KG481|${use.familiar}|${location.file}|${location.line}`,
        });
      }
    }
  }
  return out;
}

/** From the statuses on: the targets (one per image, and the per-arch targets of joins), the bake file and the manifest. */
function plan(input: PlanInput): { targets: PlannedTarget[]; contexts: Map<string, string>; bake: BakeFile; manifest: Manifest } {
  const { config, tree, families, hashes, bases } = input;
  const variantHash = (image: string, family: Family, arch: Arch) => hashes.get(renderKey(image, family, arch))?.hash ?? '';
  const targets: PlannedTarget[] = [];
  for (const result of families) {
    const { family } = result;
    // A parent this run does not build: a child takes its pushed content ref when that ref is known to be there.
    const unbuiltParent = (parent: string, arch: Arch): string | undefined => {
      const status = result.statuses.get(arch)?.get(parent);
      if (status !== 'existing' && !(status === 'unaffected' && config.contentTags !== false)) return undefined;
      const on = config.arches.filter((a) => result.statuses.get(a)?.get(parent) === status);
      return contentRef(imageRef(config, parent, family), targetHash(on.map((a) => ({ arch: a, hash: variantHash(parent, family, a) }))));
    };
    const folded = foldFamily(config, {
      family,
      arches: config.arches,
      images: result.images,
      graphs: result.graphs,
      statuses: result.statuses,
      unbuiltParent,
    });
    for (const t of folded.targets) {
      const variantHashes = t.arches.map((arch) => ({ arch, hash: variantHash(t.image, family, arch) }));
      const hash = targetHash(variantHashes);
      const pinned = pinnedBases(t, bases);
      const base = Object.keys(pinned).length > 0 ? { ...t, pinned } : t;
      // A per-arch target of a join pushes nothing: its join carries the tags and the content tag.
      if (!config.contentTags || t.arch !== undefined) targets.push({ ...base, hash, variantHashes });
      else targets.push({ ...base, ...(config.contentTags === 'only' ? { tags: [] } : {}), hash, variantHashes, contentTag: contentRef(t.ref, hash) });
    }
  }
  const contexts = new Map(tree.images.map((image) => [image.name, contextOf(config, image)]));
  const bake = assembleBake({ config, targets, contexts, profileMembers: profileMembers(config, families) });
  const manifest = buildManifest(manifestRows(config, tree, families, targets, contexts, hashes), config.output);
  return { targets, contexts, bake, manifest };
}

/**
 * --skip-existing: the targets whose content ref the registry holds (target → the digest it holds) are left out;
 * their children take that image.
 */
export function withExisting(compiled: Compiled, existing: Map<string, string>, fromArches: Map<string, { arch: Arch; ref: string }[]> = new Map()): Compiled {
  if (existing.size === 0) return compiled;
  const families = copyStatuses(compiled.families);
  for (const t of compiled.targets) {
    if (!existing.has(t.name)) continue;
    const result = familyResult(families, t.family);
    for (const arch of t.arches) result?.statuses.get(arch)?.set(t.image, 'existing');
  }
  const planned = plan({ config: compiled.config, tree: compiled.tree, families, hashes: compiled.hashes, bases: compiled.bases });
  const left = compiled.targets.flatMap((t) => {
    const digest = existing.get(t.name);
    const arches = fromArches.get(t.name);
    return digest !== undefined ? [{ ...t, digest, ...(arches !== undefined ? { fromArches: arches } : {}) }] : [];
  });
  return { ...compiled, families, existing: [...compiled.existing, ...left], ...planned };
}

/** An unaffected parent some target links to by its content ref (docker-image://), for the registry to confirm. */
export interface PushedParent {
  ref: string;
  image: string;
  family: Family;
  /** The arches that ref holds (every arch of the parent's one target). */
  arches: Arch[];
}

export function unaffectedParents(compiled: Compiled): PushedParent[] {
  const out = new Map<string, PushedParent>();
  for (const t of compiled.targets) {
    const result = familyResult(compiled.families, t.family);
    for (const p of t.parents) {
      if (p.pushed === undefined || out.has(p.pushed)) continue;
      const arches = compiled.config.arches.filter((a) => result?.statuses.get(a)?.get(p.image) === 'unaffected');
      if (arches.length > 0) out.set(p.pushed, { ref: p.pushed, image: p.image, family: t.family, arches });
    }
  }
  return [...out.values()];
}

/** Unaffected parents the registry does not hold: built in this run after all (--affected-since with --skip-existing). */
export function withRebuilt(compiled: Compiled, parents: PushedParent[]): Compiled {
  if (parents.length === 0) return compiled;
  const families = copyStatuses(compiled.families);
  const rebuilt = new Set(compiled.rebuilt);
  for (const p of parents) {
    const result = familyResult(families, p.family);
    for (const arch of p.arches) {
      result?.statuses.get(arch)?.set(p.image, 'selected');
      rebuilt.add(renderKey(p.image, p.family, arch));
    }
  }
  const planned = plan({ config: compiled.config, tree: compiled.tree, families, hashes: compiled.hashes, bases: compiled.bases });
  return { ...compiled, families, rebuilt, ...planned };
}

/** The result of one family (base and type) of the run. */
export function familyResult(families: FamilyResult[], family: Family): FamilyResult | undefined {
  return families.find((r) => familyId(r.family) === familyId(family));
}

function copyStatuses(families: FamilyResult[]): FamilyResult[] {
  return families.map((result) => ({ ...result, statuses: new Map([...result.statuses].map(([arch, m]) => [arch, new Map(m)])) }));
}

/**
 * Every name the output holds (targets, per-arch targets, joins, groups, Dockerfiles) has one source: an image folder
 * named like another image's per-arch target ("base-amd64" beside "base", whose renders differ) would be two.
 */
function checkGeneratedNames(tree: Tree, planned: { targets: PlannedTarget[]; bake: BakeFile }): Diagnostic[] {
  const templateOf = new Map(tree.images.map((i) => [i.name, i.files.find((f) => f.rel === i.template)?.path ?? i.template]));
  const at = (image: string): SourceLocation => ({ file: templateOf.get(image) ?? image, line: 1, column: 1 });
  type Source = { what: string; image?: string };
  const targetSource = (t: PlannedTarget): Source => ({
    what:
      t.arch !== undefined
        ? `image "${t.image}"'s ${t.arch} rendering (its renders differ per arch)`
        : `image "${t.image}"${t.join ? ' (the join of its per-arch renderings)' : ''}`,
    image: t.image,
  });
  const names: [kind: string, name: string, source: Source][] = [
    ...planned.bake.groups.map((g): [string, string, Source] => ['bake name', g.name, { what: `the group "${g.name}"` }]),
    ...planned.targets.map((t): [string, string, Source] => ['bake name', t.name, targetSource(t)]),
    ...planned.targets.map((t): [string, string, Source] => ['generated file', t.dockerfile, targetSource(t)]),
  ];
  const seen = new Map<string, Source>();
  const out: Diagnostic[] = [];
  for (const [kind, name, source] of names) {
    const key = `${kind}|${name}`;
    const other = seen.get(key);
    if (other === undefined) {
      seen.set(key, source);
      continue;
    }
    const located = source.image ?? other.image;
    out.push(
      error('KG730', `${kind} "${name}" is both ${other.what} and ${source.what}`, {
        ...(located !== undefined ? { location: at(located) } : {}),
        ...(other.image !== undefined && other.image !== located ? { related: [{ message: `the other source: ${other.what}`, location: at(other.image) }] } : {}),
        ...(source.image !== undefined && source.image !== located ? { related: [{ message: `the other source: ${source.what}`, location: at(source.image) }] } : {}),
      }),
    );
  }
  return out;
}

/** Without a type axis or `{base}` in the tag, every base pushes the same refs: the last push would win. */
function checkRefCollisions(targets: PlannedTarget[]): Diagnostic[] {
  const byTag = new Map<string, string[]>();
  for (const t of targets) for (const tag of t.tags) byTag.set(tag, [...(byTag.get(tag) ?? []), t.name]);
  const shared = [...byTag].filter(([, names]) => names.length > 1);
  const [first] = shared;
  if (!first) return [];
  return [
    warning(
      'KG604',
      `${shared.length} ref${shared.length === 1 ? ' is' : 's are'} pushed by more than one target, e.g. ${first[0]} by ${first[1].join(' and ')}`,
    ),
  ];
}

/** Where an image's build context is: its folder, or a copy under the output dir when overlays mixed several docker dirs. */
export function contextOf(config: ResolvedConfig, image: Image): string {
  return image.contextDir ?? `${config.output}/contexts/${image.name}`;
}

function profileMembers(config: ResolvedConfig, families: FamilyResult[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const [profile, entries] of Object.entries(config.profiles)) {
    const selector: Selector = { patterns: [], from: 'profile' };
    for (const entry of entries) {
      // The config's profiles were checked when it was resolved; an entry that does not compile matches nothing here.
      const compiled = compileRegex(entry);
      if ('regex' in compiled) selector.patterns.push(compiled.regex);
    }
    const members = new Set<string>();
    for (const result of families) {
      for (const [arch, graph] of result.graphs) {
        const statuses = result.statuses.get(arch);
        for (const name of graph.order) {
          if (!selector.patterns.some((re) => re.test(name))) continue;
          for (const image of [name, ...ancestors(graph, name)]) {
            if (statuses?.get(image) === 'selected') members.add(memberKey(image, familyId(result.family), arch));
          }
        }
      }
    }
    out.set(profile, members);
  }
  return out;
}

/** What manifest.json records of a hash: the image's own inputs, not the parents' hashes it covers. */
function ownInputs(hash: ContentHash | undefined): ManifestRow['own'] {
  if (!hash) return { dockerfile: '', context: '', bases: [] };
  return { dockerfile: `sha256:${hash.parts.dockerfile}`, context: `sha256:${hash.parts.context}`, bases: hash.parts.bases };
}

function manifestRows(
  config: ResolvedConfig,
  tree: Tree,
  families: FamilyResult[],
  targets: PlannedTarget[],
  contexts: Map<string, string>,
  hashes: Map<string, ContentHash>,
): ManifestRow[] {
  const targetOf = new Map<string, PlannedTarget>();
  const archTargetOf = new Map<string, PlannedTarget>();
  for (const t of targets) for (const arch of t.arches) (t.arch !== undefined ? archTargetOf : targetOf).set(`${t.image}|${familyId(t.family)}|${arch}`, t);
  const rows: ManifestRow[] = [];
  for (const image of tree.images) {
    for (const result of families) {
      for (const arch of config.arches) {
        const status = result.statuses.get(arch)?.get(image.name) ?? 'unmatched';
        rows.push({
          image: image.name,
          family: result.family,
          arch,
          status,
          parents: result.graphs.get(arch)?.parents.get(image.name) ?? [],
          context: contexts.get(image.name) ?? image.rel,
          own: ownInputs(hashes.get(renderKey(image.name, result.family, arch))),
          target: status === 'selected' ? targetOf.get(`${image.name}|${familyId(result.family)}|${arch}`) : undefined,
          archTarget: status === 'selected' ? archTargetOf.get(`${image.name}|${familyId(result.family)}|${arch}`) : undefined,
        });
      }
    }
  }
  return rows;
}
