// generated/manifest.json: every rendered (image, variant), a versioned contract for scripts. Each entry records the
// image's own inputs (its Dockerfile's and its context's digests, its parents by name, its external bases), never a
// hash that covers its ancestors': a change to one template then changes the lines of the images it changes, not a
// line per descendant. The chained content hashes are derived from the compile where they are needed (list --json).
import { pushedTags, type PlannedTarget } from './fold.js';
import type { Status } from '../graph/select.js';
import type { Arch, Base, Family } from '../core/types.js';

/** 2: own inputs per entry instead of version 1's chained `hash`. */
export const MANIFEST_VERSION = 2;
/** The versions an output dir's manifest.json may have for kolla-gen to own that dir (and replace it). */
export const KNOWN_MANIFEST_VERSIONS: readonly number[] = [1, 2];

export interface ManifestEntry {
  image: string;
  base: Base;
  type?: string;
  arch: Arch;
  status: Status;
  /** The target that pushes the image's tags (a join where renders differ per arch). */
  target?: string;
  /** Where renders differ per arch: the per-arch target that builds this arch's rendering. */
  archTarget?: string;
  /** The Dockerfile rendered for this (image, variant). */
  dockerfile?: string;
  /** Where renders differ per arch: the join's Dockerfile, which picks each arch's per-arch image. */
  joinDockerfile?: string;
  context: string;
  parents: string[];
  /** "sha256:<hex>" of the rendered Dockerfile as BuildKit reads it (no comment or blank line), parents' refs standing for their images. */
  dockerfileDigest: string;
  /** "sha256:<hex>" of what the build sees of the context: every file's name, mode and digest. */
  contextDigest: string;
  /** The FROM refs that name neither an image of the tree nor an earlier stage, after ARG expansion. */
  externalBases: string[];
  tags?: string[];
  platforms?: string[];
}

export interface Manifest {
  version: typeof MANIFEST_VERSION;
  images: ManifestEntry[];
}

export interface ManifestRow {
  image: string;
  family: Family;
  arch: Arch;
  status: Status;
  parents: string[];
  context: string;
  /** The image's own inputs on this variant. */
  own: { dockerfile: string; context: string; bases: string[] };
  target?: PlannedTarget;
  /** The per-arch target of a joined image, for this arch. */
  archTarget?: PlannedTarget;
}

export function buildManifest(rows: ManifestRow[], output: string): Manifest {
  // Key order is the documented order of the contract.
  const images = rows.map(
    (row): ManifestEntry => ({
      image: row.image,
      base: row.family.base,
      ...(row.family.type !== undefined ? { type: row.family.type } : {}),
      arch: row.arch,
      status: row.status,
      ...(row.target ? { target: row.target.name } : {}),
      ...(row.archTarget ? { archTarget: row.archTarget.name } : {}),
      ...(row.target ? { dockerfile: `${output}/${(row.archTarget ?? row.target).dockerfile}` } : {}),
      ...(row.target && row.archTarget ? { joinDockerfile: `${output}/${row.target.dockerfile}` } : {}),
      context: row.context,
      parents: row.parents,
      dockerfileDigest: row.own.dockerfile,
      contextDigest: row.own.context,
      externalBases: row.own.bases,
      ...(row.target ? { tags: pushedTags(row.target), platforms: row.target.arches.map((a) => `linux/${a}`) } : {}),
    }),
  );
  return { version: MANIFEST_VERSION, images };
}
