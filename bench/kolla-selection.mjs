#!/usr/bin/env node
// Selection parity with kolla-build: for a battery of regexes, profiles, --skip-parents, --enable-unbuildable and a
// two-file template override, the images kolla-gen selects on an upstream Kolla checkout are the ones kolla-build
// keeps (the oracle's images.txt: --template-only removes every image it would not build), and their Dockerfiles are
// byte for byte kolla-build's. A kolla-build.conf case checks --kolla-config the same way.
//
// usage: node bench/kolla-selection.mjs KOLLA_CHECKOUT WORK_DIR [--variants rocky-x86_64,ubuntu-aarch64]
//   needs ../shared/tools/kolla-oracle.sh (or KOLLA_ORACLE); oracle runs are cached under WORK_DIR by case.
import { Buffer } from 'node:buffer';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

// kolla-gen sees PATH and SOURCE_DATE_EPOCH only (the build_date of releases before master comes from it).
const genEnv = { PATH: process.env.PATH, ...(process.env.SOURCE_DATE_EPOCH ? { SOURCE_DATE_EPOCH: process.env.SOURCE_DATE_EPOCH } : {}) };
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const vi = args.indexOf('--variants');
const variants = (vi >= 0 ? args.splice(vi, 2)[1] : 'rocky-x86_64,ubuntu-aarch64').split(',');
const [checkout, work] = args;
if (!checkout || !work) {
  console.error('usage: node bench/kolla-selection.mjs KOLLA_CHECKOUT WORK_DIR [--variants LIST]');
  process.exit(2);
}
const oracle = process.env.KOLLA_ORACLE ?? path.resolve(repo, '../shared/tools/kolla-oracle.sh');
const cli = process.env.KOLLA_GEN_CLI ?? path.join(repo, 'dist/cli.js');
const dockerDir = ['kolla/docker', 'docker'].map((d) => path.resolve(checkout, d)).find((d) => fs.existsSync(path.join(d, 'base')));
fs.mkdirSync(work, { recursive: true });

// Two hand-written overrides: the second is appended to the first without its extends line, as kolla-build does.
const over1 = path.join(work, 'override-1.j2');
const over2 = path.join(work, 'override-2.j2');
fs.writeFileSync(
  over1,
  '{% extends parent_template %}\n{% set nova_api_packages_append = ["vim-tiny"] %}\n' +
    '{% block nova_api_footer %}\nRUN echo "first override: {{ image_name }} on {{ base_distro }}"\n{% endblock %}\n',
);
fs.writeFileSync(
  over2,
  '{% extends parent_template %}\n{% set keystone_packages_remove = ["nothing-to-remove"] %}\n' +
    '{% block keystone_footer %}\nRUN echo "second override"\n{% endblock %}\n{% block footer %}\nLABEL overridden="yes"\n{% endblock %}\n',
);

// A kolla-build.conf, read by kolla-build (--config-file) and by kolla-gen (--kolla-config).
const conf = path.join(work, 'kolla-build.conf');
fs.writeFileSync(
  conf,
  '[DEFAULT]\n# a release branch, a namespace, a profile of our own\nopenstack_release = 2025.2\nnamespace = acme\nmaintainer = Acme Cloud\n' +
    `profile = mine\nthreads = 4\nrepos_yaml = ${path.join(work, 'repos-override.yaml')}\n\n` +
    '[profiles]\nmine = keystone,^cron$,^grafana$\n\n[keystone-user]\nuid = 64000\ngid = 64001\n',
);
// A repos.yaml override (kolla-build's repos_yaml), merged section by section over the checkout's.
fs.writeFileSync(
  path.join(work, 'repos-override.yaml'),
  'deb:\n  grafana:\n    url: "https://grafana.internal.invalid/apt"\n    suite: "stable"\n    component: "main"\n    gpg_key: "grafana.asc"\n' +
    'rpm:\n  grafana:\n    baseurl: "https://grafana.internal.invalid/rpm"\n    gpgkey: "https://grafana.internal.invalid/gpg.key"\n    name: "grafana"\n',
);

/** Each case: its name, kolla-build's arguments, kolla-gen's. */
const CASES = [
  ['everything', [], []],
  ['regex ^nova-', ['^nova-'], ['^nova-']],
  ['two regexes', ['keystone', 'glance-api'], ['keystone', 'glance-api']],
  ['regex base', ['base'], ['base']],
  ['regex api$', ['api$'], ['api$']],
  ['profile infra', ['--profile', 'infra'], ['-p', 'infra']],
  ['profiles main+aux', ['--profile', 'main', '--profile', 'aux'], ['-p', 'main,aux']],
  ['profile default', ['--profile', 'default'], ['-p', 'default']],
  ['regex wins over profile', ['--profile', 'infra', 'heat'], ['-p', 'infra', 'heat']],
  ['skip-parents ^nova-', ['--skip-parents', '^nova-'], ['--skip-parents', '^nova-']],
  ['skip-parents profile infra', ['--skip-parents', '--profile', 'infra'], ['--skip-parents', '-p', 'infra']],
  ['skip-parents everything', ['--skip-parents'], ['--skip-parents']],
  ['enable-unbuildable', ['--enable-unbuildable', 'ovsdpdk|tgtd|bifrost'], ['--enable-unbuildable', 'ovsdpdk|tgtd|bifrost']],
  ['kolla-build.conf', ['--config-file', conf], ['--kolla-config', conf]],
  ['two template overrides', ['--template-override', over1, '--template-override', over2, 'nova-api|keystone'], ['--template-override', over1, '--template-override', over2, 'nova-api|keystone']],
];

const slug = (s) => s.replace(/[^a-z0-9]+/gi, '-');
let agree = 0;
let total = 0;
let identical = 0;
let files = 0;
for (const variant of variants) {
  const [base, arch] = variant.split('-');
  for (const [name, kollaArgs, genArgs] of CASES) {
    const out = path.join(work, `${variant}--${slug(name)}`);
    if (!fs.existsSync(path.join(out, 'images.txt'))) {
      execFileSync(oracle, [out, base, arch, '--', ...kollaArgs], { env: { ...process.env, KOLLA_SRC: path.resolve(checkout), KOLLA_LISTS: '0' }, stdio: 'ignore' });
    }
    const expected = fs.readFileSync(path.join(out, 'images.txt'), 'utf8').split('\n').filter(Boolean).sort();
    const gen = path.join(work, 'gen');
    fs.rmSync(gen, { recursive: true, force: true });
    const r = spawnSync(process.execPath, [cli, 'generate', '--preset', 'kolla', '-D', dockerDir, '-o', gen, '-b', base, '-a', arch, '--quiet', ...genArgs], {
      encoding: 'utf8',
      cwd: work,
      env: genEnv,
    });
    if (r.status !== 0) throw new Error(`kolla-gen failed on ${name}: ${r.stderr}`);
    const manifest = JSON.parse(fs.readFileSync(path.join(gen, 'manifest.json'), 'utf8'));
    const selected = manifest.images.filter((row) => row.status === 'selected');
    const mine = selected.map((row) => row.image).sort();
    const same = JSON.stringify(mine) === JSON.stringify(expected);
    total += 1;
    if (same) agree += 1;
    let n = 0;
    for (const row of selected) {
      const want = path.join(out, 'dockerfiles', row.image, 'Dockerfile');
      if (fs.existsSync(want) && Buffer.compare(fs.readFileSync(want), fs.readFileSync(path.join(work, row.dockerfile))) === 0) n += 1;
    }
    identical += n;
    files += expected.length;
    const note = `; Dockerfiles ${n}/${expected.length} identical`;
    const diff = same ? '' : `; only kolla-build: ${expected.filter((i) => !mine.includes(i)).join(' ')}; only kolla-gen: ${mine.filter((i) => !expected.includes(i)).join(' ')}`;
    console.log(`${variant.padEnd(15)} ${name.padEnd(28)} ${same ? 'same' : 'DIFFERENT'} (${expected.length} images)${note}${diff}`);
  }
}
console.log(`selection: ${agree}/${total} cases agree; Dockerfiles of the selected images: ${identical}/${files} identical`);
process.exit(agree === total && identical === files ? 0 : 1);
