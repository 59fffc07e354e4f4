// The compiler in one readable function: render → parse FROM → graph → select → fold → emit. Pure: no I/O here.
import { assembleBake, memberKey } from './bake/assemble.js';
import type { BakeFile } from './bake/model.js';
import type { ResolvedConfig } from './config/resolve.js';
import { imagePrefix, imageRef, imageTag, targetStem } from './context.js';
import { error, hasErrors, warning, type Diagnostic, type SourceLocation } from './diagnostics.js';
import type { FromLine } from './dockerfile.js';
import { foldFamily, type FamilyImage, type PlannedTarget } from './fold.js';
import { ancestors, buildGraph, type RenderedImage, type VariantGraph } from './graph.js';
import { buildManifest, type Manifest, type ManifestRow } from './manifest.js';
import { familiarRef } from './ref.js';
import type { TemplateSourceFile } from './render/index.js';
import { renderImages, renderJobs, renderKey, type RenderOutcome, type Rendering } from './render-images.js';
import { compileSelector, selectImages, unbuildableFor, type Selector, type Status } from './select.js';
import { familyId, type Arch, type Family, type Image, type Tree } from './types.js';

export interface Project {
  config: ResolvedConfig;
  tree: Tree;
  /** Every template the loader may be asked for, by its name in the merged tree ("macros.j2"). */
  templates: Map<string, TemplateSourceFile>;
  overrides: TemplateSourceFile[];
}

export interface FamilyResult {
  family: Family;
  graphs: Map<Arch, VariantGraph>;
  statuses: Map<Arch, Map<string, Status>>;
  images: FamilyImage[];
  folded: Map<string, boolean>;
}

export interface Compiled {
  config: ResolvedConfig;
  tree: Tree;
  families: FamilyResult[];
  targets: PlannedTarget[];
  /** image → its build context, relative to the repo root. */
  contexts: Map<string, string>;
  bake: BakeFile;
  manifest: Manifest;
  diagnostics: Diagnostic[];
}

type Keyed = Diagnostic & { key?: string };

function dedupe(diagnostics: Keyed[]): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const { key, ...d } of diagnostics) {
    const k = key ?? `${d.code}|${d.location?.file}|${d.location?.line}|${d.location?.column}|${d.message}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(d);
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

function checkConfigNames(config: ResolvedConfig, tree: Tree): Diagnostic[] {
  const names = new Set(tree.images.map((i) => i.name));
  return config.unbuildable.flatMap((rule) =>
    rule.images
      .filter((image) => !names.has(image))
      .map((image) =>
        warning('KG603', `unbuildable.${rule.key} names "${image}", which is no image of the tree`, { location: rule.location }),
      ),
  );
}

export function compile(project: Project, rendered?: RenderOutcome[]): Compiled | { diagnostics: Diagnostic[] } {
  const { config, tree } = project;
  const diagnostics: Keyed[] = [...checkTargetNames(tree), ...checkConfigNames(config, tree)];
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

  const names = tree.images.map((i) => i.name);
  const families: FamilyResult[] = [];
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
      if (built.graph) graphs.set(arch, built.graph);
    }
    families.push({ family, graphs, statuses: new Map(), images: [], folded: new Map() });
  }
  if (hasErrors(diagnostics)) return { diagnostics: dedupe(diagnostics) };

  const targets: PlannedTarget[] = [];
  for (const result of families) {
    const { family } = result;
    for (const arch of config.arches) {
      const graph = result.graphs.get(arch) as VariantGraph;
      const unbuildable = unbuildableFor(config, { ...family, arch });
      result.statuses.set(arch, selectImages({ graph, selector, unbuildable, skipParents: config.skipParents }));
    }
    result.images = tree.images.map((image) => ({
      name: image.name,
      texts: new Map(config.arches.map((arch) => [arch, renderings.get(renderKey(image.name, family, arch))?.text ?? ''])),
    }));
    const folded = foldFamily(config, { family, arches: config.arches, images: result.images, graphs: result.graphs, statuses: result.statuses });
    result.folded = folded.folded;
    targets.push(...folded.targets);
  }
  if (targets.length === 0) {
    diagnostics.push(warning('KG602', `no image selected${selector.from === 'all' ? '' : ` by the ${selector.from === 'regex' ? 'regexes' : 'profiles'}`}`));
  }

  diagnostics.push(...checkRefCollisions(targets));

  const contexts = new Map(tree.images.map((image) => [image.name, contextOf(config, image)]));
  const bake = assembleBake({ config, targets, contexts, profileMembers: profileMembers(config, families) });
  const manifest = buildManifest(manifestRows(config, tree, families, targets, contexts), config.output);
  return { config, tree, families, targets, contexts, bake, manifest, diagnostics: dedupe(diagnostics) };
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
      try {
        selector.patterns.push(new RegExp(entry));
      } catch {
        // An invalid entry fails selection only when the profile is used; here it just matches nothing.
      }
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

function manifestRows(
  config: ResolvedConfig,
  tree: Tree,
  families: FamilyResult[],
  targets: PlannedTarget[],
  contexts: Map<string, string>,
): ManifestRow[] {
  const targetOf = new Map<string, PlannedTarget>();
  for (const t of targets) for (const arch of t.arches) targetOf.set(`${t.image}|${familyId(t.family)}|${arch}`, t);
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
          target: status === 'selected' ? targetOf.get(`${image.name}|${familyId(result.family)}|${arch}`) : undefined,
        });
      }
    }
  }
  return rows;
}
