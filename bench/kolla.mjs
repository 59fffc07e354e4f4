#!/usr/bin/env node
// kolla-build --template-only (the oracle, one run per variant) against ONE kolla-gen generate of all 8 variants
// (4 bases x 2 arches) of an upstream Kolla checkout: wall time side by side.
//
// usage: npm run -s build && node bench/kolla.mjs KOLLA_CHECKOUT [--runs N] [--skip-oracle]
//   needs ../shared/tools/kolla-oracle.sh (or KOLLA_ORACLE) for the kolla-build column.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const ri = args.indexOf('--runs');
const runs = ri >= 0 ? Number(args.splice(ri, 2)[1]) : 5;
const skipOracle = args.includes('--skip-oracle');
const [checkout] = args.filter((a) => !a.startsWith('--'));
if (!checkout) {
  console.error('usage: node bench/kolla.mjs KOLLA_CHECKOUT [--runs N] [--skip-oracle]');
  process.exit(2);
}
const oracle = process.env.KOLLA_ORACLE ?? path.resolve(repo, '../shared/tools/kolla-oracle.sh');
const cli = process.env.KOLLA_GEN_CLI ?? path.join(repo, 'dist/cli.js');
const dockerDir = ['kolla/docker', 'docker'].map((d) => path.resolve(checkout, d)).find((d) => fs.existsSync(path.join(d, 'base')));
if (!dockerDir) throw new Error(`${checkout}: no kolla/docker or docker dir`);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-bench-'));
const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;

const VARIANTS = ['ubuntu', 'debian', 'rocky', 'centos'].flatMap((base) => ['x86_64', 'aarch64'].map((arch) => [base, arch]));
const rows = [];
let oracleTotal = 0;
if (!skipOracle) {
  for (const [base, arch] of VARIANTS) {
    const out = path.join(work, `oracle-${base}-${arch}`);
    const start = process.hrtime.bigint();
    execFileSync(oracle, [out, base, arch], { env: { ...process.env, KOLLA_SRC: path.resolve(checkout), KOLLA_LISTS: '0' }, stdio: 'ignore' });
    const s = seconds(start);
    oracleTotal += s;
    const files = fs.readFileSync(path.join(out, 'images.txt'), 'utf8').split('\n').filter(Boolean).length;
    rows.push({ variant: `${base}-${arch}`, s, files });
  }
}

const times = [];
let summary = '';
for (let i = 0; i < runs; i++) {
  const out = path.join(work, 'gen');
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [cli, 'generate', '--preset', 'kolla', '-D', dockerDir, '-o', out], { encoding: 'utf8', cwd: work, env: { PATH: process.env.PATH } });
  times.push(seconds(start));
  if (r.status !== 0) throw new Error(r.stderr);
  summary = r.stdout.trim();
  // Every run writes from scratch, as a first generate does.
  fs.rmSync(out, { recursive: true, force: true });
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];

console.log(`kolla checkout: ${checkout} (${execFileSync('git', ['-C', checkout, 'describe', '--tags', '--always'], { encoding: 'utf8' }).trim()}); ${os.cpus().length} CPUs`);
if (rows.length) {
  console.log('\nvariant          kolla-build --template-only');
  for (const r of rows) console.log(`${r.variant.padEnd(16)} ${r.s.toFixed(2).padStart(6)} s  (${r.files} Dockerfiles)`);
  console.log(`${'all 8'.padEnd(16)} ${oracleTotal.toFixed(2).padStart(6)} s  (8 runs)`);
}
console.log(`\nkolla-gen generate, all 8 variants in one run: median ${median.toFixed(2)} s, best ${times[0].toFixed(2)} s, worst ${times[times.length - 1].toFixed(2)} s (${runs} runs)`);
console.log(`  ${summary}`);
if (rows.length) console.log(`\nspeed-up (kolla-build total / kolla-gen median): ${(oracleTotal / median).toFixed(0)}x`);
fs.rmSync(work, { recursive: true, force: true });
