// generated/manifest.json: every rendered (image, variant), a versioned contract for scripts.
import { pushedTags, type PlannedTarget } from './fold.js';
import type { Status } from '../graph/select.js';
import type { Arch, Base, Family } from '../core/types.js';

export const MANIFEST_VERSION = 1;

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
  /** The content hash of this (image, variant): "sha256:<hex>". */
  hash: string;
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
  hash: string;
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
      hash: row.hash,
      ...(row.target ? { tags: pushedTags(row.target), platforms: row.target.arches.map((a) => `linux/${a}`) } : {}),
    }),
  );
  return { version: MANIFEST_VERSION, images };
}
