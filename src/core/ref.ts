// Image references, parsed and normalised as docker (github.com/distribution/reference) does, so that the
// familiar form we compute is the key BuildKit looks up among a bake target's named contexts.

export interface ParsedRef {
  /** "quay.io", "localhost:5000", "[::1]:5000"; undefined for Docker Hub ("docker.io", "index.docker.io" or none). */
  registry?: string;
  /** The repository path, normalised: a one-component Docker Hub path gets "library/" ("ubuntu" → "library/ubuntu"). */
  path: string;
  tag?: string;
  /** "<algorithm>:<hex>". */
  digest?: string;
}

const DOCKER_HUB = 'docker.io';
// Only these two spell Docker Hub: registry-1.docker.io is, for docker and BuildKit, just another registry.
const DOCKER_HUB_ALIASES = new Set([DOCKER_HUB, 'index.docker.io']);
const OFFICIAL_PREFIX = 'library/';
const DEFAULT_TAG = 'latest';
const MAX_PATH_LENGTH = 255;

// The grammar of distribution/reference, piece by piece.
const ALPHANUMERIC = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALPHANUMERIC}(?:${SEPARATOR}${ALPHANUMERIC})*`;
const REMOTE_NAME = `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6_ADDRESS = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN_AND_PORT = `(?:${DOMAIN_NAME}|${IPV6_ADDRESS})(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const NAME = `(?:${DOMAIN_AND_PORT}/)?${REMOTE_NAME}`;

const REFERENCE_RE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const NAME_RE = new RegExp(`^(?:(${DOMAIN_AND_PORT})/)?(${REMOTE_NAME})$`);
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;

// The digest algorithms BuildKit registers, with the length of their hex encoding.
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

function validDigest(digest: string): boolean {
  const colon = digest.indexOf(':');
  const length = DIGEST_HEX_LENGTH[digest.slice(0, colon)];
  const hex = digest.slice(colon + 1);
  return length !== undefined && hex.length === length && /^[a-f0-9]+$/.test(hex);
}

/** Where docker decides whether the first component is a registry host. */
function splitDockerDomain(raw: string): { domain: string; remainder: string } {
  const slash = raw.indexOf('/');
  // A single component is always a Docker Hub official image, even "localhost" or "example.com".
  if (slash < 0) return { domain: DOCKER_HUB, remainder: OFFICIAL_PREFIX + raw };
  const first = raw.slice(0, slash);
  let domain = DOCKER_HUB;
  let remainder = raw;
  if (first === 'localhost' || /[.:]/.test(first) || first.toLowerCase() !== first) {
    // An uppercase first component cannot be a path, so docker takes it for a host.
    domain = first === 'index.docker.io' ? DOCKER_HUB : first;
    remainder = raw.slice(slash + 1);
  }
  if (domain === DOCKER_HUB && !remainder.includes('/')) remainder = OFFICIAL_PREFIX + remainder;
  return { domain, remainder };
}

/** Parses a reference as docker does (ParseNormalizedNamed), or undefined when it is not a valid one. */
export function parseRef(raw: string): ParsedRef | undefined {
  if (raw === '' || IDENTIFIER_RE.test(raw)) return undefined;
  const { domain, remainder } = splitDockerDomain(raw);
  const colon = remainder.indexOf(':');
  const repository = colon < 0 ? remainder : remainder.slice(0, colon);
  if (repository.toLowerCase() !== repository) return undefined;

  const match = REFERENCE_RE.exec(`${domain}/${remainder}`);
  const name = match?.[1];
  if (match === null || name === undefined) return undefined;
  const parts = NAME_RE.exec(name);
  const path = parts?.[2];
  if (path === undefined || path.length > MAX_PATH_LENGTH) return undefined;
  const [, , tag, digest] = match;
  if (digest !== undefined && !validDigest(digest)) return undefined;

  const registry = parts?.[1];
  return {
    ...(registry === undefined || DOCKER_HUB_ALIASES.has(registry) ? {} : { registry }),
    path,
    ...(tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
  };
}

/** Docker's familiar string of a parsed ref: no Docker Hub host, no "library/" for an official image; tag and digest as given. */
export function formatRef(p: ParsedRef): string {
  const hub = p.registry === undefined || DOCKER_HUB_ALIASES.has(p.registry);
  let path = p.path;
  // "library/a/b" keeps its prefix: only one-component official paths are shortened.
  if (hub && path.startsWith(OFFICIAL_PREFIX) && !path.slice(OFFICIAL_PREFIX.length).includes('/')) {
    path = path.slice(OFFICIAL_PREFIX.length);
  }
  const name = hub ? path : `${p.registry}/${path}`;
  return `${name}${p.tag === undefined ? '' : `:${p.tag}`}${p.digest === undefined ? '' : `@${p.digest}`}`;
}

/**
 * docker's familiar form, as BuildKit keys named contexts: no "docker.io/" (nor "index.docker.io/"), no
 * "library/", no ":latest" unless a digest follows it. "docker.io/library/ubuntu:latest" → "ubuntu",
 * "quay.io/library/ubuntu" → "quay.io/library/ubuntu", "ubuntu:latest@sha256:…" keeps both.
 * Undefined when raw is not a valid reference (uppercase in the path, a bad tag or digest…).
 */
// A tree names the same few refs thousands of times (every child's FROM, every variant): each is parsed once.
const familiarCache = new Map<string, string | undefined>();

export function familiarRef(raw: string): string | undefined {
  if (familiarCache.has(raw)) return familiarCache.get(raw);
  const parsed = parseRef(raw);
  let familiar: string | undefined;
  if (parsed !== undefined) {
    const { tag, ...rest } = parsed;
    familiar = formatRef(tag === DEFAULT_TAG && parsed.digest === undefined ? rest : parsed);
  }
  if (familiarCache.size >= 100_000) familiarCache.clear();
  familiarCache.set(raw, familiar);
  return familiar;
}

/**
 * The repository a ref names, in docker's familiar form without tag or digest ("docker.io/docker/dockerfile:1" →
 * "docker/dockerfile", "ubuntu" → "ubuntu"), so that two spellings of one repository compare equal; undefined when raw
 * is not a valid reference.
 */
export function familiarRepository(raw: string): string | undefined {
  const parsed = parseRef(raw);
  return parsed === undefined ? undefined : formatRef({ ...(parsed.registry === undefined ? {} : { registry: parsed.registry }), path: parsed.path });
}

// Each part of a ref alone, so that an error can name the part (and where it came from) rather than the whole ref.
const REGISTRY_RE = new RegExp(`^${DOMAIN_AND_PORT}$`);
const REPOSITORY_RE = new RegExp(`^${REMOTE_NAME}$`);
const TAG_RE = new RegExp(`^${TAG}$`);

/** A registry host, with an optional port: "quay.io", "localhost:5000", "[::1]:5000". */
export function isRegistry(s: string): boolean {
  return REGISTRY_RE.test(s);
}

/** A repository path: lowercase components joined by "/", each letters and digits with ".", "_", "__" or "-" between. */
export function isRepositoryPath(s: string): boolean {
  return s.length <= MAX_PATH_LENGTH && REPOSITORY_RE.test(s);
}

/** A tag: a word character, then up to 127 word characters, "." or "-". */
export function isTag(s: string): boolean {
  return TAG_RE.test(s);
}
