// The template cache as CI restores it (issue 25, item 5): whatever lies under an entry's name is read as found, never
// as kolla-gen wrote it. A FIFO, a link (to /dev/zero), a huge file, a truncated file, an entry whose bytes were
// changed, a file another user can write, a relative XDG_CACHE_HOME: each ends as a run without the cache would (same
// exit, same bytes), in bounded time and memory, and writes nothing outside the output dir and the cache dir.
import { execa, execaSync } from 'execa';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeEntries, encodeEntries } from '../src/commands/template-cache.js';
import { CLI, copyFixture, snapshot, temps } from './support/cli.js';

// KG_TEST_CLI runs the cases against another build (main's dist, for the before/after of the issue).
const CLI_UNDER_TEST = process.env.KG_TEST_CLI ?? CLI;
const KINDS = ['outputs', 'renders', 'templates'] as const;
/** A run that hangs (a FIFO read to its end) is killed by this, and fails its test. */
const RUN_TIMEOUT = 90_000;

function cacheDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-hostile-cache-'));
  temps.push(dir);
  return path.join(dir, 'cache');
}

/** The built CLI with only this environment, killed after RUN_TIMEOUT; its peak memory (KiB) from GNU time. */
async function kg(cwd: string, args: string[], env: Record<string, string>) {
  const r = await execa('/usr/bin/time', ['-f', 'KG_MAXRSS %M', 'node', CLI_UNDER_TEST, ...args], {
    cwd,
    reject: false,
    extendEnv: false,
    env: { PATH: process.env.PATH ?? '', HOME: path.join(cwd, 'home'), ...env },
    timeout: RUN_TIMEOUT,
  });
  const rss = Number(/KG_MAXRSS (\d+)/.exec(r.stderr)?.[1] ?? NaN);
  return { exitCode: r.exitCode, timedOut: r.timedOut, stdout: r.stdout, stderr: r.stderr.replace(/KG_MAXRSS \d+\n?/, ''), rss };
}

/** The cache's file of a kind, as a run names it (one repo root: one file per kind). */
function cacheFile(cache: string, kind: (typeof KINDS)[number]): string {
  const name = fs.readdirSync(cache).find((f) => f.startsWith(`${kind}-`) && f.endsWith('.bin'));
  if (name === undefined) throw new Error(`no ${kind} file in ${cache}`);
  return path.join(cache, name);
}

/** The basic fixture, its output made without any cache (what every case must end with), and the cache files' names. */
async function setup() {
  const dir = copyFixture('basic');
  const cache = cacheDir();
  const made = await kg(dir, ['generate', '-o', 'out'], { KOLLA_GEN_CACHE_DIR: cache });
  expect(made.exitCode).toBe(0);
  const files = Object.fromEntries(KINDS.map((kind) => [kind, cacheFile(cache, kind)])) as Record<(typeof KINDS)[number], string>;
  const expected = snapshot(path.join(dir, 'out'));
  return { dir, cache, files, expected };
}

/** Runs generate (from an empty output dir) then check with the cache as planted: both as without it. */
async function expectAsWithout(s: Awaited<ReturnType<typeof setup>>) {
  fs.rmSync(path.join(s.dir, 'out'), { recursive: true, force: true });
  const generated = await kg(s.dir, ['generate', '-o', 'out'], { KOLLA_GEN_CACHE_DIR: s.cache });
  expect(generated.timedOut).toBe(false);
  expect(generated.stderr).not.toMatch(/KG9\d\d|Error:/);
  expect(generated.exitCode).toBe(0);
  expect(snapshot(path.join(s.dir, 'out'))).toEqual(s.expected);
  const checked = await kg(s.dir, ['check', '-o', 'out'], { KOLLA_GEN_CACHE_DIR: s.cache });
  expect(checked.timedOut).toBe(false);
  expect(checked.exitCode).toBe(0);
  return { generated, checked };
}

// Each case runs the CLI up to five times, each bounded by RUN_TIMEOUT.
describe('a hostile cache dir', { timeout: 5 * RUN_TIMEOUT }, () => {
  it('a FIFO under an entry name is not opened for a blocking read: generate and check end as without the cache', async () => {
    const s = await setup();
    for (const kind of KINDS) {
      fs.rmSync(s.files[kind]);
      execaSync('mkfifo', [s.files[kind]]);
    }
    await expectAsWithout(s);
  });

  it('a link to /dev/zero under an entry name is not followed: bounded memory', async () => {
    const s = await setup();
    for (const kind of KINDS) {
      fs.rmSync(s.files[kind]);
      fs.symlinkSync('/dev/zero', s.files[kind]);
    }
    const { generated, checked } = await expectAsWithout(s);
    // A run of this fixture takes well under 200 MiB; reading /dev/zero grows without end.
    expect(generated.rss).toBeLessThan(400 * 1024);
    expect(checked.rss).toBeLessThan(400 * 1024);
  });

  it('a link to a well-formed cache file elsewhere is not followed', async () => {
    const s = await setup();
    const elsewhere = path.join(path.dirname(s.cache), 'elsewhere.bin');
    fs.renameSync(s.files.outputs, elsewhere);
    fs.writeFileSync(elsewhere, fs.readFileSync(elsewhere).toString('latin1').replace('ca-certificates curl', 'ca-certificates evil'), 'latin1');
    fs.symlinkSync(elsewhere, s.files.outputs);
    await expectAsWithout(s);
  });

  it('a huge file under an entry name is not read (size bound, memory stays low)', async () => {
    const s = await setup();
    for (const kind of KINDS) {
      fs.rmSync(s.files[kind]);
      // Sparse: 1 GiB on no disk space.
      const fd = fs.openSync(s.files[kind], 'w', 0o600);
      fs.ftruncateSync(fd, 1024 ** 3);
      fs.closeSync(fd);
    }
    const { generated } = await expectAsWithout(s);
    expect(generated.rss).toBeLessThan(400 * 1024);
  });

  it('a truncated file is a miss, not an error', async () => {
    const s = await setup();
    for (const kind of KINDS) {
      const size = fs.statSync(s.files[kind]).size;
      fs.truncateSync(s.files[kind], Math.floor(size * 0.7));
    }
    await expectAsWithout(s);
    for (const kind of KINDS) {
      fs.truncateSync(s.files[kind], 3);
    }
    await expectAsWithout(s);
  });

  it('an entry whose bytes were changed (a Dockerfile the templates never rendered) reaches neither generate nor check', async () => {
    const s = await setup();
    const committed = path.join(s.dir, 'out', 'ubuntu', 'base', 'Dockerfile');
    const crafted = fs.readFileSync(committed, 'utf8').replace('ca-certificates curl', 'ca-certificates evil');
    // The same change in every kept output and rendering: same length, so the file's shape stays whole.
    for (const kind of ['outputs', 'renders'] as const) {
      const bytes = fs.readFileSync(s.files[kind]).toString('latin1');
      expect(bytes).toContain('ca-certificates curl');
      fs.writeFileSync(s.files[kind], bytes.replaceAll('ca-certificates curl', 'ca-certificates evil'), 'latin1');
    }
    await expectAsWithout(s);
    expect(fs.readFileSync(committed, 'utf8')).not.toContain('evil');

    // The crafted Dockerfile committed, with the crafted cache: check fails on it.
    for (const kind of ['outputs', 'renders'] as const) {
      const bytes = fs.readFileSync(s.files[kind]).toString('latin1');
      fs.writeFileSync(s.files[kind], bytes.replaceAll('ca-certificates curl', 'ca-certificates evil'), 'latin1');
    }
    fs.writeFileSync(committed, crafted);
    const checked = await kg(s.dir, ['check', '-o', 'out'], { KOLLA_GEN_CACHE_DIR: s.cache });
    expect(checked.exitCode).toBe(1);
    expect(checked.stdout + checked.stderr).toContain('ubuntu/base/Dockerfile');
  });

  it('a file others can write, or another user owns, is not read even when whole', async () => {
    const s = await setup();
    // A well-formed file, digests and all (as whoever writes the dir with kolla-gen's code can make), whose kept
    // output and renderings differ from what the templates render.
    const craft = (kind: 'outputs' | 'renders') => {
      const file = decodeEntries(fs.readFileSync(s.files[kind]));
      const entries = new Map([...file.entries].map(([key, blob]) => [key, Buffer.from(Buffer.from(blob).toString('latin1').replaceAll('ca-certificates curl', 'ca-certificates evil'), 'latin1')]));
      fs.writeFileSync(s.files[kind], encodeEntries(file.stamp as string, entries), { mode: 0o600 });
    };
    const base = path.join(s.dir, 'out', 'ubuntu', 'base', 'Dockerfile');
    // The limit docs/security.md states: a whole file of this user's is taken (this is what the mode check stops).
    craft('outputs');
    craft('renders');
    fs.rmSync(path.join(s.dir, 'out'), { recursive: true });
    expect((await kg(s.dir, ['generate', '-o', 'out'], { KOLLA_GEN_CACHE_DIR: s.cache })).exitCode).toBe(0);
    expect(fs.readFileSync(base, 'utf8')).toContain('evil');

    fs.chmodSync(s.files.outputs, 0o666);
    fs.chmodSync(s.files.renders, 0o620);
    await expectAsWithout(s);
    // The run read neither file, so wrote them anew, with its own mode.
    expect(fs.statSync(s.files.outputs).mode & 0o777).toBe(0o600);
    if (process.getuid?.() === 0) {
      craft('outputs');
      craft('renders');
      fs.chownSync(s.files.outputs, 65534, 65534);
      fs.chownSync(s.files.renders, 65534, 65534);
      await expectAsWithout(s);
      expect(fs.statSync(s.files.outputs).uid).toBe(0);
    }
  });

  it('a relative XDG_CACHE_HOME is ignored: nothing is written into the tree (an image context) or the cwd', async () => {
    const dir = copyFixture('basic');
    const home = path.join(dir, 'home');
    fs.mkdirSync(home);
    const tree = snapshot(path.join(dir, 'docker'));
    const r = await kg(dir, ['generate', '-o', 'out'], { XDG_CACHE_HOME: 'docker/base' });
    expect(r.exitCode).toBe(0);
    expect(snapshot(path.join(dir, 'docker'))).toEqual(tree);
    expect(fs.existsSync(path.join(dir, 'docker', 'base', 'kolla-gen'))).toBe(false);
    // The cache went where XDG says for no (valid) XDG_CACHE_HOME: $HOME/.cache.
    expect(fs.readdirSync(path.join(home, '.cache', 'kolla-gen')).length).toBe(3);
    // An absolute one is taken.
    const xdg = path.join(dir, 'xdg');
    expect((await kg(dir, ['check', '-o', 'out'], { XDG_CACHE_HOME: xdg })).exitCode).toBe(0);
    expect(fs.readdirSync(path.join(xdg, 'kolla-gen')).length).toBeGreaterThan(0);
  });
});
