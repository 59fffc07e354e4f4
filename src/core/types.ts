// The glossary as types: template, image, variant, target, ref.

export const BASES = ['ubuntu', 'debian', 'rocky', 'centos'] as const;
export type Base = (typeof BASES)[number];

export const ARCHES = ['amd64', 'arm64'] as const;
export type Arch = (typeof ARCHES)[number];

/** Kolla's names for the arches, as kolla-build passes them in base_arch. */
export const KOLLA_ARCH: Record<Arch, string> = { amd64: 'x86_64', arm64: 'aarch64' };

/** (base, type): the variants of one family differ only by arch. */
export interface Family {
  base: Base;
  /** Absent when the tree has no type axis. */
  type?: string;
}

export interface Variant extends Family {
  arch: Arch;
}

/** `ubuntu-binary`, or `ubuntu` without a type axis: group names, target prefixes and generated/ dirs. */
export function familyId(f: Family): string {
  return f.type === undefined ? f.base : `${f.base}-${f.type}`;
}

export function variantId(v: Variant): string {
  return `${familyId(v)}-${v.arch}`;
}

/** One file of a docker dir, after overlaying. */
export interface TreeFile {
  /** Path relative to the merged tree root, with "/" separators. */
  rel: string;
  /** Path relative to the directory kolla-gen runs in. */
  path: string;
}

/** A folder holding Dockerfile.j2. */
export interface Image {
  name: string;
  /** Folder relative to the merged tree root ("nova/nova-api"). */
  rel: string;
  /** The Dockerfile.j2, as the template loader names it ("nova/nova-api/Dockerfile.j2"). */
  template: string;
  /** Every file of the folder (its build context), sorted by rel. */
  files: TreeFile[];
  /** The one docker dir folder holding all its files, or undefined when overlays mixed several dirs. */
  contextDir?: string;
}

export interface Tree {
  images: Image[];
  /** Every .j2 and other file by rel, for the template loader (later dirs win). */
  files: Map<string, TreeFile>;
}
