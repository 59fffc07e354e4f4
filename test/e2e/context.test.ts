// What a build sees of an image's folder, on a real engine (test/e2e/engine): the ignore file kolla-gen writes beside
// each rendered Dockerfile keeps every template out of `COPY . /x`, keeps the folder's own .dockerignore rules, and is
// what does it (without it, BuildKit falls back to the folder's .dockerignore and the templates are sent).
import { mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type Engine } from './engine/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli.js');

const TREE: Record<string, string> = {
  'kolla-gen.yaml': 'namespace: e2e\ntag: "1"\nbases: [debian]\narches: [amd64, arm64]\n',
  'docker/macros.j2': '{% macro copy_all() %}COPY . /x{% endmacro %}\n',
  // a comment, an import and a macro: a template the build must never see
  'docker/probe/Dockerfile.j2': '{% import "macros.j2" as m %}{# the whole folder, as the build sees it #}\nFROM scratch\n{{ m.copy_all() }}\n',
  'docker/probe/.dockerignore': 'secret.txt\n',
  'docker/probe/hello.txt': 'hello\n',
  'docker/probe/secret.txt': 'not for the build\n',
  'docker/probe/extra.j2': '{{ not_rendered }}\n',
  'docker/probe/sub/data.txt': 'data\n',
  'docker/probe/sub/nested.j2': '{{ nested }}\n',
};

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('the build context a rendered Dockerfile sees, on a real engine', () => {
  let engine: Engine | undefined;
  let work = '';

  const kg = (args: string[]) => execa(process.execPath, [CLI, ...args], { cwd: work, env: { ...engine!.env }, extendEnv: false, reject: false });

  beforeAll(async () => {
    engine = await startEngine();
    work = mkdtempSync(join(tmpdir(), 'kolla-gen-e2e-context-'));
    for (const [rel, text] of Object.entries(TREE)) {
      mkdirSync(join(work, rel, '..'), { recursive: true });
      writeFileSync(join(work, rel), text);
    }
  });

  afterAll(async () => {
    try {
      await engine?.stop();
    } finally {
      if (work) rmSync(work, { recursive: true, force: true });
    }
  });

  it('COPY . /x gets the folder without any template, less what its .dockerignore leaves out', async () => {
    const out = join(work, 'out-kolla-gen');
    const r = await kg(['build', '-a', 'amd64', '--provenance=false', '--set', `*.output=type=local,dest=${out}`]);
    expect(r.exitCode, `${r.stdout}\n${r.stderr.slice(-4000)}`).toBe(0);
    expect(files(join(out, 'x'))).toEqual(['.dockerignore', 'hello.txt', 'sub/data.txt']);
  });

  it('the generated ignore file is what keeps them out: without it, bake sends the templates', async () => {
    expect((await kg(['generate'])).exitCode).toBe(0);
    unlinkSync(join(work, 'generated', 'debian', 'probe', 'Dockerfile.dockerignore'));
    const out = join(work, 'out-without');
    const r = await execa(
      'docker',
      ['buildx', 'bake', '-f', 'generated/docker-bake.json', 'debian-probe', '--provenance=false', '--set', '*.platform=linux/amd64', '--set', `*.output=type=local,dest=${out}`],
      { cwd: work, env: { ...engine!.env }, extendEnv: false, reject: false },
    );
    expect(r.exitCode, r.stderr.slice(-4000)).toBe(0);
    // the folder's own .dockerignore applies again (secret.txt stays out), and every template gets in
    expect(files(join(out, 'x'))).toEqual(['.dockerignore', 'Dockerfile.j2', 'extra.j2', 'hello.txt', 'sub/data.txt', 'sub/nested.j2']);
  });
});
