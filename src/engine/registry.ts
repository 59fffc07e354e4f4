// A small client of the Docker Registry HTTP API v2: does a tag exist, and what digest does it point to. It asks the
// registry directly (global fetch), with docker's credentials (config.json, credential helpers) and its token flow.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { execa } from 'execa';
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { parseRef } from '../core/ref.js';
import { isContentTag } from '../changes/content-hash.js';
import { digestOf, openDigestStore, type DigestStore } from './digest-store.js';

// zod's English messages (a config file's problem is quoted to the user).
z.config(en());

export type TagProbe =
  | { status: 'present'; digest: string }
  /** `lacks`: the tag is there, but not an image of these platforms ("linux/arm64"): a list without it, or whose entry for it is gone. */
  | { status: 'absent'; lacks?: string[] }
  | { status: 'error'; kind: 'unreachable' | 'auth' | 'http'; message: string };

export interface RegistryOptions {
  /** The process environment (DOCKER_CONFIG, HOME, PATH are read from it; nothing else). */
  env: Record<string, string | undefined>;
  /** Hosts ("host:port") to talk to over plain HTTP. localhost, 127.0.0.0/8 and [::1] fall back to HTTP by themselves when HTTPS fails, as docker does. */
  insecure?: string[];
  /** Per request, its whole body read; default 15000. */
  timeoutMs?: number;
  /** How many requests at once to one host; default 48. */
  concurrency?: number;
  /** For the whole run of requests (one probeTags or copyTag call); default 120000. */
  deadlineMs?: number;
  /** The largest body read from the registry; default 4 MiB (registries refuse larger manifests). */
  maxBodyBytes?: number;
  /**
   * Where what was read by digest is kept for the next run (digest-store.ts); default: the one of `env` (the
   * kolla-gen cache), false for none.
   */
  store?: DigestStore | false;
  /**
   * Check the platforms of content tags as for any other tag (verify_existing): read each one's manifest (GET, once per
   * digest) and ask for each entry. Default: a content tag is answered by its HEAD (see headHolds).
   */
  verify?: boolean;
}

/** What one ref asks of which registry. */
export interface ProbeTarget {
  /** The host the API is reached at: "localhost:5000", "registry-1.docker.io" for Docker Hub. */
  host: string;
  /** The name `docker login` knows the registry by: the host, "docker.io" for Docker Hub. */
  name: string;
  repository: string;
  /** The tag ("latest" when none), or the digest when the ref has one. */
  reference: string;
  /** Where docker keeps the registry's credentials: the host, "https://index.docker.io/v1/" for Docker Hub. */
  serverAddress: string;
}

const HUB_API_HOST = 'registry-1.docker.io';
const HUB_NAME = 'docker.io';
const HUB_SERVER_ADDRESS = 'https://index.docker.io/v1/';
const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_CONCURRENCY = 48;
const DEFAULT_DEADLINE_MS = 120_000;
const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
const DIGEST_RE = /^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$/;
// A helper may wait for a passphrase; it should still not hold a build forever.
const HELPER_TIMEOUT_MS = 60_000;
const CLIENT_ID = 'kolla-gen';
const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];
const ACCEPT = MANIFEST_TYPES.join(', ');

/** The registry, repository and reference a ref asks about, or undefined when it is not a valid ref. */
export function resolveTarget(raw: string): ProbeTarget | undefined {
  const parsed = parseRef(raw);
  if (parsed === undefined) return undefined;
  const reference = parsed.digest ?? parsed.tag ?? 'latest';
  if (parsed.registry === undefined) {
    return { host: HUB_API_HOST, name: HUB_NAME, repository: parsed.path, reference, serverAddress: HUB_SERVER_ADDRESS };
  }
  return { host: parsed.registry, name: parsed.registry, repository: parsed.path, reference, serverAddress: parsed.registry };
}

/**
 * Each ref → what the registry says about that tag. Refs are deduplicated; one token per (host, repository) is fetched and
 * reused. A ref `platforms` names ("linux/arm64", …) is present only when it holds an image of each: an index must have
 * an entry for each whose manifest is still there; an image manifest stands for one platform, that of its config.
 * The tag is asked with HEAD. A content tag's HEAD is the whole answer, unless `verify` (see headHolds); another
 * tag's manifest (and an image's config) is read, by digest, only when the digest store does not know it yet (see
 * checkPlatforms).
 */
export async function probeTags(refs: string[], options: RegistryOptions, platforms?: Map<string, string[]>): Promise<Map<string, TagProbe>> {
  const targets = new Map<string, ProbeTarget>();
  const keys = new Map<string, string>();
  const wanted = new Map<string, Set<string>>();
  for (const raw of refs) {
    const target = resolveTarget(raw);
    if (target === undefined) throw new Error(`probeTags: not an image reference: ${raw}`);
    const key = `${target.host}/${target.repository}@${target.reference}`;
    keys.set(raw, key);
    if (!targets.has(key)) targets.set(key, target);
    const need = platforms?.get(raw) ?? [];
    if (need.length > 0) wanted.set(key, new Set([...(wanted.get(key) ?? []), ...need]));
  }
  const session = openSession(options);
  const probes = new Map(
    await Promise.all(
      [...targets].map(async ([key, target]) => {
        const { probe: found, mediaType } = await probeManifest(session, target);
        const need = wanted.get(key);
        if (found.status !== 'present' || need === undefined) return [key, found] as const;
        const platforms = [...need].sort();
        if (!options.verify && isContentTag(target.reference)) return [key, headHolds(found, mediaType, platforms)] as const;
        return [key, await checkPlatforms(session, target, found, mediaType, platforms)] as const;
      }),
    ),
  );
  const result = new Map<string, TagProbe>();
  for (const [raw, key] of keys) {
    const found = probes.get(key);
    if (found !== undefined) result.set(raw, found);
  }
  return result;
}

/** The sha256 digest of a manifest's bytes, as the registry names it. */
const manifestDigest = (body: Buffer) => `sha256:${createHash('sha256').update(body).digest('hex')}`;

/**
 * GET of one manifest: its bytes and media type, or why not in one line (`notFound` for a 404 when the caller has
 * its own words for it).
 */
async function fetchManifest(
  session: Session,
  target: ProbeTarget,
  ref: string,
  notFound?: string,
): Promise<{ body: Buffer; mediaType: string } | { message: string }> {
  const got = await requestManifest(session, target, 'GET');
  if ('probe' in got) return { message: got.probe.status === 'error' ? got.probe.message : `${ref} is not in the registry` };
  if (got.value.status === 404 && notFound !== undefined) return { message: notFound };
  if (got.value.status !== 200) return { message: `registry ${target.host} answered ${statusLine(got.value)} for ${describeRef(target)}${registryMessage(got.value, ': ')}` };
  const mismatch = digestMismatch(target, got.value.body);
  if (mismatch !== undefined) return { message: mismatch };
  return { body: got.value.body, mediaType: (got.value.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '' };
}

type ListEntry = { mediaType?: unknown; digest?: unknown; size?: unknown; platform?: { os?: unknown; architecture?: unknown }; annotations?: Record<string, unknown> };

/** BuildKit's annotations of an attestation manifest in an index: which image of it the attestation is about. */
const REFERENCE_TYPE = 'vnd.docker.reference.type';
const REFERENCE_DIGEST = 'vnd.docker.reference.digest';

/** A manifest's entries when it is a list, `'image'` when it is one image, undefined when it is not JSON. */
function listEntries(body: Buffer): ListEntry[] | 'image' | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { manifests?: unknown };
    return Array.isArray(parsed.manifests) ? (parsed.manifests as ListEntry[]) : 'image';
  } catch {
    return undefined;
  }
}

/** What copying a manifest to a tag gave: done, or why not (one line, naming the host). */
export type CopyResult = { status: 'copied'; digest: string } | { status: 'error'; message: string };

/**
 * Tags `source`'s manifest (index or image) as each of `tags`, in the same repository, byte for byte: the same digest,
 * as `crane tag` does. The blobs are already there, so this is one GET and one PUT a tag.
 */
export async function copyTag(source: string, tags: string[], options: RegistryOptions): Promise<Map<string, CopyResult>> {
  const from = resolveTarget(source);
  if (from === undefined) throw new Error(`copyTag: not an image reference: ${source}`);
  const session = openSession(options);
  const results = new Map<string, CopyResult>();
  const fail = (message: string) => {
    for (const tag of tags) results.set(tag, { status: 'error', message });
    return results;
  };
  const got = await fetchManifest(session, from, source);
  if ('message' in got) return fail(got.message);
  const mediaType = got.mediaType || 'application/vnd.oci.image.index.v1+json';
  const digest = manifestDigest(got.body);
  for (const tag of tags) {
    const to = resolveTarget(tag);
    if (to === undefined || to.host !== from.host || to.repository !== from.repository) {
      results.set(tag, { status: 'error', message: `${tag} is not in the repository of ${source}` });
      continue;
    }
    const put = await requestManifest(session, to, 'PUT', { body: got.body, mediaType });
    if ('probe' in put) results.set(tag, { status: 'error', message: put.probe.status === 'error' ? put.probe.message : `cannot tag ${tag}` });
    else if (put.value.status === 201 || put.value.status === 200) results.set(tag, { status: 'copied', digest });
    else results.set(tag, { status: 'error', message: `registry ${to.host} answered ${statusLine(put.value)} to tagging ${describeRef(to)}${registryMessage(put.value, ': ')}` });
  }
  return results;
}

/** What a manifest list holds: arch → its image, by digest in the list's repository; or why it cannot be read. */
export type ListedImages = { status: 'list'; images: Map<string, string> } | { status: 'error'; message: string };

/**
 * The linux images of the manifest list under `ref` (attestations, platform unknown/unknown, left out): each as
 * `<repository>@<digest>`, a ref `copyTag` can tag.
 */
export async function listedImages(ref: string, options: RegistryOptions): Promise<ListedImages> {
  const target = resolveTarget(ref);
  if (target === undefined) throw new Error(`listedImages: not an image reference: ${ref}`);
  const session = openSession(options);
  const got = await fetchManifest(session, target, ref, `${ref} is not in the registry`);
  if ('message' in got) return { status: 'error', message: got.message };
  const entries = listEntries(got.body);
  if (entries === undefined) return { status: 'error', message: `${ref}: the registry's manifest is not JSON` };
  if (entries === 'image') return { status: 'error', message: `${ref} is one image, not a manifest list` };
  const slash = ref.lastIndexOf('/');
  const at = ref.indexOf('@', slash);
  const colon = ref.lastIndexOf(':');
  const repository = at >= 0 ? ref.slice(0, at) : colon > slash ? ref.slice(0, colon) : ref;
  const images = new Map<string, string>();
  for (const m of entries) {
    const arch = m.platform?.architecture;
    if (m.platform?.os !== 'linux' || typeof arch !== 'string' || typeof m.digest !== 'string' || !DIGEST_RE.test(m.digest)) continue;
    if (!images.has(arch)) images.set(arch, `${repository}@${m.digest}`);
  }
  return { status: 'list', images };
}

/**
 * Pushes under `listTag` a manifest list (an OCI index) of the images under `images` (arch → ref, each in the list's
 * repository): what `docker buildx imagetools create` makes, with the images' manifests as the registry holds them.
 * A ref that names a list itself (a one-arch push with attestations) gives its image of that arch, and the
 * attestation manifests about that image: the list carries each runner's provenance and SBOM.
 */
export async function makeList(listTag: string, images: { arch: string; ref: string }[], options: RegistryOptions): Promise<CopyResult> {
  const to = resolveTarget(listTag);
  if (to === undefined) throw new Error(`makeList: not an image reference: ${listTag}`);
  const session = openSession(options);
  type Entry = { mediaType: string; digest: string; size: number; platform: { architecture: string; os: string }; annotations?: Record<string, string> };
  const entries: Entry[] = [];
  // each image's attestations (provenance, SBOM) come along, after the images as BuildKit writes them
  const attestations: Entry[] = [];
  for (const { arch, ref } of images) {
    const from = resolveTarget(ref);
    if (from === undefined || from.host !== to.host || from.repository !== to.repository) return { status: 'error', message: `${ref} is not in the repository of ${listTag}` };
    const got = await fetchManifest(session, from, ref);
    if ('message' in got) return { status: 'error', message: got.message };
    const listed = listEntries(got.body);
    if (listed === undefined) return { status: 'error', message: `${ref}: the registry's manifest is not JSON` };
    if (listed !== 'image') {
      const m = listed.find((e) => e.platform?.os === 'linux' && e.platform.architecture === arch);
      if (m === undefined || typeof m.digest !== 'string' || !DIGEST_RE.test(m.digest) || typeof m.size !== 'number' || typeof m.mediaType !== 'string') {
        return { status: 'error', message: `${ref} holds no linux/${arch} image` };
      }
      entries.push({ mediaType: m.mediaType, digest: m.digest, size: m.size, platform: { architecture: arch, os: 'linux' } });
      for (const a of listed) {
        if (a.annotations?.[REFERENCE_TYPE] !== 'attestation-manifest' || a.annotations[REFERENCE_DIGEST] !== m.digest) continue;
        if (typeof a.digest !== 'string' || !DIGEST_RE.test(a.digest) || typeof a.size !== 'number' || typeof a.mediaType !== 'string') continue;
        attestations.push({
          mediaType: a.mediaType,
          digest: a.digest,
          size: a.size,
          platform: { architecture: 'unknown', os: 'unknown' },
          annotations: { [REFERENCE_DIGEST]: m.digest, [REFERENCE_TYPE]: 'attestation-manifest' },
        });
      }
    } else {
      entries.push({ mediaType: got.mediaType || 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest(got.body), size: got.body.length, platform: { architecture: arch, os: 'linux' } });
    }
  }
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [...entries, ...attestations] }));
  const put = await requestManifest(session, to, 'PUT', { body: index, mediaType: 'application/vnd.oci.image.index.v1+json' });
  if ('probe' in put) return { status: 'error', message: put.probe.status === 'error' ? put.probe.message : `cannot push ${listTag}` };
  if (put.value.status !== 201 && put.value.status !== 200) {
    return { status: 'error', message: `registry ${to.host} answered ${statusLine(put.value)} to pushing ${describeRef(to)}${registryMessage(put.value, ': ')}` };
  }
  return { status: 'copied', digest: manifestDigest(index) };
}

// --- one call's state ---------------------------------------------------------------------------------------------

type Credentials = { kind: 'basic'; username: string; password: string; from: string } | { kind: 'identity'; token: string; from: string };
type Found<T> = { value: T } | { probe: TagProbe };
type Authorization = { header: string; from?: string };

interface Session {
  env: Record<string, string | undefined>;
  insecure: Set<string>;
  timeoutMs: number;
  /** Aborts every request once the run's deadline has passed. */
  deadline: AbortSignal;
  deadlineMs: number;
  maxBodyBytes: number;
  concurrency: number;
  /** host → its bound on requests in flight. */
  limits: Map<string, <T>(task: () => Promise<T>) => Promise<T>>;
  /** Manifests this run read whole, by digest (checked against it). */
  bodies: Map<string, Buffer>;
  store: DigestStore | undefined;
  /** Local host → the scheme it was found to speak (undefined while neither worked). */
  schemes: Map<string, Promise<'https' | 'http' | undefined>>;
  /** "host/repository" → the Authorization that works there. */
  authorizations: Map<string, Promise<Found<Authorization>>>;
  credentials: Map<string, Promise<Found<Credentials | undefined>>>;
  config?: Promise<Found<LoadedConfig | undefined>>;
}

function openSession(options: RegistryOptions): Session {
  return {
    env: options.env,
    insecure: new Set((options.insecure ?? []).map((host) => host.toLowerCase())),
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    deadline: AbortSignal.timeout(options.deadlineMs ?? DEFAULT_DEADLINE_MS),
    deadlineMs: options.deadlineMs ?? DEFAULT_DEADLINE_MS,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    concurrency: Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY),
    limits: new Map(),
    bodies: new Map(),
    store: options.store === false ? undefined : (options.store ?? openDigestStore(options.env)),
    schemes: new Map(),
    authorizations: new Map(),
    credentials: new Map(),
  };
}

function limiter(concurrency: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (running >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await task();
    } finally {
      // The slot goes straight to the next waiter, so running stays counted.
      const next = waiting.shift();
      if (next !== undefined) next();
      else running--;
    }
  };
}

// --- probing ------------------------------------------------------------------------------------------------------

const absent: TagProbe = { status: 'absent' };

function failure(kind: 'unreachable' | 'auth' | 'http', message: string): TagProbe {
  return { status: 'error', kind, message: printable(message) };
}

/**
 * What a registry said, fit for a terminal: runs of whitespace as one space, and each control or format character
 * (escape sequences; zero-width and bidi characters, U+200B–U+200F, U+202A–U+202E, U+2066–U+2069; a line or paragraph
 * separator) written as `\u{…}`, so that it is seen rather than obeyed or hidden.
 */
export function printable(text: string): string {
  return text
    .replace(/[\t\n\v\f\r ]+/g, ' ')
    .trim()
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu, (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`);
}

/** A manifest media type of the four a registry may answer with (parameters such as charset left out). */
function manifestType(reply: Reply): string | undefined {
  const type = (reply.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return MANIFEST_TYPES.includes(type) ? type : undefined;
}

/** A 200 is believed only when it is a manifest: its media type, and a well-formed digest (sent, or of the body). */
function notAManifest(target: ProbeTarget, reply: Reply): TagProbe {
  const type = printable(reply.headers.get('content-type') ?? 'none').slice(0, 80);
  return failure(
    'http',
    `registry ${target.host} answered ${statusLine(reply)} for ${describeRef(target)} with no manifest (content type ${type}): is it a registry, or a proxy or captive portal in between?`,
  );
}

const describeRef = (t: ProbeTarget) => `${t.repository}${t.reference.includes(':') ? '@' : ':'}${t.reference}`;

/**
 * Whether target is there: HEAD, whose Docker-Content-Digest and Content-Type answer it; a GET only when the HEAD has
 * no digest or an error it cannot explain (it has no body). The manifest's media type comes with the answer.
 */
async function probeManifest(session: Session, target: ProbeTarget): Promise<{ probe: TagProbe; mediaType?: string }> {
  const head = await requestManifest(session, target, 'HEAD');
  if ('probe' in head) return head;
  if (head.value.status === 404) return { probe: absent };
  const headDigest = head.value.headers.get('docker-content-digest') ?? '';
  const headType = manifestType(head.value);
  if (head.value.status === 200 && headType && DIGEST_RE.test(headDigest)) return { probe: { status: 'present', digest: headDigest }, mediaType: headType };
  const get = await requestManifest(session, target, 'GET');
  if ('probe' in get) return get;
  const reply = get.value;
  if (reply.status === 404) return { probe: absent };
  if (reply.status === 200) {
    const type = manifestType(reply);
    if (!type || !isManifestBody(reply.body)) return { probe: notAManifest(target, reply) };
    const mismatch = digestMismatch(target, reply.body);
    if (mismatch !== undefined) return { probe: failure('http', mismatch) };
    const sent = reply.headers.get('docker-content-digest') ?? '';
    const digest = DIGEST_RE.test(sent) ? sent : manifestDigest(reply.body);
    if (digestOf(reply.body, digest) === digest) session.bodies.set(digest, reply.body);
    return { probe: { status: 'present', digest }, mediaType: type };
  }
  return { probe: failure('http', `registry ${target.host} answered ${statusLine(reply)} for ${describeRef(target)}${registryMessage(reply, ': ')}`) };
}

async function probe(session: Session, target: ProbeTarget): Promise<TagProbe> {
  return (await probeManifest(session, target)).probe;
}

/** For a GET by digest: why the body is not what that digest names, or undefined when it is (or the ref is a tag). */
function digestMismatch(target: ProbeTarget, body: Buffer): string | undefined {
  if (!DIGEST_RE.test(target.reference)) return undefined;
  const actual = digestOf(body, target.reference);
  if (actual === target.reference) return undefined;
  return `registry ${target.host} answered for ${describeRef(target)} with content whose digest is ${actual ?? 'unknown'}: not the manifest asked for (a proxy or a registry that alters what it serves?)`;
}

const IMAGE_INDEX_TYPES = ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'];

const indexSchema = z.object({
  mediaType: z.optional(z.string()),
  manifests: z.optional(z.array(z.looseObject({ digest: z.string(), platform: z.optional(z.looseObject({ os: z.string(), architecture: z.string() })) }))),
  config: z.optional(z.looseObject({ digest: z.string() })),
});

const configSchema = z.looseObject({ os: z.string(), architecture: z.string() });

function parseJson<T>(schema: z.ZodMiniType<T>, body: Buffer): T | undefined {
  try {
    const result = schema.safeParse(JSON.parse(body.toString('utf8')));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A present content tag that must hold images of `platforms`, from its HEAD's media type alone: a list holds them all,
 * and one image the one platform a one-arch tag needs. The tag's name is the hash of the target, over each arch's hash
 * (whose inputs name its platform), and kolla-gen pushes under it a list of every arch (bake's multi-platform push, or
 * `build --push`'s list of per-arch images, made once each was found); so a list there needs no GET, and its entries
 * no HEAD. What this cannot see: an arch's image deleted by digest after the list was pushed, or a list someone else
 * pushed under the tag (verify_existing reads them: checkPlatforms).
 */
function headHolds(found: { status: 'present'; digest: string }, mediaType: string | undefined, platforms: string[]): TagProbe {
  const isList = mediaType !== undefined && IMAGE_INDEX_TYPES.includes(mediaType);
  return isList || platforms.length <= 1 ? found : { status: 'absent', lacks: platforms };
}

/**
 * A present tag that must hold images of `platforms`, digest and media type from its HEAD. A one-image manifest under
 * a tag that must hold several lacks them all (no read needed). Else its manifest is read by that digest (so that a
 * tag moved meanwhile is not mixed in) and checked against it: a list must have an entry per platform whose manifest
 * the registry still holds (each asked with HEAD); an image's config (a blob, read by digest and checked too) must
 * name the one platform. What is read is kept in the digest store, a list only once all its entries were found:
 * the next run answers the same digest from the store, with no GET and no HEAD of its entries.
 */
async function checkPlatforms(
  session: Session,
  target: ProbeTarget,
  found: { status: 'present'; digest: string },
  headType: string | undefined,
  platforms: string[],
): Promise<TagProbe> {
  const isImage = (type: string | undefined) => type !== undefined && !IMAGE_INDEX_TYPES.includes(type);
  if (isImage(headType) && platforms.length > 1) return { status: 'absent', lacks: platforms };
  const atDigest = { ...target, reference: found.digest };
  let body = session.bodies.get(found.digest) ?? session.store?.get(found.digest);
  const known = body !== undefined && session.bodies.get(found.digest) === undefined;
  if (body === undefined) {
    const get = await requestManifest(session, atDigest, 'GET');
    if ('probe' in get) return get.probe;
    const reply = get.value;
    if (reply.status === 404) return absent;
    if (reply.status !== 200 || !isManifestBody(reply.body)) {
      return failure('http', `registry ${target.host} answered ${statusLine(reply)} for ${describeRef(atDigest)}${registryMessage(reply, ': ')}`);
    }
    const mismatch = digestMismatch(atDigest, reply.body);
    if (mismatch !== undefined) return failure('http', mismatch);
    body = reply.body;
    headType = manifestType(reply) ?? headType;
  }
  const parsed = parseJson(indexSchema, body);
  const type = parsed?.mediaType ?? headType ?? '';
  if (!IMAGE_INDEX_TYPES.includes(type) || parsed?.manifests === undefined) {
    // one image: it stands for the one platform of its config
    if (platforms.length > 1) return { status: 'absent', lacks: platforms };
    const config = parsed?.config?.digest;
    if (config === undefined || !DIGEST_RE.test(config)) return failure('http', `registry ${target.host} answered for ${describeRef(atDigest)} with an image manifest that names no config`);
    const platform = await imagePlatform(session, target, config);
    if (typeof platform !== 'string') return platform;
    if (!known) session.store?.put(found.digest, body);
    return platform === platforms[0] ? found : { status: 'absent', lacks: platforms };
  }
  const entries = parsed.manifests;
  const lacks: string[] = [];
  const asked = await Promise.all(
    platforms.map(async (platform) => {
      const entry = entries.find((m) => m.platform !== undefined && `${m.platform.os}/${m.platform.architecture}` === platform);
      if (entry === undefined || !DIGEST_RE.test(entry.digest)) return { platform, there: absent };
      // a list from the store had every entry there when it was kept
      return { platform, there: known ? found : await probe(session, { ...target, reference: entry.digest }) };
    }),
  );
  for (const { platform, there } of asked) {
    if (there.status === 'error') return there;
    if (there.status === 'absent') lacks.push(platform);
  }
  if (lacks.length > 0) return { status: 'absent', lacks };
  // kept only when every image it lists was found (attestations, platform unknown, are not asked for)
  const images = entries.filter((m) => m.platform !== undefined && m.platform.os !== 'unknown');
  if (!known && images.every((m) => m.platform !== undefined && platforms.includes(`${m.platform.os}/${m.platform.architecture}`))) session.store?.put(found.digest, body);
  return found;
}

/** "os/architecture" of an image config blob read by digest (from the store, else the registry), or why it cannot be read. */
async function imagePlatform(session: Session, target: ProbeTarget, digest: string): Promise<string | TagProbe> {
  let body = session.store?.get(digest);
  if (body === undefined) {
    const ref = `${target.repository}@${digest}`;
    const got = await requestRegistry(session, target, `/v2/${target.repository}/blobs/${digest}`, 'GET');
    if ('probe' in got) return got.probe;
    if (got.value.status === 404) return absent;
    if (got.value.status !== 200) return failure('http', `registry ${target.host} answered ${statusLine(got.value)} for the config ${ref}${registryMessage(got.value, ': ')}`);
    const actual = digestOf(got.value.body, digest);
    if (actual !== digest) return failure('http', `registry ${target.host} answered for the config ${ref} with content whose digest is ${actual ?? 'unknown'}: not the blob asked for`);
    body = got.value.body;
    const config = parseJson(configSchema, body);
    if (config === undefined) return failure('http', `registry ${target.host} answered for the config ${ref} with no os and architecture`);
    session.store?.put(digest, body);
    return `${config.os}/${config.architecture}`;
  }
  const config = parseJson(configSchema, body);
  return config === undefined ? failure('http', `the config ${target.repository}@${digest} names no os and architecture`) : `${config.os}/${config.architecture}`;
}

/** A manifest request, authenticated when the registry asks: a 401 gets credentials or a token, then one retry. */
function requestManifest(session: Session, target: ProbeTarget, method: 'HEAD' | 'GET' | 'PUT', upload?: { body: Buffer; mediaType: string }): Promise<Found<Reply>> {
  return requestRegistry(session, target, `/v2/${target.repository}/manifests/${target.reference}`, method, upload);
}

/** A request of target's repository (its manifests or blobs), authenticated when the registry asks. */
async function requestRegistry(
  session: Session,
  target: ProbeTarget,
  urlPath: string,
  method: 'HEAD' | 'GET' | 'PUT',
  upload?: { body: Buffer; mediaType: string },
): Promise<Found<Reply>> {
  const key = `${target.host}/${target.repository}`;
  const known = session.authorizations.get(key);
  let authorization: Authorization | undefined;
  if (known !== undefined) {
    const found = await known;
    if ('probe' in found) return found;
    authorization = found.value;
  }
  const request = (auth?: Authorization) =>
    sendToRegistry(session, target.host, urlPath, {
      method,
      headers: { Accept: ACCEPT, ...(upload ? { 'Content-Type': upload.mediaType } : {}), ...(auth ? { Authorization: auth.header } : {}) },
      ...(upload ? { body: new Uint8Array(upload.body) } : {}),
    });

  const first = await request(authorization);
  if ('failure' in first) return { probe: failure('unreachable', `cannot reach registry ${target.host}: ${first.failure}`) };
  if (first.status !== 401) return { value: first };
  const renewed = await authorize(session, target, first, authorization);
  if ('probe' in renewed) return renewed;
  const second = await request(renewed.value);
  if ('failure' in second) return { probe: failure('unreachable', `cannot reach registry ${target.host}: ${second.failure}`) };
  if (second.status === 401) return { probe: loginNeeded(target, renewed.value.from, registryMessage(second, ': ')) };
  return { value: second };
}

/** The Authorization for target's repository, shared by every request to it; a new one when `stale` was refused. */
async function authorize(session: Session, target: ProbeTarget, challenged: Reply, stale: Authorization | undefined): Promise<Found<Authorization>> {
  const key = `${target.host}/${target.repository}`;
  const known = session.authorizations.get(key);
  if (known !== undefined) {
    const found = await known;
    if ('probe' in found || found.value !== stale) return found;
    // Another request may have renewed it while this one waited.
    const now = session.authorizations.get(key);
    if (now !== known && now !== undefined) return now;
  }
  const pending = fetchAuthorization(session, target, challenged);
  session.authorizations.set(key, pending);
  return pending;
}

function loginNeeded(target: ProbeTarget, from: string | undefined, detail = ''): TagProbe {
  const login = `run \`docker login ${target.name}\``;
  return from === undefined
    ? failure('auth', `registry ${target.host} requires authentication for ${target.repository}${detail}: ${login}`)
    : failure('auth', `registry ${target.host} refused the credentials from ${from} for ${target.repository}${detail}: ${login}`);
}

async function fetchAuthorization(session: Session, target: ProbeTarget, challenged: Reply): Promise<Found<Authorization>> {
  const challenge = parseChallenge(challenged.headers.get('www-authenticate') ?? '');
  if (challenge === undefined) {
    return { probe: failure('auth', `registry ${target.host} answered 401 with no Bearer or Basic challenge for ${target.repository}: run \`docker login ${target.name}\``) };
  }
  const found = await credentialsFor(session, target);
  if ('probe' in found) return found;
  const credentials = found.value;

  if (challenge.scheme === 'basic') {
    if (credentials?.kind !== 'basic') return { probe: loginNeeded(target, undefined) };
    return { value: { header: basicHeader(credentials), from: credentials.from } };
  }

  const realm = challenge.params.realm;
  let realmUrl: URL;
  try {
    realmUrl = new URL(realm ?? '');
  } catch {
    return { probe: failure('auth', `registry ${target.host} asked for a token with no usable realm (${realm ?? 'none'})`) };
  }
  const service = challenge.params.service;
  const scope = challenge.params.scope ?? `repository:${target.repository}:pull`;
  let reply: Reply | TransportFailure;
  if (credentials?.kind === 'identity') {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credentials.token, ...(service ? { service } : {}), scope, client_id: CLIENT_ID });
    reply = await send(session, realmUrl.href, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
  } else {
    if (service) realmUrl.searchParams.set('service', service);
    realmUrl.searchParams.set('scope', scope);
    reply = await send(session, realmUrl.href, { method: 'GET', headers: credentials ? { Authorization: basicHeader(credentials) } : {} });
  }
  if ('failure' in reply) {
    return { probe: failure('unreachable', `cannot reach the token service of registry ${target.host} (${realmUrl.host}): ${reply.failure}`) };
  }
  if (reply.status === 401 || reply.status === 403) return { probe: loginNeeded(target, credentials?.from, registryMessage(reply, ': ')) };
  if (reply.status !== 200) {
    return { probe: failure('http', `the token service of registry ${target.host} (${realmUrl.host}) answered ${statusLine(reply)}${registryMessage(reply, ': ')}`) };
  }
  const token = parseToken(reply.body);
  if (token === undefined) return { probe: failure('http', `the token service of registry ${target.host} (${realmUrl.host}) answered without a token`) };
  return { value: { header: `Bearer ${token}`, ...(credentials ? { from: credentials.from } : {}) } };
}

const tokenSchema = z.object({ token: z.optional(z.string().check(z.minLength(1))), access_token: z.optional(z.string().check(z.minLength(1))) });

function parseToken(body: Buffer): string | undefined {
  try {
    const parsed = tokenSchema.safeParse(JSON.parse(body.toString('utf8')));
    return parsed.success ? (parsed.data.token ?? parsed.data.access_token) : undefined;
  } catch {
    return undefined;
  }
}

const basicHeader = (c: { username: string; password: string }) => `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;

export interface Challenge {
  scheme: 'bearer' | 'basic';
  params: Record<string, string>;
}

const TOKEN = "[A-Za-z0-9!#$%&'*+.^_`|~-]+";
const CHALLENGE_PART = new RegExp(`\\s*(?:(${TOKEN})\\s*=\\s*("(?:[^"\\\\]|\\\\.)*"|[^\\s,]*)|(${TOKEN}))\\s*,?`, 'y');

/** The Bearer (else Basic) challenge of a WWW-Authenticate header, with its parameters unquoted. */
export function parseChallenge(header: string): Challenge | undefined {
  const challenges: { scheme: string; params: Record<string, string> }[] = [];
  CHALLENGE_PART.lastIndex = 0;
  while (CHALLENGE_PART.lastIndex < header.length) {
    const match = CHALLENGE_PART.exec(header);
    if (match === null) break;
    const [, name, value, scheme] = match;
    if (scheme !== undefined) challenges.push({ scheme: scheme.toLowerCase(), params: {} });
    else if (name !== undefined && value !== undefined) {
      const current = challenges.at(-1);
      if (current !== undefined) current.params[name.toLowerCase()] = value.startsWith('"') ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value;
    }
  }
  const chosen = challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
  return chosen === undefined ? undefined : { scheme: chosen.scheme as Challenge['scheme'], params: chosen.params };
}

// --- transport ----------------------------------------------------------------------------------------------------

interface Reply {
  status: number;
  statusText: string;
  headers: Headers;
  body: Buffer;
}

interface TransportFailure {
  failure: string;
  timedOut: boolean;
}

const LOCAL_HOST = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/i;

/** HTTPS, or HTTP for insecure hosts; a local host whose HTTPS fails is tried over HTTP, as docker does. */
async function sendToRegistry(session: Session, host: string, urlPath: string, init: RequestInit): Promise<Reply | TransportFailure> {
  const lower = host.toLowerCase();
  if (session.insecure.has(lower)) return send(session, `http://${host}${urlPath}`, init);
  if (!LOCAL_HOST.test(host)) return send(session, `https://${host}${urlPath}`, init);
  const known = session.schemes.get(lower);
  const scheme = known === undefined ? undefined : await known;
  if (scheme !== undefined) return send(session, `${scheme}://${host}${urlPath}`, init);
  const attempt = sendWithFallback(session, host, urlPath, init);
  // The first request to a local host finds out which scheme it speaks; the others wait for the answer.
  if (known === undefined) session.schemes.set(lower, attempt.then((a) => a.scheme));
  return (await attempt).reply;
}

async function sendWithFallback(
  session: Session,
  host: string,
  urlPath: string,
  init: RequestInit,
): Promise<{ reply: Reply | TransportFailure; scheme?: 'https' | 'http' }> {
  const secure = await send(session, `https://${host}${urlPath}`, init);
  if (!('failure' in secure)) return { reply: secure, scheme: 'https' };
  if (secure.timedOut) return { reply: secure };
  const plain = await send(session, `http://${host}${urlPath}`, init);
  return 'failure' in plain ? { reply: plain } : { reply: plain, scheme: 'http' };
}

/** One request, bounded by the host's limit on requests in flight; its time limit covers the whole body. */
async function send(session: Session, url: string, init: RequestInit): Promise<Reply | TransportFailure> {
  const host = new URL(url).host.toLowerCase();
  let limit = session.limits.get(host);
  if (limit === undefined) {
    limit = limiter(session.concurrency);
    session.limits.set(host, limit);
  }
  return limit(async () => {
    if (session.deadline.aborted) return { failure: `no answer to every request within ${session.deadlineMs} ms (the deadline of the whole run)`, timedOut: true };
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new DOMException(`no whole answer within ${session.timeoutMs} ms`, 'TimeoutError')), session.timeoutMs);
    try {
      const signal = AbortSignal.any([timeout.signal, session.deadline]);
      const response = await fetch(url, { ...init, redirect: 'follow', signal });
      const body = await readCapped(response, session.maxBodyBytes, signal);
      if (body === undefined) return { failure: `the answer is larger than ${session.maxBodyBytes} bytes (no manifest is)`, timedOut: false };
      return { status: response.status, statusText: response.statusText, headers: response.headers, body };
    } catch (error) {
      if (session.deadline.aborted) return { failure: `no answer to every request within ${session.deadlineMs} ms (the deadline of the whole run)`, timedOut: true };
      return describeFailure(error, session.timeoutMs);
    } finally {
      clearTimeout(timer);
    }
  });
}

/**
 * The body, or undefined once it passes `max` bytes (the rest is not read: the stream is cancelled). When signal
 * aborts, however slowly the body comes, the read stops and its reason is thrown.
 */
async function readCapped(response: Response, max: number, signal: AbortSignal): Promise<Buffer | undefined> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > max) {
    await response.body?.cancel().catch(() => undefined);
    return undefined;
  }
  if (!response.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  const stop = () => void reader.cancel(signal.reason).catch(() => undefined);
  signal.addEventListener('abort', stop, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (signal.aborted) throw signal.reason;
      if (done) break;
      size += value.byteLength;
      if (size > max) {
        await reader.cancel().catch(() => undefined);
        return undefined;
      }
      chunks.push(value);
    }
  } finally {
    signal.removeEventListener('abort', stop);
  }
  return Buffer.concat(chunks);
}


/** A JSON object with schemaVersion 2: what every manifest and index is. */
function isManifestBody(body: Buffer): boolean {
  try {
    const json: unknown = JSON.parse(body.toString('utf8'));
    return typeof json === 'object' && json !== null && (json as { schemaVersion?: unknown }).schemaVersion === 2;
  } catch {
    return false;
  }
}

function describeFailure(error: unknown, timeoutMs: number): TransportFailure {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return { failure: `no answer within ${timeoutMs} ms`, timedOut: true };
  }
  // fetch says "fetch failed"; the cause says why (ECONNREFUSED, ENOTFOUND, a TLS error…).
  const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
  return { failure: causeMessage(cause), timedOut: false };
}

function causeMessage(cause: unknown): string {
  if (cause instanceof AggregateError && cause.message === '') return cause.errors.map(causeMessage).join('; ');
  if (cause instanceof Error) return cause.message || ('code' in cause ? String(cause.code) : cause.name);
  return String(cause);
}

const statusLine = (reply: Reply) => `${reply.status}${reply.statusText ? ` ${printable(reply.statusText).slice(0, 80)}` : ''}`;

const errorsSchema = z.object({ errors: z.array(z.object({ message: z.optional(z.string()), code: z.optional(z.string()) })).check(z.minLength(1)) });

/** The registry's own words about an error (`errors[0].message` of its JSON body), after prefix; '' when it gave none. */
function registryMessage(reply: Reply, prefix: string): string {
  if (reply.body.length === 0) return '';
  try {
    const parsed = errorsSchema.safeParse(JSON.parse(reply.body.toString('utf8')));
    const first = parsed.success ? parsed.data.errors[0] : undefined;
    const message = first?.message || first?.code;
    return message ? `${prefix}${printable(message)}` : '';
  } catch {
    return '';
  }
}

// --- credentials --------------------------------------------------------------------------------------------------

const authEntrySchema = z.looseObject({
  auth: z.optional(z.string()),
  username: z.optional(z.string()),
  password: z.optional(z.string()),
  identitytoken: z.optional(z.string()),
});

const dockerConfigSchema = z.looseObject({
  auths: z.optional(z.record(z.string(), authEntrySchema)),
  credsStore: z.optional(z.string()),
  credHelpers: z.optional(z.record(z.string(), z.string())),
});

interface LoadedConfig {
  file: string;
  config: z.infer<typeof dockerConfigSchema>;
}

/** $DOCKER_CONFIG/config.json, else $HOME/.docker/config.json; undefined when there is none. */
export function dockerConfigFile(env: Record<string, string | undefined>): string | undefined {
  if (env.DOCKER_CONFIG) return path.join(env.DOCKER_CONFIG, 'config.json');
  if (env.HOME) return path.join(env.HOME, '.docker', 'config.json');
  return undefined;
}

async function loadConfig(env: Record<string, string | undefined>): Promise<Found<LoadedConfig | undefined>> {
  const file = dockerConfigFile(env);
  if (file === undefined) return { value: undefined };
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { value: undefined };
    return { probe: failure('auth', `cannot read the docker config ${file}: ${causeMessage(error)}`) };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { probe: failure('auth', `the docker config ${file} is not valid JSON: ${causeMessage(error)}`) };
  }
  const parsed = dockerConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { probe: failure('auth', `the docker config ${file} is not valid: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`) };
  }
  return { value: { file, config: parsed.data } };
}

/** Docker's ConvertToHostname: "https://host:5000/v1/" → "host:5000". */
const keyHost = (key: string) => key.replace(/^https?:\/\//, '').split('/')[0] ?? '';

/** The value of the key docker would use for target: the exact server address first, then any key naming its host. */
function lookup<T>(entries: Record<string, T> | undefined, target: ProbeTarget): T | undefined {
  if (entries === undefined) return undefined;
  const exact = target.serverAddress === HUB_SERVER_ADDRESS ? [HUB_SERVER_ADDRESS] : [target.host, `https://${target.host}`, `http://${target.host}`];
  for (const key of exact) if (Object.hasOwn(entries, key)) return entries[key];
  const host = keyHost(target.serverAddress).toLowerCase();
  const key = Object.keys(entries).find((k) => keyHost(k).toLowerCase() === host);
  return key === undefined ? undefined : entries[key];
}

function credentialsFor(session: Session, target: ProbeTarget): Promise<Found<Credentials | undefined>> {
  let pending = session.credentials.get(target.serverAddress);
  if (pending === undefined) {
    pending = findCredentials(session, target);
    session.credentials.set(target.serverAddress, pending);
  }
  return pending;
}

async function findCredentials(session: Session, target: ProbeTarget): Promise<Found<Credentials | undefined>> {
  session.config ??= loadConfig(session.env);
  const loaded = await session.config;
  if ('probe' in loaded) return loaded;
  if (loaded.value === undefined) return { value: undefined };
  const { file, config } = loaded.value;
  const helper = lookup(config.credHelpers, target) || config.credsStore;
  if (helper) return runHelper(session, helper, target);

  const entry = lookup(config.auths, target);
  if (entry === undefined) return { value: undefined };
  const from = file;
  if (entry.identitytoken) return { value: { kind: 'identity', token: entry.identitytoken, from } };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { probe: failure('auth', `the docker config ${file} has an auth for ${target.name} that is not base64 "user:password"`) };
    return { value: { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1), from } };
  }
  if (entry.username) return { value: { kind: 'basic', username: entry.username, password: entry.password ?? '', from } };
  return { value: undefined };
}

const helperAnswerSchema = z.object({ Username: z.optional(z.string()), Secret: z.optional(z.string()) });

async function runHelper(session: Session, helper: string, target: ProbeTarget): Promise<Found<Credentials | undefined>> {
  const program = `docker-credential-${helper}`;
  const result = await execa(program, ['get'], {
    env: session.env,
    extendEnv: false,
    input: target.serverAddress,
    reject: false,
    timeout: HELPER_TIMEOUT_MS,
    encoding: 'utf8',
  });
  const output = `${result.stdout}\n${result.stderr}`.trim();
  if (result.exitCode === undefined) {
    const why = result.code === 'ENOENT' ? 'is not on PATH' : `could not run: ${result.shortMessage}`;
    return { probe: failure('auth', `the credential helper ${program} for ${target.name} ${why}`) };
  }
  if (result.exitCode !== 0) {
    if (/credentials not found/i.test(output)) return { value: undefined };
    return { probe: failure('auth', `the credential helper ${program} failed for ${target.name} (exit ${result.exitCode}): ${output}`) };
  }
  let answer: z.infer<typeof helperAnswerSchema>;
  try {
    const parsed = helperAnswerSchema.safeParse(JSON.parse(result.stdout));
    if (!parsed.success) throw new Error('no Username/Secret');
    answer = parsed.data;
  } catch {
    return { probe: failure('auth', `the credential helper ${program} gave no Username/Secret JSON for ${target.name}`) };
  }
  const from = program;
  if (!answer.Secret) return { value: undefined };
  if (answer.Username === '<token>') return { value: { kind: 'identity', token: answer.Secret, from } };
  return { value: { kind: 'basic', username: answer.Username ?? '', password: answer.Secret, from } };
}
