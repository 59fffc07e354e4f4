// The end-to-end engine: a real dockerd (BuildKit, containerd image store), buildx, a local registry and arm64
// emulation, put together from Debian packages (see provision.sh) and run privately for one test file: its own
// data-root, exec-root, socket, bridge and binfmt entry, all under one temp dir, all removed by stop(). Needs root,
// an amd64 host and the network to Debian's mirror on the first run (then only the cache).
// Two engines, the ends of the supported range: `oldest` (trixie's dockerd 26 + buildx 0.13, the default) and
// `today` (forky's dockerd 28.5 + buildx 0.29); KOLLA_GEN_E2E_ENGINE=oldest|today picks one for the whole suite.
//
//   const engine = await startEngine();
//   await engine.docker(['buildx', 'bake', '--push', '--provenance=false'], { cwd });
//   await engine.stop();
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type Options, type Result } from 'execa';

export const DEFAULT_CACHE_DIR = '/var/cache/kolla-gen-e2e';
/** Every engine's temp dir is `<os tmpdir>/kge2e-XXXXXX`, its bridge `kge2e-<8 hex>`, its binfmt entry `kolla-gen-e2e-aarch64-<pid>`. */
export const TMP_PREFIX = 'kge2e-';
export const BRIDGE_PREFIX = 'kge2e-';
export const BINFMT_PREFIX = 'kolla-gen-e2e-';

const BINFMT_DIR = '/proc/sys/fs/binfmt_misc';
// qemu's own aarch64 ELF magic and mask (qemu-binfmt-conf.sh). The kernel decodes the \x escapes.
const AARCH64_MAGIC = String.raw`\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00`;
const AARCH64_MASK = String.raw`\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff`;
// Directories created outside the temp dir whatever the flags (dockerd, containerd, runc, mount's utab): removed if they were not there and are empty.
const HOST_RUN_DIRS = ['/run/docker/plugins', '/run/docker', '/run/containerd/s', '/run/containerd', '/run/runc', '/run/mount'];

/** The engines the suite runs on: the oldest supported one and today's (see ENGINES). */
export type EngineName = 'oldest' | 'today';
export const ENGINES: Record<EngineName, { suite: string; what: string; dockerd: string; buildx: string }> = {
  oldest: { suite: 'trixie', what: 'dockerd 26 + buildx 0.13', dockerd: '26.', buildx: '0.13.' },
  today: { suite: 'forky', what: 'dockerd 28.5 + buildx 0.29', dockerd: '28.5.', buildx: '0.29.' },
};

/** The engine KOLLA_GEN_E2E_ENGINE names (default: the oldest); anything else is an error, not a silent default. */
export function engineFromEnv(env: NodeJS.ProcessEnv = process.env): EngineName {
  const name = env.KOLLA_GEN_E2E_ENGINE ?? 'oldest';
  if (name !== 'oldest' && name !== 'today') throw new EngineError('start', `KOLLA_GEN_E2E_ENGINE=${name}: expected oldest or today`);
  return name;
}

export interface Paths {
  DOCKERD: string;
  DOCKER: string;
  DOCKER_BUILDX: string;
  CONTAINERD: string;
  RUNC: string;
  REGISTRY: string;
  QEMU_AARCH64: string;
  SKOPEO: string;
  IP: string;
  ROOTFS_AMD64: string;
  ROOTFS_ARM64: string;
}

export interface Engine {
  /** DOCKER_HOST, DOCKER_CONFIG (holding cli-plugins/docker-buildx), PATH (the engine's docker CLI first), BUILDKIT_PROGRESS=plain, KOLLA_GEN_CACHE_DIR (a cache of its own): pass to execa. */
  env: Record<string, string>;
  /** host:port of the local registry, e.g. "localhost:5000": plain HTTP, no TLS needed to push. */
  registry: string;
  /** rootfs tars (busybox) for offline base images: `FROM scratch` + `ADD rootfs-amd64.tar /`. */
  rootfs: { amd64: string; arm64: string };
  /** Runs the engine's docker CLI with env; a failure's message ends with the last lines of dockerd's log. */
  docker(args: readonly string[], opts?: Options): Promise<Result>;
  /** skopeo with this machine's binary, e.g. skopeo(['inspect', '--raw', '--tls-verify=false', 'docker://…']). */
  skopeo(args: readonly string[], opts?: Options): Promise<Result>;
  /** The last lines of dockerd's log, for failure messages. */
  dockerdLog(lines?: number): string;
  /** Stops everything it started and undoes every change (idempotent); throws naming whatever it could not undo. */
  stop(): Promise<void>;
  /** What this engine has left behind on the machine: empty after stop(). */
  leftovers(): string[];
  readonly paths: Paths;
  /** Which engine runs: oldest (dockerd 26 + buildx 0.13) or today (dockerd 28.5 + buildx 0.29). */
  readonly name: EngineName;
  /** buildx's version, e.g. "0.29.1" (from `docker buildx version`). */
  readonly buildxVersion: string;
  readonly cacheDir: string;
  readonly tmpDir: string;
  readonly bridge: string;
  readonly bridgeAddress: string;
  readonly binfmtEntry: string;
  /** registry: undefined when the engine uses another's (StartOptions.registry). */
  readonly pids: { dockerd: number; registry?: number };
  /** Milliseconds: provision (cached run ≈ 0.3 s), start (after provision), stop (set by stop()). */
  readonly timings: { provision: number; start: number; stop?: number };
}

export interface StartOptions {
  cacheDir?: string;
  /** Which engine; default: KOLLA_GEN_E2E_ENGINE, else the oldest. */
  engine?: EngineName;
  /** Progress lines (provision steps, readiness, teardown); default: stderr. */
  log?: (line: string) => void;
  /** Registry port on 127.0.0.1; default 5000 when free, else any free port. */
  registryPort?: number;
  /**
   * Push to this registry (host:port, e.g. another engine's `registry`) instead of starting one: engines that share
   * nothing but the registry, as per-arch CI runners do. The registry's owner must outlive this engine's use of it.
   */
  registry?: string;
}

export class EngineError extends Error {
  constructor(step: string, detail: string, logTail?: string) {
    super(`e2e engine: ${step} failed: ${detail}` + (logTail ? `\n--- last lines of ${logTail}` : ''));
    this.name = 'EngineError';
  }
}

// --- small synchronous helpers (teardown must also run in a process 'exit' handler) ---------------------------

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function runSync(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/** Whether a process is alive: zombies (exited, not yet reaped) count as gone. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** SIGTERM the pids, wait up to graceMs for them to exit, SIGKILL the rest; returns the ones still alive. */
function terminate(pids: number[], graceMs: number): number[] {
  const live = pids.filter(alive);
  live.forEach((pid) => signal(pid, 'SIGTERM'));
  const deadline = Date.now() + graceMs;
  while (live.some(alive) && Date.now() < deadline) sleepSync(50);
  const stubborn = live.filter(alive);
  stubborn.forEach((pid) => signal(pid, 'SIGKILL'));
  const killDeadline = Date.now() + 5000;
  while (stubborn.some(alive) && Date.now() < killDeadline) sleepSync(50);
  return stubborn.filter(alive);
}

/** Live processes whose command line mentions `needle` (our temp dir), but not this process. */
export function processesMentioning(needle: string): Array<{ pid: number; cmdline: string }> {
  const found: Array<{ pid: number; cmdline: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    } catch {
      continue;
    }
    if (cmdline.includes(needle) && alive(pid)) found.push({ pid, cmdline });
  }
  return found;
}

/** Whether any dockerd or containerd runs on the machine (ours are stopped by the time this is asked). */
function daemonsRunning(): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if ((comm === 'dockerd' || comm === 'containerd') && alive(Number(entry))) return true;
    } catch {
      // gone meanwhile
    }
  }
  return false;
}

/** Mount points at or under dir, deepest (last mounted) first. */
export function mountsUnder(dir: string): string[] {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))));
  return points.filter((p) => p === dir || p.startsWith(dir + '/')).reverse();
}

function tail(file: string, lines = 40): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd().split('\n');
    return `${file}:\n` + text.slice(-lines).join('\n');
  } catch (e) {
    return `${file}: (unreadable: ${(e as Error).message})`;
  }
}

function readPaths(cacheDir: string, engine: EngineName): Paths {
  const file = join(cacheDir, 'paths.env');
  const values: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values[line.slice(0, eq)] = line.slice(eq + 1);
  }
  const keys: Array<keyof Paths> = ['DOCKERD', 'DOCKER', 'DOCKER_BUILDX', 'CONTAINERD', 'RUNC', 'REGISTRY', 'QEMU_AARCH64', 'SKOPEO', 'IP', 'ROOTFS_AMD64', 'ROOTFS_ARM64'];
  // today's dockerd, CLI and buildx are written under TODAY_<key>; the rest is shared
  const own = new Set<keyof Paths>(['DOCKERD', 'DOCKER', 'DOCKER_BUILDX']);
  const paths = {} as Paths;
  for (const key of keys) {
    const name = engine === 'today' && own.has(key) ? `TODAY_${key}` : key;
    const value = values[name];
    if (!value || !existsSync(value)) throw new Error(`${file}: ${name} ${value ? `(${value}) does not exist` : 'missing'}: run provision.sh again`);
    paths[key] = value;
  }
  return paths;
}

// --- network: a private bridge on a free /24 -----------------------------------------------------------------

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

function usedNets(ip: string): Array<{ net: number; len: number }> {
  const text = runSync(ip, ['-4', '-o', 'addr', 'show']) + '\n' + runSync(ip, ['-4', 'route', 'show', 'table', 'all']);
  const nets: Array<{ net: number; len: number }> = [];
  for (const m of text.matchAll(/(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?/g)) {
    const len = m[2] === undefined ? 32 : Number(m[2]);
    const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    nets.push({ net: (ipv4ToInt(m[1]!) & mask) >>> 0, len });
  }
  return nets;
}

function pickSubnet(ip: string): string {
  const used = usedNets(ip);
  for (let i = 0; i < 100; i++) {
    const [a, b] = randomBytes(2);
    const base = `10.${100 + (a! % 150)}.${b}`;
    const net = ipv4ToInt(`${base}.0`);
    const overlaps = used.some(({ net: n, len }) => {
      const shorter = Math.min(len, 24);
      const mask = shorter === 0 ? 0 : (0xffffffff << (32 - shorter)) >>> 0;
      return ((n & mask) >>> 0) === ((net & mask) >>> 0);
    });
    if (!overlaps) return base;
  }
  throw new Error('found no free 10.x.y.0/24 for the bridge');
}

async function freePort(preferred: number): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number | undefined>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(undefined));
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        const got = typeof address === 'object' && address ? address.port : undefined;
        server.close(() => resolve(got));
      });
    });
  return (await tryPort(preferred)) ?? (await tryPort(0)) ?? Promise.reject(new Error('no free TCP port on 127.0.0.1'));
}

// --- safety net: tear every live engine down when the process ends ------------------------------------------

const live = new Set<() => void>();
let handlersInstalled = false;

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const all = () => {
    for (const teardown of [...live]) {
      try {
        teardown();
      } catch (e) {
        process.stderr.write(`e2e engine: teardown at exit: ${(e as Error).message}\n`);
      }
    }
  };
  process.on('exit', all);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      all();
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig); // then die of it, as without the handler
    };
    process.on(sig, onSignal);
  }
}

// --- the engine ---------------------------------------------------------------------------------------------

interface State {
  tmpDir?: string;
  bridge?: string;
  binfmtEntry?: string;
  mountedBinfmt: boolean;
  runDirsBefore: Set<string>;
  children: ChildProcess[];
  done: boolean;
}

/** Undoes whatever `state` records, in reverse order; returns what could not be undone. */
function teardownSync(state: State, ip: string): string[] {
  if (state.done) return [];
  const problems: string[] = [];
  const attempt = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (e) {
      problems.push(`${what}: ${(e as Error).message}`);
    }
  };
  const [dockerd, registry] = state.children;
  // registry, then dockerd (which stops its containers and its managed containerd), by pid, waiting for them
  attempt('stop the registry', () => {
    if (registry?.pid && terminate([registry.pid], 10_000).length) throw new Error(`pid ${registry.pid} survived SIGKILL`);
  });
  attempt('stop dockerd', () => {
    if (dockerd?.pid && terminate([dockerd.pid], 30_000).length) throw new Error(`pid ${dockerd.pid} survived SIGKILL`);
  });
  if (state.tmpDir) {
    const tmp = state.tmpDir;
    // anything still running from our temp dir (containerd, shims) was started by our dockerd
    attempt('stop leftover processes', () => {
      const rest = processesMentioning(tmp).map((p) => p.pid);
      const stubborn = terminate(rest, 10_000);
      if (stubborn.length) throw new Error(`pids ${stubborn.join(' ')} survived SIGKILL`);
    });
    attempt('unmount under the temp dir', () => {
      for (const point of mountsUnder(tmp)) {
        const r = spawnSync('umount', [point], { encoding: 'utf8' });
        if (r.status !== 0) runSync('umount', ['-l', point]);
      }
    });
  }
  if (state.binfmtEntry) {
    const entry = join(BINFMT_DIR, state.binfmtEntry);
    attempt(`unregister binfmt ${state.binfmtEntry}`, () => {
      if (existsSync(entry)) writeFileSync(entry, '-1');
    });
  }
  if (state.mountedBinfmt) {
    attempt('unmount binfmt_misc', () => {
      const others = existsSync(BINFMT_DIR) ? readdirSync(BINFMT_DIR).filter((e) => e !== 'register' && e !== 'status') : [];
      if (others.length === 0 && existsSync(join(BINFMT_DIR, 'register'))) runSync('umount', [BINFMT_DIR]);
    });
  }
  if (state.bridge) {
    const bridge = state.bridge;
    attempt(`delete bridge ${bridge}`, () => {
      if (spawnSync(ip, ['link', 'show', bridge]).status === 0) runSync(ip, ['link', 'del', bridge]);
    });
  }
  attempt('remove /run dirs dockerd created', () => {
    // A dir that was there before may be another engine's, started alongside this one, which it left to us
    // when it stopped first: once no dockerd or containerd runs at all, an empty one is nobody's.
    const nobodyRuns = !daemonsRunning();
    for (const dir of HOST_RUN_DIRS) {
      if ((state.runDirsBefore.has(dir) && !nobodyRuns) || !existsSync(dir)) continue;
      if (readdirSync(dir).length === 0) rmdirSync(dir);
    }
  });
  if (state.tmpDir) {
    const tmp = state.tmpDir;
    attempt(`remove ${tmp}`, () => {
      if (mountsUnder(tmp).length) throw new Error(`still mounted: ${mountsUnder(tmp).join(' ')}`);
      // --one-file-system: never follow into a mount that escaped the unmount above
      if (existsSync(tmp)) runSync('rm', ['-rf', '--one-file-system', tmp]);
    });
  }
  state.done = problems.length === 0;
  return problems;
}

function leftoversOf(state: State, ip: string): string[] {
  const found: string[] = [];
  const [dockerd, registry] = state.children;
  for (const [name, child] of [['dockerd', dockerd], ['registry', registry]] as const) {
    if (child?.pid && alive(child.pid)) found.push(`${name} (pid ${child.pid}) is running`);
  }
  if (state.tmpDir) {
    for (const p of processesMentioning(state.tmpDir)) found.push(`process ${p.pid} is running: ${p.cmdline}`);
    for (const m of mountsUnder(state.tmpDir)) found.push(`mount ${m}`);
    if (existsSync(state.tmpDir)) found.push(`temp dir ${state.tmpDir}`);
  }
  if (state.bridge && spawnSync(ip, ['link', 'show', state.bridge]).status === 0) found.push(`bridge ${state.bridge}`);
  if (state.binfmtEntry && existsSync(join(BINFMT_DIR, state.binfmtEntry))) found.push(`binfmt entry ${state.binfmtEntry}`);
  if (state.mountedBinfmt && existsSync(join(BINFMT_DIR, 'register')) && readdirSync(BINFMT_DIR).length <= 2) found.push(`binfmt_misc still mounted on ${BINFMT_DIR}`);
  for (const dir of HOST_RUN_DIRS) if (!state.runDirsBefore.has(dir) && existsSync(dir)) found.push(`${dir} (created by the engine)`);
  return found;
}

async function poll(what: string, timeoutMs: number, check: () => Promise<boolean>, died: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const death = died();
    if (death) throw new Error(death);
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function spawnLogged(cmd: string, args: string[], logFile: string, env: NodeJS.ProcessEnv): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    // detached: its own process group, so a Ctrl-C reaches our handlers, which stop it in order
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], env });
    child.on('error', () => {}); // reported by the readiness poll (no pid / exited)
    child.unref();
    return child;
  } finally {
    closeSync(fd);
  }
}

function exited(child: ChildProcess, name: string, logFile: string): string | undefined {
  if (child.pid === undefined) return `${name} did not start\n--- ${tail(logFile)}`;
  if (child.exitCode !== null || child.signalCode !== null || !alive(child.pid)) {
    return `${name} exited (${child.exitCode ?? child.signalCode ?? 'gone'})\n--- ${tail(logFile)}`;
  }
  return undefined;
}

/** Engines this process started: the second and later get binfmt entries of their own. */
let enginesStarted = 0;

export async function startEngine(options: StartOptions = {}): Promise<Engine> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[e2e engine] ${line}\n`));
  const cacheDir = options.cacheDir ?? process.env.KOLLA_GEN_E2E_CACHE ?? DEFAULT_CACHE_DIR;
  const name = options.engine ?? engineFromEnv();
  if (process.getuid?.() !== 0) {
    throw new EngineError('start', 'needs root (it installs Debian packages, runs dockerd, adds a bridge and a binfmt entry)');
  }
  let step = 'provision';
  const state: State = { mountedBinfmt: false, runDirsBefore: new Set(HOST_RUN_DIRS.filter((d) => existsSync(d))), children: [], done: false };
  let ip = '/usr/sbin/ip';
  const teardown = () => {
    const problems = teardownSync(state, ip);
    if (state.done) live.delete(teardown);
    return problems;
  };
  installExitHandlers();
  live.add(teardown);

  const t0 = Date.now();
  let provisionMs = 0;
  let dockerdLogFile = '';
  try {
    // 1. provision (a cached run only checks, in about 0.3 s)
    const script = fileURLToPath(new URL('./provision.sh', import.meta.url));
    const prov = await execa('bash', [script, cacheDir], { all: true, reject: false });
    if (prov.exitCode !== 0) {
      throw new Error(`provision.sh exited ${prov.exitCode}:\n${String(prov.all).trimEnd().split('\n').slice(-30).join('\n')}`);
    }
    provisionMs = Date.now() - t0;
    log(String(prov.all).trimEnd().split('\n').pop() ?? 'provisioned');
    const paths = readPaths(cacheDir, name);
    ip = paths.IP;
    const unpacked = join(cacheDir, ENGINES[name].suite);
    const PATH = [join(unpacked, 'usr/bin'), join(unpacked, 'usr/sbin'), process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'].join(':');

    // 2. temp dir: data-root, exec-root, socket, DOCKER_CONFIG, registry storage, logs
    step = 'create the temp dir';
    const tmp = mkdtempSync(join(tmpdir(), TMP_PREFIX));
    state.tmpDir = tmp;
    for (const dir of ['data', 'exec', 'docker-config/cli-plugins', 'registry']) mkdirSync(join(tmp, dir), { recursive: true });
    symlinkSync(paths.DOCKER_BUILDX, join(tmp, 'docker-config/cli-plugins/docker-buildx'));
    writeFileSync(join(tmp, 'docker-config/config.json'), '{}\n');
    writeFileSync(join(tmp, 'daemon.json'), JSON.stringify({ features: { 'containerd-snapshotter': true } }, null, 2) + '\n');
    dockerdLogFile = join(tmp, 'dockerd.log');

    // 3. a private bridge, so that docker0 is never created and BuildKit's RUN has a network
    step = 'create the bridge';
    const bridge = BRIDGE_PREFIX + randomBytes(4).toString('hex');
    const subnet = pickSubnet(ip);
    const bridgeAddress = `${subnet}.1`;
    runSync(ip, ['link', 'add', bridge, 'type', 'bridge']);
    state.bridge = bridge;
    runSync(ip, ['addr', 'add', `${bridgeAddress}/24`, 'dev', bridge]);
    runSync(ip, ['link', 'set', bridge, 'up']);

    // 4. arm64 emulation: qemu-aarch64-static, flags FP (F alone breaks busybox applets)
    step = 'register qemu-aarch64 with binfmt_misc';
    if (!existsSync(join(BINFMT_DIR, 'register'))) {
      runSync('mount', ['-t', 'binfmt_misc', 'binfmt_misc', BINFMT_DIR]);
      state.mountedBinfmt = true;
    }
    // one entry per engine: a test file may run several at once (separate-engines.test.ts)
    const binfmtEntry = `${BINFMT_PREFIX}aarch64-${process.pid}${enginesStarted > 0 ? `-${enginesStarted}` : ''}`;
    enginesStarted++;
    writeFileSync(join(BINFMT_DIR, 'register'), `:${binfmtEntry}:M::${AARCH64_MAGIC}:${AARCH64_MASK}:${paths.QEMU_AARCH64}:FP`);
    state.binfmtEntry = binfmtEntry;

    // 5. the registry, on 127.0.0.1 only (unless the engine uses another's)
    step = 'start the registry';
    const port = options.registry === undefined ? await freePort(options.registryPort ?? 5000) : 0;
    const registryLog = join(tmp, 'registry.log');
    if (options.registry === undefined) writeFileSync(
      join(tmp, 'registry.yml'),
      [
        'version: 0.1',
        'log:',
        '  level: warn',
        '  accesslog:',
        '    disabled: true',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${join(tmp, 'registry')}`,
        '  delete:',
        '    enabled: true',
        'http:',
        `  addr: 127.0.0.1:${port}`,
        '  secret: kolla-gen-e2e',
        '',
      ].join('\n'),
    );
    const registryProc = options.registry === undefined ? spawnLogged(paths.REGISTRY, ['serve', join(tmp, 'registry.yml')], registryLog, process.env) : undefined;
    if (registryProc) state.children[1] = registryProc;

    // 6. dockerd with the containerd image store; it starts and stops its own containerd
    step = 'start dockerd';
    const sock = join(tmp, 'docker.sock');
    const dockerdProc = spawnLogged(
      paths.DOCKERD,
      [
        '--config-file', join(tmp, 'daemon.json'),
        '--storage-driver=overlayfs',
        '--iptables=false', '--ip6tables=false', '--ip-forward=false',
        '--data-root', join(tmp, 'data'),
        '--exec-root', join(tmp, 'exec'),
        '--pidfile', join(tmp, 'dockerd.pid'),
        '-H', `unix://${sock}`,
        '-b', bridge,
      ],
      dockerdLogFile,
      { ...process.env, PATH },
    );
    state.children[0] = dockerdProc;

    const env: Record<string, string> = {
      DOCKER_HOST: `unix://${sock}`,
      DOCKER_CONFIG: join(tmp, 'docker-config'),
      PATH,
      BUILDKIT_PROGRESS: 'plain',
      // kolla-gen's cache (templates, the registry's digest store) of this engine's own, as on a runner of its own:
      // never the machine's ~/.cache/kolla-gen, which earlier runs (reproducible images: the same digests) filled
      KOLLA_GEN_CACHE_DIR: join(tmp, 'kolla-gen-cache'),
    };
    const registry = options.registry ?? `localhost:${port}`;

    step = 'wait for the registry';
    await poll('the registry', 30_000, async () => {
      try {
        return (await fetch(`http://${registry.replace(/^localhost:/, '127.0.0.1:')}/v2/`)).status === 200;
      } catch {
        return false;
      }
    }, () => (registryProc ? exited(registryProc, 'the registry', registryLog) : undefined));

    step = 'wait for dockerd';
    await poll('dockerd', 60_000, async () => {
      const r = await execa(paths.DOCKER, ['version', '--format', '{{.Server.Version}}'], { env, reject: false, timeout: 10_000 });
      return r.exitCode === 0;
    }, () => exited(dockerdProc, 'dockerd', dockerdLogFile));
    step = 'check buildx';
    const bx = await execa(paths.DOCKER, ['buildx', 'version'], { env, reject: false });
    if (bx.exitCode !== 0) throw new Error(`docker buildx version: ${bx.stderr || bx.stdout}`);

    const startMs = Date.now() - t0 - provisionMs;
    const buildxVersion = /v?(\d+\.\d+\.\d+)/.exec(bx.stdout)?.[1] ?? 'unknown';
    log(`${name} engine (${ENGINES[name].what}) ready in ${(startMs / 1000).toFixed(1)}s: dockerd pid ${dockerdProc.pid}, registry ${registry} (${registryProc ? `pid ${registryProc.pid}` : 'shared'}), bridge ${bridge} ${bridgeAddress}/24, ${bx.stdout.trim()}`);

    const withLog = async (p: Promise<Result>, opts: Options | undefined): Promise<Result> => {
      try {
        return await p;
      } catch (e) {
        if (opts?.reject === false) throw e;
        (e as Error).message += `\n--- last lines of ${tail(dockerdLogFile, 30)}`;
        throw e;
      }
    };
    const timings: Engine['timings'] = { provision: provisionMs, start: startMs };
    const engine: Engine = {
      env,
      registry,
      rootfs: { amd64: paths.ROOTFS_AMD64, arm64: paths.ROOTFS_ARM64 },
      paths,
      name,
      buildxVersion,
      cacheDir,
      tmpDir: tmp,
      bridge,
      bridgeAddress,
      binfmtEntry,
      pids: { dockerd: dockerdProc.pid!, ...(registryProc ? { registry: registryProc.pid! } : {}) },
      timings,
      docker: (args, opts) => withLog(execa(paths.DOCKER, args, { ...opts, env: { ...env, ...opts?.env } }) as Promise<Result>, opts),
      skopeo: (args, opts) => execa(paths.SKOPEO, args, { ...opts, env: { ...env, ...opts?.env } }) as Promise<Result>,
      dockerdLog: (lines = 40) => tail(dockerdLogFile, lines),
      async stop() {
        if (state.done) return;
        const s0 = Date.now();
        const problems = teardown();
        // let node reap the children it spawned
        await Promise.all(
          state.children.map((c) => (c.exitCode !== null || c.signalCode !== null || c.pid === undefined ? undefined : new Promise((r) => { c.once('exit', r); setTimeout(r, 2000); }))),
        );
        timings.stop = Date.now() - s0;
        log(`stopped in ${(timings.stop / 1000).toFixed(1)}s`);
        if (problems.length) throw new EngineError('stop', problems.join('; '));
      },
      leftovers: () => leftoversOf(state, ip),
    };
    return engine;
  } catch (e) {
    const message = (e as Error).message;
    const dockerdSteps = ['start dockerd', 'wait for dockerd', 'check buildx'];
    const logTail = dockerdSteps.includes(step) && !message.includes('\n--- ') && existsSync(dockerdLogFile) ? tail(dockerdLogFile) : undefined;
    const problems = teardown();
    const undo = problems.length ? `\n(and teardown failed: ${problems.join('; ')})` : '';
    throw new EngineError(step, message + undo, logTail);
  }
}

/**
 * Copies an e2e fixture tree into dir, with the engine's busybox rootfs tars in its base image's folder
 * (`docker/base/rootfs-<arch>.tar`): the offline bases its base image adds (`FROM scratch` + `ADD`).
 */
export function seedTree(engine: Pick<Engine, 'rootfs'>, fixture: string, dir: string): void {
  cpSync(fixture, dir, { recursive: true });
  mkdirSync(join(dir, 'docker', 'base'), { recursive: true });
  for (const arch of ['amd64', 'arm64'] as const) copyFileSync(engine.rootfs[arch], join(dir, 'docker', 'base', `rootfs-${arch}.tar`));
}
