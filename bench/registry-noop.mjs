#!/usr/bin/env node
// A no-op run at Kolla's scale (issue 27 item 7): `list --skip-existing` of upstream Kolla x 8 variants against a
// registry stand-in (bench/registry-standin.mjs) on loopback that answers after a fixed delay, when nothing is there
// and when everything is (a list per multi-arch target, an image per one-arch target, as `build --push` leaves them).
// "everything, first" runs with an empty digest store (a fresh runner), "everything, again" with the one the first
// left (a runner that keeps ~/.cache/kolla-gen); "verify, first" and "verify, again" are the same with
// --verify-existing (each list read, each arch's image asked for), measured only for a CLI that has the flag (a
// baseline without it checked every list so by default: its "everything" rows are that). Prints requests per target
// by method, the most in flight, the time.
//
// usage: npm run -s build && node bench/registry-noop.mjs [--kolla CHECKOUT] [--delay MS] [--baseline DIR]
//   KOLLA_GEN_CLI: the CLI to measure instead of this checkout's dist/cli.js (a copy, while tests rebuild dist/)
//   --baseline DIR   a kolla-gen checkout with dist/ built (e.g. main), measured the same way beside this one
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bakeTargets, startStandIn } from './registry-standin.mjs';

const TIME = fs.existsSync('/usr/bin/time') && spawnSync('/usr/bin/time', ['-f', '%U', '-o', '/dev/null', process.execPath, '-e', '']).status === 0;
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function parseArgs(argv) {
  const o = { delay: 50, kolla: process.env.KOLLA_SRC, baseline: undefined };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--delay' && Number.isFinite(Number(value))) o.delay = Number(value);
    else if (flag === '--kolla' && value) o.kolla = path.resolve(value);
    else if (flag === '--baseline' && value) o.baseline = path.resolve(value);
    else throw new Error(`usage: registry-noop.mjs [--kolla CHECKOUT] [--delay MS] [--baseline DIR]; got ${argv.slice(i).join(' ')}`);
  }
  o.kolla ??= ['../kolla-rel/master', '../kolla', '../../kolla-rel/master'].map((d) => path.resolve(repo, d)).find((d) => fs.existsSync(d));
  return o;
}

/** The kolla/docker (or docker) dir of a checkout. */
export function kollaDockerDir(checkout) {
  const dir = ['kolla/docker', 'docker'].map((d) => path.resolve(checkout, d)).find((d) => fs.existsSync(path.join(d, 'base')));
  if (!dir) throw new Error(`${checkout}: no kolla/docker or docker dir`);
  return dir;
}

/**
 * Measures each CLI ({ name, cli }) on the Kolla checkout; returns the rows. `log` gets progress lines.
 */
export async function measureRegistryNoop({ clis, kolla, delay = 50, log = () => {} }) {
  const dockerDir = kollaDockerDir(kolla);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-bench-registry-'));
  const registry = await startStandIn({ delayMs: delay });
  const common = ['--preset', 'kolla', '-D', dockerDir, '--registry', registry.host];
  const rows = [];
  try {
    // GNU time gives the CPU a run took: on a busy machine the wall time is mostly waiting for a CPU
    const timeFile = path.join(work, 'time');
    // not spawnSync: the stand-in answers from this process's event loop
    const cliRun = async (cli, args, cache) => {
      const [command, argv] = TIME ? ['/usr/bin/time', ['-f', '%U %S', '-o', timeFile, process.execPath, cli, ...args]] : [process.execPath, [cli, ...args]];
      const start = process.hrtime.bigint();
      const r = await new Promise((resolve, reject) => {
        const child = spawn(command, argv, { cwd: work, env: { PATH: process.env.PATH, HOME: work, KOLLA_GEN_CACHE_DIR: cache } });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('error', reject);
        child.on('close', (status) => resolve({ status, stdout, stderr }));
      });
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (r.status !== 0) throw new Error(`${cli} ${args.join(' ')}: exit ${r.status}\n${r.stderr}${r.stdout.slice(0, 2000)}`);
      const cpu = TIME ? fs.readFileSync(timeFile, 'utf8').trim().split(/\s+/).slice(-2).reduce((a, b) => a + Number(b), 0) : NaN;
      return { seconds, cpu, stdout: r.stdout };
    };
    // the targets and their content tags, as the bake file of this checkout names them
    const cache0 = path.join(work, 'cache-gen');
    await cliRun(clis[0].cli, ['generate', ...common, '--content-tags', '-o', path.join(work, 'gen')], cache0);
    const targets = bakeTargets(path.join(work, 'gen', 'docker-bake.json'));
    log(`${targets.length} targets (${targets.filter((t) => t.arches.length > 1).length} multi-arch) on ${registry.host}, ${delay} ms a request`);
    const list = ['list', ...common, '--insecure-registry', registry.host, '--skip-existing', '--json'];
    for (const { name, cli } of clis) {
      const verifies = String(spawnSync(process.execPath, [cli, 'list', '--help'], { encoding: 'utf8' }).stdout).includes('--verify-existing');
      const cache = path.join(work, `cache-${name}`);
      // templates cached before the runs measured, as on a runner that keeps ~/.cache/kolla-gen
      await cliRun(cli, ['list', ...common], cache);
      const scenario = async (label, fill, keepStore, extra = []) => {
        registry.clear();
        if (fill) for (const t of targets) registry.push(t.tag, t.arches);
        if (!keepStore) fs.rmSync(path.join(cache, 'registry'), { recursive: true, force: true });
        registry.reset();
        const { seconds, cpu, stdout } = await cliRun(cli, [...list, ...extra], cache);
        const json = JSON.parse(stdout);
        const existing = (json.result ?? json).variants.reduce((n, v) => n + (v.existing?.length ?? 0), 0);
        const row = { cli: name, scenario: label, targets: targets.length, head: registry.counts.HEAD, get: registry.counts.GET, other: registry.counts.other, maxInFlight: registry.maxInFlight, seconds, cpu, existing };
        rows.push(row);
        log(formatRow(row));
      };
      await scenario('nothing there', false, false);
      await scenario('everything, first', true, false);
      await scenario('everything, again', true, true);
      if (verifies) {
        await scenario('verify, first', true, false, ['--verify-existing']);
        await scenario('verify, again', true, true, ['--verify-existing']);
      } else log(`${name}: no --verify-existing (it checks every list so by default): no verify rows`);
    }
  } finally {
    await registry.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
  return rows;
}

const perTarget = (n, row) => (n / row.targets).toFixed(2);

export function formatRow(row) {
  const total = row.head + row.get + row.other;
  return `${row.cli.padEnd(9)} ${row.scenario.padEnd(18)} ${perTarget(row.head, row).padStart(5)} ${perTarget(row.get, row).padStart(5)} ${perTarget(total, row).padStart(6)} ${String(total).padStart(6)} ${String(row.maxInFlight).padStart(9)} ${row.seconds.toFixed(2).padStart(7)} s ${row.cpu.toFixed(2).padStart(6)} s  ${row.existing} existing`;
}

export const HEADER = `${'cli'.padEnd(9)} ${'scenario'.padEnd(18)} ${'HEAD'.padStart(5)} ${'GET'.padStart(5)} ${'total'.padStart(6)} ${'sent'.padStart(6)} ${'in flight'.padStart(9)} ${'wall'.padStart(9)} ${'CPU'.padStart(8)}   (requests per target; sent: all requests; CPU: user+sys)`;

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const options = parseArgs(process.argv.slice(2));
  if (!options.kolla) throw new Error('no Kolla checkout: give --kolla DIR or KOLLA_SRC');
  const clis = [{ name: 'head', cli: process.env.KOLLA_GEN_CLI ?? path.join(repo, 'dist', 'cli.js') }, ...(options.baseline ? [{ name: 'baseline', cli: path.join(options.baseline, 'dist', 'cli.js') }] : [])];
  const rows = await measureRegistryNoop({ clis, kolla: options.kolla, delay: options.delay, log: (line) => console.error(line) });
  console.log(HEADER);
  for (const row of rows) console.log(formatRow(row));
}
