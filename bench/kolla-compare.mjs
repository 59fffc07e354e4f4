#!/usr/bin/env node
// Renders an upstream Kolla checkout with kolla-gen (--preset kolla, all variants in one run) and compares every
// Dockerfile byte for byte with kolla-build's own (the oracle: ../shared/tools/kolla-oracle.sh), per variant.
//
// usage: node bench/kolla-compare.mjs KOLLA_CHECKOUT ORACLE_DIR [--run-oracle] [--bases ubuntu,debian] [--arches x86_64]
//          [--diff N] [-- extra kolla-gen args]
//   ORACLE_DIR/<base>-<arch>/dockerfiles/<image>/Dockerfile, as kolla-oracle.sh writes them; --run-oracle (re)makes
//   the missing ones (needs KOLLA_ORACLE or ../shared/tools/kolla-oracle.sh). Nothing is written into the repo.
import { Buffer } from 'node:buffer';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

// kolla-gen sees PATH and SOURCE_DATE_EPOCH only (the build_date of releases before master comes from it).
const genEnv = { PATH: process.env.PATH, ...(process.env.SOURCE_DATE_EPOCH ? { SOURCE_DATE_EPOCH: process.env.SOURCE_DATE_EPOCH } : {}) };
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const extra = dash >= 0 ? argv.slice(dash + 1) : [];
const args = dash >= 0 ? argv.slice(0, dash) : argv;
const option = (name, fallback) => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const [value] = args.splice(i, 2).slice(1);
  return value;
};
const runOracle = args.includes('--run-oracle');
if (runOracle) args.splice(args.indexOf('--run-oracle'), 1);
const bases = option('--bases', 'ubuntu,debian,rocky,centos').split(',');
const arches = option('--arches', 'x86_64,aarch64').split(',');
const showDiff = Number(option('--diff', '0'));
const [checkout, oracleDir] = args;
if (!checkout || !oracleDir) {
  console.error('usage: node bench/kolla-compare.mjs KOLLA_CHECKOUT ORACLE_DIR [--run-oracle] [--bases LIST] [--arches LIST] [--diff N] [-- kolla-gen args]');
  process.exit(2);
}
const dockerDir = ['kolla/docker', 'docker'].map((d) => path.resolve(checkout, d)).find((d) => fs.existsSync(path.join(d, 'base')));
if (!dockerDir) throw new Error(`${checkout}: no kolla/docker or docker dir`);
const debianArch = { x86_64: 'amd64', aarch64: 'arm64' };

if (runOracle) {
  const oracle = process.env.KOLLA_ORACLE ?? path.resolve(repo, '../shared/tools/kolla-oracle.sh');
  for (const base of bases) {
    for (const arch of arches) {
      const out = path.join(oracleDir, `${base}-${arch}`);
      if (fs.existsSync(path.join(out, 'images.txt'))) continue;
      console.error(`oracle: ${base} ${arch}`);
      execFileSync(oracle, [out, base, arch], { env: { ...process.env, KOLLA_SRC: path.resolve(checkout), KOLLA_LISTS: '0' }, stdio: 'inherit' });
    }
  }
}

const out = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-compare-'));
const cli = process.env.KOLLA_GEN_CLI ?? path.join(repo, 'dist/cli.js');
const genArgs = ['generate', '--preset', 'kolla', '-D', dockerDir, '-o', path.join(out, 'gen'), '-b', bases.join(','), '-a', arches.join(','), '--quiet', ...extra];
const started = process.hrtime.bigint();
const gen = spawnSync(process.execPath, [cli, ...genArgs], { encoding: 'utf8', cwd: out, env: genEnv });
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
if (gen.status !== 0) {
  console.error(gen.stderr);
  throw new Error(`kolla-gen exited ${gen.status}`);
}
const manifest = JSON.parse(fs.readFileSync(path.join(out, 'gen/manifest.json'), 'utf8'));

let allSame = 0;
let allTotal = 0;
const rows = [];
for (const base of bases) {
  for (const arch of arches) {
    const oracleFiles = path.join(oracleDir, `${base}-${arch}`, 'dockerfiles');
    if (!fs.existsSync(oracleFiles)) {
      rows.push({ variant: `${base}-${arch}`, note: 'no oracle output' });
      continue;
    }
    const expected = new Set(fs.readdirSync(oracleFiles));
    const mine = new Map();
    for (const row of manifest.images) {
      if (row.base !== base || row.arch !== debianArch[arch] || row.status !== 'selected') continue;
      mine.set(row.image, path.join(out, row.dockerfile));
    }
    let same = 0;
    const differ = [];
    for (const image of [...expected].sort()) {
      const file = mine.get(image);
      const want = fs.readFileSync(path.join(oracleFiles, image, 'Dockerfile'));
      if (file && fs.existsSync(file) && Buffer.compare(fs.readFileSync(file), want) === 0) same += 1;
      else differ.push(image);
    }
    const missing = [...expected].filter((i) => !mine.has(i));
    const extraImages = [...mine.keys()].filter((i) => !expected.has(i));
    allSame += same;
    allTotal += expected.size;
    rows.push({ variant: `${base}-${arch}`, same, total: expected.size, differ, missing, extra: extraImages });
  }
}

for (const r of rows) {
  if (r.note) {
    console.log(`${r.variant.padEnd(16)} ${r.note}`);
    continue;
  }
  const parts = [`${r.variant.padEnd(16)} ${String(r.same).padStart(4)}/${r.total} identical`];
  if (r.missing.length) parts.push(`not selected by kolla-gen: ${r.missing.join(' ')}`);
  if (r.extra.length) parts.push(`selected only by kolla-gen: ${r.extra.join(' ')}`);
  const different = r.differ.filter((i) => !r.missing.includes(i));
  if (different.length) parts.push(`differ: ${different.slice(0, 12).join(' ')}${different.length > 12 ? ' …' : ''}`);
  console.log(parts.join('; '));
  for (const image of different.slice(0, showDiff)) {
    const row = manifest.images.find((x) => x.image === image && x.base === r.variant.split('-')[0] && x.arch === debianArch[r.variant.split('-')[1]]);
    const d = spawnSync('diff', ['-u', path.join(oracleDir, r.variant, 'dockerfiles', image, 'Dockerfile'), path.join(out, row.dockerfile)], { encoding: 'utf8' });
    console.log(d.stdout.split('\n').slice(0, 60).join('\n'));
  }
}
console.log(`total            ${allSame}/${allTotal} identical; kolla-gen generate of ${bases.length * arches.length} variants: ${seconds.toFixed(2)} s`);

// Listing parity: kolla-build's --list-images, --list-dependencies and --save-dependency (when the oracle ran them)
// against kolla-gen list and deps, as sets of images and of parent → child edges.
function genRun(base, arch, cmd) {
  const r = spawnSync(process.execPath, [cli, ...cmd, '--preset', 'kolla', '-D', dockerDir, '-b', base, '-a', arch, ...extra], { encoding: 'utf8', cwd: out, env: genEnv });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}
function treeEdges(node, parent, edges, nodes) {
  // kolla-build: {"base": ["leaf", {"mid": [...]}]}; kolla-gen: {"base": {"leaf": {}, "mid": {...}}}
  const entries = Array.isArray(node) ? node.flatMap((x) => (typeof x === 'string' ? [[x, []]] : Object.entries(x))) : Object.entries(node);
  for (const [name, children] of entries) {
    nodes.add(name);
    if (parent) edges.add(`${parent} -> ${name}`);
    treeEdges(children, name, edges, nodes);
  }
  return { edges, nodes };
}
function dotEdges(text) {
  const unq = (s) => s.replace(/^"|"$/g, '');
  const edges = new Set();
  for (const m of text.matchAll(/("[^"]+"|[\w.-]+)\s*->\s*("[^"]+"|[\w.-]+)/g)) edges.add(`${unq(m[1])} -> ${unq(m[2])}`);
  return edges;
}
const sameSet = (a, b) => a.size === b.size && [...a].every((x) => b.has(x));
let listAgree = 0;
let listTotal = 0;
for (const base of bases) {
  for (const arch of arches) {
    const dir = path.join(oracleDir, `${base}-${arch}`);
    if (!['list-images.txt', 'list-dependencies.json', 'dependency.dot'].every((f) => fs.existsSync(path.join(dir, f)))) continue;
    const listed = new Set(fs.readFileSync(path.join(dir, 'list-images.txt'), 'utf8').split('\n').map((l) => l.split(' : ')[1]).filter(Boolean));
    const mineListed = new Set(JSON.parse(genRun(base, arch, ['list', '--json'])).result.variants[0].images);
    const theirs = treeEdges(JSON.parse(fs.readFileSync(path.join(dir, 'list-dependencies.json'), 'utf8')), undefined, new Set(), new Set());
    const mine = treeEdges(JSON.parse(genRun(base, arch, ['deps', '--format', 'json'])), undefined, new Set(), new Set());
    const dotTheirs = dotEdges(fs.readFileSync(path.join(dir, 'dependency.dot'), 'utf8'));
    const dotMine = dotEdges(genRun(base, arch, ['deps', '--format', 'dot']));
    const checks = [
      ['list-images', sameSet(listed, mineListed)],
      ['list-dependencies', sameSet(theirs.edges, mine.edges) && sameSet(theirs.nodes, mine.nodes)],
      ['save-dependency', sameSet(dotTheirs, dotMine)],
    ];
    listTotal += checks.length;
    listAgree += checks.filter(([, ok]) => ok).length;
    console.log(`${`${base}-${arch}`.padEnd(16)} ${checks.map(([name, ok]) => `${name} ${ok ? 'same' : 'DIFFERENT'}`).join(', ')} (${listed.size} images, ${dotTheirs.size} edges)`);
  }
}
if (listTotal) console.log(`listings         ${listAgree}/${listTotal} agree`);
fs.rmSync(out, { recursive: true, force: true });
process.exit(allSame === allTotal && listAgree === listTotal ? 0 : 1);
