// The bake file as data: what both emitters (HCL and JSON) print.

export interface BakeTarget {
  /** Only [a-zA-Z0-9_-]. */
  name: string;
  description?: string;
  /** Relative to the directory bake runs in (the repo root). */
  context: string;
  /** Relative to `context`, as buildx resolves it. */
  dockerfile: string;
  /** Familiar parent ref → "target:<parent target>" (or "docker-image://…"). */
  contexts: Record<string, string>;
  tags: string[];
  platforms: string[];
  args: Record<string, string>;
  labels: Record<string, string>;
  cacheFrom?: string[];
  cacheTo?: string[];
}

export interface BakeGroup {
  name: string;
  description?: string;
  targets: string[];
}

export interface BakeFile {
  /** Lines said first, as comments in HCL and as the "//" member in JSON. */
  header: string[];
  groups: BakeGroup[];
  targets: BakeTarget[];
}
