// What --skip-existing believes of a registry: only a manifest, from a server started here on 127.0.0.1 that answers
// as a captive portal, a flood, a silent host or a terminal-escaping error would.
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { probeTags } from '../src/engine/registry.js';
import { listenLocal } from './support/net.js';

const servers: http.Server[] = [];
afterAll(async () => {
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

async function serve(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  return listenLocal(server);
}

const options = (host: string, extra = {}) => ({ env: {}, insecure: [host], ...extra });
const SHA = `sha256:${'b'.repeat(64)}`;

describe('registry answers', () => {
  it('a 200 HTML page to everything (a captive portal) is an error, not an image already there', { timeout: 20_000 }, async () => {
    const host = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<html>Sign in to the hotel wifi</html>');
    });
    const probes = await probeTags([`${host}/kolla/base:kg-1`, `${host}/kolla/nova:kg-2`], options(host));
    for (const probe of probes.values()) {
      expect(probe.status).toBe('error');
      expect(probe.status === 'error' && probe.message).toMatch(/no manifest \(content type text\/html\)/);
    }
  });

  it('a manifest media type with a malformed digest and a non-manifest body is not believed', { timeout: 20_000 }, async () => {
    const host = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.index.v1+json', 'Docker-Content-Digest': 'sha256:nothex' });
      res.end('not json');
    });
    const probe = (await probeTags([`${host}/kolla/base:kg-1`], options(host))).get(`${host}/kolla/base:kg-1`);
    expect(probe?.status).toBe('error');
  });

  it('a well-formed manifest is believed, with its digest', { timeout: 20_000 }, async () => {
    const host = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.index.v1+json', 'Docker-Content-Digest': SHA });
      res.end(JSON.stringify({ schemaVersion: 2, manifests: [] }));
    });
    const probe = (await probeTags([`${host}/kolla/base:kg-1`], options(host))).get(`${host}/kolla/base:kg-1`);
    expect(probe).toEqual({ status: 'present', digest: SHA });
  });

  it('a body without end is cut at the cap, never read whole', { timeout: 30_000 }, async () => {
    const host = await serve((req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.index.v1+json' });
      if (req.method === 'HEAD') return res.end();
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const probe = (await probeTags([`${host}/kolla/base:kg-1`], options(host, { maxBodyBytes: 1024 * 1024 }))).get(`${host}/kolla/base:kg-1`);
    expect(probe?.status).toBe('error');
    expect(probe?.status === 'error' && probe.message).toMatch(/larger than 1048576 bytes/);
  });

  it('a silent registry: one deadline for the whole run, however many images', { timeout: 20_000 }, async () => {
    const host = await serve(() => {
      // Never answers.
    });
    const refs = Array.from({ length: 40 }, (_, i) => `${host}/kolla/image${i}:kg-1`);
    const probes = await probeTags(refs, options(host, { timeoutMs: 60_000, deadlineMs: 1_000, concurrency: 2 }));
    expect(probes.size).toBe(40);
    for (const probe of probes.values()) {
      expect(probe.status === 'error' && probe.message).toMatch(/deadline of the whole run/);
    }
  });

  it('control characters in the registry error are not printed', { timeout: 20_000 }, async () => {
    const host = await serve((_req, res) => {
      res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'boom\u001b]0;pwned\u0007\u001b[2J\r\nline\u202e' }] }));
    });
    const probe = (await probeTags([`${host}/kolla/base:kg-1`], options(host))).get(`${host}/kolla/base:kg-1`);
    expect(probe?.status).toBe('error');
    const message = probe?.status === 'error' ? probe.message : '';
    expect(message).toContain('boom');
    // eslint-disable-next-line no-control-regex
    expect(message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
  });
});

describe('what a registry serves by digest, its arch, a dripping body and hidden characters (issue 25 item 7)', () => {
  const INDEX = 'application/vnd.oci.image.index.v1+json';
  const IMAGE = 'application/vnd.oci.image.manifest.v1+json';
  const sha = (body: string) => `sha256:${createHash('sha256').update(body).digest('hex')}`;
  /** A registry holding one tag, kg-1, whose HEAD says `headBody`'s digest and whose GETs send `served`; blobs by digest. */
  const registry = (headBody: string, type: string, served: (url: string) => string | undefined, blobs: Record<string, string> = {}) =>
    serve((req, res) => {
      const url = req.url ?? '';
      const blob = /\/blobs\/(.+)$/.exec(url)?.[1];
      if (blob !== undefined) {
        const body = blobs[blob];
        res.writeHead(body === undefined ? 404 : 200, { 'Content-Type': 'application/octet-stream' });
        return res.end(body ?? '');
      }
      const body = served(url);
      if (body === undefined) {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        return res.end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
      }
      res.writeHead(200, { 'Content-Type': type, 'Docker-Content-Digest': sha(headBody) });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
  const image = (config: string) => JSON.stringify({ schemaVersion: 2, mediaType: IMAGE, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length }, layers: [] });
  const ask = async (host: string, platforms: string[]) => {
    const ref = `${host}/kolla/base:kg-1`;
    return (await probeTags([ref], options(host, { store: false }), new Map([[ref, platforms]]))).get(ref);
  };

  it('a manifest GET by digest whose body hashes to another digest is an error, not a list that holds the arches', { timeout: 20_000 }, async () => {
    const entries = ['amd64', 'arm64'].map((arch) => ({ mediaType: IMAGE, digest: SHA, size: 10, platform: { os: 'linux', architecture: arch } }));
    const honest = JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: [] });
    const forged = JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: entries });
    // the tag's HEAD names the honest list; by digest the registry serves another (that lists both arches)
    const host = await registry(honest, INDEX, (url) => (url.includes('@') || url.includes('sha256:') ? forged : url.endsWith('kg-1') ? honest : forged));
    const probe = await ask(host, ['linux/amd64', 'linux/arm64']);
    expect(probe?.status).toBe('error');
    expect(probe?.status === 'error' && probe.message).toMatch(new RegExp(`content whose digest is ${sha(forged)}: not the manifest asked for`));
  });

  it('one image under a one-arch tag: present when its config (read by digest) names that arch, lacking it else', { timeout: 20_000 }, async () => {
    const amd64 = JSON.stringify({ architecture: 'amd64', os: 'linux' });
    const manifest = image(amd64);
    const host = await registry(manifest, IMAGE, () => manifest, { [sha(amd64)]: amd64 });
    expect(await ask(host, ['linux/amd64'])).toEqual({ status: 'present', digest: sha(manifest) });
    expect(await ask(host, ['linux/arm64'])).toEqual({ status: 'absent', lacks: ['linux/arm64'] });
  });

  it('an image config that does not hash to its digest is an error', { timeout: 20_000 }, async () => {
    const amd64 = JSON.stringify({ architecture: 'amd64', os: 'linux' });
    const manifest = image(amd64);
    const host = await registry(manifest, IMAGE, () => manifest, { [sha(amd64)]: JSON.stringify({ architecture: 'arm64', os: 'linux' }) });
    const probe = await ask(host, ['linux/arm64']);
    expect(probe?.status).toBe('error');
    expect(probe?.status === 'error' && probe.message).toMatch(/not the blob asked for/);
  });

  it('a body that drips (headers, then a byte a second) is cut at the per-request time limit', { timeout: 20_000 }, async () => {
    const host = await serve((req, res) => {
      // no digest on HEAD: the client reads the manifest with GET
      res.writeHead(200, { 'Content-Type': INDEX });
      if (req.method === 'HEAD') return res.end();
      const drip = setInterval(() => (res.destroyed ? clearInterval(drip) : res.write(' ')), 1000);
      res.on('close', () => clearInterval(drip));
    });
    const ref = `${host}/kolla/base:kg-1`;
    const probe = (await probeTags([ref], options(host, { timeoutMs: 1_500, deadlineMs: 60_000, store: false }))).get(ref);
    expect(probe).toEqual({ status: 'error', kind: 'unreachable', message: `cannot reach registry ${host}: no answer within 1500 ms` });
  });

  it('zero-width, bidi and other format characters of a registry message are printed escaped', { timeout: 20_000 }, async () => {
    const host = await serve((_req, res) => {
      res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'a\u200bb\u200fc\u202ad\u202ee\u2066f\u2069g\u00adh\ufeffi\u2028j\u0007k' }] }));
    });
    const probe = (await probeTags([`${host}/kolla/base:kg-1`], options(host))).get(`${host}/kolla/base:kg-1`);
    const message = probe?.status === 'error' ? probe.message : '';
    expect(message).toContain('a\\u{200b}b\\u{200f}c\\u{202a}d\\u{202e}e\\u{2066}f\\u{2069}g\\u{ad}h\\u{feff}i\\u{2028}j\\u{7}k');
    expect(message).not.toMatch(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u);
  });
});
