// What a pull request commits beside the templates (issue 25): links in and beside the output dir, planted leftovers
// of a "killed run", a docker dir that is a link out of the repo, smudge filters its .gitattributes picks, and what
// init writes. Real git repos in temp dirs, the built CLI; each case checks the repo and the dir beside it byte for
// byte: exit 1 with the KG code and a location and nothing changed, or the right output and nothing else changed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { commitAll, deadPid, expectError, expectUntouched, git, runCli, scene, sceneSnapshot, treeSnapshot, type Scene } from './support/hostile.js';

const T = { timeout: 120_000 };

/** A scene whose generated/ is made and committed (the state a pull request starts from). */
async function generated(): Promise<Scene> {
  const s = await scene('basic');
  const made = await runCli(s.repo, ['generate']);
  expect(made.exitCode, made.stderr).toBe(0);
  await commitAll(s.repo, 'generated');
  return s;
}

/** A small change to one template: few files change, so generate updates generated/ in place. */
function touchDb(repo: string): void {
  fs.appendFileSync(path.join(repo, 'docker/db/Dockerfile.j2'), 'RUN echo changed\n');
}

/** The output dir a clean repo at the same tree gets: generate in a copy without the planted files. */
async function cleanOutput(s: Scene, change: (repo: string) => void): Promise<Record<string, string>> {
  const clean = await scene('basic');
  change(clean.repo);
  const made = await runCli(clean.repo, ['generate']);
  expect(made.exitCode, made.stderr).toBe(0);
  return treeSnapshot(path.join(clean.repo, 'generated'));
}

describe('links inside and beside the output dir (issue 25, item 1)', () => {
  it('KG725: a committed generated.kolla-gen-<pid>.undo/ with a link in generated/ moves, writes and deletes nothing', T, async () => {
    const s = await generated();
    const pid = deadPid();
    // generated/escape -> the dir beside the repo; the record's paths run through it.
    fs.symlinkSync(path.relative(path.join(s.repo, 'generated'), s.outside), path.join(s.repo, 'generated/escape'));
    const undo = path.join(s.repo, `generated.kolla-gen-${pid}.undo`);
    fs.mkdirSync(path.join(undo, 'files/escape/.docker'), { recursive: true });
    fs.writeFileSync(path.join(undo, 'added.json'), JSON.stringify({ files: ['escape/keep.txt'], dirs: ['escape/dir'] }));
    fs.writeFileSync(path.join(undo, 'files/escape/.docker/config.json'), '{"credsStore":"evil"}\n');
    await commitAll(s.repo, 'a pull request');
    touchDb(s.repo);
    const before = sceneSnapshot(s);

    const r = await runCli(s.repo, ['generate']);
    expect(r.exitCode, r.stderr).toBe(1);
    expectError(r.stderr, 'KG725', `generated.kolla-gen-${pid}.undo:1:1`, 'git tracks it');
    expectUntouched(before, sceneSnapshot(s));
  });

  it('KG725: an untracked undo dir whose record leaves the output dir, or that holds a link, is not recovered', T, async () => {
    for (const [what, plant] of [
      ['a ".." path', (undo: string) => fs.writeFileSync(path.join(undo, 'added.json'), JSON.stringify({ files: ['../outside/keep.txt'], dirs: [] }))],
      ['an absolute path', (undo: string) => fs.writeFileSync(path.join(undo, 'added.json'), JSON.stringify({ files: ['/etc/hostname'], dirs: [] }))],
      ['a link in files/', (undo: string) => fs.symlinkSync('/etc/hostname', path.join(undo, 'files/docker-bake.hcl'))],
      ['a link for the dir itself', (undo: string) => {
        fs.rmSync(undo, { recursive: true });
        fs.symlinkSync('../outside', undo);
      }],
    ] as const) {
      const s = await generated();
      const undo = path.join(s.repo, `generated.kolla-gen-${deadPid()}.undo`);
      fs.mkdirSync(path.join(undo, 'files'), { recursive: true });
      fs.writeFileSync(path.join(undo, 'added.json'), JSON.stringify({ files: [], dirs: [] }));
      plant(undo);
      const before = sceneSnapshot(s);
      const r = await runCli(s.repo, ['generate']);
      expect(r.exitCode, `${what}: ${r.stderr}`).toBe(1);
      expectError(r.stderr, 'KG725', /generated\.kolla-gen-\d+\.undo:1:1/);
      expectUntouched(before, sceneSnapshot(s));
    }
  });

  it("KG726: an image's output folder committed as a link: the in-place update neither writes nor rolls back through it", T, async () => {
    const s = await generated();
    const dbOut = path.join(s.repo, 'generated/ubuntu/db');
    fs.rmSync(dbOut, { recursive: true });
    fs.symlinkSync(path.relative(path.dirname(dbOut), path.join(s.outside, 'dir')), dbOut);
    await commitAll(s.repo, 'a pull request');
    touchDb(s.repo);
    const before = sceneSnapshot(s);

    const r = await runCli(s.repo, ['generate']);
    expect(r.exitCode, r.stderr).toBe(1);
    expectError(r.stderr, 'KG726', 'generated/ubuntu/db:1:1', 'generated/ubuntu/db is a link, where kolla-gen writes a folder');
    expectUntouched(before, sceneSnapshot(s));
  });

  it('KG726: generated/contexts/<image> committed as a link is not written through', T, async () => {
    const s = await scene('basic');
    // A link in the image's folder: db builds from a merged context, generated/contexts/db.
    fs.symlinkSync('../base/start.sh', path.join(s.repo, 'docker/db/start.sh'));
    expect((await runCli(s.repo, ['generate'])).exitCode).toBe(0);
    const contexts = path.join(s.repo, 'generated/contexts/db');
    expect(fs.lstatSync(contexts).isDirectory()).toBe(true);
    fs.rmSync(contexts, { recursive: true });
    fs.symlinkSync(path.relative(path.dirname(contexts), path.join(s.outside, 'dir')), contexts);
    await commitAll(s.repo, 'a pull request');
    fs.appendFileSync(path.join(s.repo, 'docker/base/start.sh'), 'echo changed\n');
    const before = sceneSnapshot(s);

    const r = await runCli(s.repo, ['generate']);
    expect(r.exitCode, r.stderr).toBe(1);
    expectError(r.stderr, 'KG726', 'generated/contexts/db:1:1', 'generated/contexts/db is a link');
    expectUntouched(before, sceneSnapshot(s));
  });

  it('a link kolla-gen wrote a file at (a listed file replaced by a link) is replaced, not written through', T, async () => {
    const s = await generated();
    const hcl = path.join(s.repo, 'generated/docker-bake.hcl');
    fs.rmSync(hcl);
    fs.symlinkSync(path.join(s.outside, 'keep.txt'), hcl);
    await commitAll(s.repo, 'a pull request');
    touchDb(s.repo);
    const before = sceneSnapshot(s);

    const r = await runCli(s.repo, ['generate']);
    expect(r.exitCode, r.stderr).toBe(0);
    expectUntouched(before, sceneSnapshot(s), 'generated');
    expect(treeSnapshot(path.join(s.repo, 'generated'))).toEqual(await cleanOutput(s, touchDb));
  });

  it('KG727: an output dir below a committed link out of the repo is not written', T, async () => {
    const s = await scene('basic');
    fs.symlinkSync(s.outside, path.join(s.repo, 'build'));
    await commitAll(s.repo, 'a pull request');
    const before = sceneSnapshot(s);
    const r = await runCli(s.repo, ['generate', '-o', 'build/generated']);
    expect(r.exitCode, r.stderr).toBe(1);
    expectError(r.stderr, 'KG727', 'build:1:1', 'build/generated is reached through build, a link to');
    expectUntouched(before, sceneSnapshot(s));
  });
});

describe('a docker dir that is a committed link (issue 25, item 2)', () => {
  const overlayConfig = (repo: string, second: string) =>
    fs.writeFileSync(path.join(repo, 'kolla-gen.yaml'), `${fs.readFileSync(path.join(repo, 'kolla-gen.yaml'), 'utf8')}docker_dirs:\n  - docker\n  - ${second}\n`);

  for (const [what, target] of [
    ['../.docker (relative)', (s: Scene) => path.relative(s.repo, path.join(s.outside, '.docker'))],
    ['an absolute path', (s: Scene) => path.join(s.outside, '.docker')],
  ] as const) {
    it(`KG216: overlay linked to ${what} is refused at its docker_dirs line`, T, async () => {
      const s = await scene('basic');
      fs.mkdirSync(path.join(s.outside, '.docker', 'db'));
      fs.writeFileSync(path.join(s.outside, '.docker', 'db', 'Dockerfile.j2'), 'FROM scratch\n{% include "config.json" %}\n');
      overlayConfig(s.repo, 'overlay');
      fs.symlinkSync(target(s), path.join(s.repo, 'overlay'));
      await commitAll(s.repo, 'a pull request');
      const lines = fs.readFileSync(path.join(s.repo, 'kolla-gen.yaml'), 'utf8').split('\n');
      const line = lines.indexOf('  - overlay') + 1;
      const before = sceneSnapshot(s);

      for (const command of ['generate', 'check']) {
        const r = await runCli(s.repo, [command]);
        expect(r.exitCode, r.stderr).toBe(1);
        expectError(r.stderr, 'KG216', `kolla-gen.yaml:${line}:5`, 'docker_dirs entry "overlay" lies in the repo, but overlay is a link to');
        expect(r.stderr).not.toContain('c2VjcmV0');
      }
      const json = JSON.parse((await runCli(s.repo, ['check', '--json'])).stdout) as { diagnostics: { code: string; location?: { file: string; line: number } }[] };
      expect(json.diagnostics).toContainEqual(expect.objectContaining({ code: 'KG216', location: expect.objectContaining({ file: 'kolla-gen.yaml', line }) }));
      expectUntouched(before, sceneSnapshot(s));
    });
  }

  it('a docker dir the config names outside the repo (../outside-docker) is taken as named', T, async () => {
    const s = await scene('basic');
    fs.mkdirSync(path.join(s.top, 'outside-docker', 'extra'), { recursive: true });
    fs.writeFileSync(path.join(s.top, 'outside-docker', 'extra', 'Dockerfile.j2'), 'FROM {{ namespace }}/base:{{ tag }}\n');
    overlayConfig(s.repo, '../outside-docker');
    await commitAll(s.repo, 'config');
    const before = sceneSnapshot(s);
    const r = await runCli(s.repo, ['generate']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(fs.existsSync(path.join(s.repo, 'generated/ubuntu/extra'))).toBe(true);
    expectUntouched(before, sceneSnapshot(s), 'generated');
  });
});

describe('--affected-since reads the revision as git stores it (issue 25, item 7)', () => {
  it("runs no smudge filter the tree's .gitattributes picks", T, async () => {
    const s = await generated();
    const marker = path.join(s.outside, 'smudged');
    // A filter the runner has configured (as git-lfs's is), picked by a committed .gitattributes.
    await git(s.repo, ['config', 'filter.picked.smudge', `sh -c 'echo ran >> ${marker}; cat'`]);
    await git(s.repo, ['config', 'filter.picked.clean', `sh -c 'echo ran >> ${marker}; cat'`]);
    fs.writeFileSync(path.join(s.repo, '.gitattributes'), '* filter=picked\n');
    await commitAll(s.repo, 'a pull request');
    const base = (await git(s.repo, ['rev-parse', 'HEAD'])).stdout;
    touchDb(s.repo);
    await commitAll(s.repo, 'change db');
    fs.rmSync(marker, { force: true });
    const before = sceneSnapshot(s);

    const r = await runCli(s.repo, ['list', '--affected-since', base]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('db');
    expect(r.stdout).not.toMatch(/\btools-api\b/);
    expect(fs.existsSync(marker)).toBe(false);
    expectUntouched(before, sceneSnapshot(s));
  });

  it('takes :/text (a commit by its message), and refuses what would be an option', T, async () => {
    const s = await generated();
    touchDb(s.repo);
    await commitAll(s.repo, 'change db');
    const before = sceneSnapshot(s);
    const r = await runCli(s.repo, ['list', '--affected-since', ':/^generated']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('db');
    expect(r.stdout).not.toMatch(/\btools-api\b/);
    for (const bad of ['--output=/tmp/x', '-n']) {
      const refused = await runCli(s.repo, ['list', `--affected-since=${bad}`]);
      expect(refused.exitCode, refused.stderr).toBe(1);
      expect(refused.stderr).toContain('KG900');
    }
    expectUntouched(before, sceneSnapshot(s));
  });
});

describe('init writes only files of the repo, with the values as given (issue 25, item 7)', () => {
  it('KG748: a committed .github link to outside: init writes nothing', T, async () => {
    const s = await scene('basic');
    fs.rmSync(path.join(s.repo, 'kolla-gen.yaml'));
    fs.symlinkSync(path.relative(s.repo, s.outside), path.join(s.repo, '.github'));
    await commitAll(s.repo, 'a pull request');
    const before = sceneSnapshot(s);
    const r = await runCli(s.repo, ['init']);
    expect(r.exitCode, r.stderr).toBe(1);
    expectError(r.stderr, 'KG748', '.github:1:1', '.github is a link');
    expectUntouched(before, sceneSnapshot(s));
  });

  it('KG747: a newline in -D is refused; odd characters are quoted and read back as given', T, async () => {
    const s = await scene('basic');
    fs.rmSync(path.join(s.repo, 'kolla-gen.yaml'));
    await commitAll(s.repo, 'no config');
    const before = sceneSnapshot(s);
    const r = await runCli(s.repo, ['init', '-D', 'docker\nnamespace: evil']);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toContain('error[KG747]: init would write "docker\\nnamespace: evil"');
    expect(r.stderr.match(/error\[(KG\d+)\]/)?.[1]).toBe('KG747');
    expectUntouched(before, sceneSnapshot(s));

    const odd = 'my docker: #1 [x]';
    const ok = await runCli(s.repo, ['init', '-D', odd]);
    expect(ok.exitCode, ok.stderr).toBe(0);
    const config = parseYaml(fs.readFileSync(path.join(s.repo, 'kolla-gen.yaml'), 'utf8')) as { docker_dirs: string[]; namespace: string };
    expect(config.docker_dirs).toEqual([odd]);
    expect(config.namespace).toBe('kolla');
    expect(() => parseYaml(fs.readFileSync(path.join(s.repo, '.github/workflows/images.yml'), 'utf8'))).not.toThrow();
    expect(treeSnapshot(s.outside)).toEqual(before.outside);
  });
});
