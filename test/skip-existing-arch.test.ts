// --skip-existing with content tags when a parent's image is in the registry for one arch only: a one-arch run whose
// per-arch content tag the registry lacks while the other arch's is there, and a multi-arch list that lost an arch
// (seen with --verify-existing or verify_existing; by default a content tag's HEAD answers, which cannot see it).
// With the built CLI on a git copy of test/fixtures/basic (ubuntu only), against a v2 registry served here that holds
// real image manifests and indexes, by tag and by digest.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { compileProject } from '../src/commands/run.js';
import { CODES } from '../src/core/diagnostics.js';
import type { Arch } from '../src/core/types.js';
import { CLI, copyFixture, run, temps } from './support/cli.js';
import { listenLocal } from './support/net.js';

const INDEX = 'application/vnd.oci.image.index.v1+json';
const IMAGE = 'application/vnd.oci.image.manifest.v1+json';
const digestOf = (body: string) => `sha256:${createHash('sha256').update(body).digest('hex')}`;

interface Registry {
  host: string;
  /** Every request, "HEAD /v2/acme/base/manifests/kg-…", in order. */
  requests: string[];
  /** Pushes an image of one arch under ref (as a one-arch build pushes it); returns its digest. */
  pushImage(ref: string, arch: Arch): string;
  /** Pushes an image per arch, by digest, and under ref the list of them (as a multi-platform build pushes it). */
  pushList(ref: string, arches: Arch[]): { digest: string; entries: Record<string, string> };
  /** Forgets a manifest by digest, as `DELETE /v2/<name>/manifests/<digest>` does: a list naming it is left dangling. */
  deleteDigest(repository: string, digest: string): void;
}

const servers: http.Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A v2 registry in memory: HEAD and GET of manifests by tag or digest, and of blobs; 404 MANIFEST_UNKNOWN for the others. */
async function startRegistry(): Promise<Registry> {
  const manifests = new Map<string, { body: string; type: string }>();
  const blobs = new Map<string, string>();
  const requests: string[] = [];
  const send = (res: http.ServerResponse, status: number, body: string, headers: Record<string, string>, head: boolean) => {
    res.writeHead(status, { 'Content-Length': Buffer.byteLength(body), ...headers });
    res.end(head ? undefined : body);
  };
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const match = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(req.url ?? '');
    const found = match ? manifests.get(`${match[1]}@${match[2]}`) : undefined;
    const head = req.method === 'HEAD';
    const blob = /^\/v2\/(.+)\/blobs\/([^/]+)$/.exec(req.url ?? '');
    const config = blob ? blobs.get(`${blob[1]}@${blob[2]}`) : undefined;
    if (config !== undefined) return send(res, 200, config, { 'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': digestOf(config) }, head);
    if (found === undefined) {
      const body = JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: null }] });
      return send(res, 404, body, { 'Content-Type': 'application/json' }, head);
    }
    send(res, 200, found.body, { 'Content-Type': found.type, 'Docker-Content-Digest': digestOf(found.body) }, head);
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  servers.push(server);
  const host = await listenLocal(server);
  const split = (ref: string) => {
    expect(ref.startsWith(`${host}/`)).toBe(true);
    const [repository, tag] = ref.slice(host.length + 1).split(':') as [string, string];
    return { repository, tag };
  };
  const store = (repository: string, body: string, type: string, tag?: string) => {
    const digest = digestOf(body);
    manifests.set(`${repository}@${digest}`, { body, type });
    if (tag !== undefined) manifests.set(`${repository}@${tag}`, { body, type });
    return digest;
  };
  const image = (repository: string, arch: Arch, salt: string, tag?: string) => {
    const config = JSON.stringify({ architecture: arch, os: 'linux', config: { Labels: { salt } }, rootfs: { type: 'layers', diff_ids: [] } });
    blobs.set(`${repository}@${digestOf(config)}`, config);
    return store(
      repository,
      JSON.stringify({
        schemaVersion: 2,
        mediaType: IMAGE,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(config), size: Buffer.byteLength(config) },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digestOf(`${salt} ${arch} layer`), size: 1000 }],
      }),
      IMAGE,
      tag,
    );
  };
  return {
    host,
    requests,
    pushImage(ref, arch) {
      const { repository, tag } = split(ref);
      return image(repository, arch, ref, tag);
    },
    pushList(ref, arches) {
      const { repository, tag } = split(ref);
      const entries = Object.fromEntries(arches.map((arch) => [arch, image(repository, arch, ref)]));
      const body = JSON.stringify({
        schemaVersion: 2,
        mediaType: INDEX,
        manifests: arches.map((arch) => ({ mediaType: IMAGE, digest: entries[arch], size: 500, platform: { architecture: arch, os: 'linux' } })),
      });
      return { digest: store(repository, body, INDEX, tag), entries };
    },
    deleteDigest(repository, digest) {
      manifests.delete(`${repository}@${digest}`);
    },
  };
}

const git = (cwd: string, args: string[]) => execa('git', ['-c', 'user.email=test@example.org', '-c', 'user.name=test', '-c', 'commit.gpgsign=false', ...args], { cwd });

/** basic in a git repo, committed, then db's template changed: db is affected, its parent base is not. */
async function repo(): Promise<string> {
  const dir = copyFixture('basic');
  await git(dir, ['init', '-q']);
  await git(dir, ['add', '-A']);
  await git(dir, ['commit', '-q', '-m', 'tree']);
  fs.appendFileSync(path.join(dir, 'docker/db/Dockerfile.j2'), 'RUN echo changed\n');
  return dir;
}

/** base's content tags on ubuntu: per arch (what a one-arch run pushes) and of the two-arch list. */
async function baseTags(dir: string, host: string): Promise<{ amd64: string; arm64: string; list: string }> {
  const tag = async (arches: Arch[]) => {
    const { compiled } = await compileProject({ registry: host, contentTags: true, bases: ['ubuntu'], arches }, { cwd: dir, env: {} });
    const t = compiled?.targets.find((x) => x.name === 'ubuntu-base')?.contentTag ?? '';
    expect(t).toMatch(/\/acme\/base:kg-[0-9a-f]{32}$/);
    return t;
  };
  return { amd64: await tag(['amd64']), arm64: await tag(['arm64']), list: await tag(['amd64', 'arm64']) };
}

interface Listed {
  diagnostics: { code: string; severity: string; message: string; hint: string }[];
  result: { variants: { arch: string; images: string[]; unaffected?: string[]; existing?: string[] }[] };
}

async function list(dir: string, args: string[]): Promise<Listed> {
  const r = await run(dir, ['list', ...args, '--json']);
  expect(r.exitCode, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Listed;
}

const selected = (out: Listed) => out.result.variants.map((v) => `${v.arch}: ${v.images.join(',')}`);

interface BakeJson {
  group: Record<string, { targets: string[] }>;
  target: Record<string, { contexts?: Record<string, string>; tags?: string[]; platforms?: string[] }>;
}
interface ManifestRow {
  image: string;
  arch: string;
  status: string;
  platforms?: string[];
}
const readBake = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'generated', 'docker-bake.json'), 'utf8')) as BakeJson;

/** The manifest requests that name a ref: by its tag. */
const asked = (registry: Registry, ref: string) => registry.requests.filter((q) => q.endsWith(`/manifests/${ref.slice(ref.lastIndexOf(':') + 1)}`));

describe('--skip-existing --affected-since, a one-arch run whose parent is in the registry for the other arch only', () => {
  it('-a arm64 builds base for arm64 (its arm64 content tag is missing) and asks nothing of amd64; -a amd64 builds on the amd64 image', async () => {
    const registry = await startRegistry();
    const dir = await repo();
    const tags = await baseTags(dir, registry.host);
    expect(new Set(Object.values(tags)).size).toBe(3);
    // an amd64 job pushed base; the arm64 job never did (or its image was deleted)
    registry.pushImage(tags.amd64, 'amd64');
    const args = ['--affected-since', 'HEAD', '--skip-existing', '--registry', registry.host, '-b', 'ubuntu'];

    const arm = await list(dir, [...args, '-a', 'arm64']);
    expect(arm.diagnostics).toEqual([]);
    expect(selected(arm)).toEqual(['arm64: base,db']);
    expect(arm.result.variants[0]?.unaffected).toEqual(['tools-base', 'tools-api']);
    expect(asked(registry, tags.arm64).length).toBeGreaterThan(0);
    expect(asked(registry, tags.amd64)).toEqual([]);
    expect(asked(registry, tags.list)).toEqual([]);

    expect((await run(dir, ['generate', ...args, '-a', 'arm64'])).exitCode).toBe(0);
    const bake = readBake(dir);
    expect(Object.keys(bake.target).sort()).toEqual(['ubuntu-base', 'ubuntu-db']);
    const rows = (JSON.parse(fs.readFileSync(path.join(dir, 'generated', 'manifest.json'), 'utf8')) as { images: ManifestRow[] }).images;
    expect(rows.filter((e) => e.status === 'selected').map((e) => `${e.image}/${e.arch}: ${e.platforms?.join(',')}`)).toEqual(['base/arm64: linux/arm64', 'db/arm64: linux/arm64']);
    expect(bake.target['ubuntu-base']?.tags).toContain(tags.arm64);
    expect(bake.target['ubuntu-db']?.contexts).toEqual({ [`${registry.host}/acme/base:1.0-ubuntu`]: 'target:ubuntu-base' });

    const explained = await run(dir, ['explain', 'base', ...args, '-a', 'arm64']);
    expect(explained.stdout).toContain('base on ubuntu arm64: selected (target ubuntu-base: linux/arm64)');
    expect(explained.stdout).toContain(`unaffected since HEAD, but the registry does not hold ${tags.arm64}: built for the images that build on it (--skip-existing)`);

    // the amd64 job: base is there for amd64, db builds on it
    registry.requests.length = 0;
    const amd = await list(dir, [...args, '-a', 'amd64']);
    expect(selected(amd)).toEqual(['amd64: db']);
    expect(amd.result.variants[0]?.unaffected).toEqual(['base', 'tools-base', 'tools-api']);
    expect(asked(registry, tags.arm64)).toEqual([]);
    expect((await run(dir, ['generate', ...args, '-a', 'amd64'])).exitCode).toBe(0);
    expect(readBake(dir).target['ubuntu-db']?.contexts).toEqual({ [`${registry.host}/acme/base:1.0-ubuntu`]: `docker-image://${tags.amd64}` });

    // once the arm64 job pushed it, the arm64 run builds on it too
    registry.pushImage(tags.arm64, 'arm64');
    expect(selected(await list(dir, [...args, '-a', 'arm64']))).toEqual(['arm64: db']);
  });
});

describe('a multi-arch list of a parent that lost its arm64 image', () => {
  const args = (host: string) => ['--registry', host, '-b', 'ubuntu'];
  const listOfAmd64 = (r: Registry, list: string) => r.pushList(list, ['amd64']);

  // the last column: whether the content tag's HEAD alone (the default) finds base there
  it.each<[string, (r: Registry, list: string) => void, string, boolean]>([
    ['a list of amd64 alone (a merge job that made a list of what built)', listOfAmd64, 'linux/arm64', true],
    [
      'a list whose arm64 manifest the registry deleted',
      (r, list) => {
        const { entries } = r.pushList(list, ['amd64', 'arm64']);
        r.deleteDigest('acme/base', entries.arm64 as string);
      },
      'linux/arm64',
      true,
    ],
    ['one amd64 image under the list tag', (r, list) => r.pushImage(list, 'amd64'), 'linux/amd64 and linux/arm64', false],
  ])('--affected-since --verify-existing: base is built (both arches, one target) when its content tag is %s', async (_what, push, lacks, byHead) => {
    const registry = await startRegistry();
    const dir = await repo();
    const tags = await baseTags(dir, registry.host);
    push(registry, tags.list);
    // by default the content tag's HEAD answers: a list is there, whatever its entries; one image lacks both arches
    const plainSince = ['--affected-since', 'HEAD', '--skip-existing', ...args(registry.host)];
    registry.requests.length = 0;
    expect(selected(await list(dir, plainSince))).toEqual(byHead ? ['amd64: db', 'arm64: db'] : ['amd64: base,db', 'arm64: base,db']);
    expect(registry.requests.filter((q) => !q.startsWith('HEAD ') || q.includes('/manifests/sha256:'))).toEqual([]);
    const since = ['--affected-since', 'HEAD', '--skip-existing', '--verify-existing', ...args(registry.host)];
    expect(selected(await list(dir, since))).toEqual(['amd64: base,db', 'arm64: base,db']);
    expect((await run(dir, ['generate', ...since])).exitCode).toBe(0);
    const bake = readBake(dir);
    expect(Object.keys(bake.target).sort()).toEqual(['ubuntu-base', 'ubuntu-db']);
    expect(bake.target['ubuntu-base']?.tags).toContain(tags.list);
    expect(bake.target['ubuntu-db']?.contexts).toEqual({ [`${registry.host}/acme/base:1.0-ubuntu`]: 'target:ubuntu-base' });
    // explain names what the registry's list lacks, on each arch the one target builds
    const explained = (await run(dir, ['explain', 'base', ...since])).stdout;
    const why = `unaffected since HEAD, but the registry's ${tags.list} lacks ${lacks}: built for the images that build on it (--skip-existing)`;
    expect(explained).toContain('base on ubuntu amd64, arm64: selected (target ubuntu-base: linux/amd64, linux/arm64)\n');
    expect(explained).toContain(`  - ${why}\n`);
    // and without --affected-since, base is not left out as already there, and explain says why
    const skip = ['--skip-existing', '--verify-existing', ...args(registry.host)];
    expect(selected(await list(dir, skip))).toEqual(['amd64: base,db,tools-base,tools-api', 'arm64: base,db,tools-base,tools-api']);
    const plain = (await run(dir, ['explain', 'base', ...skip])).stdout;
    expect(plain).toContain(`  - the registry's ${tags.list} lacks ${lacks}: built (--skip-existing)\n`);
    expect(plain).not.toContain('unaffected');
  });

  it('verify_existing: true in kolla-gen.yaml reads the list as --verify-existing does', async () => {
    const registry = await startRegistry();
    const dir = await repo();
    const tags = await baseTags(dir, registry.host);
    listOfAmd64(registry, tags.list);
    const skip = ['--skip-existing', ...args(registry.host)];
    const existing = (out: Listed) => out.result.variants.map((v) => `${v.arch}: ${v.existing?.join(',')}`);
    expect(existing(await list(dir, skip))).toEqual(['amd64: base', 'arm64: base']);
    fs.appendFileSync(path.join(dir, 'kolla-gen.yaml'), '\nverify_existing: true\n');
    registry.requests.length = 0;
    const verified = await list(dir, skip);
    expect(existing(verified)).toEqual(['amd64: ', 'arm64: ']);
    expect(selected(verified)).toEqual(['amd64: base,db,tools-base,tools-api', 'arm64: base,db,tools-base,tools-api']);
    // the list read by its digest, and its one entry asked for
    expect(registry.requests.filter((q) => q.startsWith('GET ') && q.includes('/acme/base/manifests/sha256:'))).toHaveLength(1);
    expect((await run(dir, ['explain', 'base', ...skip])).stdout).toContain(`  - the registry's ${tags.list} lacks linux/arm64: built (--skip-existing)\n`);
  });

  it('a whole list is there: base is unaffected (--affected-since) or existing (--skip-existing alone), and db builds on it', async () => {
    const registry = await startRegistry();
    const dir = await repo();
    const tags = await baseTags(dir, registry.host);
    registry.pushList(tags.list, ['amd64', 'arm64']);
    const since = ['--affected-since', 'HEAD', '--skip-existing', ...args(registry.host)];
    expect(selected(await list(dir, since))).toEqual(['amd64: db', 'arm64: db']);
    expect((await run(dir, ['generate', ...since])).exitCode).toBe(0);
    expect(readBake(dir).target['ubuntu-db']?.contexts).toEqual({ [`${registry.host}/acme/base:1.0-ubuntu`]: `docker-image://${tags.list}` });
    const existing = await list(dir, ['--skip-existing', ...args(registry.host)]);
    expect(existing.result.variants.map((v) => `${v.arch}: ${v.existing?.join(',')}`)).toEqual(['amd64: base', 'arm64: base']);
  });

  it('KG905 without --skip-existing (with --verify-existing) names the parent and the arch its list lacks; nothing is baked', async () => {
    const registry = await startRegistry();
    const dir = await repo();
    const tags = await baseTags(dir, registry.host);
    registry.pushList(tags.list, ['amd64']);
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-fake-docker-'));
    temps.push(bin);
    const log = path.join(bin, 'calls');
    fs.writeFileSync(log, '');
    fs.writeFileSync(path.join(bin, 'docker'), FAKE_DOCKER, { mode: 0o755 });
    const build = (extra: string[]) =>
      execa(process.execPath, [CLI, 'build', '--affected-since', 'HEAD', '--content-tags', '--push', ...args(registry.host), ...extra, '--json'], {
        cwd: dir,
        reject: false,
        extendEnv: false,
        env: { PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`, FAKE_LOG: log, HOME: dir },
      });
    const r = await build(['--verify-existing']);
    expect(r.exitCode).toBe(1);
    const out = JSON.parse(r.stdout) as Listed;
    const kg905 = out.diagnostics.filter((d) => d.code === 'KG905');
    expect(kg905.map((d) => d.message)).toEqual([`1 unaffected parent is not in the registry, e.g. base (${tags.list}, which lacks linux/arm64): the images built on it would fail`]);
    expect(kg905[0]?.hint).toBe(CODES.KG905.hint);
    expect(fs.readFileSync(log, 'utf8').split('\n').filter((c) => c.startsWith('buildx bake -f'))).toEqual([]);
    // one arch at a time: the amd64 job has what it needs
    const amd = await build(['-a', 'amd64', '--skip-existing']);
    expect(amd.exitCode, amd.stderr).toBe(0);
  });
});

/** Enough of docker for `kolla-gen build` to reach its registry checks: a builder for both arches; bake succeeds. */
const FAKE_DOCKER = `#!/bin/sh
echo "$*" >> "$FAKE_LOG"
case "$1 $2" in
  "--version "*) echo "Docker version 26.1.5 (fake)" ;;
  "buildx version") echo "github.com/docker/buildx 0.13.1 fake" ;;
  "buildx inspect") printf 'Name:   default\\nDriver: docker-container\\n\\nNodes:\\nName:      default\\nStatus:    running\\nPlatforms: linux/amd64, linux/arm64\\n' ;;
  "info --format") echo '[["driver-type","io.containerd.snapshotter.v1"]]' ;;
  "buildx bake") echo "#1 DONE 0.1s" >&2 ;;
  *) echo "fake docker: unexpected: $*" >&2; exit 1 ;;
esac
`;
