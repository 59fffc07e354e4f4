// Issue 10, item 7: kolla-gen as a newcomer installs it and follows docs/ops-repo.md. `npm pack` of a copy of the
// sources makes the tarball (its `prepare` builds dist/),
// npm installs it into an empty prefix (no clone of kolla-gen on PATH), and the walk-through's commands run one by one
// in an empty dir, as the page gives them, with two stand-ins: the `git clone` of upstream Kolla becomes a local git
// checkout of the kolla-mini fixture (no network), and `kolla-gen build` gets `--print` (no engine here: the e2e
// suite builds for real, test/e2e/ops.test.ts). `docker` is real buildx (bake --print needs no daemon).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { findBuildx, resolveAsBuildx, type PrintedTarget } from './support/buildx.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'kolla-mini', 'kolla');
const buildx = findBuildx();
if (!buildx) console.warn('walkthrough.test.ts: no docker-buildx found (run test/e2e/engine/provision.sh, or set KOLLA_GEN_BUILDX): skipped');

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'kolla-gen walk',
  GIT_AUTHOR_EMAIL: 'walk@kolla-gen.invalid',
  GIT_COMMITTER_NAME: 'kolla-gen walk',
  GIT_COMMITTER_EMAIL: 'walk@kolla-gen.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
};

/** The commands of the first ```sh block after `heading` in a markdown page, comments dropped. */
export function shellBlock(markdown: string, heading: string): string[] {
  const from = markdown.indexOf(`\n${heading}\n`);
  if (from < 0) throw new Error(`no heading ${heading}`);
  const block = /```sh\n([\s\S]*?)```/.exec(markdown.slice(from));
  if (!block) throw new Error(`no sh block after ${heading}`);
  return block[1]!
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

const temps: string[] = [];
afterAll(() => {
  for (const t of temps) fs.rmSync(t, { recursive: true, force: true });
});

describe.skipIf(!buildx)('install from the packed tarball and follow docs/ops-repo.md', () => {
  const top = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-walk-'));
  temps.push(top);
  const prefix = path.join(top, 'prefix');
  const bin = path.join(top, 'bin');
  const start = path.join(top, 'start');
  const env = () => ({
    ...GIT_ENV,
    PATH: `${path.join(prefix, 'bin')}${path.delimiter}${bin}${path.delimiter}${process.env.PATH ?? ''}`,
    HOME: top,
    DOCKER_CONFIG: path.join(top, 'docker-config'),
  });

  it('packs a tarball that installs into an empty prefix and runs there', async () => {
    // pack a copy of the sources, so that `prepare` (the build) runs as for a git install, away from this clone's dist/
    const copy = path.join(top, 'kolla-gen');
    fs.mkdirSync(copy);
    for (const entry of ['package.json', 'package-lock.json', 'tsconfig.json', 'README.md', 'scripts', 'src']) {
      fs.cpSync(path.join(ROOT, entry), path.join(copy, entry), { recursive: true });
    }
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
    const pack = await execa('npm', ['pack', '--pack-destination', top, '--silent'], { cwd: copy, reject: false });
    expect(pack.exitCode, pack.stderr).toBe(0);
    const tarball = path.join(top, pack.stdout.trim().split('\n').pop()!);
    expect(fs.existsSync(tarball), tarball).toBe(true);
    const listed = await execa('tar', ['-tzf', tarball]);
    expect(listed.stdout.split('\n')).toContain('package/dist/cli.js');
    expect(listed.stdout).not.toMatch(/package\/(src|test|generated|docker)\//);
    const install = await execa('npm', ['install', '--global', '--prefix', prefix, tarball, '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: top,
      reject: false,
    });
    expect(install.exitCode, install.stderr).toBe(0);
    fs.mkdirSync(start);
    const version = await execa('kolla-gen', ['--version'], { cwd: start, env: env(), reject: false });
    expect(version.exitCode, version.stderr).toBe(0);
    const own = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version.stdout.trim()).toBe(own.version);
    // the installed kolla-gen, not this clone's
    const which = await execa('sh', ['-c', 'command -v kolla-gen'], { env: env() });
    expect(which.stdout.trim()).toBe(path.join(prefix, 'bin', 'kolla-gen'));
  }, 300_000);

  it('runs the walk-through command by command, and leaves a committed generation buildx resolves', async () => {
    expect(fs.existsSync(path.join(prefix, 'bin', 'kolla-gen')), 'the tarball is installed (the test before)').toBe(true);
    // docker: its --version, and real buildx for `docker buildx ...`
    fs.mkdirSync(bin);
    fs.writeFileSync(
      path.join(bin, 'docker'),
      `#!/bin/sh\nif [ "$1" = --version ]; then echo "Docker version 26.1.5"; exit 0; fi\nif [ "$1" = buildx ]; then shift; exec ${buildx} "$@"; fi\necho "docker $*: no engine in this test" >&2; exit 1\n`,
      { mode: 0o755 },
    );
    const commands = shellBlock(fs.readFileSync(path.join(ROOT, 'docs', 'ops-repo.md'), 'utf8'), '## Walk-through');
    expect(commands[0]).toMatch(/^git clone \S+ kolla$/);
    // what the clone makes: a checkout of master's layout (kolla/docker) whose origin is upstream
    const url = commands[0]!.split(' ')[2]!;
    const upstream = [`mkdir kolla`, `cp -R ${FIXTURE} kolla/kolla`, `git -C kolla init -q`, `git -C kolla add -A`, `git -C kolla commit -qm upstream`, `git -C kolla remote add origin ${url}`].join(' && ');
    let cwd = start;
    const outputs: string[] = [];
    for (const command of commands) {
      const line = command.startsWith('git clone ') ? upstream : command.startsWith('kolla-gen build ') ? `${command} --print` : command;
      // one shell per command; a `cd` carries over to the next, as in a terminal
      const r = await execa('bash', ['-c', `set -e; ${line}; pwd >&3`], { cwd, env: env(), reject: false, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
      expect(r.exitCode, `$ ${command}\n${r.stdout}\n${r.stderr}`).toBe(0);
      outputs.push(`$ ${command}\n${r.stdout}\n${r.stderr}`);
      cwd = String((r as unknown as { stdio: unknown[] }).stdio[3]).trim() || cwd;
    }
    const ops = path.join(start, 'ops');
    expect(cwd).toBe(ops);
    const all = outputs.join('\n');
    // run in the ops repo's root: no line naming the config
    expect(all).not.toContain('kolla-gen: config');
    expect(all).toContain('generated: up to date');
    // committed, and nothing after the commit changed it (build --print writes nothing)
    const status = await execa('git', ['status', '--porcelain'], { cwd: ops });
    expect(status.stdout).toBe('');
    // every target resolves, as buildx reads the committed file, to a Dockerfile kolla-gen wrote
    const printed = await execa('docker', ['buildx', 'bake', '-f', 'generated/docker-bake.hcl', '--print'], { cwd: ops, env: env() });
    const targets = (JSON.parse(printed.stdout) as { target: Record<string, PrintedTarget> }).target;
    expect(Object.keys(targets).length).toBeGreaterThan(0);
    for (const [name, t] of Object.entries(targets)) {
      const { context, dockerfile } = resolveAsBuildx(ops, t);
      expect(fs.statSync(context).isDirectory(), `${name}: context ${context}`).toBe(true);
      expect(dockerfile.startsWith(path.join(ops, 'generated') + path.sep), `${name}: ${dockerfile}`).toBe(true);
      expect(fs.readFileSync(dockerfile, 'utf8'), `${name}: ${dockerfile}`).toMatch(/^FROM /m);
    }
  }, 300_000);
});
