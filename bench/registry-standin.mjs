// A stand-in for a registry, for bench/registry-noop.mjs and its test: enough of the distribution API (token-less)
// to answer --skip-existing: HEAD and GET of manifests by tag or digest, HEAD and GET of blobs, in memory, each
// answer held back a fixed delay (a round trip). It counts requests by method and the most in flight at once.
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { setTimeout } from 'node:timers';

const INDEX = 'application/vnd.oci.image.index.v1+json';
const IMAGE = 'application/vnd.oci.image.manifest.v1+json';
const CONFIG = 'application/vnd.oci.image.config.v1+json';
const digestOf = (body) => `sha256:${createHash('sha256').update(body).digest('hex')}`;

/** Starts the stand-in on 127.0.0.1; `delayMs` before each answer. */
export async function startStandIn({ delayMs = 0 } = {}) {
  const manifests = new Map();
  const blobs = new Map();
  const counts = { HEAD: 0, GET: 0, other: 0 };
  let inFlight = 0;
  let maxInFlight = 0;
  const server = http.createServer((req, res) => {
    counts[req.method === 'HEAD' || req.method === 'GET' ? req.method : 'other']++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on('close', () => inFlight--);
    setTimeout(() => answer(req, res), delayMs);
  });
  const answer = (req, res) => {
    const head = req.method === 'HEAD';
    const send = (status, body, headers) => {
      res.writeHead(status, { 'Content-Length': Buffer.byteLength(body), ...headers });
      res.end(head ? undefined : body);
    };
    if (req.url === '/v2/' || req.url === '/v2') return send(200, '{}', { 'Content-Type': 'application/json' });
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(req.url ?? '');
    const found = m ? (m[2] === 'manifests' ? manifests : blobs).get(`${m[1]}@${m[3]}`) : undefined;
    if ((req.method !== 'HEAD' && req.method !== 'GET') || found === undefined) {
      const code = m?.[2] === 'blobs' ? 'BLOB_UNKNOWN' : 'MANIFEST_UNKNOWN';
      return send(404, JSON.stringify({ errors: [{ code, message: code.toLowerCase().replace('_', ' ') }] }), { 'Content-Type': 'application/json' });
    }
    send(200, found.body, { 'Content-Type': found.type, 'Docker-Content-Digest': digestOf(found.body) });
  };
  server.keepAliveTimeout = 30_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${server.address().port}`;

  const split = (ref) => {
    if (!ref.startsWith(`${host}/`)) throw new Error(`${ref} is not in ${host}`);
    const rest = ref.slice(host.length + 1);
    const colon = rest.lastIndexOf(':');
    return { repository: rest.slice(0, colon), tag: rest.slice(colon + 1) };
  };
  const store = (repository, body, type, tag) => {
    const digest = digestOf(body);
    manifests.set(`${repository}@${digest}`, { body, type });
    if (tag !== undefined) manifests.set(`${repository}@${tag}`, { body, type });
    return { digest, size: Buffer.byteLength(body) };
  };
  /** An image of arch (its config a blob) by digest, and under tag when given. */
  const image = (repository, arch, salt, tag) => {
    const config = JSON.stringify({ architecture: arch, os: 'linux', config: { Labels: { salt } }, rootfs: { type: 'layers', diff_ids: [] } });
    const configDigest = digestOf(config);
    blobs.set(`${repository}@${configDigest}`, { body: config, type: 'application/octet-stream' });
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: IMAGE,
      config: { mediaType: CONFIG, digest: configDigest, size: Buffer.byteLength(config) },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digestOf(`${salt} ${arch} layer`), size: 1000 }],
    });
    return store(repository, body, IMAGE, tag);
  };
  return {
    host,
    counts,
    get maxInFlight() {
      return maxInFlight;
    },
    get total() {
      return counts.HEAD + counts.GET + counts.other;
    },
    reset() {
      counts.HEAD = counts.GET = counts.other = 0;
      maxInFlight = 0;
    },
    clear() {
      manifests.clear();
      blobs.clear();
    },
    /**
     * What `build --push` of a target leaves: on one arch an image under its content tag; on several, a list of an
     * image per arch under it (with an attestation entry, platform unknown/unknown, as buildx pushes), and each arch's
     * image under the per-arch tags given (arch → tag). asList: a list even of one arch (a merge job's list of
     * what built).
     */
    push(ref, arches, perArch = {}, asList = arches.length > 1) {
      const { repository, tag } = split(ref);
      if (!asList) return image(repository, arches[0], ref, tag).digest;
      const entries = arches.map((arch) => ({ arch, ...image(repository, arch, ref, perArch[arch] ? split(perArch[arch]).tag : undefined) }));
      const attestation = store(repository, JSON.stringify({ schemaVersion: 2, mediaType: IMAGE, config: { mediaType: CONFIG, digest: digestOf(`${ref} att`), size: 2 }, layers: [] }), IMAGE);
      const body = JSON.stringify({
        schemaVersion: 2,
        mediaType: INDEX,
        manifests: [
          ...entries.map((e) => ({ mediaType: IMAGE, digest: e.digest, size: e.size, platform: { architecture: e.arch, os: 'linux' } })),
          { mediaType: IMAGE, digest: attestation.digest, size: attestation.size, platform: { architecture: 'unknown', os: 'unknown' } },
        ],
      });
      return store(repository, body, INDEX, tag).digest;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * The targets of a bake file kolla-gen wrote with content tags: each target's content tag (`:kg-…`) and the arches
 * of its platforms.
 */
export function bakeTargets(bakeFile) {
  const bake = JSON.parse(fs.readFileSync(bakeFile, 'utf8'));
  const all = (bake.variable?.KG_ARCHES?.default ?? '').split(',');
  // platforms: a list, or the expression over KG_ARCHES (with `contains([...], a)` when some arches are left out)
  const arches = (platforms) => {
    if (Array.isArray(platforms)) return platforms.map((p) => p.split('/')[1]);
    const only = /contains\(\[([^\]]*)\]/.exec(platforms ?? '');
    const kept = only ? JSON.parse(`[${only[1]}]`) : all;
    return all.filter((a) => kept.includes(a));
  };
  return Object.values(bake.target).flatMap((t) => {
    const tag = (t.tags ?? []).find((x) => /:kg-[0-9a-f]+$/.test(x));
    return tag === undefined ? [] : [{ tag, arches: arches(t.platforms) }];
  });
}
