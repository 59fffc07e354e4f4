// What a bake reads outside the dir it runs in, as buildx's filesystem entitlements: buildx 0.20 and later stop a bake
// whose local contexts or Dockerfiles lie outside its working dir ("additional privileges requested") unless it is run
// with `--allow fs.read=<dir>`. Pure: paths in, the dirs to grant and the flags out. `build`, `generate` and `init`
// share it, so that kolla-gen's own bake, the command it prints and the workflow it writes grant the same.

/** Whether a path, relative to the dir bake runs in ("/"-separated), lies outside it. */
export function isOutside(p: string): boolean {
  const n = normalize(p);
  return n === '..' || n.startsWith('../') || n.startsWith('/');
}

/** "." and inner ".." segments folded: "a/./b/../c" is "a/c"; leading ".." kept; "/" kept at the start. */
function normalize(p: string): string {
  const absolute = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else if (part === '..' && absolute) continue;
    else out.push(part);
  }
  const joined = out.join('/');
  return absolute ? `/${joined}` : joined || '.';
}

/** A dir that holds the working dir itself (`..`, `../..`, `/`): granting it would grant everything around the repo. */
function holdsWorkingDir(dir: string): boolean {
  return dir === '/' || dir.split('/').every((part) => part === '..');
}

const within = (p: string, dir: string) => p === dir || p.startsWith(dir === '/' ? '/' : `${dir}/`);

export interface ReadGrantsInput {
  /** The paths the bake reads (each target's context, the dir of the rendered Dockerfiles), relative to where it runs. */
  used: readonly string[];
  /** The dirs they come from (the docker dirs, the output dir): a used path outside is granted as the narrowest of these. */
  roots: readonly string[];
  /** Roots inside by name that a link takes outside (buildx resolves links before it compares): granted as named. */
  linkedOut?: readonly string[];
}

/**
 * The dirs to grant `fs.read`: for each used path outside the working dir, the narrowest root that holds it (a docker
 * dir, not each image's folder), or the path itself when no root does or the root holds the working dir too; never a
 * dir that holds the working dir (`..`, `/`). Sorted and without duplicates, so the same layout always says the same flags.
 */
export function readGrants(input: ReadGrantsInput): string[] {
  const linked = new Set((input.linkedOut ?? []).map(normalize));
  const roots = input.roots.map(normalize).filter((r) => (isOutside(r) || linked.has(r)) && !holdsWorkingDir(r));
  const grants = new Set<string>();
  for (const raw of input.used) {
    const p = normalize(raw);
    const root = roots.filter((r) => within(p, r)).sort((a, b) => b.length - a.length)[0];
    if (!isOutside(p) && root === undefined) continue;
    // `-o ..` or `-o /` (refused by generate, KG700): no grant that wide; buildx then names what it lacks
    if (root === undefined && holdsWorkingDir(p)) continue;
    grants.add(root ?? p);
  }
  return [...grants].sort();
}

/** What a generation's bake reads: each target's context, and the output dir that holds the rendered Dockerfiles. */
export interface GenerationLayout {
  /** The contexts of the targets baked, relative to where bake runs. */
  contexts: readonly string[];
  /** The output dir (the bake file and the rendered Dockerfiles). */
  output: string;
  /** The docker dirs, relative to where bake runs. */
  dockerDirs: readonly string[];
  /** The docker dirs inside by name that a link takes outside (see ReadGrantsInput). */
  linkedOut?: readonly string[];
}

/** The read grants a bake of these targets needs: the docker dirs (and output dir) outside the working dir that it uses. */
export function generationReads(layout: GenerationLayout): string[] {
  const used = layout.contexts.length > 0 ? [...layout.contexts, layout.output] : [];
  return readGrants({ used, roots: [...layout.dockerDirs, layout.output], linkedOut: layout.linkedOut });
}

/** The read grants for a tree's docker dirs alone (what `init` knows before anything is rendered): those outside. */
export function dockerDirReads(dockerDirs: readonly string[]): string[] {
  return readGrants({ used: dockerDirs, roots: dockerDirs });
}

/** `--allow fs.read=<dir>` for each grant, then `--allow <entitlement>` for each entitlement, as arguments. */
export function allowArgs(grants: readonly string[], entitlements: readonly string[] = []): string[] {
  return [...grants.flatMap((dir) => ['--allow', `fs.read=${dir}`]), ...entitlements.flatMap((e) => ['--allow', e])];
}

/** The entitlements a generation's bake needs beyond reads: `network.host` when every RUN runs in the host's network. */
export function networkEntitlements(networkMode: string): string[] {
  return networkMode === 'host' ? ['network.host'] : [];
}

/** The plain bake command for a bake file, its grants and entitlements, as one shell line (paths quoted only when they need it). */
export function bakeCommand(file: string, grants: readonly string[], entitlements: readonly string[] = []): string {
  const quote = (s: string) => (/^[A-Za-z0-9_./=:@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return ['docker', 'buildx', 'bake', '-f', file, ...allowArgs(grants, entitlements)].map(quote).join(' ');
}

/**
 * Whether `docker buildx bake --help` offers `--allow` (buildx 0.18 and later; 0.20 and later also require it for reads
 * outside the working dir). Asked of the help rather than the version: distro and dev builds name their versions their
 * own way, and buildx 0.13 fails on a flag it does not know.
 */
export function bakeKnowsAllow(bakeHelp: string): boolean {
  return /^\s*--allow\b/m.test(bakeHelp);
}
