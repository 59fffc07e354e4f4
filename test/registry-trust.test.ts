// What --skip-existing believes of a registry: only a manifest, from a server started here on 127.0.0.1 that answers
// as a captive portal, a flood, a silent host or a terminal-escaping error would.
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
