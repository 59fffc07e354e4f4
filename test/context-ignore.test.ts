// What a build sees of an image's folder, with the built CLI on git copies of test/fixtures/basic: the ignore file
// beside each rendered Dockerfile keeps templates out, so a template edit that renders the same bytes affects nothing,
// while an edit that reaches the build affects that image and its descendants, and nothing else.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { copyFixture, run, snapshot, write } from './support/cli.js';

const git = (cwd: string, args: string[]) => execa('git', args, { cwd });

async function repo(files: Record<string, string> = {}): Promise<string> {
  const dir = copyFixture('basic');
  for (const [rel, text] of Object.entries(files)) write(dir, rel, text);
  await git(dir, ['init', '-q']);
  await git(dir, ['config', 'user.email', 'test@example.org']);
  await git(dir, ['config', 'user.name', 'kolla-gen test']);
  await git(dir, ['add', '-A']);
  await git(dir, ['-c', 'commit.gpgsign=false', 'commit', '-q', '-m', 'tree']);
  return dir;
}

function edit(dir: string, rel: string, change: (text: string) => string): void {
  const file = path.join(dir, rel);
  const before = fs.readFileSync(file, 'utf8');
  const after = change(before);
  expect(after, `${rel} must change`).not.toBe(before);
  fs.writeFileSync(file, after);
}

interface Listing {
  variants: { base: string; arch: string; images: string[] }[];
}

/** `list --affected-since HEAD`: the warnings and each variant's selected images ("ubuntu-amd64" → "base,db"). */
async function affected(dir: string): Promise<{ codes: string[]; selected: Record<string, string> }> {
  const r = await run(dir, ['list', '--affected-since', 'HEAD', '--json']);
  expect(r.exitCode, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout) as { diagnostics: { code: string }[]; result: Listing };
  return {
    codes: out.diagnostics.map((d) => d.code),
    selected: Object.fromEntries(out.result.variants.map((v) => [`${v.base}-${v.arch}`, v.images.join(',')])),
  };
}

const everyVariant = (images: string) => ({ 'ubuntu-amd64': images, 'ubuntu-arm64': images, 'rocky-amd64': images, 'rocky-arm64': images });
const nothing = everyVariant('');

describe('a template edit is a change only where the build sees it', () => {
  it('a Jinja comment in the base template affects nothing', async () => {
    const dir = await repo();
    edit(dir, 'docker/base/Dockerfile.j2', (t) => t.replace('LABEL maintainer="{{ maintainer }}"', 'LABEL maintainer="{{ maintainer }}"{# who to ask #}'));
    expect(await affected(dir)).toEqual({ codes: ['KG602'], selected: nothing });
  });

  it('a comment in a macro file every image imports affects nothing', async () => {
    const dir = await repo();
    edit(dir, 'docker/macros.j2', (t) => `{# shared macros #}${t}`);
    expect(await affected(dir)).toEqual({ codes: ['KG602'], selected: nothing });
  });

  it('a leaf template change selects that leaf alone', async () => {
    const dir = await repo();
    edit(dir, 'docker/tools/tools-api/Dockerfile.j2', (t) => `${t}RUN true\n`);
    expect(await affected(dir)).toEqual({ codes: [], selected: everyVariant('tools-api') });
  });

  it('a base template change selects everything', async () => {
    const dir = await repo();
    edit(dir, 'docker/base/Dockerfile.j2', (t) => `${t}RUN true\n`);
    expect(await affected(dir)).toEqual({ codes: [], selected: everyVariant('base,db,tools-base,tools-api') });
  });

  it('a change on one base alone selects that base\'s images alone', async () => {
    const dir = await repo();
    // an instruction on rocky alone (a comment would be no change: BuildKit does not read it)
    edit(dir, 'docker/tools/tools-base/Dockerfile.j2', (t) => `{% if base_distro == 'rocky' %}ARG ROCKY_ONLY=1\n{% endif %}${t}`);
    expect(await affected(dir)).toEqual({
      codes: [],
      selected: { 'ubuntu-amd64': '', 'ubuntu-arm64': '', 'rocky-amd64': 'tools-base,tools-api', 'rocky-arm64': 'tools-base,tools-api' },
    });
  });

  it('a context file the Dockerfile can COPY selects its image and the descendants', async () => {
    const dir = await repo();
    edit(dir, 'docker/base/start.sh', (t) => `${t}\n# more\n`);
    expect(await affected(dir)).toEqual({ codes: [], selected: everyVariant('base,db,tools-base,tools-api') });
  });
});

describe('the ignore file beside each rendered Dockerfile', () => {
  it('holds the template rule and then the folder\'s own .dockerignore, beside every Dockerfile', async () => {
    const dir = await repo({ 'docker/base/.dockerignore': 'notes/\n!keep.j2\n' });
    expect((await run(dir, ['generate'])).exitCode).toBe(0);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'generated/manifest.json'), 'utf8')) as { images: { image: string; dockerfile?: string }[] };
    const dockerfiles = [...new Set(manifest.images.flatMap((e) => (e.dockerfile ? [e.dockerfile] : [])))];
    expect(dockerfiles.length).toBeGreaterThan(0);
    for (const dockerfile of dockerfiles) expect(fs.existsSync(path.join(dir, `${dockerfile}.dockerignore`)), dockerfile).toBe(true);
    const base = fs.readFileSync(path.join(dir, 'generated/ubuntu/base/Dockerfile.dockerignore'), 'utf8');
    expect(base.split('\n').filter((l) => l !== '' && !l.startsWith('#'))).toEqual(['**/*.j2', 'notes', '!keep.j2']);
    const db = fs.readFileSync(path.join(dir, 'generated/ubuntu/db/Dockerfile.dockerignore'), 'utf8');
    expect(db.split('\n').filter((l) => l !== '' && !l.startsWith('#'))).toEqual(['**/*.j2']);
    expect((await run(dir, ['check'])).exitCode).toBe(0);
  });

  it('a file the folder\'s .dockerignore leaves out is no change; a template it lets through is', async () => {
    const dir = await repo({ 'docker/base/.dockerignore': 'notes/\n!keep.j2\n', 'docker/base/notes/todo.md': 'one\n', 'docker/base/keep.j2': 'a\n', 'docker/base/other.j2': 'b\n' });
    edit(dir, 'docker/base/notes/todo.md', () => 'two\n');
    edit(dir, 'docker/base/other.j2', () => 'c\n');
    expect(await affected(dir)).toEqual({ codes: ['KG602'], selected: nothing });
    edit(dir, 'docker/base/keep.j2', () => 'd\n');
    expect(await affected(dir)).toEqual({ codes: [], selected: everyVariant('base,db,tools-base,tools-api') });
  });

  it('a new rule in the folder\'s .dockerignore is a change (the file itself is sent)', async () => {
    const dir = await repo({ 'docker/db/.dockerignore': 'notes/\n' });
    edit(dir, 'docker/db/.dockerignore', (t) => `${t}*.md\n`);
    expect(await affected(dir)).toEqual({ codes: [], selected: everyVariant('db') });
  });
});

describe('the content hash changes exactly when what BuildKit sends changes', () => {
  // A BOM on the first line (BuildKit strips it: secret.txt stays out), U+FEFF after a name (BuildKit keeps it: the
  // pattern names no file, config.sh is sent), U+00A0 after a folder (trimmed: notes/ stays out).
  const ignore = '\ufeffsecret.txt\r\nconfig.sh\ufeff\nnotes\u00a0\n';
  const files = { 'docker/db/.dockerignore': ignore, 'docker/db/secret.txt': 'one\n', 'docker/db/config.sh': 'one\n', 'docker/db/notes/a.md': 'one\n' };

  it('an edit of a file BuildKit leaves out is no change', async () => {
    const dir = await repo(files);
    edit(dir, 'docker/db/secret.txt', () => 'two\n');
    edit(dir, 'docker/db/notes/a.md', () => 'two\n');
    expect(await affected(dir)).toEqual({ codes: ['KG602'], selected: nothing });
  });

  it('an edit of a file BuildKit sends behind a U+FEFF pattern is a change', async () => {
    const dir = await repo(files);
    edit(dir, 'docker/db/config.sh', () => 'two\n');
    expect(await affected(dir)).toEqual({ codes: [], selected: everyVariant('db') });
  });

  it('the generated ignore file keeps secret.txt out: no BOM on its line', async () => {
    const dir = await repo(files);
    expect((await run(dir, ['generate'])).exitCode).toBe(0);
    const text = fs.readFileSync(path.join(dir, 'generated/ubuntu/db/Dockerfile.dockerignore'), 'utf8');
    expect(text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))).toEqual(['**/*.j2', 'secret.txt', 'config.sh\ufeff', 'notes']);
  });
});

describe('what BuildKit would refuse, kolla-gen refuses first', () => {
  it('a pattern BuildKit rejects: KG220 at file:line:col, exit 1, generated/ untouched', async () => {
    const dir = await repo({ 'docker/db/.dockerignore': '# fine\nesc1.txt\n' });
    expect((await run(dir, ['generate'])).exitCode).toBe(0);
    const before = snapshot(path.join(dir, 'generated'));
    write(dir, 'docker/db/.dockerignore', '# fine\n  !esc\\1.txt\n');
    const r = await run(dir, ['generate']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('docker/db/.dockerignore:2:7');
    expect(r.stderr).toContain('KG220');
    expect(snapshot(path.join(dir, 'generated'))).toEqual(before);
  });

  it('a pattern BuildKit reads as regexp syntax: KG221', async () => {
    const dir = await repo({ 'docker/db/.dockerignore': '\\d*.txt\n' });
    const r = await run(dir, ['check']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/docker\/db\/.dockerignore:1:1.*KG221|KG221.*docker\/db\/.dockerignore:1:1/s);
  });

  it('a context name with a newline: KG222 naming the path', async () => {
    const dir = await repo({ 'docker/db/evil\n!**/x.txt': 'x\n' });
    const r = await run(dir, ['generate']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('KG222');
    expect(r.stderr).toContain('"docker/db/evil\\n!**/x.txt"');
    expect(fs.existsSync(path.join(dir, 'generated'))).toBe(false);
  });

  it('an ignore file that is not UTF-8: KG223 at its byte', async () => {
    const dir = await repo();
    fs.writeFileSync(path.join(dir, 'docker/db/.dockerignore'), Buffer.from([0x61, 0x0a, 0x62, 0xe9, 0x0a]));
    const r = await run(dir, ['check']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('docker/db/.dockerignore:2:2');
    expect(r.stderr).toContain('KG223');
  });
});
