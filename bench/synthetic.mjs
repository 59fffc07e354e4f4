#!/usr/bin/env node
// Benchmark: `kolla-gen generate` on a synthetic Kolla-like tree of N images, then of 2N.
//
//   npm run bench                     (builds dist/ first; N = 2,000)
//   node bench/synthetic.mjs --images 500 --runs 5
//
// Each size runs `node dist/cli.js generate -D docker -o generated -c kolla-gen.yaml --quiet`
// as a child process, with the temp dir holding the tree as its working directory, and
// reports the median of the runs:
// - wall time: process.hrtime around the child, from spawn to exit (node's start-up included);
// - peak RSS: the child's maximum resident set size, read from GNU time (`/usr/bin/time -v -o`)
//   when it is installed and works, else from process.resourceUsage().maxRSS, which a
//   small `--import` script writes out as the child exits.
// Every run starts from an empty output dir. The figures are a measurement: the exit code
// is 0 even over the goals, and 1 only when the CLI fails or the arguments are wrong.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const GOAL = { images: 2000, wallMs: 3000, rssMiB: 1024, ratio: 2.2 };
const BASES = ['ubuntu', 'debian', 'rocky', 'centos'];
const ARCHES = ['amd64', 'arm64'];
const SEED = 20260101;

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.js');

function parseArgs(argv) {
  const options = { images: 2000, runs: 3, writeTree: undefined };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--write-tree' && argv[i + 1]) {
      // For profiling: write the tree of --images N into DIR and stop.
      options.writeTree = argv[++i];
      continue;
    }
    const key = { '--images': 'images', '--runs': 'runs' }[flag];
    const value = Number(argv[i + 1]);
    if (key === undefined || !Number.isInteger(value) || value < 1) {
      throw new Error(`usage: synthetic.mjs [--images N (>= 30)] [--runs R] [--write-tree DIR]; got ${argv.slice(i).join(' ')}`);
    }
    options[key] = value;
    i++;
  }
  if (options.images < 30) throw new Error('--images must be at least 30 (the tree has ~25 base images)');
  return options;
}

// mulberry32: a small seeded PRNG, so that the tree is the same on every machine.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['api', 'agent', 'worker', 'scheduler', 'conductor', 'proxy', 'engine', 'monitor',
  'exporter', 'manager', 'listener', 'backup', 'volume', 'notifier', 'collector', 'server'];
const LIBS = ['libxml2', 'libxslt1.1', 'libpq5', 'libldap2', 'libsasl2-2', 'openssl', 'iputils-ping',
  'lvm2', 'nfs-common', 'haproxy', 'keepalived', 'rsync', 'socat', 'ipmitool', 'dnsmasq', 'ebtables'];

const MACROS = `{#- Shared by every synthetic image. -#}
{% macro install_packages(packages) -%}
{% if packages | length > 0 -%}
{% if base_distro in ['debian', 'ubuntu'] -%}
RUN apt-get update && apt-get -y install --no-install-recommends {{ packages | sort | join(' ') }} \\
    && apt-get clean && rm -rf /var/lib/apt/lists/*
{%- else -%}
RUN dnf -y install {{ packages | sort | join(' ') }} && dnf clean all
{%- endif %}
{%- endif %}
{%- endmacro %}

{% macro configure_user(name, uid, homedir=None) -%}
{% set home = homedir or '/var/lib/' ~ name -%}
RUN groupadd --gid {{ uid }} {{ name }} \\
    && useradd --uid {{ uid }} --gid {{ uid }} --home-dir {{ home }} --no-create-home {{ name }}
{%- endmacro %}

{% macro run_script() -%}
RUN set -eu; \\
    {{ caller() | trim }}
{%- endmacro %}
`;

function rpmName(lib) {
  return lib.replace(/-common$/, '-utils').replace(/-?\d+(\.\d+)?$/, '');
}

function dockerfile(image, r) {
  const id = image.name.replace(/-/g, '_');
  const from = image.parent === undefined
    ? '{{ base_image }}:{{ base_distro_tag }}'
    : `{{ namespace }}/{{ image_prefix }}${image.parent}:{{ tag }}`;
  const libs = [...new Set(Array.from({ length: 1 + Math.floor(r() * 4) }, () => LIBS[Math.floor(r() * LIBS.length)]))];
  const dirs = Array.from({ length: 1 + Math.floor(r() * 3) }, (_, i) => `/var/lib/${image.service}/d${i}`);
  const lines = [
    `FROM ${from}`,
    'LABEL maintainer="{{ maintainer }}" name="{{ image_name }}"',
    '',
    '{% import "macros.j2" as macros with context -%}',
    `{% block ${id}_header %}{% endblock -%}`,
    "{% if base_distro in ['debian', 'ubuntu'] -%}",
    `{% set ${id}_packages = [${libs.map((l) => `'${l}'`).join(', ')}] -%}`,
    '{% else -%}',
    `{% set ${id}_packages = [${libs.map((l) => `'${rpmName(l)}'`).join(', ')}] -%}`,
    '{% endif -%}',
    `{{ macros.install_packages(${id}_packages | customizable("packages")) }}`,
    '',
  ];
  if (image.user !== undefined) lines.push(`{{ macros.configure_user('${image.service}', ${image.user}) }}`, '');
  lines.push(
    '{% call macros.run_script() -%}',
    `{% for dir in [${dirs.map((d) => `'${d}'`).join(', ')}] %}mkdir -p {{ dir }}{% if not loop.last %}; {% endif %}{% endfor %}`,
    '{%- endcall %}',
    '',
  );
  if (image.archDependent) {
    // A few leaves name a package per arch, as nova-compute does: they split per arch.
    lines.push("{{ macros.install_packages(['grub-efi-' ~ ({'x86_64': 'amd64', 'aarch64': 'arm64'}[base_arch])]) }}", '');
  }
  if (image.files.length > 0) {
    const target = image.parent === undefined ? 'kolla_start' : 'kolla_extend_start';
    lines.push(`COPY ${image.files[0]} /usr/local/bin/${target}`, '');
  }
  lines.push(`{% block ${id}_footer %}{% endblock -%}`);
  if (image.isLeaf) lines.push(`USER ${image.service}`);
  return lines.join('\n') + '\n';
}

/** The images of a Kolla-like tree: base → openstack-base → service bases → (sub-bases →) leaves. */
function planTree(count, r) {
  const services = Math.min(20, Math.max(4, Math.round(count / 100)));
  const images = [
    { name: 'base', dir: 'base', service: 'kolla', files: ['start.sh'], user: 42400 },
    { name: 'openstack-base', dir: 'openstack-base', parent: 'base', service: 'kolla', files: [] },
  ];
  const parents = [];
  for (let s = 0; s < services; s++) {
    const service = `svc${String(s).padStart(2, '0')}`;
    // As in Kolla, a few infrastructure services build on base rather than openstack-base.
    const parent = s % 5 === 4 ? 'base' : 'openstack-base';
    images.push({ name: `${service}-base`, dir: `${service}/${service}-base`, parent, service, files: [], user: 42401 + s });
    parents.push({ name: `${service}-base`, service });
    if (s % 4 === 0) {
      images.push({ name: `${service}-core-base`, dir: `${service}/${service}-core-base`, parent: `${service}-base`, service, files: [] });
      parents.push({ name: `${service}-core-base`, service });
    }
  }
  for (let i = 0; images.length < count; i++) {
    const parent = parents[Math.floor(r() * parents.length)];
    const name = `${parent.service}-${WORDS[Math.floor(r() * WORDS.length)]}-${String(i).padStart(5, '0')}`;
    images.push({
      name,
      dir: `${parent.service}/${name}`,
      parent: parent.name,
      service: parent.service,
      files: r() < 0.3 ? ['extend_start.sh'] : [],
      isLeaf: true,
      archDependent: r() < 0.02,
    });
  }
  return images;
}

function writeTree(root, count) {
  const r = prng(SEED);
  const docker = join(root, 'docker');
  mkdirSync(docker, { recursive: true });
  writeFileSync(join(docker, 'macros.j2'), MACROS);
  const images = planTree(count, r);
  for (const image of images) {
    const dir = join(docker, image.dir);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'Dockerfile.j2'), dockerfile(image, r));
    for (const file of image.files) writeFileSync(join(dir, file), `#!/bin/sh\n# ${image.name}\nexec "$@"\n`);
  }
  writeFileSync(join(root, 'kolla-gen.yaml'), [
    'namespace: kolla',
    'tag: bench',
    'maintainer: "kolla-gen bench"',
    `bases: [${BASES.join(', ')}]`,
    `arches: [${ARCHES.join(', ')}]`,
    'base_images:',
    '  ubuntu: { image: ubuntu, tag: "24.04" }',
    '  debian: { image: debian, tag: "12" }',
    '  rocky: { image: quay.io/rockylinux/rockylinux, tag: "10" }',
    '  centos: { image: quay.io/centos/centos, tag: stream10 }',
    'vars:',
    '  base_packages_append: [less]',
    '',
  ].join('\n'));
  return images.length;
}

/** How the child's peak RSS is read: GNU time if it works here, else an --import hook. */
function rssProbe(workDir) {
  const timeOut = join(workDir, 'time-probe.txt');
  const probe = existsSync('/usr/bin/time')
    ? spawnSync('/usr/bin/time', ['-v', '-o', timeOut, process.execPath, '-e', ''], { stdio: 'ignore' })
    : undefined;
  if (probe?.status === 0 && /Maximum resident set size \(kbytes\): \d+/.test(safeRead(timeOut))) {
    return {
      how: 'GNU time -v (max RSS of the child)',
      command: (args, out) => ['/usr/bin/time', ['-v', '-o', out, process.execPath, ...args]],
      kib: (out) => Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(safeRead(out))?.[1]),
    };
  }
  const hook = join(workDir, 'max-rss.mjs');
  writeFileSync(hook, [
    "import { writeFileSync } from 'node:fs';",
    "process.on('exit', () => writeFileSync(process.env.KOLLA_GEN_BENCH_RSS, String(process.resourceUsage().maxRSS)));",
    '',
  ].join('\n'));
  return {
    how: 'process.resourceUsage().maxRSS of the child, via --import',
    command: (args, out) => [process.execPath, ['--import', pathToFileURL(hook).href, ...args], { KOLLA_GEN_BENCH_RSS: out }],
    kib: (out) => Number(safeRead(out)),
  };
}

function safeRead(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function runOnce(treeDir, rss) {
  rmSync(join(treeDir, 'generated'), { recursive: true, force: true });
  const out = join(treeDir, '..', `rss-${process.pid}.txt`);
  rmSync(out, { force: true });
  const args = [cli, 'generate', '-D', 'docker', '-o', 'generated', '-c', 'kolla-gen.yaml', '--quiet'];
  const [command, commandArgs, env] = rss.command(args, out);
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(command, commandArgs, {
      cwd: treeDir,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      if (stderr.length < 20000) stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0) {
        reject(new Error(`kolla-gen generate exited with ${signal ?? code} in ${treeDir}\n${stderr.trimEnd()}`));
        return;
      }
      resolve({ wallMs, rssMiB: rss.kib(out) / 1024 });
    });
  });
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function measure(workDir, count, runs, rss) {
  const treeDir = join(workDir, `tree-${count}`);
  const images = writeTree(treeDir, count);
  const results = [];
  for (let i = 0; i < runs; i++) results.push(await runOnce(treeDir, rss));
  const variants = BASES.length * ARCHES.length;
  const manifest = safeRead(join(treeDir, 'generated', 'manifest.json'));
  let renders = images * variants;
  if (manifest !== '') {
    const entries = JSON.parse(manifest).images?.length;
    if (entries !== undefined && entries !== renders) {
      console.error(`note: manifest.json lists ${entries} (image, variant) entries, expected ${renders}`);
      renders = entries;
    }
  }
  rmSync(treeDir, { recursive: true, force: true });
  return {
    images,
    variants,
    renders,
    wallMs: median(results.map((x) => x.wallMs)),
    rssMiB: median(results.map((x) => x.rssMiB)),
    runs: results.map((x) => Math.round(x.wallMs)),
  };
}

function table(rows) {
  const header = ['images', 'variants', 'renders', 'wall ms', 'peak RSS MiB', 'runs (ms)'];
  const cells = rows.map((r) => [r.images, r.variants, r.renders, Math.round(r.wallMs), r.rssMiB.toFixed(1), r.runs.join(' ')].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => c.map((x, i) => (i === c.length - 1 ? x : x.padStart(widths[i]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.writeTree) {
    writeTree(options.writeTree, options.images);
    console.error(`wrote a tree of ${options.images} images to ${options.writeTree}`);
    return;
  }
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first (npm run bench does)`);
  const workDir = mkdtempSync(join(tmpdir(), 'kolla-gen-bench-'));
  const cleanUp = () => rmSync(workDir, { recursive: true, force: true });
  process.once('SIGINT', () => {
    cleanUp();
    process.exit(130);
  });
  try {
    const rss = rssProbe(workDir);
    const rows = [];
    for (const count of [options.images, options.images * 2]) {
      console.error(`kolla-gen generate on ${count} images x ${BASES.length} bases x ${ARCHES.length} arches, ${options.runs} runs...`);
      rows.push(await measure(workDir, count, options.runs, rss));
    }
    const [small, large] = rows;
    const ratio = large.wallMs / small.wallMs;
    const mark = (ok) => (ok ? 'ok' : 'OVER');
    console.log(`\nkolla-gen generate, median of ${options.runs} runs (node ${process.version}; peak RSS: ${rss.how})\n`);
    console.log(table(rows));
    console.log(`\ntime(2N)/time(N) = ${ratio.toFixed(2)}   goal <= ${GOAL.ratio}: ${mark(ratio <= GOAL.ratio)}`);
    const at = small.images === GOAL.images ? '' : ` (measured at N = ${small.images}; the goal is for ${GOAL.images})`;
    console.log(
      `goal for ${GOAL.images} images x 4 bases x 2 arches: < ${GOAL.wallMs} ms: ${mark(small.wallMs < GOAL.wallMs)}, ` +
        `< ${GOAL.rssMiB} MiB: ${mark(small.rssMiB < GOAL.rssMiB)}${at}`,
    );
  } finally {
    cleanUp();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
