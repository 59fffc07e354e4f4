// The registry client against a real HTTP server that speaks the v2 protocol (manifests, the token service, Basic
// auth), with docker configs and credential helpers written to temp dirs.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyTag, parseChallenge, probeTags, resolveTarget, type Challenge, type ProbeTarget, type RegistryOptions } from '../src/engine/registry.js';
import { listenLocal } from './support/net.js';

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const SERVICE = 'kg-test-registry';
const SHA = `sha256:${'a'.repeat(64)}`;

const temps: string[] = [];
const servers: http.Server[] = [];

afterAll(async () => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

const sha256 = (body: string) => `sha256:${createHash('sha256').update(body).digest('hex')}`;
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

interface Manifest {
  mediaType: string;
  body: string;
}

function manifest(mediaType: string): Manifest {
  // Random content: each test's digests are its own.
  return { mediaType, body: JSON.stringify({ schemaVersion: 2, mediaType, layers: [], salt: randomBytes(8).toString('hex') }) };
}

interface RegistryServerOptions {
  auth?: 'bearer' | 'basic';
  /** user → password, checked by the token service (bearer) or the registry (basic). */
  users?: Record<string, string>;
  /** Refresh tokens (identity tokens) the token service's OAuth2 POST accepts, → the user they stand for. */
  refreshTokens?: Record<string, string>;
  /** Repositories only a logged-in user may pull. */
  privateRepos?: string[];
  /** Repositories whose storage is broken: 500 with the registry's JSON error. */
  brokenRepos?: string[];
  /** Send Docker-Content-Digest (some registries do not, on HEAD or at all). */
  digestHeader?: boolean;
}

interface TokenRequest {
  method: string;
  /** The query (GET) or the form (POST). */
  params: Record<string, string>;
  authorization?: string;
}

interface RegistryServer {
  host: string;
  repos: Map<string, Map<string, Manifest>>;
  /** "HEAD /v2/kolla/base/manifests/1", "GET /token?…", in order. */
  requests: string[];
  tokenRequests: TokenRequest[];
  /** Authorization headers the manifest endpoints saw. */
  authorizations: string[];
  /** Connections that did not speak HTTP (a TLS handshake, for one). */
  clientErrors: number;
}

function errorBody(code: string, message: string): string {
  return JSON.stringify({ errors: [{ code, message, detail: null }] });
}

/** A registry as distribution runs it, in memory: kolla/base:1 (a docker manifest) and kolla/base:multi (an OCI index). */
async function startRegistry(options: RegistryServerOptions = {}): Promise<RegistryServer> {
  const repos = new Map<string, Map<string, Manifest>>([
    ['kolla/base', new Map([['1', manifest(DOCKER_MANIFEST)], ['multi', manifest(OCI_INDEX)], ['latest', manifest(DOCKER_MANIFEST)]])],
    ['kolla/other', new Map([['1', manifest(DOCKER_MANIFEST)]])],
    ['private/app', new Map([['1', manifest(DOCKER_MANIFEST)]])],
    ['broken/app', new Map([['1', manifest(DOCKER_MANIFEST)]])],
  ]);
  const tokens = new Map<string, { scope: string; user?: string }>();
  const state: RegistryServer = { host: '', repos, requests: [], tokenRequests: [], authorizations: [], clientErrors: 0 };
  const digestHeader = options.digestHeader ?? true;

  const server = http.createServer((req, res) => {
    state.requests.push(`${req.method} ${req.url}`);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', `http://${state.host}`);
      if (url.pathname === '/token') return token(req, res, url, Buffer.concat(chunks).toString('utf8'));
      const match = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
      if (match === null) return send(res, 404, errorBody('NOT_FOUND', 'not found'));
      const [, repo = '', reference = ''] = match;
      const authorization = req.headers.authorization;
      if (authorization !== undefined) state.authorizations.push(authorization);
      if (req.method === 'PUT') return put(req, res, repo, reference, Buffer.concat(chunks).toString('utf8'));
      const user = authenticate(authorization, repo);
      if (user === false) {
        const challenge =
          options.auth === 'basic'
            ? 'Basic realm="kg-test"'
            : `Bearer realm="http://${state.host}/token",service="${SERVICE}",scope="repository:${repo}:pull"`;
        return send(res, 401, errorBody('UNAUTHORIZED', 'authentication required'), { 'WWW-Authenticate': challenge });
      }
      if ((options.privateRepos ?? []).includes(repo) && user === undefined) {
        return send(res, 401, errorBody('UNAUTHORIZED', 'authentication required'), {
          'WWW-Authenticate': `Bearer realm="http://${state.host}/token",service="${SERVICE}",scope="repository:${repo}:pull",error="insufficient_scope"`,
        });
      }
      if ((options.brokenRepos ?? []).includes(repo)) return send(res, 500, errorBody('UNKNOWN', 'storage backend is down'));
      const tags = repos.get(repo);
      if (tags === undefined) return send(res, 404, errorBody('NAME_UNKNOWN', 'repository name not known to registry'));
      const found = reference.startsWith('sha256:') ? [...tags.values()].find((m) => sha256(m.body) === reference) : tags.get(reference);
      // distribution answers an OCI index to a client that does not accept one with 404, as if it were not there.
      const accepted = (req.headers.accept ?? '').split(',').map((t) => t.trim());
      if (found === undefined || !accepted.includes(found.mediaType)) return send(res, 404, errorBody('MANIFEST_UNKNOWN', 'manifest unknown'));
      send(res, 200, found.body, { 'Content-Type': found.mediaType, ...(digestHeader ? { 'Docker-Content-Digest': sha256(found.body) } : {}) });
    });
  });

  /** The user of a request to a manifest, undefined when anonymous but allowed, false when it must authenticate. */
  function authenticate(authorization: string | undefined, repo: string): string | undefined | false {
    if (options.auth === undefined) return undefined;
    if (options.auth === 'basic') {
      const user = Object.entries(options.users ?? {}).find(([u, p]) => authorization === basic(u, p));
      return user === undefined ? false : user[0];
    }
    const issued = tokens.get(authorization?.replace(/^Bearer /, '') ?? '');
    if (issued === undefined || !allows(issued.scope, repo, 'pull')) return false;
    return issued.user;
  }

  /** Pushing a manifest: as distribution does, only with a token whose scope grants push (bearer), or a user (basic). */
  function put(req: http.IncomingMessage, res: http.ServerResponse, repo: string, tag: string, body: string) {
    const authorization = req.headers.authorization;
    const allowed =
      options.auth === 'basic'
        ? authenticate(authorization, repo) !== false
        : options.auth === undefined || allows(tokens.get(authorization?.replace(/^Bearer /, '') ?? '')?.scope ?? '', repo, 'push');
    if (!allowed) {
      const challenge =
        options.auth === 'basic' ? 'Basic realm="kg-test"' : `Bearer realm="http://${state.host}/token",service="${SERVICE}",scope="repository:${repo}:pull,push"`;
      return send(res, 401, errorBody('UNAUTHORIZED', 'authentication required'), { 'WWW-Authenticate': challenge });
    }
    const mediaType = req.headers['content-type'] ?? '';
    const tags = repos.get(repo) ?? new Map<string, Manifest>();
    repos.set(repo, tags);
    tags.set(tag, { mediaType, body });
    send(res, 201, '', { 'Docker-Content-Digest': sha256(body) });
  }

  function token(req: http.IncomingMessage, res: http.ServerResponse, url: URL, body: string) {
    const params = Object.fromEntries(req.method === 'POST' ? new URLSearchParams(body) : url.searchParams);
    state.tokenRequests.push({ method: req.method ?? '', params, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    if (params.service !== SERVICE || params.scope === undefined) return send(res, 400, JSON.stringify({ details: 'bad service or scope' }));
    let user: string | undefined;
    if (req.method === 'POST') {
      user = params.grant_type === 'refresh_token' && params.client_id ? options.refreshTokens?.[params.refresh_token ?? ''] : undefined;
      if (user === undefined) return send(res, 401, JSON.stringify({ details: 'invalid refresh token' }));
    } else if (req.headers.authorization !== undefined) {
      user = Object.entries(options.users ?? {}).find(([u, p]) => req.headers.authorization === basic(u, p))?.[0];
      if (user === undefined) return send(res, 401, JSON.stringify({ details: 'incorrect username or password' }));
    }
    const issued = `tok-${tokens.size + 1}`;
    // Anonymous clients get the pull part of what they ask for, as a real token service grants.
    const scope = user === undefined ? params.scope.replace(/:pull,push$/, ':pull') : params.scope;
    tokens.set(issued, { scope, ...(user !== undefined ? { user } : {}) });
    // Docker Hub answers both names; the OAuth2 POST only access_token.
    send(res, 200, JSON.stringify(req.method === 'POST' ? { access_token: issued } : { token: issued, access_token: issued }));
  }

  server.on('clientError', (_error, socket) => {
    state.clientErrors++;
    socket.destroy();
  });
  servers.push(server);
  state.host = await listenLocal(server);
  return state;
}

/** Whether a token's scope ("repository:kolla/base:pull,push ...") grants an action on a repository. */
function allows(scope: string, repo: string, action: 'pull' | 'push'): boolean {
  return scope.split(' ').some((entry) => {
    const [type, name, actions = ''] = entry.split(':');
    return type === 'repository' && name === repo && actions.split(',').includes(action);
  });
}

function send(res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

const digestOf = (registry: RegistryServer, repo: string, tag: string) => sha256(registry.repos.get(repo)?.get(tag)?.body ?? '');

/** A docker config dir holding config; also a PATH whose first entry is a dir for credential helpers. */
function dockerEnv(config: unknown, helpers: Record<string, string> = {}): RegistryOptions['env'] {
  const dir = tempDir('kolla-gen-docker-');
  fs.writeFileSync(path.join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  for (const [name, script] of Object.entries(helpers)) fs.writeFileSync(path.join(bin, `docker-credential-${name}`), script, { mode: 0o755 });
  return { DOCKER_CONFIG: dir, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` };
}

/** A credential helper as docker's are: the server URL on stdin, JSON on stdout, "credentials not found" otherwise. */
function helperScript(serverUrl: string, username: string, secret: string, log: string): string {
  return [
    '#!/bin/sh',
    '[ "$1" = get ] || exit 2',
    'server=$(cat)',
    `printf '%s\\n' "$server" >> '${log}'`,
    `if [ "$server" = '${serverUrl}' ]; then`,
    `  printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}\\n' "$server" '${username}' '${secret}'`,
    'else',
    "  echo 'credentials not found in native keychain'",
    '  exit 1',
    'fi',
    '',
  ].join('\n');
}

describe('resolveTarget', () => {
  const hub = { host: 'registry-1.docker.io', name: 'docker.io', serverAddress: 'https://index.docker.io/v1/' };
  it.each<[string, ProbeTarget | undefined]>([
    ['kolla/base:1.0', { ...hub, repository: 'kolla/base', reference: '1.0' }],
    ['ubuntu', { ...hub, repository: 'library/ubuntu', reference: 'latest' }],
    ['docker.io/library/ubuntu:24.04', { ...hub, repository: 'library/ubuntu', reference: '24.04' }],
    [`ubuntu:24.04@${SHA}`, { ...hub, repository: 'library/ubuntu', reference: SHA }],
    [
      'localhost:5000/kolla/base:kg-abc',
      { host: 'localhost:5000', name: 'localhost:5000', serverAddress: 'localhost:5000', repository: 'kolla/base', reference: 'kg-abc' },
    ],
    ['quay.io/openstack.kolla/nova-api', { host: 'quay.io', name: 'quay.io', serverAddress: 'quay.io', repository: 'openstack.kolla/nova-api', reference: 'latest' }],
    ['[::1]:5000/base@' + SHA, { host: '[::1]:5000', name: '[::1]:5000', serverAddress: '[::1]:5000', repository: 'base', reference: SHA }],
    ['kolla/Base', undefined],
  ])('%s', (raw, expected) => {
    expect(resolveTarget(raw)).toEqual(expected);
  });
});

describe('parseChallenge', () => {
  it.each<[string, Challenge | undefined]>([
    [
      'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:kolla/base:pull"',
      { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:kolla/base:pull' } },
    ],
    ['Basic realm="Registry Realm"', { scheme: 'basic', params: { realm: 'Registry Realm' } }],
    ['bearer realm=https://a/token, service=x', { scheme: 'bearer', params: { realm: 'https://a/token', service: 'x' } }],
    ['Bearer realm="a\\"b",error="insufficient_scope"', { scheme: 'bearer', params: { realm: 'a"b', error: 'insufficient_scope' } }],
    // several challenges in one header: Bearer wins
    ['Basic realm="r", Bearer realm="https://a/token",service="s"', { scheme: 'bearer', params: { realm: 'https://a/token', service: 's' } }],
    ['Negotiate', undefined],
    ['', undefined],
  ])('%s', (header, expected) => {
    expect(parseChallenge(header)).toEqual(expected);
  });
});

describe('probeTags', () => {
  it('answers present with the Docker-Content-Digest of a manifest and of an index, with HEAD alone', async () => {
    const registry = await startRegistry();
    const refs = [`${registry.host}/kolla/base:1`, `${registry.host}/kolla/base:multi`];
    const result = await probeTags(refs, { env: {} });
    expect(result).toEqual(
      new Map([
        [refs[0], { status: 'present', digest: digestOf(registry, 'kolla/base', '1') }],
        [refs[1], { status: 'present', digest: digestOf(registry, 'kolla/base', 'multi') }],
      ]),
    );
    expect(registry.requests.filter((r) => r.startsWith('GET'))).toEqual([]);
  });

  it('probes the digest of a ref that has one, and latest for a ref with no tag', async () => {
    const registry = await startRegistry();
    const digest = digestOf(registry, 'kolla/base', 'multi');
    const result = await probeTags([`${registry.host}/kolla/base:whatever@${digest}`, `${registry.host}/kolla/base`], { env: {} });
    expect([...result.values()]).toEqual([
      { status: 'present', digest },
      { status: 'present', digest: digestOf(registry, 'kolla/base', 'latest') },
    ]);
    expect(registry.requests).toEqual([`HEAD /v2/kolla/base/manifests/${digest}`, 'HEAD /v2/kolla/base/manifests/latest']);
  });

  it('computes the digest from the GET body when the registry sends no Docker-Content-Digest', async () => {
    const registry = await startRegistry({ digestHeader: false });
    const ref = `${registry.host}/kolla/base:multi`;
    const result = await probeTags([ref], { env: {} });
    expect(result.get(ref)).toEqual({ status: 'present', digest: digestOf(registry, 'kolla/base', 'multi') });
    expect(registry.requests).toEqual(['HEAD /v2/kolla/base/manifests/multi', 'GET /v2/kolla/base/manifests/multi']);
  });

  it('answers absent for an unknown tag (MANIFEST_UNKNOWN) and an unknown repository (NAME_UNKNOWN)', async () => {
    const registry = await startRegistry();
    const refs = [`${registry.host}/kolla/base:nope`, `${registry.host}/kolla/missing:1`];
    const result = await probeTags(refs, { env: {} });
    expect([...result.values()]).toEqual([{ status: 'absent' }, { status: 'absent' }]);
  });

  it('deduplicates refs, and the forms of one ref', async () => {
    const registry = await startRegistry();
    const refs = [`${registry.host}/kolla/base`, `${registry.host}/kolla/base:latest`, `${registry.host}/kolla/base`, `${registry.host}/kolla/other:1`];
    const result = await probeTags(refs, { env: {} });
    expect([...result.keys()]).toEqual([refs[0], refs[1], refs[3]]);
    expect(result.get(refs[0] ?? '')).toEqual({ status: 'present', digest: digestOf(registry, 'kolla/base', 'latest') });
    expect(result.get(refs[1] ?? '')).toEqual(result.get(refs[0] ?? ''));
    expect([...registry.requests].sort()).toEqual(['HEAD /v2/kolla/base/manifests/latest', 'HEAD /v2/kolla/other/manifests/1']);
  });

  it('gets an anonymous token for the service and scope of the challenge, once per repository', async () => {
    const registry = await startRegistry({ auth: 'bearer' });
    const refs = [`${registry.host}/kolla/base:1`, `${registry.host}/kolla/base:multi`, `${registry.host}/kolla/base:nope`, `${registry.host}/kolla/other:1`];
    const result = await probeTags(refs, { env: {} });
    expect([...result.values()]).toEqual([
      { status: 'present', digest: digestOf(registry, 'kolla/base', '1') },
      { status: 'present', digest: digestOf(registry, 'kolla/base', 'multi') },
      { status: 'absent' },
      { status: 'present', digest: digestOf(registry, 'kolla/other', '1') },
    ]);
    expect(registry.tokenRequests.sort((a, b) => (a.params.scope ?? '').localeCompare(b.params.scope ?? ''))).toEqual([
      { method: 'GET', params: { service: SERVICE, scope: 'repository:kolla/base:pull' } },
      { method: 'GET', params: { service: SERVICE, scope: 'repository:kolla/other:pull' } },
    ]);
  });

  it('sends the Basic credentials of the docker config to the token service', async () => {
    const registry = await startRegistry({ auth: 'bearer', users: { alice: 's3cret' }, privateRepos: ['private/app'] });
    const ref = `${registry.host}/private/app:1`;
    const auth = Buffer.from('alice:s3cret').toString('base64');
    const result = await probeTags([ref], { env: dockerEnv({ auths: { [registry.host]: { auth } } }) });
    expect(result.get(ref)).toEqual({ status: 'present', digest: digestOf(registry, 'private/app', '1') });
    expect(registry.tokenRequests).toEqual([{ method: 'GET', params: { service: SERVICE, scope: 'repository:private/app:pull' }, authorization: basic('alice', 's3cret') }]);
  });

  it.each([
    ['an https:// key with username and password', (host: string) => ({ [`https://${host}`]: { username: 'alice', password: 's3cret' } })],
    ['an http:// key with a path', (host: string) => ({ [`http://${host}/v2/`]: { auth: Buffer.from('alice:s3cret').toString('base64') } })],
  ])('finds credentials under %s', async (_name, auths) => {
    const registry = await startRegistry({ auth: 'bearer', users: { alice: 's3cret' }, privateRepos: ['private/app'] });
    const ref = `${registry.host}/private/app:1`;
    const result = await probeTags([ref], { env: dockerEnv({ auths: auths(registry.host) }) });
    expect(result.get(ref)).toEqual({ status: 'present', digest: digestOf(registry, 'private/app', '1') });
    expect(registry.tokenRequests.map((r) => r.authorization)).toEqual([basic('alice', 's3cret')]);
  });

  it('asks the credential helper of credHelpers, with the host on stdin', async () => {
    const registry = await startRegistry({ auth: 'bearer', users: { bob: 'hunter2' }, privateRepos: ['private/app'] });
    const log = path.join(tempDir('kolla-gen-helper-'), 'stdin.log');
    const env = dockerEnv(
      { auths: { [registry.host]: { auth: Buffer.from('wrong:wrong').toString('base64') } }, credHelpers: { [registry.host]: 'kgtest' } },
      { kgtest: helperScript(registry.host, 'bob', 'hunter2', log) },
    );
    const ref = `${registry.host}/private/app:1`;
    const result = await probeTags([ref, `${registry.host}/kolla/base:1`], { env });
    expect(result.get(ref)).toEqual({ status: 'present', digest: digestOf(registry, 'private/app', '1') });
    expect(registry.tokenRequests.map((r) => r.authorization)).toEqual([basic('bob', 'hunter2'), basic('bob', 'hunter2')]);
    // One run of the helper per host, however many repositories.
    expect(fs.readFileSync(log, 'utf8')).toBe(`${registry.host}\n`);
  });

  it('does the OAuth2 refresh-token POST with the identity token of a credsStore helper', async () => {
    const registry = await startRegistry({ auth: 'bearer', refreshTokens: { 'refresh-xyz': 'carol' }, privateRepos: ['private/app'] });
    const log = path.join(tempDir('kolla-gen-helper-'), 'stdin.log');
    const env = dockerEnv({ credsStore: 'kgtoken' }, { kgtoken: helperScript(registry.host, '<token>', 'refresh-xyz', log) });
    const ref = `${registry.host}/private/app:1`;
    const result = await probeTags([ref], { env });
    expect(result.get(ref)).toEqual({ status: 'present', digest: digestOf(registry, 'private/app', '1') });
    expect(registry.tokenRequests).toEqual([
      {
        method: 'POST',
        params: { grant_type: 'refresh_token', refresh_token: 'refresh-xyz', service: SERVICE, scope: 'repository:private/app:pull', client_id: 'kolla-gen' },
      },
    ]);
  });

  it('takes a helper saying "credentials not found" for no credentials', async () => {
    const registry = await startRegistry({ auth: 'bearer', privateRepos: ['private/app'] });
    const log = path.join(tempDir('kolla-gen-helper-'), 'stdin.log');
    const env = dockerEnv({ credsStore: 'kgtest' }, { kgtest: helperScript('elsewhere.example', 'bob', 'hunter2', log) });
    const refs = [`${registry.host}/kolla/base:1`, `${registry.host}/private/app:1`];
    const result = await probeTags(refs, { env });
    expect(result.get(refs[0] ?? '')).toEqual({ status: 'present', digest: digestOf(registry, 'kolla/base', '1') });
    expect(result.get(refs[1] ?? '')).toMatchObject({ status: 'error', kind: 'auth' });
    expect(registry.tokenRequests.map((r) => r.authorization)).toEqual([undefined, undefined]);
  });

  it('tells to docker login when the registry still answers 401 with no credentials', async () => {
    const registry = await startRegistry({ auth: 'bearer', privateRepos: ['private/app'] });
    const ref = `${registry.host}/private/app:1`;
    const result = await probeTags([ref], { env: {} });
    expect(result.get(ref)).toEqual({
      status: 'error',
      kind: 'auth',
      message: `registry ${registry.host} requires authentication for private/app: run \`docker login ${registry.host}\``,
    });
  });

  it('tells to docker login when the token service refuses the credentials', async () => {
    const registry = await startRegistry({ auth: 'bearer', users: { alice: 's3cret' }, privateRepos: ['private/app'] });
    const ref = `${registry.host}/private/app:1`;
    const env = dockerEnv({ auths: { [registry.host]: { username: 'alice', password: 'wrong' } } });
    const result = await probeTags([ref], { env });
    expect(result.get(ref)).toEqual({
      status: 'error',
      kind: 'auth',
      message: `registry ${registry.host} refused the credentials from ${path.join(env.DOCKER_CONFIG ?? '', 'config.json')} for private/app: run \`docker login ${registry.host}\``,
    });
  });

  it('retries a Basic-realm registry with the Basic credentials of the config, and asks for them when there are none', async () => {
    const registry = await startRegistry({ auth: 'basic', users: { dave: 'pw' } });
    const ref = `${registry.host}/kolla/base:1`;
    const result = await probeTags([ref], { env: dockerEnv({ auths: { [registry.host]: { username: 'dave', password: 'pw' } } }) });
    expect(result.get(ref)).toEqual({ status: 'present', digest: digestOf(registry, 'kolla/base', '1') });
    expect(registry.authorizations).toEqual([basic('dave', 'pw')]);
    expect(registry.tokenRequests).toEqual([]);

    const anonymous = await probeTags([ref], { env: {} });
    expect(anonymous.get(ref)).toMatchObject({ status: 'error', kind: 'auth', message: expect.stringContaining(`docker login ${registry.host}`) });
  });

  it('names the docker config when it is not valid JSON', async () => {
    const registry = await startRegistry({ auth: 'bearer' });
    const env = dockerEnv('{ "auths": ');
    const ref = `${registry.host}/kolla/base:1`;
    const result = await probeTags([ref], { env });
    expect(result.get(ref)).toMatchObject({ status: 'error', kind: 'auth', message: expect.stringContaining(path.join(env.DOCKER_CONFIG ?? '', 'config.json')) });
  });

  it('says what a 500 was, with the message of the registry', async () => {
    const registry = await startRegistry({ brokenRepos: ['broken/app'] });
    const ref = `${registry.host}/broken/app:1`;
    const result = await probeTags([ref], { env: {} });
    expect(result.get(ref)).toEqual({
      status: 'error',
      kind: 'http',
      message: `registry ${registry.host} answered 500 Internal Server Error for broken/app:1: storage backend is down`,
    });
  });

  it('answers unreachable for a closed port, naming the host and the cause', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const ref = `127.0.0.1:${port}/kolla/base:1`;
    const result = await probeTags([ref], { env: {} });
    expect(result.get(ref)).toEqual({
      status: 'error',
      kind: 'unreachable',
      message: `cannot reach registry 127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`,
    });
  });

  it('answers unreachable when the registry does not answer in time', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    const result = await probeTags([`${host}/kolla/base:1`], { env: {}, timeoutMs: 200 });
    expect(result.get(`${host}/kolla/base:1`)).toEqual({ status: 'error', kind: 'unreachable', message: `cannot reach registry ${host}: no answer within 200 ms` });
    for (const socket of sockets) socket.destroy();
    silent.close();
  });

  it('falls back to HTTP for a local registry once, and goes straight to HTTP for an insecure one', async () => {
    const registry = await startRegistry();
    const port = registry.host.split(':')[1] ?? '';
    const refs = [`${registry.host}/kolla/base:1`, `${registry.host}/kolla/base:multi`, `${registry.host}/kolla/other:1`];
    const result = await probeTags(refs, { env: {}, concurrency: 1 });
    expect([...result.values()].map((p) => p.status)).toEqual(['present', 'present', 'present']);
    // One TLS handshake refused, then HTTP for the rest of the call.
    expect(registry.clientErrors).toBe(1);

    const local = `localhost:${port}/kolla/base:1`;
    expect((await probeTags([local], { env: {} })).get(local)).toEqual({ status: 'present', digest: digestOf(registry, 'kolla/base', '1') });
    expect(registry.clientErrors).toBe(2);

    await probeTags(refs, { env: {}, insecure: [registry.host] });
    expect(registry.clientErrors).toBe(2);
    expect(registry.requests).toHaveLength(7);
  });
});

describe('copyTag', () => {
  it('tags the manifest of one tag as others, byte for byte, with a token whose scope grants push', async () => {
    const registry = await startRegistry({ auth: 'bearer', users: { ci: 's3cret' } });
    const env = dockerEnv({ auths: { [registry.host]: { auth: Buffer.from('ci:s3cret').toString('base64') } } });
    const source = `${registry.host}/kolla/base:multi`;
    const copied = await copyTag(source, [`${registry.host}/kolla/base:2026.1`, `${registry.host}/kolla/base:stable`], { env });
    const digest = digestOf(registry, 'kolla/base', 'multi');
    expect([...copied]).toEqual([
      [`${registry.host}/kolla/base:2026.1`, { status: 'copied', digest }],
      [`${registry.host}/kolla/base:stable`, { status: 'copied', digest }],
    ]);
    expect(registry.repos.get('kolla/base')?.get('2026.1')).toEqual(registry.repos.get('kolla/base')?.get('multi'));
    expect(registry.tokenRequests.map((t) => [t.params.scope, t.authorization])).toContainEqual(['repository:kolla/base:pull,push', basic('ci', 's3cret')]);
    const probed = await probeTags([`${registry.host}/kolla/base:stable`], { env });
    expect(probed.get(`${registry.host}/kolla/base:stable`)).toEqual({ status: 'present', digest });
  });

  it('says to log in when the registry lets an anonymous client pull but not push', async () => {
    const registry = await startRegistry({ auth: 'bearer' });
    const copied = await copyTag(`${registry.host}/kolla/base:1`, [`${registry.host}/kolla/base:2`], { env: dockerEnv({}) });
    const result = copied.get(`${registry.host}/kolla/base:2`);
    expect(result?.status).toBe('error');
    expect(result?.status === 'error' ? result.message : '').toMatch(/docker login 127\.0\.0\.1:\d+/);
    expect(registry.repos.get('kolla/base')?.has('2')).toBe(false);
  });

  it('copies only within the repository of the source', async () => {
    const registry = await startRegistry();
    const copied = await copyTag(`${registry.host}/kolla/base:1`, [`${registry.host}/kolla/other:2`], { env: {} });
    expect(copied.get(`${registry.host}/kolla/other:2`)).toEqual({ status: 'error', message: `${registry.host}/kolla/other:2 is not in the repository of ${registry.host}/kolla/base:1` });
  });
});
