#!/usr/bin/env node
// `npm run bench`: the workloads of issue 14, each the median of R runs of the built CLI, with a baseline (a built
// older checkout) measured in the same run, its runs interleaved with this checkout's, so that a busy machine
// weighs on both alike. Figures only: the exit code is 1 only when a CLI fails or the arguments are wrong.
//
//   node bench/all.mjs [--baseline DIR] [--runs R] [--images N] [--kolla CHECKOUT] [--only LIST] [--skip-oracle]
//
//   --baseline DIR   a checkout of kolla-gen with dist/ built (e.g. `git worktree add /tmp/base main && cd /tmp/base
//                    && npm ci && npm run build`); without it, only this checkout is measured
//   --runs R         runs per workload and CLI (default 5)
//   --images N       the synthetic tree's size (default 2,000; also measured at 2N)
//   --kolla DIR      an upstream Kolla checkout (default: $KOLLA_SRC, else ../kolla-rel/master or ../kolla beside
//                    or above this checkout); the kolla workload is skipped when none is found
//   --only LIST      some of: help,kolla,synthetic,affected,check,registry,build (comma-separated; build only when named)
//   --skip-oracle    do not run kolla-build --template-only ($KOLLA_ORACLE, else shared/tools/kolla-oracle.sh one or
//                    two levels above this checkout)
//
// Workloads:
//   help       `kolla-gen --help` (and `node -e 0`, node's own start-up)
//   kolla      generate --preset kolla, 4 bases x 2 arches, into an empty dir (see freshOutput); kolla-build
//              --template-only once per variant beside it (its 8 times summed); the same into an up-to-date output
//              dir; the same with kolla-gen's template cache removed before each run (every other row runs with the
//              cache its earlier runs left, in a temp dir of the bench)
//
// Each run's wall time, user and system CPU go to stderr as the runs end; the table gives the medians.
//   synthetic  generate on bench/synthetic.mjs's tree of N and 2N images x 8 variants, into an empty dir; peak RSS
//   affected   on the N tree committed in git: `list` against `list --affected-since HEAD` with nothing changed
//   check      on the N tree: `check` of an up-to-date output dir against `generate` into an empty one; and
//              `generate` after one template edit, with the output dir there (kolla: the same, on a copy of the
//              kolla package)
//   registry   bench/registry-noop.mjs: `list --skip-existing` of the Kolla checkout x 8 against a registry stand-in
//              that answers after 50 ms, with nothing there and everything there (once per CLI, not R runs)
//   build      bench/build-speed.mjs: kolla-build against `kolla-gen build --push` on fresh e2e engines (root; this
//              checkout only, 3 runs each): its own table
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const WORKLOADS = ['help', 'kolla', 'synthetic', 'affected', 'check', 'registry', 'build'];
// build needs root and an e2e engine and takes minutes: only when asked for (--only build)
const DEFAULT_WORKLOADS = WORKLOADS.filter((w) => w !== 'build');
const GOALS = { registryRequests: 1.2, registrySeconds: 3, help: 0.1, kolla: 0.6, kollaSpeedup: 60, synthetic: 3, rssMiB: 1024, scale: 2.2, affected: 1.3, check: 1 };

function parseArgs(argv) {
  const o = { runs: 5, images: 2000, only: DEFAULT_WORKLOADS, baseline: undefined, kolla: undefined, oracle: true };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--skip-oracle') {
      o.oracle = false;
      continue;
    }
    if (flag === '--baseline' && value) o.baseline = resolve(value);
    else if (flag === '--kolla' && value) o.kolla = resolve(value);
    else if (flag === '--only' && value) o.only = value.split(',');
    else if ((flag === '--runs' || flag === '--images') && Number.isInteger(Number(value)) && Number(value) > 0) o[flag.slice(2)] = Number(value);
    else throw new Error(`usage: all.mjs [--baseline DIR] [--runs R] [--images N] [--kolla DIR] [--only ${WORKLOADS.join(',')}] [--skip-oracle]; got ${argv.slice(i).join(' ')}`);
    i++;
  }
  const unknown = o.only.filter((w) => !WORKLOADS.includes(w));
  if (unknown.length) throw new Error(`--only: unknown workload ${unknown.join(', ')} (${WORKLOADS.join(', ')})`);
  if (o.baseline && !existsSync(join(o.baseline, 'dist', 'cli.js'))) throw new Error(`--baseline ${o.baseline}: no dist/cli.js there (run npm ci && npm run build in it)`);
  return o;
}

const options = parseArgs(process.argv.slice(2));
const clis = [{ name: 'head', cli: join(repo, 'dist', 'cli.js') }, ...(options.baseline ? [{ name: 'baseline', cli: join(options.baseline, 'dist', 'cli.js') }] : [])];
const work = mkdtempSync(join(tmpdir(), 'kolla-gen-bench-all-'));
// kolla-gen keeps its template cache here (a dir per CLI), not in the user's: a workload's runs after its first read
// it (as a user's runs do); the "cold" row removes it before each run.
const templateCache = join(work, 'template-cache');
const TIME = existsSync('/usr/bin/time') && spawnSync('/usr/bin/time', ['-f', '%M', '-o', join(work, 'probe'), process.execPath, '-e', '']).status === 0;

/**
 * The output dir of a generate "into an empty dir": the same path each run (as a user's generated/; kolla-gen keeps
 * the last output per output path), emptied by moving the last run's dir aside. Deleting its thousands of files costs
 * this project's disks (mounted with online discard) more than writing them, and the kernel does it in the
 * background, during the next run; so the dirs moved aside go only after a workload's runs (settle). The disk is
 * synced before each run (outside its time): else a run pays for the writeback of the files the run before it wrote,
 * which on this project's machines doubled or tripled the system time of a run that writes 1,600 files.
 */
let outputs = 0;
const written = [];
function freshOutput(parent) {
  const out = join(parent, 'out');
  if (existsSync(out)) {
    const aside = join(parent, `written-${++outputs}`);
    renameSync(out, aside);
    written.push(aside);
  }
  written.push(out);
  spawnSync('sync');
  return out;
}
function settle() {
  for (const dir of written.splice(0)) rmSync(dir, { recursive: true, force: true });
  spawnSync('sync');
}

/**
 * One run of a command: wall seconds (spawn to exit) and, with GNU time, the peak RSS in MiB and the CPU seconds it
 * spent in user and in system (kernel) mode: on a disk that is slow to create files, the system time is what swings.
 */
function once(command, args, cwd) {
  const rss = join(work, 'rss');
  const [cmd, argv] = TIME ? ['/usr/bin/time', ['-f', '%U %S %M', '-o', rss, command, ...args]] : [command, args];
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { cwd, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${r.status} in ${cwd}\n${r.stderr}`);
  if (!TIME) return { s, stdout: r.stdout };
  const [user, sys, kib] = (readFileSync(rss, 'utf8').trim().split('\n').pop() ?? '').split(' ').map(Number);
  return { s, rssMiB: kib / 1024, user, sys, stdout: r.stdout };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Each CLI's median over the runs, the CLIs taking turns run by run. `step(cli)` does one run (prepare, then time
 * only what counts) and returns { s, rssMiB? }.
 */
function interleaved(step) {
  const results = new Map(clis.map((c) => [c.name, []]));
  for (let i = 0; i < options.runs; i++) {
    for (const c of clis) {
      // Each CLI its own cache: one stamped with another's code is not read, and would be rewritten at each turn.
      process.env.KOLLA_GEN_CACHE_DIR = join(templateCache, c.name);
      results.get(c.name).push(step(c));
    }
  }
  return medians(results);
}

/** Each CLI's medians of its runs (a map of CLI name to runs), each run's figures printed to stderr first. */
function medians(results) {
  // Each run's time on stderr (wall, then user + system CPU): a median hides how much this machine's disk swings.
  const cpu = (r) => (r.user === undefined ? '' : ` (${r.user.toFixed(2)}u ${r.sys.toFixed(2)}s)`);
  for (const [name, rs] of results) console.error(`  ${name}: ${rs.map((r) => r.s.toFixed(2) + cpu(r)).join(', ')}`);
  const medianOf = (rs, key) => (rs[0]?.[key] === undefined ? undefined : median(rs.map((r) => r[key])));
  return new Map(
    [...results].map(([name, rs]) => [
      name,
      { s: median(rs.map((r) => r.s)), rssMiB: medianOf(rs, 'rssMiB'), user: medianOf(rs, 'user'), sys: medianOf(rs, 'sys'), runs: rs.map((r) => r.s) },
    ]),
  );
}

const rows = [];
const fmt = (s) => `${s.toFixed(2)} s`;
function row(workload, measured, goal) {
  const head = measured.get('head');
  const base = measured.get('baseline');
  rows.push({
    workload,
    head: fmt(head.s) + (head.rssMiB !== undefined && workload.includes('generate') ? `, ${Math.round(head.rssMiB)} MiB` : ''),
    baseline: base ? fmt(base.s) + (base.rssMiB !== undefined && workload.includes('generate') ? `, ${Math.round(base.rssMiB)} MiB` : '') : '',
    ratio: base ? `${(head.s / base.s).toFixed(2)}x` : '',
    cpu: head.user === undefined ? '' : `${head.user.toFixed(2)}u ${head.sys.toFixed(2)}s`,
    goal: goal ?? '',
  });
}
const mark = (ok) => (ok ? 'ok' : 'OVER');

function kollaCheckout() {
  const candidates = [options.kolla, process.env.KOLLA_SRC, ...['../kolla-rel/master', '../../kolla-rel/master', '../kolla', '../../kolla'].map((p) => resolve(repo, p))];
  for (const c of candidates) {
    if (!c) continue;
    const docker = ['kolla/docker', 'docker'].map((d) => join(c, d)).find((d) => existsSync(join(d, 'base')));
    if (docker) return { checkout: c, docker };
  }
  return undefined;
}

/** The synthetic tree of n images in a fresh dir (bench/synthetic.mjs --write-tree). */
function syntheticTree(n, name) {
  const dir = join(work, name);
  once(process.execPath, [join(here, 'synthetic.mjs'), '--images', String(n), '--write-tree', dir], here);
  return dir;
}

const notes = [];
try {
  console.error(`kolla-gen bench: ${options.runs} runs per CLI and workload${options.baseline ? `, baseline ${options.baseline}` : ''}; ${cpus().length} CPUs, node ${process.version}`);
  if (options.only.includes('help')) {
    console.error('help...');
    const node = interleaved(() => once(process.execPath, ['-e', '0'], work));
    rows.push({ workload: 'node -e 0 (reference)', head: fmt(node.get('head').s), baseline: '', ratio: '', goal: '' });
    const help = interleaved((c) => once(process.execPath, [c.cli, '--help'], work));
    row('kolla-gen --help', help, `<= ${GOALS.help} s: ${mark(help.get('head').s <= GOALS.help)}`);
  }

  if (options.only.includes('kolla')) {
    const found = kollaCheckout();
    if (!found) notes.push('kolla: no Kolla checkout found (--kolla DIR or KOLLA_SRC): skipped');
    else {
      console.error(`kolla (${found.checkout})...`);
      const out = join(work, 'kolla-out');
      const args = (o) => ['generate', '--preset', 'kolla', '-D', found.docker, '-b', 'ubuntu,debian,rocky,centos', '-a', 'amd64,arm64', '-o', o, '--quiet'];
      const gen = interleaved((c) => once(process.execPath, [c.cli, ...args(freshOutput(work))], work));
      settle();
      let oracle;
      const script = process.env.KOLLA_ORACLE ?? ['../shared/tools/kolla-oracle.sh', '../../shared/tools/kolla-oracle.sh'].map((p) => resolve(repo, p)).find((p) => existsSync(p));
      if (options.oracle && script) {
        console.error('kolla-build --template-only, 8 variants...');
        oracle = 0;
        for (const base of ['ubuntu', 'debian', 'rocky', 'centos']) {
          for (const arch of ['x86_64', 'aarch64']) {
            const start = process.hrtime.bigint();
            const r = spawnSync(script, [join(work, `oracle-${base}-${arch}`), base, arch], { env: { ...process.env, KOLLA_SRC: found.checkout, KOLLA_LISTS: '0' }, stdio: 'ignore' });
            if (r.status !== 0) throw new Error(`${script} ${base} ${arch} failed`);
            oracle += Number(process.hrtime.bigint() - start) / 1e9;
          }
        }
      } else notes.push('kolla: kolla-build not run (--skip-oracle, or no kolla-oracle.sh): no speed-up figure');
      const speedup = oracle === undefined ? '' : `; ${(oracle / gen.get('head').s).toFixed(0)}x kolla-build (${fmt(oracle)} for 8), goal >= ${GOALS.kollaSpeedup}x: ${mark(oracle / gen.get('head').s >= GOALS.kollaSpeedup)}`;
      row('kolla x 8 variants, generate', gen, `<= ${GOALS.kolla} s: ${mark(gen.get('head').s <= GOALS.kolla)}${speedup}`);
      // The run of a pre-commit hook or of CI on a commit that changed nothing: the output dir there, up to date.
      const upToDate = interleaved((c) => {
        const dir = join(work, `kolla-up-to-date-${c.name}`);
        if (!existsSync(dir)) once(process.execPath, [c.cli, ...args(dir)], work);
        spawnSync('sync');
        return once(process.execPath, [c.cli, ...args(dir)], work);
      });
      row('kolla x 8 variants, generate, output dir up to date', upToDate, `<= ${GOALS.kolla} s: ${mark(upToDate.get('head').s <= GOALS.kolla)}`);
      const cold = interleaved((c) => {
        rmSync(templateCache, { recursive: true, force: true });
        return once(process.execPath, [c.cli, ...args(freshOutput(work))], work);
      });
      settle();
      row('kolla x 8 variants, generate, template cache cold', cold, `<= ${GOALS.kolla} s: ${mark(cold.get('head').s <= GOALS.kolla)}`);
      // The everyday run: one template edited, the output dir there. On a copy of the kolla package (templates and
      // the tables the preset reads), so that the checkout is not touched.
      const copy = join(work, 'kolla-copy');
      cpSync(dirname(found.docker), join(copy, 'kolla'), { recursive: true, verbatimSymlinks: true });
      const edited = join(copy, 'kolla', 'docker', 'nova', 'nova-api', 'Dockerfile.j2');
      if (existsSync(edited)) {
        const copyArgs = ['generate', '--preset', 'kolla', '-D', join(copy, 'kolla', 'docker'), '-b', 'ubuntu,debian,rocky,centos', '-a', 'amd64,arm64', '-o', out, '--quiet'];
        let edits = 0;
        const again = interleaved((c) => {
          rmSync(out, { recursive: true, force: true });
          once(process.execPath, [c.cli, ...copyArgs], work);
          spawnSync('sync');
          appendFileSync(edited, `# edit ${++edits}\n`);
          return once(process.execPath, [c.cli, ...copyArgs], work);
        });
        row('kolla x 8, generate after a template edit', again, `<= ${GOALS.kolla} s: ${mark(again.get('head').s <= GOALS.kolla)}`);
      } else notes.push('kolla: no nova-api template in this checkout: no generate after an edit');
    }
  }

  const n = options.images;
  let tree;
  if (['synthetic', 'affected', 'check'].some((w) => options.only.includes(w))) tree = syntheticTree(n, 'tree');
  const generateInto = (dir, cli, out) => {
    rmSync(join(dir, out), { recursive: true, force: true });
    return once(process.execPath, [cli, 'generate', '-D', 'docker', '-o', out, '-c', 'kolla-gen.yaml', '--quiet'], dir);
  };
  /** Into an empty output dir (see freshOutput). */
  const generateFresh = (dir, cli) => once(process.execPath, [cli, 'generate', '-D', 'docker', '-o', freshOutput(dir), '-c', 'kolla-gen.yaml', '--quiet'], dir);

  if (options.only.includes('synthetic')) {
    console.error(`synthetic, ${n} and ${2 * n} images...`);
    // The two sizes take turns run by run, as the CLIs do: their ratio is a goal, and this disk's speed at creating
    // files swings by several times within minutes (each settle's deletions weigh on the runs after it).
    const bigTree = syntheticTree(2 * n, 'tree-2n');
    const bigRuns = new Map(clis.map((c) => [c.name, []]));
    const small = interleaved((c) => {
      const r = generateFresh(tree, c.cli);
      bigRuns.get(c.name).push(generateFresh(bigTree, c.cli));
      return r;
    });
    const big = medians(bigRuns);
    settle();
    rmSync(bigTree, { recursive: true, force: true });
    const h = small.get('head');
    if (n !== 2000) notes.push(`synthetic: the goals of ${GOALS.synthetic} s and ${GOALS.rssMiB} MiB are for 2,000 images; measured at ${n}`);
    row(`synthetic ${n} x 8, generate`, small, `<= ${GOALS.synthetic} s: ${mark(h.s <= GOALS.synthetic)}, <= ${GOALS.rssMiB} MiB: ${h.rssMiB === undefined ? '?' : mark(h.rssMiB <= GOALS.rssMiB)}`);
    const scale = big.get('head').s / h.s;
    row(`synthetic ${2 * n} x 8, generate`, big, `${scale.toFixed(2)}x the ${n} tree, goal <= ${GOALS.scale}x: ${mark(scale <= GOALS.scale)}`);
  }

  if (options.only.includes('affected')) {
    console.error('affected...');
    const git = (args) => once('git', args, tree);
    if (!existsSync(join(tree, '.git'))) {
      git(['init', '-q']);
      git(['add', '-A']);
      git(['-c', 'user.email=bench@example.invalid', '-c', 'user.name=bench', '-c', 'commit.gpgsign=false', 'commit', '-qm', 'tree']);
    }
    const list = ['list', '--json', '--quiet', '-D', 'docker', '-c', 'kolla-gen.yaml'];
    const plain = interleaved((c) => once(process.execPath, [c.cli, ...list], tree));
    const since = interleaved((c) => once(process.execPath, [c.cli, ...list, '--affected-since', 'HEAD'], tree));
    row(`synthetic ${n}, list`, plain);
    const ratio = since.get('head').s / plain.get('head').s;
    const baseRatio = options.baseline ? `; baseline ${(since.get('baseline').s / plain.get('baseline').s).toFixed(2)}x` : '';
    row(`synthetic ${n}, list --affected-since HEAD`, since, `${ratio.toFixed(2)}x list, goal <= ${GOALS.affected}x: ${mark(ratio <= GOALS.affected)}${baseRatio}`);
  }

  if (options.only.includes('check')) {
    console.error('check...');
    const gen = interleaved((c) => generateFresh(tree, c.cli));
    settle();
    const check = interleaved((c) => {
      generateInto(tree, c.cli, 'generated');
      spawnSync('sync');
      return once(process.execPath, [c.cli, 'check', '-D', 'docker', '-o', 'generated', '-c', 'kolla-gen.yaml', '--quiet'], tree);
    });
    let edits = 0;
    // a leaf image's template, as bench/affected.mjs picks it
    const services = readdirSync(join(tree, 'docker'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    const service = services.find((x) => x !== 'base' && x !== 'openstack-base') ?? services[0];
    const leafName = readdirSync(join(tree, 'docker', service)).filter((x) => !x.endsWith('-base')).sort()[0];
    const leaf = join(tree, 'docker', service, leafName, 'Dockerfile.j2');
    const again = existsSync(leaf)
      ? interleaved((c) => {
          generateInto(tree, c.cli, 'generated');
          spawnSync('sync');
          appendFileSync(leaf, `# edit ${++edits}\n`);
          return once(process.execPath, [c.cli, 'generate', '-D', 'docker', '-o', 'generated', '-c', 'kolla-gen.yaml', '--quiet'], tree);
        })
      : undefined;
    row(`synthetic ${n}, generate (empty dir)`, gen);
    if (again) row(`synthetic ${n}, generate after a template edit`, again, `<= ${GOALS.synthetic} s: ${mark(again.get('head').s <= GOALS.synthetic)}`);
    const ratio = check.get('head').s / gen.get('head').s;
    row(`synthetic ${n}, check (up to date)`, check, `${ratio.toFixed(2)}x generate, goal <= ${GOALS.check}x: ${mark(ratio <= GOALS.check)}`);
  }

  if (options.only.includes('registry')) {
    const found = kollaCheckout();
    if (!found) notes.push('registry: no Kolla checkout found (--kolla DIR or KOLLA_SRC): skipped');
    else {
      console.error(`registry (${found.checkout}, 50 ms a request)...`);
      const { measureRegistryNoop, formatRow } = await import('./registry-noop.mjs');
      const measured = await measureRegistryNoop({ clis, kolla: found.checkout, delay: 50, log: (l) => console.error(`  ${l}`) });
      for (const r of measured.filter((m) => m.cli === 'head')) {
        const base = measured.find((m) => m.cli === 'baseline' && m.scenario === r.scenario);
        const perTarget = (m) => (m.head + m.get + m.other) / m.targets;
        // the goal holds on a fresh runner too (issue 27 item 7); --verify-existing is the opt-in that pays for more
        const goal = r.scenario.startsWith('everything') ? `<= ${GOALS.registryRequests} requests/target, no GET, <= ${GOALS.registrySeconds} s: ${mark(perTarget(r) <= GOALS.registryRequests && r.get === 0 && r.seconds <= GOALS.registrySeconds)}` : '';
        rows.push({
          workload: `registry no-op, ${r.scenario} (${r.targets} targets)`,
          head: `${fmt(r.seconds)} ${perTarget(r).toFixed(2)} req/t (${r.get} GET)`,
          cpu: Number.isFinite(r.cpu) ? `${r.cpu.toFixed(2)} u+s` : '',
          baseline: base ? `${fmt(base.seconds)} ${perTarget(base).toFixed(2)} req/t (${base.get} GET)` : '',
          ratio: base ? (r.seconds / base.seconds).toFixed(2) : '',
          goal,
        });
      }
      notes.push(`registry: ${measured.map(formatRow).join('; ')}`);
    }
  }
  if (options.only.includes('build')) {
    const found = kollaCheckout();
    if (!found) notes.push('build: no Kolla checkout found (--kolla DIR or KOLLA_SRC): skipped');
    else {
      const speed = spawnSync(process.execPath, [join(here, 'build-speed.mjs'), '--kolla', found.checkout, '--runs', String(Math.min(options.runs, 3))], { stdio: ['ignore', 'inherit', 'inherit'] });
      if (speed.status !== 0) process.exitCode = 1;
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const header = { workload: 'workload', head: `head (median of ${options.runs})`, baseline: options.baseline ? 'baseline' : '', ratio: options.baseline ? 'head/base' : '', cpu: TIME ? 'head CPU' : '', goal: 'goal' };
const cols = ['workload', 'head', 'cpu', 'baseline', 'ratio', 'goal'];
const widths = cols.map((c) => Math.max(header[c].length, ...rows.map((r) => (r[c] ?? '').length)));
const line = (r) => cols.map((c, i) => (i === cols.length - 1 ? r[c] : (r[c] ?? '').padEnd(widths[i]))).join('  ').trimEnd();
console.log(`\nkolla-gen bench (${cpus().length} CPUs, node ${process.version}${TIME ? '; RSS: GNU time' : ''})`);
console.log([line(header), ...rows.map(line)].join('\n'));
if (TIME) console.log('head CPU: median user (u) and system (s) seconds; the system time is mostly creating files and dirs');
for (const note of notes) console.log(`note: ${note}`);
