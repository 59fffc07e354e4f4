#!/usr/bin/env node
// Benchmark: what --affected-since costs on the synthetic tree of bench/synthetic.mjs (N images x 8 variants).
//
//   node bench/affected.mjs [--images N] [--runs R]      (after npm run build; N = 2,000)
//
// The tree is written into a temp git repo and committed. Then, each the median of R runs of the built CLI:
// - `list`                          the compile alone (render, graph, hashes), as the baseline;
// - `list --affected-since HEAD`    the same, plus exporting HEAD (git archive) and compiling it a second time;
// - the same after editing one leaf template, and after editing a root template (what gets selected).
// Figures only: the exit code is 1 only when the CLI fails.
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', 'dist', 'cli.js');

function parseArgs(argv) {
  const options = { images: 2000, runs: 3 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = { '--images': 'images', '--runs': 'runs' }[argv[i]];
    const value = Number(argv[i + 1]);
    if (!key || !Number.isInteger(value) || value < 1) throw new Error(`usage: affected.mjs [--images N] [--runs R]; got ${argv.slice(i).join(' ')}`);
    options[key] = value;
  }
  return options;
}

function run(cwd, command, args) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stderr}`);
  return result.stdout;
}

function timed(cwd, args, runs) {
  const times = [];
  let out = '';
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    out = run(cwd, process.execPath, [cli, ...args]);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], times, out };
}

function selectedCount(json) {
  return JSON.parse(json).result.variants.reduce((n, v) => n + v.images.length, 0);
}

const options = parseArgs(process.argv.slice(2));
const root = mkdtempSync(join(tmpdir(), 'kolla-gen-bench-affected-'));
try {
  run(here, process.execPath, [join(here, 'synthetic.mjs'), '--images', String(options.images), '--write-tree', root]);
  run(root, 'git', ['init', '-q']);
  run(root, 'git', ['add', '-A']);
  run(root, 'git', ['-c', 'user.email=bench@example.invalid', '-c', 'user.name=bench', 'commit', '-qm', 'tree']);

  const list = ['list', '--json', '--quiet'];
  const baseline = timed(root, list, options.runs);
  const same = timed(root, [...list, '--affected-since', 'HEAD'], options.runs);
  const services = readdirSync(join(root, 'docker'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  const service = services.find((s) => s !== 'base' && s !== 'openstack-base') ?? services[0];
  const leaf = readdirSync(join(root, 'docker', service)).filter((n) => !n.endsWith('-base')).sort()[0];
  appendFileSync(join(root, 'docker', service, leaf, 'Dockerfile.j2'), '\n# a one-line change\n');
  const oneLeaf = timed(root, [...list, '--affected-since', 'HEAD'], options.runs);
  run(root, 'git', ['checkout', '-q', '--', 'docker']);
  appendFileSync(join(root, 'docker', 'base', 'Dockerfile.j2'), '\n# a one-line change\n');
  const rootChange = timed(root, [...list, '--affected-since', 'HEAD'], options.runs);

  const total = selectedCount(baseline.out);
  const fmt = (r) => `${(r.ms / 1000).toFixed(2)} s (runs: ${r.times.map((t) => (t / 1000).toFixed(2)).join(', ')})`;
  console.log(`--affected-since on ${options.images} images x 8 variants (${total} selected (image, variant)s), median of ${options.runs}:`);
  console.log(`  list                                  ${fmt(baseline)}`);
  console.log(`  list --affected-since HEAD, no change  ${fmt(same)}: ${selectedCount(same.out)} selected`);
  console.log(`  one leaf template edited               ${fmt(oneLeaf)}: ${selectedCount(oneLeaf.out)} selected (${leaf})`);
  console.log(`  the base template edited               ${fmt(rootChange)}: ${selectedCount(rootChange.out)} selected`);
  console.log(`  cost of --affected-since: ${((same.ms / baseline.ms - 1) * 100).toFixed(0)}% over list`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
