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
  target?: string;
  dockerfile?: string;
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
      ...(row.target ? { target: row.target.name, dockerfile: `${output}/${row.target.dockerfile}` } : {}),
      context: row.context,
      parents: row.parents,
      hash: row.hash,
      ...(row.target ? { tags: pushedTags(row.target), platforms: row.target.arches.map((a) => `linux/${a}`) } : {}),
    }),
  );
  return { version: MANIFEST_VERSION, images };
}
