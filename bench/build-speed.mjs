#!/usr/bin/env node
// Build speed against kolla-build (issue 27): a 35-image tree, depth 4, each image one `RUN sleep 1` (a 4 s
// critical path), built and pushed on a fresh e2e engine (test/e2e/engine: a real dockerd, buildx and registry) by
// the real kolla-build of an upstream checkout (buildx per image, --threads) and by `kolla-gen build --push`, in
// alternation, each run on an engine of its own. kolla-gen's figure is `build --push` of a committed generated/ (as
// users run it); `generate`'s time is printed beside it. Each tool runs in both networks, and is compared network for
// network: the host's (kolla-build's default network_mode; kolla-gen's `network_mode: host`) and one per RUN
// (BuildKit's default; kolla-build's `--network_mode ''`, kolla-gen's default), the `-isolated` rows. Figures only:
// the exit code is 1 only when a build fails.
//
//   node bench/build-speed.mjs [--kolla DIR] [--runs R] [--engine oldest|today] [--threads N]
//                              [--only kolla-gen,kolla-build,kolla-gen-isolated,kolla-build-isolated]
//                              [--keep DIR] [-- extra kolla-gen build args]
//
//   --kolla DIR    an upstream Kolla checkout (default: $KOLLA_SRC, else ../kolla-rel/master or ../kolla)
//   --runs R       runs per tool (default 3); the median is printed
//   --engine       the e2e engine (default today: dockerd 28.5 + buildx 0.29)
//   --threads N    kolla-build's --threads (default 8, its default)
//   KOLLA_GEN_CLI  the CLI to measure instead of this checkout's dist/cli.js (another version's, for a before/after)
//
// Needs root (the engine), Debian's python3 with kolla-build's dependencies (see shared/tools/kolla-oracle.sh) and
// kolla-gen built (npm run build). The tree is written to a temp dir; nothing is written into the repo except the
// engine module bundled into node_modules/.cache.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const extra = dash >= 0 ? argv.slice(dash + 1) : [];
const args = dash >= 0 ? argv.slice(0, dash) : argv;
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i < 0 ? fallback : args[i + 1];
};
const runs = Number(option('--runs', '3'));
const engineName = option('--engine', 'today');
const threads = option('--threads', '8');
const only = option('--only', '');
const keep = option('--keep', '');
const kolla = path.resolve(
  option('--kolla', '') ||
    process.env.KOLLA_SRC ||
    [path.join(repo, '../kolla-rel/master'), path.join(repo, '../kolla')].find((d) => fs.existsSync(path.join(d, 'kolla/cmd/build.py'))) ||
    '',
);
if (!fs.existsSync(path.join(kolla, 'kolla/cmd/build.py'))) {
  console.error('bench/build-speed: no Kolla checkout (pass --kolla DIR or set KOLLA_SRC)');
  process.exit(2);
}
const kollaDocker = fs.existsSync(path.join(kolla, 'kolla/docker')) ? path.join(kolla, 'kolla/docker') : path.join(kolla, 'docker');
const cli = process.env.KOLLA_GEN_CLI ? path.resolve(process.env.KOLLA_GEN_CLI) : path.join(repo, 'dist/cli.js');
if (!fs.existsSync(cli)) {
  console.error('bench/build-speed: build kolla-gen first (npm run build)');
  process.exit(2);
}

// The engine harness is TypeScript: bundle it once for node.
async function loadEngine() {
  const { build } = await import('esbuild');
  const out = path.join(repo, 'node_modules/.cache/kolla-gen-bench/engine.mjs');
  await build({ entryPoints: [path.join(repo, 'test/e2e/engine/index.ts')], bundle: true, platform: 'node', format: 'esm', outfile: out, packages: 'external', logLevel: 'error' });
  fs.copyFileSync(path.join(repo, 'test/e2e/engine/provision.sh'), path.join(path.dirname(out), 'provision.sh'));
  return import(pathToFileURL(out).href);
}

/** The tree: bench-base, 4 children, 8 grandchildren, 22 leaves (35 images, depth 4), each one RUN sleeping 1 s. */
export function writeTree(dir) {
  const images = [];
  const add = (name, from) => {
    images.push(name);
    fs.mkdirSync(path.join(dir, name), { recursive: true });
    fs.writeFileSync(path.join(dir, name, 'Dockerfile.j2'), `FROM ${from}\nRUN sleep 1 && echo ${name} > /${name}\n`);
  };
  add('bench-base', '{{ base_image }}:{{ base_distro_tag }}');
  const l1 = ['a', 'b', 'c', 'd'].map((x) => `bench-l1-${x}`);
  for (const name of l1) add(name, '{{ namespace }}/bench-base:{{ tag }}');
  const l2 = l1.flatMap((p) => [1, 2].map((n) => [`${p.replace('l1', 'l2')}${n}`, p]));
  for (const [name, parent] of l2) add(name, `{{ namespace }}/${parent}:{{ tag }}`);
  let leaf = 0;
  l2.forEach(([parent], i) => {
    for (let k = 0; k < (i < 6 ? 3 : 2); k++) add(`bench-l3-${++leaf}`, `{{ namespace }}/${parent}:{{ tag }}`);
  });
  return images;
}

function run(cmd, cmdArgs, opts) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, cmdArgs, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out, seconds: Number(process.hrtime.bigint() - t0) / 1e9 }));
  });
}

async function pushBase(engine, work) {
  const ctx = path.join(work, 'busybox');
  fs.mkdirSync(ctx, { recursive: true });
  fs.copyFileSync(engine.rootfs.amd64, path.join(ctx, 'rootfs.tar'));
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM scratch\nADD rootfs.tar /\n');
  await engine.docker(['buildx', 'build', '--provenance=false', '--push', '-t', `${engine.registry}/bench/busybox:1`, ctx]);
}

/** kolla-build master with its --network_mode: host (its default) or '' (none passed: BuildKit's default network). */
function kollaBuild(networkMode) {
  return async (engine, work) => {
    const conf = path.join(work, 'empty.conf');
    fs.writeFileSync(conf, '');
    const env = {
      ...engine.env,
      HOME: work,
      LANG: 'C.UTF-8',
      PBR_VERSION: '22.0.0',
      PYTHONPATH: kolla,
    };
    return run(
      '/usr/bin/python3',
      ['-m', 'kolla.cmd.build', '--config-file', conf, '-b', 'ubuntu', '--docker-dir', path.join(work, 'tree'), '--base-image', `${engine.registry}/bench/busybox`,
        '--base-tag', '1', '--registry', engine.registry, '--tag', 'bench', '--push', '--threads', threads, '--work-dir', path.join(work, 'kolla-work'),
        '--network_mode', networkMode, '^bench-'],
      { env, cwd: work },
    );
  };
}

/** `kolla-gen build --push` of a committed generated/, with network_mode: host (as kolla-build) or not written (its default). */
function kollaGen(networkMode) {
  return async (engine, work) => {
    fs.writeFileSync(
      path.join(work, 'kolla-gen.yaml'),
      [
        'preset: kolla',
        `docker_dirs: [${JSON.stringify(kollaDocker)}, tree]`,
        'bases: [ubuntu]',
        'arches: [amd64]',
        `registry: ${JSON.stringify(engine.registry)}`,
        'tag: bench',
        `base_images: { ubuntu: { image: ${JSON.stringify(`${engine.registry}/bench/busybox`)}, tag: "1" } }`,
        'regex: ["^bench-"]',
        ...(networkMode ? [`network_mode: ${networkMode}`] : []),
        '',
      ].join('\n'),
    );
    execFileSync('git', ['init', '-q'], { cwd: work });
    const env = { ...engine.env, HOME: work };
    // As users run it: generated/ is committed (generate's time is printed apart), then build bakes it.
    const generated = await run(process.execPath, [cli, 'generate', '-q'], { env, cwd: work });
    if (generated.code !== 0) return generated;
    const built = await run(process.execPath, [cli, 'build', '--push', ...extra], { env, cwd: work });
    return { ...built, note: `generate ${generated.seconds.toFixed(1)} s before it` };
  };
}

// Each tool in both networks: every RUN in the build host's network (kolla-build's default, kolla-gen's network_mode:
// host), and in a network namespace of its own per RUN (BuildKit's default, kolla-gen's). Compared network for network.
const tools = {
  'kolla-build': kollaBuild('host'),
  'kolla-gen': kollaGen('host'),
  'kolla-build-isolated': kollaBuild(''),
  'kolla-gen-isolated': kollaGen(undefined),
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const { startEngine } = await loadEngine();
  const names = Object.keys(tools).filter((t) => !only || only.split(',').includes(t));
  const times = Object.fromEntries(names.map((n) => [n, []]));
  console.log(`bench/build-speed: 35 images, depth 4, RUN sleep 1 each (4 s critical path); engine ${engineName}; kolla ${kolla}; ${runs} runs per tool`);
  for (let r = 0; r < runs; r++) {
    for (const name of r % 2 ? [...names].reverse() : names) {
      const work = keep ? path.join(keep, `${name}-${r}`) : fs.mkdtempSync(path.join(os.tmpdir(), 'kg-bench-build-'));
      fs.mkdirSync(work, { recursive: true });
      writeTree(path.join(work, 'tree'));
      const engine = await startEngine({ engine: engineName, log: () => {} });
      try {
        await pushBase(engine, work);
        const result = await tools[name](engine, work);
        fs.writeFileSync(path.join(work, `${name}.log`), result.out);
        if (result.code !== 0) {
          console.error(`${name} failed (exit ${result.code}); the last lines of its output:\n${result.out.split('\n').slice(-30).join('\n')}`);
          process.exitCode = 1;
        } else {
          const tags = await engine.skopeo(['list-tags', '--tls-verify=false', `docker://${engine.registry}/kolla/bench-l3-1`], { reject: false });
          const pushed = tags.exitCode === 0 ? 'pushed' : 'NOT pushed';
          times[name].push(result.seconds);
          console.log(`  run ${r + 1} ${name.padEnd(20)} ${result.seconds.toFixed(1)} s (${pushed}${result.note ? `; ${result.note}` : ''})`);
        }
      } finally {
        await engine.stop();
        if (!keep) fs.rmSync(work, { recursive: true, force: true });
      }
    }
  }
  console.log('\n| tool | median | runs |\n| --- | --- | --- |');
  for (const name of names) console.log(`| ${name} | ${times[name].length ? median(times[name]).toFixed(1) + ' s' : 'failed'} | ${times[name].map((t) => t.toFixed(1)).join(', ')} |`);
  for (const [kb, kg, what] of [
    ['kolla-build', 'kolla-gen', 'the host network (kolla-build\'s default)'],
    ['kolla-build-isolated', 'kolla-gen-isolated', 'a network per RUN (kolla-gen\'s default)'],
  ]) {
    if (times[kb]?.length && times[kg]?.length) console.log(`\nin ${what}: kolla-gen is ${(median(times[kb]) / median(times[kg])).toFixed(2)}x kolla-build (goal: 2x)`);
  }
}

await main();
