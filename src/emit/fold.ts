// Arch folding: one multi-platform target where every arch renders the same, one target per arch otherwise.
import type { ResolvedConfig } from '../load/config/resolve.js';
import { imageRef, targetName } from '../render/context.js';
import type { VariantGraph } from '../graph/graph.js';
import { familiarRef } from '../core/ref.js';
import type { Status } from '../graph/select.js';
import { familyId, type Arch, type Family } from '../core/types.js';

/** One image of one family, with its per-arch renderings, graphs and statuses. */
export interface FamilyImage {
  name: string;
  /** Rendered Dockerfile per arch of the run. */
  texts: Map<Arch, string>;
}

export interface FamilyInput {
  family: Family;
  arches: Arch[];
  images: FamilyImage[];
  graphs: Map<Arch, VariantGraph>;
  statuses: Map<Arch, Map<string, Status>>;
  /**
   * A parent this run does not build: the pushed image a child takes instead (its content ref), or undefined to
   * let the child's FROM pull the parent's ref as written.
   */
  unbuiltParent?: (parent: string, arch: Arch) => string | undefined;
}

/** A child's link to its parent: the parent's target, or the pushed image that stands for it. */
export interface ParentTarget {
  image: string;
  /** Set when the parent is built in this run. */
  target?: string;
  /** Set when it is not: the ref of its pushed image (`docker-image://` context). */
  pushed?: string;
  /** The parent's ref in docker's familiar form: the key of the child's `contexts`. */
  familiar: string;
}

export interface PlannedTarget {
  name: string;
  image: string;
  family: Family;
  /** Set when the image is split per arch. */
  arch?: Arch;
  /** The arches it is built for (its platforms). */
  arches: Arch[];
  text: string;
  /** Path of its Dockerfile inside the output dir. */
  dockerfile: string;
  parents: ParentTarget[];
  /** The image's ref; a split target pushes `<ref>-<arch>`. */
  ref: string;
  tags: string[];
  /** The target's content hash (see content-hash.ts), over its arches' variant hashes. */
  hash: string;
  variantHashes: { arch: Arch; hash: string }[];
  /** `<repository>:kg-<hash>`, pushed too when content tags are on. */
  contentTag?: string;
}

export type FoldedTarget = Omit<PlannedTarget, 'hash' | 'variantHashes' | 'contentTag'>;

/** Every tag a target pushes: its tags, then its content tag when content tags are on. */
export function pushedTags(t: PlannedTarget): string[] {
  return t.contentTag !== undefined ? [...t.tags, t.contentTag] : t.tags;
}

export interface FoldResult {
  targets: FoldedTarget[];
  /** image → folded? (for every image of the family, selected or not). */
  folded: Map<string, boolean>;
}

/** image → whether it folds: the same text on every arch, and every parent folded too. */
export function foldedImages(input: Pick<FamilyInput, 'arches' | 'images' | 'graphs'>): Map<string, boolean> {
  const { arches } = input;
  const byName = new Map(input.images.map((i) => [i.name, i]));
  const folded = new Map<string, boolean>();
  const parentsOn = (name: string, arch: Arch) => input.graphs.get(arch)?.parents.get(name) ?? [];
  const isFolded = (name: string): boolean => {
    const known = folded.get(name);
    if (known !== undefined) return known;
    const texts = [...(byName.get(name)?.texts.values() ?? [])];
    const same = texts.every((t) => t === texts[0]);
    // Same text on every arch means the same FROMs, so the parents of any one arch are the parents of all.
    const result = same && arches.every((arch) => parentsOn(name, arch).every(isFolded));
    folded.set(name, result);
    return result;
  };
  for (const image of input.images) isFolded(image.name);
  return folded;
}

export function foldFamily(config: ResolvedConfig, input: FamilyInput): FoldResult {
  const { family, arches } = input;
  const byName = new Map(input.images.map((i) => [i.name, i]));
  const folded = foldedImages(input);
  const isFolded = (name: string) => folded.get(name) ?? false;
  const parentsOn = (name: string, arch: Arch) => input.graphs.get(arch)?.parents.get(name) ?? [];

  const dir = familyId(family);
  const targets: FoldedTarget[] = [];
  const order = input.graphs.get(arches[0] as Arch)?.order ?? [];
  const selectedOn = (name: string) => arches.filter((arch) => input.statuses.get(arch)?.get(name) === 'selected');
  const parentTargets = (name: string, arch: Arch): ParentTarget[] =>
    parentsOn(name, arch).flatMap((parent): ParentTarget[] => {
      const familiar = familiarRef(imageRef(config, parent, family)) ?? imageRef(config, parent, family);
      if (input.statuses.get(arch)?.get(parent) === 'selected') {
        return [{ image: parent, target: isFolded(parent) ? targetName(parent, family) : targetName(parent, family, arch), familiar }];
      }
      const pushed = input.unbuiltParent?.(parent, arch);
      return pushed !== undefined ? [{ image: parent, pushed, familiar }] : [];
    });

  for (const name of order) {
    const on = selectedOn(name);
    if (on.length === 0) continue;
    const image = byName.get(name);
    if (!image) continue;
    const ref = imageRef(config, name, family);
    if (isFolded(name)) {
      targets.push({
        name: targetName(name, family),
        image: name,
        family,
        arches: on,
        text: image.texts.get(on[0] as Arch) ?? '',
        dockerfile: `${dir}/${name}/Dockerfile`,
        parents: mergeParents(on.map((arch) => parentTargets(name, arch))),
        ref,
        tags: [ref],
      });
      continue;
    }
    for (const arch of on) {
      targets.push({
        name: targetName(name, family, arch),
        image: name,
        family,
        arch,
        arches: [arch],
        text: image.texts.get(arch) ?? '',
        dockerfile: `${dir}/${name}/Dockerfile.${arch}`,
        parents: parentTargets(name, arch),
        ref,
        tags: [`${ref}-${arch}`],
      });
    }
  }
  return { targets, folded };
}

function mergeParents(lists: ParentTarget[][]): ParentTarget[] {
  const out = new Map<string, ParentTarget>();
  for (const list of lists) for (const p of list) out.set(p.familiar, p);
  return [...out.values()].sort((a, b) => (a.image < b.image ? -1 : a.image > b.image ? 1 : 0));
}
