// A real build of the image tree (docker/): the debian binary images base, openstack-base, keystone-base,
// keystone, mariadb and rabbitmq for amd64, on the end-to-end engine of test/e2e/engine (dockerd 26, buildx,
// BuildKit), then the keystone image run with a config.json, to show the start-up mechanism at work.
//
//   npm run test:tree     (root; the network to the machine's Debian mirror)
//
// - The base image is a Debian 12 rootfs made with debootstrap (test/tree/rootfs.sh, cached, which also fetches
//   tinyproxy), imported as
//   debian:12: no registry is needed.
// - The engine's bridge has no route out, so apt-get in RUN steps goes through a tinyproxy started here on the
//   bridge's address, passed to every target as the http_proxy build arg (as kolla-build passes proxies).
// - kolla-gen generates the bake file for these images only, into a temp dir; the tree itself is unchanged.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type Engine } from '../e2e/engine/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CACHE = process.env.KOLLA_GEN_TREE_CACHE ?? '/var/cache/kolla-gen-tree';
const TAG = '2026.1';
const ref = (image: string) => `kolla/debian-binary-${image}:${TAG}`;
const IMAGES = ['base', 'openstack-base', 'keystone-base', 'keystone', 'mariadb', 'rabbitmq'];

async function freePortOn(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForPort(host: string, port: number, proxy: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proxy.exitCode !== null) throw new Error(`tinyproxy exited ${proxy.exitCode}:\n${readFileSync(log, 'utf8')}`);
    const up = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
      socket.connect(port, host);
    });
    if (up) return;
    if (Date.now() > deadline) throw new Error(`tinyproxy not listening on ${host}:${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the tree: debian binary, built for real', () => {
  let engine: Engine | undefined;
  let proxy: ChildProcess | undefined;
  let work = '';
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    const t0 = Date.now();
    await execa('bash', [join(ROOT, 'test/tree/rootfs.sh'), CACHE], { stdio: 'inherit' });
    timings.rootfs = Date.now() - t0;

    engine = await startEngine();
    work = mkdtempSync(join(tmpdir(), 'kolla-gen-tree-'));

    // tinyproxy on the bridge, for the RUN steps' apt-get
    const port = await freePortOn(engine.bridgeAddress);
    const subnet = engine.bridgeAddress.replace(/\.\d+$/, '.0/24');
    const conf = join(work, 'tinyproxy.conf');
    writeFileSync(
      conf,
      [
        'User nobody',
        'Group nogroup',
        `Port ${port}`,
        `Listen ${engine.bridgeAddress}`,
        'Timeout 600',
        'MaxClients 64',
        `Allow ${subnet}`,
        'LogLevel Warning',
        `DefaultErrorFile "${join(CACHE, 'tinyproxy/usr/share/tinyproxy/default.html')}"`,
        `StatFile "${join(CACHE, 'tinyproxy/usr/share/tinyproxy/stats.html')}"`,
        '',
      ].join('\n'),
    );
    const proxyLog = join(work, 'tinyproxy.log');
    const out = openSync(proxyLog, 'a');
    proxy = spawn(join(CACHE, 'tinyproxy/usr/bin/tinyproxy'), ['-d', '-c', conf], { stdio: ['ignore', out, out] });
    await waitForPort(engine.bridgeAddress, port, proxy, proxyLog);

    // the base image
    const t1 = Date.now();
    await engine.docker(['image', 'import', join(CACHE, 'debian-12-rootfs.tar'), 'debian:12']);
    timings.import = Date.now() - t1;

    // the bake file for these images only (their ancestors come with them)
    const generated = join(work, 'generated');
    await execa('node', ['dist/cli.js', 'generate', '-b', 'debian', '-t', 'binary', '-a', 'amd64', '-o', generated, '--quiet', '^keystone$', '^mariadb$', '^rabbitmq$'], { cwd: ROOT });
    mkdirSync(join(work, 'config'), { recursive: true });

    // One retry: a mirror that drops a connection fails a RUN step; what had finished is served from the cache.
    const t2 = Date.now();
    const bakeArgs = ['buildx', 'bake', '-f', join(generated, 'docker-bake.json'), '--provenance=false', '--set', `*.args.http_proxy=http://${engine.bridgeAddress}:${port}`, 'default'];
    let bake = await engine.docker(bakeArgs, { cwd: ROOT, all: true, reject: false });
    if (bake.exitCode !== 0 && proxy.exitCode === null) {
      process.stderr.write(`[tree] bake failed, once more:\n${String(bake.all).split('\n').slice(-15).join('\n')}\n`);
      bake = await engine.docker(bakeArgs, { cwd: ROOT, all: true, reject: false });
    }
    timings.bake = Date.now() - t2;
    if (bake.exitCode !== 0) {
      const proxyState = proxy.exitCode === null ? 'running' : `exited ${proxy.exitCode}`;
      throw new Error(`bake failed:\n${String(bake.all).split('\n').slice(-60).join('\n')}\n--- tinyproxy (${proxyState}):\n${readFileSync(proxyLog, 'utf8').split('\n').slice(-20).join('\n')}`);
    }
  });

  afterAll(async () => {
    try {
      if (proxy?.pid !== undefined && proxy.exitCode === null) {
        proxy.kill('SIGTERM');
        await new Promise((r) => proxy!.once('exit', r));
      }
      await engine?.stop();
    } finally {
      if (work) rmSync(work, { recursive: true, force: true });
      process.stderr.write(`[tree] timings (s): ${Object.entries(timings).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}`).join(', ')}\n`);
    }
  });

  it('built every image', async () => {
    const r = await engine!.docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}']);
    const have = String(r.stdout).split('\n');
    for (const image of ['keystone', 'mariadb', 'rabbitmq']) expect(have).toContain(ref(image));
    expect(IMAGES.length).toBe(6);
  });

  it('keystone: kolla_start copies the config with its owner and mode, then runs the command', async () => {
    const dir = join(work, 'config', 'keystone');
    mkdirSync(join(dir, 'policy.d'), { recursive: true });
    writeFileSync(join(dir, 'keystone.conf'), '[DEFAULT]\ndebug = true\n');
    writeFileSync(join(dir, 'policy.d', 'extra.yaml'), '"identity:get_user": ""\n');
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({
        command: 'stat -c %U:%G:%a /etc/keystone/keystone.conf /etc/keystone/policy.d/extra.yaml',
        config_files: [
          { source: '/var/lib/kolla/config_files/keystone.conf', dest: '/etc/keystone/keystone.conf', owner: 'keystone', perm: '0600' },
          { source: '/var/lib/kolla/config_files/policy.d', dest: '/etc/keystone/policy.d', owner: 'keystone:keystone', perm: '0640', merge: true },
          { source: '/var/lib/kolla/config_files/missing.conf', dest: '/etc/keystone/missing.conf', optional: true },
        ],
      }),
    );
    const r = await engine!.docker(['run', '--rm', '--network', 'none', '-v', `${dir}:/var/lib/kolla/config_files:ro`, ref('keystone')], { all: true });
    const lines = String(r.all).split('\n');
    expect(lines).toContain('Copying /var/lib/kolla/config_files/keystone.conf to /etc/keystone/keystone.conf');
    expect(lines).toContain('Skipping /var/lib/kolla/config_files/missing.conf: not found, and optional');
    expect(lines.some((l) => l.startsWith("Running command: 'stat"))).toBe(true);
    expect(lines).toContain('keystone:keystone:600');
    expect(lines).toContain('keystone:keystone:640');
  });

  it('keystone: the command is keystone itself, running as the keystone user with its fixed uid', async () => {
    const dir = join(work, 'config', 'keystone-version');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ command: 'keystone-manage --version', config_files: [] }));
    const r = await engine!.docker(['run', '--rm', '--network', 'none', '-v', `${dir}:/var/lib/kolla/config_files:ro`, ref('keystone')], { all: true });
    expect(String(r.all)).toMatch(/Running command: 'keystone-manage --version'\n\d+\.\d+/);
    const id = await engine!.docker(['run', '--rm', '--network', 'none', ref('keystone'), 'id']);
    expect(String(id.stdout)).toMatch(/^uid=42425\(keystone\) gid=42425\(keystone\) groups=42425\(keystone\),42400\(kolla\)/);
  });

  it('a missing config.json stops the start with a clear message', async () => {
    const r = await engine!.docker(['run', '--rm', '--network', 'none', ref('keystone')], { all: true, reject: false });
    expect(r.exitCode).not.toBe(0);
    expect(String(r.all)).toContain('config.json not found');
  });

  it('mariadb and rabbitmq: the service users have their fixed ids, and the servers are installed', async () => {
    const mysql = await engine!.docker(['run', '--rm', '--network', 'none', ref('mariadb'), 'sh', '-c', 'id -u mysql; mariadbd --version']);
    expect(String(mysql.stdout)).toMatch(/^42434\n.*MariaDB/s);
    const rabbit = await engine!.docker(['run', '--rm', '--network', 'none', ref('rabbitmq'), 'sh', '-c', 'id -u rabbitmq; ls /usr/lib/rabbitmq/bin/rabbitmq-server']);
    expect(String(rabbit.stdout)).toMatch(/^42439\n.*rabbitmq-server/s);
  });
});
