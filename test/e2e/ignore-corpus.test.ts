// kolla-gen's reading of ignore files against BuildKit's own, on a real engine (test/e2e/engine): one context of
// tricky names (Unicode spaces, a BOM, brackets, stars, backslashes, "#", "!"), copied whole by `COPY . /ctx` under
// several .dockerignore files of tricky patterns (a BOM, U+FEFF, U+00A0, U+2028, U+0085 and tabs at line ends, `\r\n`,
// comments, re-includes, `**`, classes, escapes, `./`, `..`, a leading `/`). For each one, what BuildKit sent (read
// from the built image) must be what kolla-gen's matcher says it sends: once from the folder's own .dockerignore
// (`docker buildx build` on the folder), once from the ignore file kolla-gen generates (`bake` on generated/).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type Engine } from './engine/index.js';
import { readIgnoreFile, sentFiles } from '../../src/load/ignore-file.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli.js');

/** Every probe folder holds these files (and its .dockerignore, and Dockerfile.j2). */
export const NAMES = [
  'config.sh', 'a.txt', 'b.md', 'keep.md', 'x.md', '#hash', '!bang', ' lead.txt', 'trail.txt ', 'nb\u00a0sp.txt',
  'bom\ufeff.txt', '\ufeffstart.txt', 'line\u2028sep.txt', 'x.j2', 'sub/y.j2', 'sub/z.txt', '[br].txt', 'star*.txt',
  'q?.txt', 'back\\slash.txt', 'esc1.txt', 'é.txt', '日本.txt', 'dir/in.txt', 'dir/out.txt', 'dir/deep/z.txt',
  'deep/a/b/c.txt', 'deep/a/keep.txt', '.hidden', 'abc', 'xbc', 'xyz', '!y', 'xy', 'zy', 'a^b', 'dot.dir/f',
  'space dir/f.txt', 'foobar', 'foo/bar',
];

/** Probe folder → its .dockerignore. */
export const CORPUS: Record<string, string> = {
  // a BOM on the first line (stripped), U+FEFF at a line's end (kept: it names no file), Go's spaces (trimmed)
  'spaces': '\ufeffa.txt\r\nconfig.sh\ufeff\nb.md\u00a0\nkeep.md\u2028\n\tabc \u3000\nxyz\u0085\n  #hash\n# comment\n\n \n!bang\r\n',
  'globs': '*.md\n!keep.md\n**/*.txt\n!dir/**\ndir/deep\n[a-c]*\n[!x]y\n?y\n',
  'escapes': '\\[br\\].txt\nstar\\*.txt\nq\\?.txt\nback\\\\slash.txt\n[^a]bc\né.txt\n日*\na^b\n\\#hash\n',
  'paths': './dir/out.txt\n/deep/a\n!deep/a/keep.txt\n..\n../x\ndot.dir/\nspace dir\n!sub/y.j2\n/\n.\n',
  'kinds': '**bc\nfoo**\n**/z.txt\n\ufeff*.md\n\ufeffconfig.sh\n ./ lead.txt\n!./#hash\n',
  'reincludes': '**\n!a.txt\n!dir/in.txt\n!*/z.txt\n',
  'parents': 'deep\n!deep/a/keep.txt\ndir\n!*/in.txt\nsub\n!sub/z.txt/\n',
  // a re-include of a folder that nothing matched yet does not reach into it; a BOM before `**` keeps half of itself
  'order': 'x\ndir/in.txt\n!dir\n\ufeff**/z.txt\n',
};

/** Patterns BuildKit refuses (kolla-gen: KG220), each alone in an ignore file. */
const REJECTED = ['esc\\1.txt', '[a-', '[z-a].txt', '!', '!/', 'a[]b', 'x\\é'];

const TREE: Record<string, string> = {
  'kolla-gen.yaml': 'namespace: e2e\ntag: "1"\nbases: [debian]\narches: [amd64]\n',
};
for (const [probe, ignore] of Object.entries(CORPUS)) {
  TREE[`docker/probe-${probe}/Dockerfile.j2`] = 'FROM scratch\nCOPY . /ctx\n';
  TREE[`docker/probe-${probe}/.dockerignore`] = ignore;
  for (const name of NAMES) TREE[`docker/probe-${probe}/${name}`] = `${probe} ${name}\n`;
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

const ALL = [...NAMES, '.dockerignore', 'Dockerfile.j2'];

/** What kolla-gen says BuildKit sends of a probe folder, under the patterns of the given ignore file text. */
function expected(ignoreText: string): string[] {
  const { patterns, problems } = readIgnoreFile(ignoreText);
  expect(problems).toEqual([]);
  return sentFiles(patterns, ALL).sort();
}

describe('kolla-gen matches ignore files as BuildKit does, on a real engine', () => {
  let engine: Engine | undefined;
  let work = '';
  const env = () => ({ ...engine!.env });

  beforeAll(async () => {
    engine = await startEngine();
    work = mkdtempSync(join(tmpdir(), 'kolla-gen-e2e-ignore-'));
    for (const [rel, text] of Object.entries(TREE)) {
      mkdirSync(join(work, rel, '..'), { recursive: true });
      writeFileSync(join(work, rel), text);
    }
    writeFileSync(join(work, 'Dockerfile.raw'), 'FROM scratch\nCOPY . /ctx\n');
  });

  afterAll(async () => {
    try {
      await engine?.stop();
    } finally {
      if (work) rmSync(work, { recursive: true, force: true });
    }
  });

  it('the folder\'s own .dockerignore: BuildKit sends what kolla-gen\'s reader and matcher say', async () => {
    const problems: string[] = [];
    for (const [probe, ignore] of Object.entries(CORPUS)) {
      const out = join(work, 'out-raw', probe);
      const r = await execa(
        'docker',
        ['buildx', 'build', '--provenance=false', '--platform', 'linux/amd64', '-f', join(work, 'Dockerfile.raw'), '--output', `type=local,dest=${out}`, join(work, 'docker', `probe-${probe}`)],
        { cwd: work, env: env(), extendEnv: false, reject: false },
      );
      expect(r.exitCode, `${probe}: ${r.stderr.slice(-3000)}`).toBe(0);
      const sent = files(join(out, 'ctx'));
      const want = expected(ignore);
      if (JSON.stringify(sent) !== JSON.stringify(want)) problems.push(`${probe}: BuildKit sent ${JSON.stringify(sent)}, kolla-gen says ${JSON.stringify(want)}`);
    }
    expect(problems).toEqual([]);
  });

  it('a pattern kolla-gen rejects as KG220 stops BuildKit\'s build', async () => {
    const outcomes: string[] = [];
    for (const [i, pattern] of REJECTED.entries()) {
      const ctx = join(work, 'rejected', String(i));
      mkdirSync(ctx, { recursive: true });
      writeFileSync(join(ctx, '.dockerignore'), `${pattern}\n`);
      writeFileSync(join(ctx, 'a.txt'), 'a\n');
      expect(readIgnoreFile(`${pattern}\n`).problems.map((p) => p.code), pattern).toEqual(['KG220']);
      const r = await execa('docker', ['buildx', 'build', '--provenance=false', '--platform', 'linux/amd64', '-f', join(work, 'Dockerfile.raw'), '--output', `type=local,dest=${join(ctx, '..', `out-${i}`)}`, ctx], {
        cwd: work,
        env: env(),
        extendEnv: false,
        reject: false,
      });
      // The message varies ("syntax error in pattern", or a cancelled context send on the oldest engine).
      outcomes.push(`${pattern}: ${r.exitCode === 0 ? 'built' : 'rejected'}`);
    }
    expect(outcomes).toEqual(REJECTED.map((p) => `${p}: rejected`));
  });

  it('the ignore file kolla-gen generates: BuildKit sends what the content hash covers', async () => {
    const gen = await execa(process.execPath, [CLI, 'generate'], { cwd: work, env: env(), extendEnv: false, reject: false });
    expect(gen.exitCode, gen.stderr).toBe(0);
    const outputs = Object.keys(CORPUS).flatMap((probe) => ['--set', `debian-probe-${probe}.output=type=local,dest=${join(work, 'out-bake', probe)}`]);
    const r = await execa('docker', ['buildx', 'bake', '-f', 'generated/docker-bake.json', '--provenance=false', ...outputs], { cwd: work, env: env(), extendEnv: false, reject: false });
    expect(r.exitCode, r.stderr.slice(-3000)).toBe(0);
    const problems: string[] = [];
    for (const [probe, ignore] of Object.entries(CORPUS)) {
      const generated = readFileSync(join(work, 'generated', 'debian', `probe-${probe}`, 'Dockerfile.dockerignore'), 'utf8');
      // The generated file holds the template rule, then exactly the folder's patterns.
      const own = readIgnoreFile(ignore).patterns.map((p) => [p.exclusion, p.body]);
      expect(readIgnoreFile(generated).patterns.map((p) => [p.exclusion, p.body])).toEqual([[false, '**/*.j2'], ...own]);
      const sent = files(join(work, 'out-bake', probe, 'ctx'));
      const want = expected(generated);
      if (JSON.stringify(sent) !== JSON.stringify(want)) problems.push(`${probe}: BuildKit sent ${JSON.stringify(sent)}, kolla-gen says ${JSON.stringify(want)}`);
    }
    expect(problems).toEqual([]);
  });
});
