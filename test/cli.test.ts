// The built CLI on copies of the fixtures: what a user sees, exit codes, and an output dir that bad input never touches.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT, copyFixture, run, snapshot, temps, write } from './support/cli.js';
import { CODES, type DiagnosticCode } from '../src/core/diagnostics.js';

describe('kolla-gen generate', () => {
  it('writes the output, then finds it up to date', async () => {
    const dir = copyFixture('basic');
    const first = await run(dir, ['generate']);
    // the plain bake command for this layout (its tree is inside the repo: no grant)
    expect(first.stderr).toBe('kolla-gen: bake it with: docker buildx bake -f generated/docker-bake.hcl');
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toMatch(/^generated: \d+ image targets .*files, \d+ changed, \d+ added, 0 removed$/);
    expect(fs.existsSync(path.join(dir, 'generated', 'docker-bake.hcl'))).toBe(true);
    const second = await run(dir, ['generate']);
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toMatch(/up to date$/);
    expect(second.stderr).toBe(first.stderr);
    // --quiet: neither
    const quiet = await run(dir, ['generate', '--quiet']);
    expect(quiet.stderr).toBe('');
  });

  it('says the bake command with --allow fs.read= the docker dir outside the repo, in --json too', async () => {
    const top = copyFixture('basic');
    fs.renameSync(path.join(top, 'docker'), path.join(top, 'tree'));
    const repo = path.join(top, 'ops');
    fs.mkdirSync(repo);
    fs.writeFileSync(path.join(repo, 'kolla-gen.yaml'), `${fs.readFileSync(path.join(top, 'kolla-gen.yaml'), 'utf8')}\ndocker_dirs: [../tree]\n`);
    const r = await run(repo, ['generate']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr.split('\n')).toContain('kolla-gen: bake it with: docker buildx bake -f generated/docker-bake.hcl --allow fs.read=../tree');
    const j = await run(repo, ['generate', '--json']);
    const result = (JSON.parse(j.stdout) as { result: { bake: unknown } }).result;
    expect(result.bake).toEqual({ file: 'generated/docker-bake.hcl', allow: ['../tree'], command: 'docker buildx bake -f generated/docker-bake.hcl --allow fs.read=../tree' });
  });

  it('gives the same bytes whatever the environment, time zone, locale and place of the checkout', async () => {
    const a = copyFixture('basic');
    const b = copyFixture('basic');
    await run(a, ['generate'], { PATH: process.env.PATH ?? '', TZ: 'UTC', LANG: 'C' });
    await run(b, ['generate'], { PATH: process.env.PATH ?? '', TZ: 'Pacific/Kiritimati', LANG: 'tr_TR.UTF-8', LC_ALL: 'tr_TR.UTF-8', HOME: '/nowhere', PIP_INDEX: 'leak' });
    expect(snapshot(path.join(b, 'generated'))).toEqual(snapshot(path.join(a, 'generated')));
    expect(Object.keys(snapshot(path.join(a, 'generated'))).length).toBeGreaterThan(5);
    const all = fs.readFileSync(path.join(a, 'generated', 'docker-bake.json'), 'utf8');
    expect(all).not.toContain(a);
    expect(all).not.toContain('leak');
  });

  it('removes files that are no longer produced', async () => {
    const dir = copyFixture('basic');
    await run(dir, ['generate']);
    expect(fs.existsSync(path.join(dir, 'generated', 'rocky', 'db', 'Dockerfile'))).toBe(true);
    const result = await run(dir, ['generate', '-b', 'ubuntu']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/[1-9]\d* removed/);
    expect(fs.existsSync(path.join(dir, 'generated', 'rocky'))).toBe(false);
  });

  it('prints --json results', async () => {
    const dir = copyFixture('basic');
    const result = await run(dir, ['generate', '--json']);
    expect(result.exitCode).toBe(0);
    const out = JSON.parse(result.stdout) as { ok: boolean; result: { targets: number; joins: number; perArch: number } };
    expect(out.ok).toBe(true);
    // basic renders the same on every arch: one target per image and variant, no join
    expect(out.result.targets).toBeGreaterThan(0);
    expect([out.result.joins, out.result.perArch]).toEqual([0, 0]);
  });
});

describe('a selection of nothing', () => {
  it('is an error that leaves the output dir byte for byte, with the image the regex was near; on check and list too', async () => {
    const dir = copyFixture('basic');
    expect((await run(dir, ['generate'])).exitCode).toBe(0);
    const before = snapshot(path.join(dir, 'generated'));
    for (const command of ['generate', 'check', 'list']) {
      const result = await run(dir, [command, 'dbb$']);
      expect(result.exitCode, command).toBe(1);
      expect(result.stderr, command).toContain("error[KG605]: no image of the tree matches the regex 'dbb$'\n  hint: did you mean db?");
      expect(result.stdout, command).toBe('');
    }
    expect(snapshot(path.join(dir, 'generated'))).toEqual(before);
  });

  it('names why when the images matched build nowhere: unbuildable on every variant of the run, or all skipped', async () => {
    const dir = copyFixture('basic');
    const unbuildable = await run(dir, ['list', '-b', 'rocky', '^db$'], undefined);
    expect(unbuildable.exitCode).toBe(0);
    write(dir, 'kolla-gen.yaml', 'namespace: acme\ntag: "1.0-{base}"\nbases: [ubuntu, rocky]\nunbuildable:\n  rocky: [db]\n');
    const rocky = await run(dir, ['list', '-b', 'rocky', '^db$']);
    expect(rocky.exitCode).toBe(1);
    expect(rocky.stderr).toContain("error[KG605]: the regex '^db$' selects no image on any variant: every image it matches is unbuildable on the variants of this run (rocky-amd64, rocky-arm64)");
    const skipped = await run(dir, ['list', '--skip-parents', '^base$']);
    expect(skipped.exitCode).toBe(1);
    expect(skipped.stderr).toContain('--skip-parents skips every image it selects');
    // explain explains it rather than refusing it
    const explained = await run(dir, ['explain', 'db', 'dbb$']);
    expect(explained.exitCode).toBe(0);
    expect(explained.stdout).toContain('db on ubuntu amd64, arm64: unmatched');
  });
});

describe('the config file, searched upward', () => {
  it('is found in a folder above, and the command runs from its folder (paths, output dir)', async () => {
    const dir = copyFixture('basic');
    write(dir, 'overlays/docker/README', 'an overlay tree, not the tree\n');
    const sub = path.join(dir, 'overlays');
    const fromTop = await run(dir, ['list', '-b', 'ubuntu', '-a', 'amd64']);
    const fromSub = await run(sub, ['list', '-b', 'ubuntu', '-a', 'amd64']);
    expect(fromSub.exitCode, fromSub.stderr).toBe(0);
    expect(fromSub.stdout).toBe(fromTop.stdout);
    expect(fromSub.stderr).toBe('kolla-gen: config kolla-gen.yaml in ..; paths are from there');
    expect((await run(sub, ['generate', '-q'])).exitCode).toBe(0);
    expect(fs.existsSync(path.join(dir, 'generated', 'manifest.json'))).toBe(true);
    expect(fs.existsSync(path.join(sub, 'generated'))).toBe(false);
  });

  it('stops at the git top-level; with no config and no docker dir, KG200 names kolla-gen init and -c', async () => {
    const dir = copyFixture('basic');
    fs.mkdirSync(path.join(dir, 'repo', '.git', 'objects'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'repo', 'sub'));
    for (const cwd of [path.join(dir, 'repo', 'sub'), path.join(dir, 'repo')]) {
      const result = await run(cwd, ['list']);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain('error[KG200]: docker dir docker does not exist, and no kolla-gen.yaml was found here or in a folder above');
      expect(result.stderr).toMatch(/hint: run `kolla-gen init` to start an ops repo here .*, pass -c <path>\/kolla-gen\.yaml/);
    }
    // --no-config does not search
    expect((await run(path.join(dir, 'docker'), ['list', '--no-config'])).stderr).toContain('error[KG200]: docker dir docker does not exist');
  });
});

describe('what a run prints by default', () => {
  it('the one-line result and the bake command: no config line, no KG603 for a base the run does not render; -q: nothing', async () => {
    const dir = copyFixture('basic');
    write(dir, 'kolla-gen.yaml', `${fs.readFileSync(path.join(dir, 'kolla-gen.yaml'), 'utf8')}unbuildable:\n  rocky: [no-such-image]\n`);
    const ubuntu = await run(dir, ['generate', '-b', 'ubuntu']);
    // the plain bake command is the one line generate adds (item 2 of issue 28)
    expect([ubuntu.exitCode, ubuntu.stderr]).toEqual([0, 'kolla-gen: bake it with: docker buildx bake -f generated/docker-bake.hcl']);
    expect(ubuntu.stdout.split('\n')).toHaveLength(1);
    const all = await run(dir, ['list', '-b', 'ubuntu,rocky']);
    expect(all.stderr).toContain('warning[KG603]: unbuildable.rocky names "no-such-image"');
    for (const command of ['generate', 'check', 'list', 'build', 'explain', 'deps']) {
      const help = await run(dir, [command, '--help']);
      expect(help.stdout, command).toContain('-q, --quiet');
    }
    const quiet = await run(dir, ['generate', '-q', '-b', 'ubuntu,rocky']);
    expect([quiet.exitCode, quiet.stdout, quiet.stderr]).toEqual([0, '', '']);
  });

  it('each hint once per run, however many diagnostics give it', async () => {
    const dir = copyFixture('basic');
    await run(dir, ['generate']);
    fs.appendFileSync(path.join(dir, 'docker', 'base', 'Dockerfile.j2'), 'RUN echo bumped\n');
    const result = await run(dir, ['check']);
    expect(result.exitCode).toBe(1);
    const stale = result.stderr.split('\n').filter((line) => line.startsWith('stale   generated/'));
    expect(stale.length).toBeGreaterThanOrEqual(3);
    // one error for all of them, counting them
    expect(result.stderr.match(/error\[KG701\]/g)).toHaveLength(1);
    expect(result.stderr).toContain(`error[KG701]: generated is out of date: ${stale.length} files differ from what generate writes (${stale.length} stale)`);
    expect(result.stderr.match(/hint: run `kolla-gen generate/g)).toHaveLength(1);
  });

  it('KG113: one line per ignored kolla-build.conf key, no code frame', async () => {
    const dir = copyFixture('basic');
    write(dir, 'kolla-build.conf', '[DEFAULT]\nthreads = 4\npush = true\nfoo = 1\n');
    const result = await run(dir, ['list', '--kolla-config', 'kolla-build.conf', '-b', 'ubuntu', '-D', 'docker']);
    const lines = result.stderr.split('\n').filter((line) => line.includes('KG113'));
    expect(lines).toEqual([
      'warning[KG113]: kolla-build.conf:2:1: [DEFAULT] threads: a kolla-build option for its own builds; kolla-gen ignores it',
      'warning[KG113]: kolla-build.conf:3:1: [DEFAULT] push: a kolla-build option for its own builds; kolla-gen ignores it',
      'warning[KG113]: kolla-build.conf:4:1: [DEFAULT] foo: unknown key, ignored',
    ]);
    expect(result.stderr).not.toMatch(/\n> +\d+ \| /);
  });

  it('did you mean: a profile, a config key', async () => {
    const dir = copyFixture('basic');
    expect((await run(dir, ['list', '-p', 'infar'])).stderr).toContain('error[KG601]: profile "infar" is not defined\n  hint: did you mean infra? (known profiles: infra)');
    write(dir, 'kolla-gen.yaml', 'namespace: acme\nbase: [ubuntu]\n');
    const key = await run(dir, ['list']);
    expect(key.stderr).toContain('error[KG102]: base: Unrecognized key: "base"');
    expect(key.stderr).toContain('hint: did you mean bases?');
  });

  it('list counts the unbuildable images the selection asked for, not the whole table', async () => {
    const dir = copyFixture('basic');
    write(dir, 'kolla-gen.yaml', `${fs.readFileSync(path.join(dir, 'kolla-gen.yaml'), 'utf8')}unbuildable:\n  rocky: [tools-base]\n`);
    expect((await run(dir, ['list', '-p', 'infra', '-b', 'rocky', '-a', 'amd64'])).stdout).toBe('rocky-amd64: 2 selected\n  base\n  db');
    expect((await run(dir, ['list', '-b', 'rocky', '-a', 'amd64'])).stdout.split('\n')[0]).toBe('rocky-amd64: 2 selected, 2 unbuildable');
  });
});

describe('kolla-gen check', () => {
  it('names every stale, missing and extra file and exits 1', async () => {
    const dir = copyFixture('basic');
    await run(dir, ['generate']);
    expect((await run(dir, ['check'])).exitCode).toBe(0);
    fs.appendFileSync(path.join(dir, 'generated', 'docker-bake.hcl'), '# edited\n');
    fs.rmSync(path.join(dir, 'generated', 'ubuntu', 'db', 'Dockerfile'));
    // a file the committed manifest lists as kolla-gen's, which it no longer writes
    write(dir, 'generated/stray.txt', 'x');
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'generated', 'manifest.json'), 'utf8')) as { files: string[] };
    fs.writeFileSync(path.join(dir, 'generated', 'manifest.json'), JSON.stringify({ ...manifest, files: [...manifest.files, 'stray.txt'] }));
    const before = snapshot(path.join(dir, 'generated'));
    const result = await run(dir, ['check']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('stale   generated/docker-bake.hcl');
    expect(result.stderr).toContain('missing generated/ubuntu/db/Dockerfile');
    expect(result.stderr).toContain('extra   generated/stray.txt');
    expect(snapshot(path.join(dir, 'generated'))).toEqual(before);
  });

  it('sees a template change', async () => {
    const dir = copyFixture('basic');
    await run(dir, ['generate']);
    fs.appendFileSync(path.join(dir, 'docker', 'db', 'Dockerfile.j2'), 'RUN echo changed\n');
    const result = await run(dir, ['check']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('stale   generated/ubuntu/db/Dockerfile');
    expect(result.stderr).toContain('stale   generated/rocky/db/Dockerfile');
  });
});

describe('kolla-gen list and deps', () => {
  it('lists the selected images per variant', async () => {
    const dir = copyFixture('basic');
    const result = await run(dir, ['list', 'tools-api', '-b', 'ubuntu', '-a', 'amd64']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('ubuntu-amd64: 3 selected\n  base\n  tools-base\n  tools-api');
    const json = JSON.parse((await run(dir, ['list', '-b', 'rocky', '--json'])).stdout) as { result: { variants: { base: string; arch: string; images: string[] }[] } };
    expect(json.result.variants.map((v) => `${v.base}-${v.arch}:${v.images.join(',')}`)).toEqual([
      'rocky-amd64:base,db,tools-base,tools-api',
      'rocky-arm64:base,db,tools-base,tools-api',
    ]);
  });

  it.each([
    ['json', /^\{\n {2}"variants": \[\n {4}\{\n {6}"name": "ubuntu",\n {6}"base": "ubuntu",\n {6}"arch": "amd64",\n {6}"images": \[\n[\s\S]*"name": "tools-api",\n {10}"parents": \[\n {12}"tools-base"\n[\s\S]*\]\n\}$/],
    ['dot', /^digraph "images" \{\n {2}rankdir=LR\n {2}subgraph "cluster_ubuntu" \{[\s\S]*\n {4}"ubuntu\/base" -> "ubuntu\/db"\n[\s\S]*\n {4}"ubuntu\/tools-base" -> "ubuntu\/tools-api"\n {2}\}\n\}$/],
    ['mermaid', /^graph LR\n {2}subgraph v1\["ubuntu"\]\n[\s\S]*\n {4}v1_base --> v1_db\n[\s\S]*\n {4}v1_tools_base --> v1_tools_api\n {2}end$/],
  ])('prints the dependency tree as %s', async (format, expected) => {
    const dir = copyFixture('basic');
    const result = await run(dir, ['deps', '-b', 'ubuntu', '--format', format]);
    expect(result.exitCode).toBe(0);
    if (typeof expected === 'string') expect(result.stdout).toBe(expected);
    else expect(result.stdout).toMatch(expected);
  });
});

interface ErrorCase {
  code: DiagnosticCode;
  args?: string[];
  files?: Record<string, string>;
  remove?: string[];
  /** file:line:col of the first diagnostic, or undefined when it has no place. */
  at?: string;
  /** A warning (or an info): the run succeeds. */
  warning?: boolean;
  message?: RegExp;
  /** The whole environment of the runs, when the case needs one. */
  env?: Record<string, string>;
}

const ERROR_CASES: ErrorCase[] = [
  { code: 'KG100', args: ['-c', 'nope.yaml'] },
  { code: 'KG101', files: { 'kolla-gen.yaml': 'namespace: acme\nbases: [ubuntu\n' }, at: 'kolla-gen.yaml:3:1' },
  { code: 'KG102', files: { 'kolla-gen.yaml': 'namespace: acme\nbasez: [ubuntu]\n' }, at: 'kolla-gen.yaml:2:1', message: /basez/ },
  { code: 'KG103', args: ['--vars', 'vars.yaml'], files: { 'vars.yaml': '- a\n- b\n' }, at: 'vars.yaml:1:1' },
  { code: 'KG104', args: ['-b', 'ubuntu,suse'], message: /suse/ },
  { code: 'KG105', args: ['--build-arg', 'NOVALUE'] },
  { code: 'KG106', args: ['--template-override', 'missing.j2'] },
  { code: 'KG107', args: ['--preset', 'kolla'], env: { PATH: process.env.PATH ?? '', SOURCE_DATE_EPOCH: 'yesterday' }, message: /SOURCE_DATE_EPOCH="yesterday"/ },
  { code: 'KG110', args: ['--preset', 'helm'], message: /helm/ },
  { code: 'KG111', args: ['--kolla-config', 'kolla-build.conf'], files: { 'kolla-build.conf': 'base = ubuntu\n' }, at: 'kolla-build.conf:1:1' },
  { code: 'KG112', args: ['--kolla-config', 'kolla-build.conf'], files: { 'kolla-build.conf': '[DEFAULT]\nskip_parents = maybe\n' }, at: 'kolla-build.conf:2:1' },
  { code: 'KG113', args: ['--kolla-config', 'kolla-build.conf'], files: { 'kolla-build.conf': '[DEFAULT]\nthreads = 4\n' }, at: 'kolla-build.conf:2:1', warning: true },
  { code: 'KG114', args: ['--preset', 'kolla'], warning: true, message: /no kolla checkout/ },
  { code: 'KG115', args: ['--preset', 'kolla'], warning: true, message: /^kolla preset: release master \(from built-in\); base images ubuntu ubuntu:24\.04, rocky / },
  { code: 'KG200', args: ['-D', 'nope'] },
  { code: 'KG201', files: { 'docker/more/db/Dockerfile.j2': 'FROM scratch\n' }, at: 'docker/more/db/Dockerfile.j2:1:1', message: /db and more\/db/ },
  { code: 'KG202', args: ['-D', 'empty'], files: { 'empty/README': 'no images here\n' } },
  { code: 'KG203', files: { 'docker/bad name/Dockerfile.j2': 'FROM scratch\n' }, at: 'docker/bad name/Dockerfile.j2:1:1' },
  { code: 'KG300', files: { 'docker/db/Dockerfile.j2': 'FROM scratch\n{% if base_distro %}\nRUN true\n' }, at: 'docker/db/Dockerfile.j2:2:' },
  { code: 'KG301', files: { 'docker/db/Dockerfile.j2': 'FROM scratch\nRUN {{ nothing_here() }}\n' }, at: 'docker/db/Dockerfile.j2:2:' },
  { code: 'KG302', files: { 'docker/db/Dockerfile.j2': 'FROM scratch\n\nRUN {{ "".constructor.constructor("return process")() }}\n' }, at: 'docker/db/Dockerfile.j2:3:' },
  { code: 'KG303', files: { 'docker/db/Dockerfile.j2': 'FROM scratch\n{% include "missing.j2" %}\n' }, at: 'docker/db/Dockerfile.j2:2:' },
  { code: 'KG304', files: { 'docker/db/Dockerfile.j2': 'FROM scratch\n{% if base_distro == "rocky" %}{{ raise_error("db needs a Debian base") }}{% endif %}\n' }, at: 'docker/db/Dockerfile.j2:2:', message: /db needs a Debian base/ },
  { code: 'KG400', files: { 'docker/db/Dockerfile.j2': '# nothing\nRUN true\n' }, at: 'docker/db/Dockerfile.j2:1:1' },
  { code: 'KG401', files: { 'docker/db/Dockerfile.j2': 'FROM scratch\nRUN true\nFROM\n' }, at: 'docker/db/Dockerfile.j2:3:' },
  { code: 'KG402', files: { 'docker/db/Dockerfile.j2': '# db\nFROM {{ namespace }}/{{ image_prefix }}bsae:{{ tag }}\n' }, at: 'docker/db/Dockerfile.j2:2:1', message: /acme\/bsae:1\.0-ubuntu|acme\/bsae:1\.0-rocky/ },
  { code: 'KG500', files: { 'docker/base/Dockerfile.j2': 'FROM {{ namespace }}/tools-api:{{ tag }}\n' }, at: 'docker/base/Dockerfile.j2:1:1', message: /base → tools-base → tools-api → base|tools-api → base → tools-base → tools-api/ },
  { code: 'KG501', files: { 'docker/db/Dockerfile.j2': 'FROM {{ namespace }}/db:{{ tag }}\n' }, at: 'docker/db/Dockerfile.j2:1:1' },
  { code: 'KG600', args: ['generate', 'tools-(api'] },
  { code: 'KG601', args: ['-p', 'nope'], message: /nope/ },
  { code: 'KG602', args: ['generate', '^db$'], files: { 'kolla-gen.yaml': 'namespace: acme\ntag: "1.0-{base}"\nbases: [ubuntu, rocky]\nunbuildable:\n  rocky: [db]\n' }, warning: true, message: /^no image selected on 2 variants rocky-amd64, rocky-arm64; the others build$/ },
  { code: 'KG603', files: { 'kolla-gen.yaml': 'namespace: acme\nunbuildable:\n  arm64: [no-such-image]\n' }, warning: true, at: 'kolla-gen.yaml:3:3' },
  { code: 'KG604', args: ['--tag', 'same'], warning: true, message: /acme\/base:same by ubuntu-base and rocky-base/ },
  { code: 'KG605', args: ['generate', 'nothing-matches-this'], message: /^no image of the tree matches the regex 'nothing-matches-this'$/ },
  { code: 'KG606', args: ['generate', 'db', '^dbb$'], warning: true, message: /^the regex '\^dbb\$' matches no image of the tree$/ },
  { code: 'KG700', args: ['-o', 'elsewhere'], files: { 'elsewhere/notes.txt': 'mine\n' } },
  { code: 'KG702', files: { 'docker/db.x/Dockerfile.j2': 'FROM scratch\n', 'docker/db_x/Dockerfile.j2': 'FROM scratch\n' } },
  { code: 'KG703', args: ['-o', 'afile/out'], files: { afile: 'a file, not a dir\n' } },
];

describe('diagnostics', () => {
  /** Codes whose cases live in other test files, by range. */
  const ELSEWHERE: [from: string, to: string, file: string][] = [
    ['KG130', 'KG149', 'test/validate.test.ts'],
    ['KG150', 'KG150', 'test/docs.test.ts'],
    ['KG210', 'KG229', 'test/links.test.ts'],
    ['KG310', 'KG329', 'test/render-limits.test.ts'],
    ['KG410', 'KG429', 'test/validate.test.ts'],
    ['KG450', 'KG469', 'test/buildkit-policy.test.ts'],
    ['KG470', 'KG479', 'test/attest.test.ts'],
    ['KG480', 'KG499', 'test/lock.test.ts'],
    ['KG610', 'KG629', 'test/validate.test.ts'],
    ['KG710', 'KG712', 'test/ops-cli.test.ts'],
    ['KG713', 'KG713', 'test/config-truth.test.ts'],
    ['KG720', 'KG739', 'test/output-dir.test.ts'],
    ['KG740', 'KG749', 'test/init.test.ts'],
    ['KG800', 'KG899', 'test/build.test.ts'],
    ['KG900', 'KG999', 'test/changes.test.ts'],
  ];
  it(`has a case below for every code of the list but KG701 (tested with check above) and ${ELSEWHERE.map(([from, to, file]) => `${from}-${to} (${file})`).join(', ')}`, () => {
    const elsewhere = Object.keys(CODES).filter((code) => ELSEWHERE.some(([from, to]) => code >= from && code <= to));
    const tested = new Set<string>([...ERROR_CASES.map((c) => c.code), 'KG701', ...elsewhere]);
    expect(Object.keys(CODES).filter((code) => !tested.has(code))).toEqual([]);
  });

  it.each(ERROR_CASES)('$code', async (c) => {
    const dir = copyFixture('basic');
    expect((await run(dir, ['generate', '--quiet'])).exitCode).toBe(0);
    for (const rel of c.remove ?? []) fs.rmSync(path.join(dir, rel), { recursive: true });
    for (const [rel, text] of Object.entries(c.files ?? {})) write(dir, rel, text);
    const before = snapshot(path.join(dir, 'generated'));
    const args = c.args?.[0] === 'generate' ? c.args : ['generate', ...(c.args ?? [])];
    const result = await run(dir, [...args, '--json'], c.env);
    const out = JSON.parse(result.stdout) as { ok: boolean; diagnostics: { code: string; message: string; location?: { file: string; line: number; column: number }; hint: string }[] };
    const first = out.diagnostics.find((d) => d.code === c.code);
    expect(first, JSON.stringify(out.diagnostics, null, 2)).toBeDefined();
    if (!first) return;
    expect(first.hint.length).toBeGreaterThan(10);
    if (c.at) expect(`${first.location?.file}:${first.location?.line}:${first.location?.column}`).toMatch(new RegExp(`^${c.at.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    if (c.message) expect(first.message).toMatch(c.message);
    if (c.warning) {
      expect(result.exitCode).toBe(0);
      return;
    }
    expect(result.exitCode).toBe(1);
    expect(out.ok).toBe(false);
    // Bad input never touches the output dir.
    expect(snapshot(path.join(dir, 'generated'))).toEqual(before);
    // And the text form shows the code, the place and a code frame.
    const text = await run(dir, args, c.env);
    expect(text.exitCode).toBe(1);
    expect(text.stderr).toContain(`error[${c.code}]`);
    if (c.at) expect(text.stderr).toMatch(/\n> +\d+ \| /);
  });
});

describe('output through a pipe', () => {
  it('prints a --json result far larger than a pipe buffer whole before exiting', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-pipe-'));
    temps.push(dir);
    await execa('node', [path.join(ROOT, 'bench', 'synthetic.mjs'), '--images', '400', '--write-tree', dir]);
    // Through a shell pipe, as `kolla-gen list --json | jq` runs: the reader is another process.
    const result = await execa('sh', ['-c', `node '${CLI}' list --json --quiet | (sleep 1; cat)`], { cwd: dir, reject: false });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.length).toBeGreaterThan(65536);
    const out = JSON.parse(result.stdout) as { result: { variants: { images: string[] }[] } };
    expect(out.result.variants.reduce((n, v) => n + v.images.length, 0)).toBe(400 * 8);
  });
});
