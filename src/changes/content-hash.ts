// Content hashes: a Merkle hash per (image, variant) over everything its build can see, so that an image keeps its
// hash exactly as long as nothing it is built from changes. Pure: the context files arrive already digested.
import { sha256, type ContextFile } from '../core/digest.js';
import type { Arch } from '../core/types.js';

export { sha256, type ContextFile };

/** What one (image, variant) is built from. */
export interface HashInputs {
  /** The rendered Dockerfile as BuildKit reads it (render/dockerfile.ts buildkitView): no comment or blank line. */
  dockerfile: string;
  /** The context, without what its .dockerignore excludes. */
  files: ContextFile[];
  args: Record<string, string>;
  labels: Record<string, string>;
  /** "linux/amd64". */
  platform: string;
  /** Parent image → its hash on the same variant. */
  parents: Record<string, string>;
  /** FROM refs that are neither a tree image nor an earlier stage, as written (after ARG expansion). */
  bases: string[];
}

/** The hash and what went into it, so that two hashes can say how they differ. */
export interface ContentHash {
  /** "sha256:<64 hex>". */
  hash: string;
  parts: HashParts;
}

export interface HashParts {
  /** Hex sha256 of the rendered Dockerfile as BuildKit reads it. */
  dockerfile: string;
  /** File name → "<mode> <sha256>" (mode 755 or 644: what a git checkout carries). */
  files: Record<string, string>;
  /** Hex sha256 of `files` as hashed: the context in one digest (manifest.json records it, once per image and variant). */
  context: string;
  args: Record<string, string>;
  labels: Record<string, string>;
  platform: string;
  parents: Record<string, string>;
  bases: string[];
}

// Part of every hash: a change of what is hashed, or how, changes every hash. 2: the Dockerfile as BuildKit reads it.
const SCHEME = 'kolla-gen content hash 2';
const TARGET_SCHEME = 'kolla-gen target hash 1';
export const CONTENT_TAG_PREFIX = 'kg-';
/** Hex digits of the hash in a content tag: 128 bits. */
const CONTENT_TAG_DIGITS = 32;

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortedRecord(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => byCodeUnit(a, b)));
}

// Every variant of an image shares its context files, and every image the build args and labels: the same objects,
// so each is sorted and serialised once, not once per (image, variant).
const filesCache = new WeakMap<ContextFile[], { record: Record<string, string>; json: string; digest: string }>();
const recordCache = new WeakMap<Record<string, string>, { record: Record<string, string>; json: string }>();

function filesPart(files: ContextFile[]): { record: Record<string, string>; json: string; digest: string } {
  let part = filesCache.get(files);
  if (part === undefined) {
    const record = Object.fromEntries(
      [...files].sort((a, b) => byCodeUnit(a.name, b.name)).map((f) => [f.name, `${f.executable ? '755' : '644'} ${f.sha256}`]),
    );
    const json = JSON.stringify(record);
    part = { record, json, digest: sha256(json) };
    filesCache.set(files, part);
  }
  return part;
}

function recordPart(input: Record<string, string>): { record: Record<string, string>; json: string } {
  let part = recordCache.get(input);
  if (part === undefined) {
    const record = sortedRecord(input);
    part = { record, json: JSON.stringify(record) };
    recordCache.set(input, part);
  }
  return part;
}

export function contentHash(inputs: HashInputs): ContentHash {
  const files = filesPart(inputs.files);
  const args = recordPart(inputs.args);
  const labels = recordPart(inputs.labels);
  const parents = sortedRecord(inputs.parents);
  const parts: HashParts = {
    dockerfile: sha256(inputs.dockerfile),
    files: files.record,
    context: files.digest,
    args: args.record,
    labels: labels.record,
    platform: inputs.platform,
    parents,
    bases: [...new Set(inputs.bases)].sort(byCodeUnit),
  };
  // The JSON array of the parts in a fixed order: unambiguous, whatever the names hold.
  const canonical = `[${JSON.stringify(SCHEME)},${JSON.stringify(parts.dockerfile)},${files.json},${args.json},${labels.json},${JSON.stringify(parts.platform)},${JSON.stringify(parents)},${JSON.stringify(parts.bases)}]`;
  return { hash: `sha256:${sha256(canonical)}`, parts };
}

/**
 * A target's hash: on one arch, that arch's variant hash, so that an image built for one arch has one content tag
 * whichever run built it (a one-arch CI job, the per-arch target of a split image, a run for `-a <arch>`); on several,
 * a hash over their variant hashes, so that a manifest list made from per-arch images (a CI merge job, a split image's
 * join) has the tag a multi-platform target building the same arches has.
 */
export function targetHash(variants: { arch: Arch; hash: string }[]): string {
  const [only, ...rest] = variants;
  if (only !== undefined && rest.length === 0) return only.hash;
  const lines = [...variants].sort((a, b) => byCodeUnit(a.arch, b.arch)).map((v) => `${v.arch} ${v.hash}`);
  return `sha256:${sha256([TARGET_SCHEME, ...lines].join('\n'))}`;
}

/** `<repository>:kg-<32 hex>`: the ref pushed under the target's hash. */
export function contentRef(ref: string, hash: string): string {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  const repository = colon > slash ? ref.slice(0, colon) : ref;
  return `${repository}:${CONTENT_TAG_PREFIX}${hash.replace(/^sha256:/, '').slice(0, CONTENT_TAG_DIGITS)}`;
}

const CONTENT_TAG = new RegExp(`^${CONTENT_TAG_PREFIX}[0-9a-f]{${CONTENT_TAG_DIGITS}}$`);

/** Whether a tag is a content tag (`kg-<32 hex>`, as contentRef names it): its name covers the arches it holds. */
export function isContentTag(tag: string): boolean {
  return CONTENT_TAG.test(tag);
}

/** How two hashes' inputs differ, one line per input, in words a user reads (kolla-gen explain). */
// Names come from users (file names, build args): "toString" must not find Object.prototype's.
const own = (record: Record<string, string>, key: string): string | undefined => (Object.hasOwn(record, key) ? record[key] : undefined);

export function describeChanges(before: HashParts, after: HashParts): string[] {
  const out: string[] = [];
  if (before.dockerfile !== after.dockerfile) out.push('the rendered Dockerfile changed');
  const names = [...new Set([...Object.keys(before.files), ...Object.keys(after.files)])].sort(byCodeUnit);
  for (const name of names) {
    const a = own(before.files, name);
    const b = own(after.files, name);
    if (a === b) continue;
    if (a === undefined) out.push(`context file ${name} was added`);
    else if (b === undefined) out.push(`context file ${name} was removed`);
    else if (a.slice(4) === b.slice(4)) out.push(`context file ${name} changed mode (${a.slice(0, 3)} → ${b.slice(0, 3)})`);
    else out.push(`context file ${name} changed`);
  }
  const record = (what: string, x: Record<string, string>, y: Record<string, string>) => {
    for (const key of [...new Set([...Object.keys(x), ...Object.keys(y)])].sort(byCodeUnit)) {
      const a = own(x, key);
      const b = own(y, key);
      if (a === b) continue;
      out.push(a === undefined ? `${what} ${key} was added` : b === undefined ? `${what} ${key} was removed` : `${what} ${key} changed (${a} → ${b})`);
    }
  };
  record('build arg', before.args, after.args);
  record('label', before.labels, after.labels);
  if (before.platform !== after.platform) out.push(`the platform changed (${before.platform} → ${after.platform})`);
  for (const parent of [...new Set([...Object.keys(before.parents), ...Object.keys(after.parents)])].sort(byCodeUnit)) {
    const a = own(before.parents, parent);
    const b = own(after.parents, parent);
    if (a === b) continue;
    out.push(a === undefined ? `parent ${parent} was added` : b === undefined ? `parent ${parent} was removed` : `parent ${parent} changed`);
  }
  const removed = before.bases.filter((r) => !after.bases.includes(r));
  const added = after.bases.filter((r) => !before.bases.includes(r));
  if (removed.length > 0 || added.length > 0) {
    out.push(`the external bases changed (${removed.join(', ') || 'none'} → ${added.join(', ') || 'none'})`);
  }
  return out;
}

/** Why an image of a variant is affected since a revision. */
export type Affected = { kind: 'new' } | { kind: 'changed'; changes: string[] } | { kind: 'ancestor'; ancestor: string };

function sameRecord(a: Record<string, string>, b: Record<string, string>): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Whether anything but the parents' hashes differs: what the image itself is built from. */
function ownInputsDiffer(a: HashParts, b: HashParts): boolean {
  return (
    a.dockerfile !== b.dockerfile ||
    !sameRecord(a.files, b.files) ||
    !sameRecord(a.args, b.args) ||
    !sameRecord(a.labels, b.labels) ||
    a.platform !== b.platform ||
    a.bases.join('\n') !== b.bases.join('\n') ||
    Object.keys(a.parents).join('\n') !== Object.keys(b.parents).join('\n')
  );
}

/**
 * The images whose hash differs from their hash at the revision (or that had none), and their descendants. A hash
 * covers the parents' hashes, so a descendant of a changed image always differs too; it is said to be affected
 * through the ancestor whose own inputs changed. `order` puts parents first.
 */
export function affectedImages(input: {
  order: string[];
  parents: Map<string, string[]>;
  now: Map<string, ContentHash>;
  then: Map<string, ContentHash>;
}): Map<string, Affected> {
  const out = new Map<string, Affected>();
  const throughParent = (name: string): Affected | undefined => {
    for (const parent of input.parents.get(name) ?? []) {
      const why = out.get(parent);
      if (why !== undefined) return { kind: 'ancestor', ancestor: why.kind === 'ancestor' ? why.ancestor : parent };
    }
    return undefined;
  };
  for (const name of input.order) {
    const before = input.then.get(name);
    const now = input.now.get(name);
    if (now === undefined) continue;
    if (before === undefined) {
      out.set(name, { kind: 'new' });
      continue;
    }
    if (before.hash !== now.hash && ownInputsDiffer(before.parts, now.parts)) {
      out.set(name, { kind: 'changed', changes: describeChanges(before.parts, now.parts) });
      continue;
    }
    const why = throughParent(name);
    if (why) out.set(name, why);
  }
  return out;
}
