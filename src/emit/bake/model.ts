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
  /**
   * A join: the arches it picks from, each a named context `kg-<arch>` = `target:<name>-<arch>` (its per-arch target),
   * written to follow the arch variable.
   */
  join?: string[];
  tags: string[];
  /** The platforms when the arch variable has its default value. */
  platforms: string[];
  /** The platforms follow the arch variable: linux/<arch> for each arch it names that is among `platforms`. */
  followsArches?: boolean;
  args: Record<string, string>;
  labels: Record<string, string>;
  /** The network every RUN runs in (`host`, `none`); absent: BuildKit's default, a namespace of its own per RUN. */
  network?: string;
  /** BuildKit's attestations of the pushed image: `type=provenance,mode=max`, `type=sbom`, … */
  attest?: string[];
  cacheFrom?: string[];
  cacheTo?: string[];
}

export interface BakeGroup {
  name: string;
  description?: string;
  targets: string[];
  /** Members that build on only some arches: in the group only when the arch variable names one of `arches`. */
  onlyOn?: { arches: string[]; targets: string[] }[];
}

/** A bake variable that names, comma-separated, the arches a run builds: `KG_ARCHES=arm64 docker buildx bake`. */
export interface ArchVariable {
  name: string;
  /** Its default: every arch of the generation. */
  arches: string[];
}

export interface BakeFile {
  /** Lines said first, as comments in HCL and as the "//" member in JSON. */
  header: string[];
  archVariable?: ArchVariable;
  groups: BakeGroup[];
  targets: BakeTarget[];
}
