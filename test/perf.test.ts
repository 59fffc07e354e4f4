// Issue 14 (speed): what the faster paths must keep exactly. --affected-since reuses a current rendering at the
// revision only where it renders the same; --help loads no command's code; a generate with nothing to change writes
// nothing.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { loadProject } from '../src/load/load.js';
import type { Project } from '../src/load/project.js';
import { renderImages, renderJobs, splitReusable } from '../src/render/images.js';
import { fingerprint } from '../src/render/reuse.js';
import { CLI, run, temps, write } from './support/cli.js';

const TREE: Record<string, string> = {
  'kolla-gen.yaml': 'namespace: acme\ntag: "1.0"\nbases: [ubuntu, rocky]\narches: [amd64, arm64]\nvars:\n  greeting: hello\n',
  'docker/macros.j2': "{% macro install(pkgs) %}RUN install {{ pkgs | join(' ') }}{% endmacro %}\n",
  'docker/ubuntu.j2': 'RUN apt-get update\n',
  'docker/rocky.j2': 'RUN dnf makecache\n',
  'docker/base/Dockerfile.j2': "FROM {{ base_image }}:{{ base_distro_tag }}\n{% include base_distro ~ '.j2' %}\n",
  'docker/db/Dockerfile.j2': '{% import "macros.j2" as m %}FROM {{ namespace }}/base:{{ tag }}\n{{ m.install(["db"]) }}\n',
  'docker/web/Dockerfile.j2': 'FROM {{ namespace }}/base:{{ tag }}\nRUN echo {{ greeting }}\n',
};

function tree(files: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-perf-'));
  temps.push(dir);
  for (const [rel, text] of Object.entries({ ...TREE, ...files })) write(dir, rel, text);
  return dir;
}

function load(dir: string): Project {
  const { project, diagnostics } = loadProject({ output: 'generated' }, { cwd: dir, env: {} });
  if (!project) throw new Error(JSON.stringify(diagnostics));
  return project;
}

/** The revision's project rendered reusing the current one's outcomes: what was reused, and the outcomes. */
function reuse(nowFiles: Record<string, string>, thenFiles: Record<string, string>) {
  const now = load(tree(nowFiles));
  const then = load(tree(thenFiles));
  const outcomes = renderImages(now, renderJobs(now));
  const { reused } = splitReusable(then, renderJobs(then), { project: now, outcomes });
  const reusedKeys = reused.map((o) => o.key.replace(/\|/g, ' ')).sort();
  return { reusedKeys, withReuse: renderImages(then, renderJobs(then), { project: now, outcomes }), fresh: renderImages(then, renderJobs(then)) };
}

const everyVariant = (image: string) => ['rocky amd64', 'rocky arm64', 'ubuntu amd64', 'ubuntu arm64'].map((v) => `${image} ${v}`);

describe('reusing renderings at the revision (--affected-since)', () => {
  it('reuses every rendering of an unchanged tree, each as a fresh render gives it', () => {
    const { reusedKeys, withReuse, fresh } = reuse({}, {});
    expect(reusedKeys).toHaveLength(12);
    expect(withReuse).toEqual(fresh);
  });

  it('renders again the images that import a changed macro file, and only those', () => {
    const { reusedKeys, withReuse, fresh } = reuse({}, { 'docker/macros.j2': '{% macro install(pkgs) %}RUN get {{ pkgs | join(" ") }}{% endmacro %}\n' });
    expect(reusedKeys).toEqual([...everyVariant('base'), ...everyVariant('web')].sort());
    expect(withReuse).toEqual(fresh);
    expect(withReuse.find((o) => o.key.startsWith('db|'))?.rendering?.text).toContain('RUN get db');
  });

  it('follows an include whose name a variable makes: a change to rocky.j2 renders only the rocky variants of base again', () => {
    const { reusedKeys, withReuse, fresh } = reuse({}, { 'docker/rocky.j2': 'RUN dnf -y makecache\n' });
    expect(reusedKeys).not.toContain('base rocky amd64');
    expect(reusedKeys).toContain('base ubuntu amd64');
    expect(reusedKeys).toHaveLength(10);
    expect(withReuse).toEqual(fresh);
  });

  it('reuses nothing when a var every template sees changed', () => {
    const { reusedKeys, withReuse, fresh } = reuse({}, { 'kolla-gen.yaml': TREE['kolla-gen.yaml']!.replace('hello', 'bye') });
    expect(reusedKeys).toEqual([]);
    expect(withReuse).toEqual(fresh);
    expect(withReuse.find((o) => o.key.startsWith('web|'))?.rendering?.text).toContain('RUN echo bye');
  });
});

describe('fingerprint', () => {
  it('keeps key order, spells functions by source, and refuses what it cannot spell', () => {
    expect(fingerprint({ a: 1, b: 2 })).not.toBe(fingerprint({ b: 2, a: 1 }));
    expect(fingerprint({ f: () => 1 })).toBe(fingerprint({ f: () => 1 }));
    expect(fingerprint({ f: () => 1 })).not.toBe(fingerprint({ f: () => 2 }));
    expect(fingerprint([1, '1'])).not.toBe(fingerprint(['1', 1]));
    expect(fingerprint({ x: undefined })).not.toBe(fingerprint({}));
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(fingerprint(cycle)).toBeUndefined();
    expect(fingerprint({ d: new Date(0) })).toBeUndefined();
    // The same object twice, not in a cycle, is fine.
    const shared = { k: 1 };
    expect(fingerprint([shared, shared])).toBe('[{"k":n1},{"k":n1}]');
  });
});

describe('--affected-since through the CLI', () => {
  async function repo(): Promise<string> {
    const dir = tree();
    const git = (args: string[]) => execa('git', args, { cwd: dir });
    await git(['init', '-q']);
    await git(['add', '-A']);
    await git(['-c', 'user.email=test@example.org', '-c', 'user.name=test', '-c', 'commit.gpgsign=false', 'commit', '-q', '-m', 'tree']);
    return dir;
  }
  async function select(dir: string, tmp: string): Promise<string[]> {
    const r = await run(dir, ['list', '--affected-since', 'HEAD', '--json'], { ...(process.env as Record<string, string>), TMPDIR: tmp });
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout) as { result: { variants: { base: string; arch: string; images: string[] }[] } };
    return out.result.variants.flatMap((v) => v.images.map((i) => `${i} ${v.base} ${v.arch}`)).sort();
  }

  it('selects the images of a changed macro file, and those of a changed variant include', async () => {
    const dir = await repo();
    const tmp = path.join(dir, '.tmp');
    fs.mkdirSync(tmp);
    const selected = (at: string) => select(at, tmp);
    expect(await selected(dir)).toEqual([]);
    write(dir, 'docker/macros.j2', '{% macro install(pkgs) %}RUN get {{ pkgs | join(" ") }}{% endmacro %}\n');
    expect(await selected(dir)).toEqual(everyVariant('db').sort());
    await execa('git', ['checkout', '-q', '--', 'docker'], { cwd: dir });
    write(dir, 'docker/rocky.j2', 'RUN dnf -y makecache\n');
    // base on rocky, and its children there
    expect(await selected(dir)).toEqual(['base rocky amd64', 'base rocky arm64', 'db rocky amd64', 'db rocky arm64', 'web rocky amd64', 'web rocky arm64']);
    // and no temp dir of the revision is left behind
    expect(fs.readdirSync(tmp)).toEqual([]);
  });

  it('checks out the revision without its committed output dir, which its compile does not read', async () => {
    const dir = tree();
    expect((await run(dir, ['generate'])).exitCode).toBe(0);
    const git = (args: string[]) => execa('git', args, { cwd: dir });
    await git(['init', '-q']);
    await git(['add', '-A']);
    await git(['-c', 'user.email=test@example.org', '-c', 'user.name=test', '-c', 'commit.gpgsign=false', 'commit', '-q', '-m', 'tree and generation']);
    expect((await git(['ls-files', 'generated'])).stdout).toContain('generated/docker-bake.hcl');
    const tmp = path.join(dir, '.tmp');
    fs.mkdirSync(tmp);
    const trace = path.join(dir, 'git-trace.txt');
    write(dir, 'docker/web/Dockerfile.j2', 'FROM {{ namespace }}/base:{{ tag }}\nRUN echo {{ greeting }} again\n');
    const r = await run(dir, ['list', '--affected-since', 'HEAD', '--json'], { ...(process.env as Record<string, string>), TMPDIR: tmp, GIT_TRACE: trace });
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { result: { variants: { base: string; arch: string; images: string[] }[] } };
    expect(out.result.variants.flatMap((v) => v.images.map((i) => `${i} ${v.base} ${v.arch}`)).sort()).toEqual(everyVariant('web').sort());
    // git handed over the listed blobs as it stores them (cat-file, no filter), and checked out nothing
    const traced = fs.readFileSync(trace, 'utf8').split('\n');
    expect(traced.some((l) => l.includes('cat-file') && l.includes('--batch'))).toBe(true);
    expect(traced.filter((l) => l.includes('checkout-index'))).toEqual([]);
    expect(fs.readdirSync(tmp)).toEqual([]);
  });
});

describe('--affected-since links what is the same at the revision', () => {
  it("never runs a smudge filter the tree's .gitattributes picks: the revision's files are its blobs, whether its docker dir is the work tree's or written out where a file differs, is untracked or is ignored", async () => {
    const dir = tree({ '.gitignore': '*.log\n', '.gitattributes': 'docker/** filter=note\n' });
    const git = (args: string[]) => execa('git', args, { cwd: dir });
    const smudged = path.join(dir, 'smudged.txt');
    await git(['init', '-q']);
    // a smudge filter that notes each file git writes out of the docker dir, and passes its bytes on
    await git(['config', 'filter.note.smudge', `echo %f >> '${smudged}' && cat`]);
    await git(['add', '-A']);
    await git(['-c', 'user.email=test@example.org', '-c', 'user.name=test', '-c', 'commit.gpgsign=false', 'commit', '-q', '-m', 'tree']);
    const tmp = path.join(dir, '.tmp');
    fs.mkdirSync(tmp);
    const since = async () => {
      fs.writeFileSync(smudged, '');
      const r = await run(dir, ['list', '--affected-since', 'HEAD', '--json'], { ...(process.env as Record<string, string>), TMPDIR: tmp });
      expect(r.exitCode, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { result: { variants: { base: string; arch: string; images: string[] }[] } };
      expect(fs.readdirSync(tmp)).toEqual([]);
      return { images: out.result.variants.flatMap((v) => v.images.map((i) => `${i} ${v.base} ${v.arch}`)).sort(), written: fs.readFileSync(smudged, 'utf8').split('\n').filter(Boolean).sort() };
    };
    const docker = () => fs.readdirSync(path.join(dir, 'docker')).sort();
    const before = docker();

    // the same at the revision (not linked here: .gitattributes names a filter, which the diff deciding it would run);
    // removing the export leaves the work tree's files
    expect(await since()).toEqual({ images: [], written: [] });
    expect(docker()).toEqual(before);
    expect(fs.readFileSync(path.join(dir, 'docker/web/Dockerfile.j2'), 'utf8')).toBe(TREE['docker/web/Dockerfile.j2']);

    // an untracked file: checked out, so the revision's compile does not see it
    write(dir, 'docker/web/extra.txt', 'x\n');
    expect(await since()).toEqual({ images: everyVariant('web').sort(), written: [] });
    fs.rmSync(path.join(dir, 'docker/web/extra.txt'));
    // an ignored one likewise
    write(dir, 'docker/web/build.log', 'x\n');
    expect(await since()).toEqual({ images: everyVariant('web').sort(), written: [] });
    fs.rmSync(path.join(dir, 'docker/web/build.log'));
    // a changed file
    write(dir, 'docker/db/Dockerfile.j2', '{% import "macros.j2" as m %}FROM {{ namespace }}/base:{{ tag }}\n{{ m.install(["db", "more"]) }}\n');
    expect(await since()).toEqual({ images: everyVariant('db').sort(), written: [] });
    // and a changed mode
    await git(['checkout', '-q', '--', 'docker']);
    fs.chmodSync(path.join(dir, 'docker/web/Dockerfile.j2'), 0o755);
    expect((await since()).written).toEqual([]);
    fs.chmodSync(path.join(dir, 'docker/web/Dockerfile.j2'), 0o644);
    expect(await since()).toEqual({ images: [], written: [] });
  });
});

describe('start-up', () => {
  /**
   * The source modules (under src/) and the packages (npm:name) a run loads: dist/ is a bundle, so the files the run
   * loads are mapped to the modules each holds by the bundler's metafile (dist/meta.json).
   */
  async function loaded(args: string[]): Promise<string[]> {
    const dir = tree();
    const log = path.join(dir, 'loaded.txt');
    const hooks = path.join(dir, 'hooks.mjs');
    fs.writeFileSync(
      hooks,
      `import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) {\n  appendFileSync(${JSON.stringify(log)}, url + '\\n');\n  return next(url, context);\n}\n`,
    );
    const register = path.join(dir, 'register.mjs');
    fs.writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
    const r = await execa('node', ['--import', pathToFileURL(register).href, CLI, ...args], { cwd: dir, reject: false });
    expect(r.exitCode).toBe(0);
    const distDir = path.dirname(CLI);
    const meta = JSON.parse(fs.readFileSync(path.join(distDir, 'meta.json'), 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
    const dist = pathToFileURL(distDir).href;
    const files = fs
      .readFileSync(log, 'utf8')
      .split('\n')
      .filter((u) => u.startsWith(`${dist}/`))
      .map((u) => `dist/${u.slice(dist.length + 1)}`);
    expect(files.length).toBeGreaterThan(0);
    const inputs = files.flatMap((f) => Object.keys(meta.outputs[f]?.inputs ?? {}));
    const packages = inputs.flatMap((input) => /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)?.slice(1, 2) ?? []).map((name) => `npm:${name}`);
    const modules = inputs.filter((input) => input.startsWith('src/')).map((input) => input.slice('src/'.length));
    return [...new Set([...modules, ...packages])].sort();
  }

  it('--help loads the CLI and no command, template engine, config schema or docker client', async () => {
    const modules = await loaded(['--help']);
    expect(modules).toContain('cli.ts');
    expect(modules.filter((m) => m.startsWith('npm:'))).toEqual(['npm:commander']);
    expect(modules.filter((m) => /^(commands|jinja|render|build|pipeline|load\/load|load\/config\/schema)/.test(m))).toEqual([]);
  });

  it('generate loads neither the registry client nor the git code of --affected-since', async () => {
    const modules = await loaded(['generate', '--quiet']);
    expect(modules).toContain('commands/generate.ts');
    expect(modules.filter((m) => /^(build\/|commands\/since|npm:execa)/.test(m))).toEqual([]);
  });
});

describe('writing', () => {
  it('a second generate with nothing changed writes nothing: every file and the dir keep their inode and mtime', async () => {
    const dir = tree();
    expect((await run(dir, ['generate'])).exitCode).toBe(0);
    const out = path.join(dir, 'generated');
    const stamp = () =>
      [out, ...fs.readdirSync(out, { recursive: true }).map((rel) => path.join(out, String(rel)))].map((f) => {
        const s = fs.statSync(f);
        return `${path.relative(dir, f)} ${s.ino} ${s.mtimeMs}`;
      });
    const before = stamp();
    const again = await run(dir, ['generate']);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toMatch(/up to date$/);
    expect(stamp()).toEqual(before);
  });

  it('writes a text once: files with the same bytes are one file, the others each their own', async () => {
    const dir = tree();
    expect((await run(dir, ['generate'])).exitCode).toBe(0);
    const out = path.join(dir, 'generated');
    const files = fs.readdirSync(out, { recursive: true }).map((rel) => path.join(out, String(rel))).filter((f) => fs.statSync(f).isFile());
    const byText = new Map<string, Set<number>>();
    for (const f of files) {
      const text = fs.readFileSync(f, 'utf8');
      byText.set(text, (byText.get(text) ?? new Set()).add(fs.statSync(f).ino));
    }
    // one inode per distinct text, and the .dockerignore beside each of the 6 Dockerfiles (3 images x 2 bases) is one text
    expect([...byText.values()].every((inodes) => inodes.size === 1)).toBe(true);
    const ignores = files.filter((f) => f.endsWith('.dockerignore'));
    expect(ignores).toHaveLength(6);
    expect(new Set(ignores.map((f) => fs.statSync(f).ino)).size).toBe(1);
    expect(new Set(files.map((f) => fs.statSync(f).ino)).size).toBe(byText.size);
  });
});
