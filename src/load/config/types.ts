// The configuration's glossary: the shapes that the config, the kolla preset and kolla-build.conf share, in one place
// so that each of them imports these and none imports another for a type.
import type { SourceLocation } from '../../core/diagnostics.js';
import type { Arch, Base, Family } from '../../core/types.js';
import type { KollaRelease } from '../kolla/kolla-release.js';
import type { RenderLimits } from '../../jinja/limits.js';

export const PRESETS = ['kolla'] as const;
export type PresetName = (typeof PRESETS)[number];

export interface SourceText {
  path: string;
  text: string;
}

/** Flags as the CLI parsed them; list flags already split on commas. */
export interface CliOptions {
  regexes?: string[];
  dockerDirs?: string[];
  output?: string;
  bases?: string[];
  types?: string[];
  arches?: string[];
  profiles?: string[];
  skipParents?: boolean;
  enableUnbuildable?: boolean;
  templateOverrides?: string[];
  varsFiles?: string[];
  namespace?: string;
  registry?: string;
  imageNamePrefix?: string;
  tag?: string;
  buildArgs?: string[];
  passEnv?: string[];
  /** --preset: the template context and defaults of a known tree (kolla). */
  preset?: string;
  /** --content-tags: true, or 'only' (push the content tag alone: nothing a human tag names is replaced). */
  contentTags?: boolean | 'only';
  /** --affected-since: a git revision. */
  affectedSince?: string;
  /** --skip-existing: 'error' when the registry cannot be asked, 'warn' to build everything then. */
  skipExisting?: 'error' | 'warn';
  /** --verify-existing: read each content tag's manifest and ask for each arch's image, not its HEAD alone. */
  verifyExisting?: boolean;
  /** network_mode of a --kolla-config file (no flag sets it): the network every RUN runs in. */
  networkMode?: NetworkMode;
  /** --cache-ref: the repository of the registry cache (overrides cache.ref of the config). */
  cacheRef?: string;
  /** --no-cache-export (false): read the registry cache, write none. */
  cacheExport?: boolean;
  /** --insecure-registry: hosts kolla-gen asks over plain HTTP. */
  insecureRegistries?: string[];
  /** --strict-undefined: an undefined template variable is an error (Jinja2's StrictUndefined). */
  strictUndefined?: boolean;
  /** --max-value-size, --max-output-size, --max-steps: the bounds of each render. */
  renderLimits?: Partial<RenderLimits>;
}

/** A registry cache: one ref per image, variant and arch under one repository. */
export interface CacheConfig {
  ref: string;
  mode: 'min' | 'max';
  /** Whether targets also write the cache (cache-to), not only read it. */
  export: boolean;
}

/** What the rendered Dockerfiles may ask of BuildKit (kolla-gen.yaml `buildkit:`); render/buildkit-policy.ts checks it. */
export interface BuildkitPolicy {
  /** The frontends a `# syntax=` may name: repositories in familiar form (any tag or digest of them). */
  syntax: string[];
  insecure: boolean;
  hostNetwork: boolean;
  secretMounts: boolean;
  sshMounts: boolean;
  devices: boolean;
  remoteAdd: boolean;
  /** COPY --from and RUN --mount from= naming an image: any (true), none (false), or these repositories. */
  externalFrom: boolean | string[];
}

export const DEFAULT_BUILDKIT_POLICY: BuildkitPolicy = {
  syntax: ['docker/dockerfile'],
  insecure: false,
  hostNetwork: false,
  secretMounts: false,
  sshMounts: false,
  devices: false,
  remoteAdd: false,
  externalFrom: false,
};

/** attest: of kolla-gen.yaml: what BuildKit attaches to every pushed image. */
export interface AttestConfig {
  /** undefined: buildx's default (min provenance where the builder can store it); false: none. */
  provenance?: 'min' | 'max' | false;
  sbom: boolean;
  /** The SBOM scanner image; undefined: BuildKit's default (docker/buildkit-syft-scanner from Docker Hub). */
  sbomGenerator?: string;
}

export interface BaseImage {
  image: string;
  tag: string;
}

/** An unbuildable rule: the images, on every variant whose base and arch match. */
export interface UnbuildableRule {
  key: string;
  base?: Base;
  arch?: Arch;
  /** The base image's tag (kolla-build 2025.1's `rocky+10`). */
  baseTag?: string;
  images: string[];
  location?: SourceLocation;
}

export interface ResolvedConfig {
  configPath?: string;
  /** The repo root's absolute path, for bake paths that must climb out of it and back down (never written out). */
  root?: string;
  /** The bake files to write (bake_formats): hcl, json or both. */
  bakeFormats?: ('hcl' | 'json')[];
  dockerDirs: string[];
  output: string;
  namespace: string;
  registry?: string;
  /** undefined: `<base>-<type>-` with a type axis, nothing without. */
  imageNamePrefix?: string;
  tag: string;
  maintainer: string;
  families: Family[];
  arches: Arch[];
  hasTypeAxis: boolean;
  baseImages: Record<Base, BaseImage>;
  profiles: Record<string, string[]>;
  unbuildable: UnbuildableRule[];
  enableUnbuildable: boolean;
  regexes: string[];
  selectedProfiles: string[];
  skipParents: boolean;
  vars: Record<string, unknown>;
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  /**
   * SOURCE_DATE_EPOCH (whole seconds, "0" when unset): every target's build arg of that name, so that BuildKit dates
   * the image config and its history from it, and the date of the preset's `created` and `build-date` labels.
   */
  sourceDateEpoch: string;
  templateOverrides: string[];
  /** Environment variables the templates see as `env`: only those --pass-env named. */
  env: Record<string, string>;
  preset?: PresetName;
  /** --preset kolla: what kolla-build passes to templates beyond kolla-gen's own variables. */
  kolla?: KollaSettings;
  /** Push every target under its content tag (`<repository>:kg-<hash>`) too, or 'only' under it; --skip-existing implies it. */
  contentTags: boolean | 'only';
  affectedSince?: string;
  skipExisting?: 'error' | 'warn';
  /**
   * verify_existing (or --verify-existing): a content tag the registry holds counts only once its manifest was read and
   * each arch's image in it found (GET + HEAD per arch, the digest store reused); else its HEAD says it (docs/changes.md).
   */
  verifyExisting: boolean;
  /**
   * network_mode: the network every RUN of every target runs in (the bake files' `network`): BuildKit's own namespace
   * per RUN (default), the build host's (host, kolla-build's default; `--allow network.host`), or none.
   */
  networkMode: NetworkMode;
  cache?: CacheConfig;
  attest?: AttestConfig;
  /** Registry hosts kolla-gen asks over plain HTTP (localhost falls back to it by itself). */
  insecureRegistries: string[];
  /** Jinja2's StrictUndefined for every render: an undefined variable printed, tested or iterated is KG313. */
  strictUndefined: boolean;
  /** What the rendered Dockerfiles may ask of BuildKit: the defaults, then buildkit: of the config. */
  buildkit: BuildkitPolicy;
  /** The bounds of each render: the defaults, then render_limits of the config, then the flags. */
  renderLimits: RenderLimits;
  /** upstream: of kolla-gen.yaml: the commit CI checks out beside the repo (kolla-gen init). */
  upstream?: { url: string; commit: string; branch?: string };
}

/** The networks BuildKit runs a RUN in: a namespace of its own per RUN, the build host's, or none. */
export const NETWORK_MODES = ['default', 'host', 'none'] as const;
export type NetworkMode = (typeof NETWORK_MODES)[number];

/** What kolla-gen takes from a kolla-build.conf. Lists keep the file's order. */
export interface KollaConfigValues {
  path: string;
  networkMode?: NetworkMode;
  base?: string;
  baseArch?: string;
  baseTag?: string;
  baseImage?: string;
  namespace?: string;
  registry?: string;
  tag?: string;
  imageNamePrefix?: string;
  maintainer?: string;
  profile: string[];
  regex: string[];
  templateOverride: string[];
  dockerDir: string[];
  skipParents?: boolean;
  enableUnbuildable?: boolean;
  buildArgs: Record<string, string>;
  /** [profiles] */
  profiles: Record<string, string[]>;
  /** [<name>-user] sections, by name without "-user". */
  users: Record<string, Partial<KollaUser>>;
  openstackRelease?: string;
  openstackReleaseCodename?: string;
  openstackBranch?: string;
  openstackBranchSlashed?: string;
  useDumbInit?: boolean;
  dockerHealthchecks?: boolean;
  cleanPackageCache?: boolean;
  rpmSetupConfig?: string[];
  distroPackageManager?: string;
  basePackageType?: string;
  patchesPath?: string;
  reposYaml?: string;
}

export interface KollaUser {
  /** null: a [<name>-user] section without uid, as kolla-build passes it (None). */
  uid: number | null;
  gid: number | null;
  group: string;
}

/** The preset's settings: plain data, so that a ResolvedConfig can cross into worker threads. */
export interface KollaSettings {
  openstackRelease: string;
  /** undefined: the release's kolla-build passes none (before 2025.2). */
  openstackReleaseCodename?: string;
  /** `master`, or `stable-<release>`; its slashed form replaces "-" with "/". */
  openstackBranch: string;
  openstackBranchSlashed: string;
  /** The checkout's short git sha, as kolla-build's LABEL kolla_version shows it. */
  kollaVersion: string;
  /** By name without "-user": the checkout's table, then the kolla-build.conf `[<name>-user]` sections. */
  users: Record<string, KollaUser>;
  /** The text of the tree's repos.yaml (kolla/template/repos.yaml), for handle_repos. */
  reposYaml?: string;
  /** The text of a repos.yaml override (kolla-build's repos_yaml option) and its path, as templates see it. */
  reposOverride?: { path: string; text: string };
  useDumbInit: boolean;
  dockerHealthchecks: boolean;
  cleanPackageCache: boolean;
  rpmSetup: string[];
  patchesPath: string | null;
  distroPackageManager?: string;
  basePackageType?: string;
  /** supported_distro_name: the PRETTY_NAME of /etc/os-release the base image checks, per base. */
  distroPrettyNames: Record<Base, string>;
  /** What the checkout's kolla-build does differently by release (handle_repos, the variables it passes). */
  release: KollaRelease;
  /** The texts of the other repos files of kolla/template (repos-el10.yaml …), by file name. */
  reposFiles: Record<string, string>;
  /** build_date (`%Y%m%d`), for the releases that pass it: from SOURCE_DATE_EPOCH, else KOLLA_BUILD_DATE. */
  buildDate: string;
  /** The checkout's commit (`git rev-parse HEAD`), kolla-build's `org.opencontainers.image.revision`. */
  gitCommit?: string;
  /** Where the release was read: a config.py or kolla-build.conf path, or `built-in`. */
  releaseFrom: string;
  buildDateFrom: 'SOURCE_DATE_EPOCH' | 'default';
}

/** What the loader found in the kolla checkout around the docker dir, as text. */
export interface KollaCheckout {
  /** kolla/common/config.py: base images, distro names, release and codename, profiles */
  configPy?: string;
  /** Where config.py was read, relative to the directory kolla-gen runs in (for what the preset says it assumed). */
  configPyPath?: string;
  /** What kolla/template/methods.py and kolla/image/kolla_worker.py say of the release (kolla-release.ts). */
  release?: KollaRelease;
  /** kolla/template/repos-*.yaml besides repos.yaml, by file name. */
  reposFiles?: Record<string, string>;
  /** kolla/template/repos.yaml */
  reposYaml?: string;
  /** kolla/common/users.py */
  usersPy?: string;
  /** kolla/image/unbuildable.py */
  unbuildablePy?: string;
  /** `git log -n1 --pretty=format:%h` of the checkout, as pbr gives it to kolla-build. */
  gitShortSha?: string;
  /** Its full commit id, as kolla-build's git fallback labels it (org.opencontainers.image.revision). */
  gitCommit?: string;
  /** The repos.yaml override the kolla-build.conf names (repos_yaml). */
  reposOverride?: { path: string; text: string };
}
