// The output dir (docs/security.md "The output directory"): read back without following links and bounded, never
// walked before kolla-gen knows it is its own, only kolla-gen's files removed, and a killed replace recovered.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { CLI, ROOT, copyFixture, run, snapshot, temps, write } from './support/cli.js';
import { CODES } from '../src/core/diagnostics.js';
import { dirLevels } from '../src/write/write.js';

interface JsonDiagnostic {
  code: string;
  severity: string;
  message: string;
  hint: string;
}

async function generated(): Promise<string> {
  const dir = copyFixture('basic');
  const first = await run(dir, ['generate', '--quiet']);
  expect(first.exitCode, first.stderr).toBe(0);
  return dir;
}

async function json(dir: string, args: string[]): Promise<{ exitCode: number; diagnostics: JsonDiagnostic[] }> {
  const result = await run(dir, [...args, '--json']);
  const out = JSON.parse(result.stdout) as { diagnostics: JsonDiagnostic[] };
  return { exitCode: result.exitCode ?? -1, diagnostics: out.diagnostics };
}

/** A pid no process has: one that ran and ended. */
function deadPid(): number {
  const child = spawnSync('true');
  return child.pid as number;
}

const out = (dir: string, ...rel: string[]) => path.join(dir, 'generated', ...rel);

describe('making the dirs of the output', () => {
  it('lists each dir once, parents a level before their children', () => {
    expect(dirLevels(['ubuntu/base/Dockerfile', 'ubuntu/base/Dockerfile.dockerignore', 'ubuntu/nova/api/Dockerfile', 'docker-bake.hcl', 'rocky/base/Dockerfile'])).toEqual([
      ['ubuntu', 'rocky'],
      ['ubuntu/base', 'ubuntu/nova', 'rocky/base'],
      ['ubuntu/nova/api'],
    ]);
    expect(dirLevels(['docker-bake.hcl'])).toEqual([]);
  });
});

describe('reading the output dir back', () => {
  it('a committed docker-bake.hcl linked to /dev/zero is stale, not read forever', { timeout: 60_000 }, async () => {
    const dir = await generated();
    fs.rmSync(out(dir, 'docker-bake.hcl'));
    fs.symlinkSync('/dev/zero', out(dir, 'docker-bake.hcl'));
    const result = await run(dir, ['check']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('stale   generated/docker-bake.hcl');
    // generate replaces the link with the file
    expect((await run(dir, ['generate'])).exitCode).toBe(0);
    expect(fs.lstatSync(out(dir, 'docker-bake.hcl')).isFile()).toBe(true);
    expect((await run(dir, ['check'])).exitCode).toBe(0);
  });

  it('a manifest.json linked to /dev/zero makes the dir not kolla-gen\'s (KG700), not a hang', { timeout: 60_000 }, async () => {
    const dir = await generated();
    fs.rmSync(out(dir, 'manifest.json'));
    fs.symlinkSync('/dev/zero', out(dir, 'manifest.json'));
    const before = snapshot(out(dir));
    const result = await json(dir, ['generate']);
    expect(result.exitCode).toBe(1);
    expect(result.diagnostics.map((d) => d.code)).toContain('KG700');
    expect(snapshot(out(dir))).toEqual(before);
  });

  it('a huge output file of another size is stale without being read', { timeout: 60_000 }, async () => {
    const dir = await generated();
    const fd = fs.openSync(out(dir, 'docker-bake.json'), 'w');
    fs.ftruncateSync(fd, 3 * 1024 * 1024 * 1024); // sparse
    fs.closeSync(fd);
    const result = await run(dir, ['check']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('stale   generated/docker-bake.json');
  });
});

describe('output dirs kolla-gen will not touch', () => {
  it.each([
    ['-o /', ['-o', '/'], 'KG700', /holds files kolla-gen did not write/],
    ['-o an existing file', ['-o', 'kolla-gen.yaml'], 'KG700', /kolla-gen\.yaml exists and is not a directory/],
    ['-o a link to a dir', ['-o', 'linked'], 'KG720', /linked is a link/],
  ])('%s: a KG error before anything under it is listed, for generate and check', { timeout: 60_000 }, async (_name, args, code, message) => {
    const dir = await generated();
    fs.symlinkSync('generated', path.join(dir, 'linked'));
    const before = snapshot(out(dir));
    const config = fs.readFileSync(path.join(dir, 'kolla-gen.yaml'), 'utf8');
    for (const command of ['generate', 'check']) {
      const result = await json(dir, [command, ...args]);
      expect(result.exitCode).toBe(1);
      const found = result.diagnostics.find((d) => d.code === code);
      expect(found?.message).toMatch(message);
      expect(found?.hint).toBe(CODES[code as keyof typeof CODES].hint);
    }
    expect(snapshot(out(dir))).toEqual(before);
    expect(fs.readFileSync(path.join(dir, 'kolla-gen.yaml'), 'utf8')).toBe(config);
    expect(fs.readlinkSync(path.join(dir, 'linked'))).toBe('generated');
  });
});

describe('files in the output dir that kolla-gen did not write', () => {
  it('are kept and named in a warning; only the files the manifest lists are removed', { timeout: 60_000 }, async () => {
    const dir = await generated();
    const manifest = JSON.parse(fs.readFileSync(out(dir, 'manifest.json'), 'utf8')) as { files: string[] };
    expect(manifest.files).toContain('rocky/db/Dockerfile');
    expect(manifest.files).toContain('manifest.json');
    write(dir, 'generated/README.md', '# our images\n');
    write(dir, 'generated/.gitattributes', '* linguist-generated\n');
    write(dir, 'generated/rocky/notes.txt', 'mine\n');
    const check = await json(dir, ['check']);
    expect(check.exitCode).toBe(0);
    expect(check.diagnostics.find((d) => d.code === 'KG721')?.message).toBe(
      '3 files in generated not written by kolla-gen, kept: generated/.gitattributes, generated/README.md, generated/rocky/notes.txt',
    );
    const result = await run(dir, ['generate', '-b', 'ubuntu']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/[1-9]\d* removed/);
    expect(result.stderr).toContain('warning[KG721]: 3 files in generated not written by kolla-gen, kept');
    expect(fs.readFileSync(out(dir, 'README.md'), 'utf8')).toBe('# our images\n');
    expect(fs.readFileSync(out(dir, '.gitattributes'), 'utf8')).toBe('* linguist-generated\n');
    expect(fs.readFileSync(out(dir, 'rocky', 'notes.txt'), 'utf8')).toBe('mine\n');
    expect(fs.existsSync(out(dir, 'rocky', 'db'))).toBe(false);
  });

  it('a manifest without the files list (an older kolla-gen): its own layout is kolla-gen\'s, the rest is kept', { timeout: 60_000 }, async () => {
    const dir = await generated();
    const manifest = JSON.parse(fs.readFileSync(out(dir, 'manifest.json'), 'utf8')) as { files?: string[] };
    delete manifest.files;
    fs.writeFileSync(out(dir, 'manifest.json'), JSON.stringify(manifest));
    write(dir, 'generated/README.md', '# ours\n');
    expect((await run(dir, ['generate', '-b', 'ubuntu'])).exitCode).toBe(0);
    expect(fs.existsSync(out(dir, 'README.md'))).toBe(true);
    expect(fs.existsSync(out(dir, 'rocky'))).toBe(false);
  });

  it('KG723: one that sits where kolla-gen now writes is not overwritten', { timeout: 60_000 }, async () => {
    const dir = copyFixture('basic');
    expect((await run(dir, ['generate', '-b', 'ubuntu'])).exitCode).toBe(0);
    write(dir, 'generated/rocky/db/Dockerfile', 'FROM mine\n');
    const before = snapshot(out(dir));
    const result = await json(dir, ['generate']);
    expect(result.exitCode).toBe(1);
    const found = result.diagnostics.find((d) => d.code === 'KG723');
    expect(found?.message).toContain('generated/rocky/db/Dockerfile');
    expect(found?.hint).toMatch(/never deletes a file it did not write/);
    expect(snapshot(out(dir))).toEqual(before);
  });

  it('KG723 names ten of many such files, then how many more', { timeout: 60_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-kg723-'));
    temps.push(dir);
    write(dir, 'kolla-gen.yaml', 'bases: [ubuntu]\narches: [amd64]\n');
    for (let i = 0; i < 12; i++) write(dir, `docker/i${i}/Dockerfile.j2`, 'FROM ubuntu:24.04\n');
    expect((await run(dir, ['generate', '^i0$'])).exitCode).toBe(0);
    // eleven Dockerfiles written by hand where the next generate writes
    for (let i = 1; i < 12; i++) write(dir, `generated/ubuntu/i${i}/Dockerfile`, 'FROM mine\n');
    const before = snapshot(out(dir));
    const result = await json(dir, ['generate']);
    expect(result.exitCode).toBe(1);
    const found = result.diagnostics.find((d) => d.code === 'KG723');
    expect(found?.message).toMatch(/^generated holds (generated\/ubuntu\/i\d+\/Dockerfile, ){9}generated\/ubuntu\/i\d+\/Dockerfile and 1 more, not written by kolla-gen/);
    expect(snapshot(out(dir))).toEqual(before);
  });
});

describe('a generation that changes few files', () => {
  /** A base and 20 images on it: 44 files, so a change of up to 11 of them is made in place. */
  function tree(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-in-place-'));
    temps.push(dir);
    write(dir, 'kolla-gen.yaml', 'namespace: acme\ntag: "1.0"\nbases: [ubuntu]\narches: [amd64]\n');
    write(dir, 'docker/base/Dockerfile.j2', 'FROM {{ base_image }}:{{ base_distro_tag }}\n');
    for (let i = 0; i < 20; i++) write(dir, `docker/app${i}/Dockerfile.j2`, `FROM {{ namespace }}/base:{{ tag }}\nRUN echo ${i}\n`);
    return dir;
  }
  const inode = (file: string) => fs.statSync(file).ino;
  const leftovers = (dir: string) => fs.readdirSync(dir).filter((n) => n.includes('.kolla-gen-'));

  it('is updated file by file: the same bytes as a whole write, the other files and those kolla-gen did not write untouched', { timeout: 60_000 }, async () => {
    const dir = tree();
    expect((await run(dir, ['generate'])).exitCode).toBe(0);
    write(dir, 'generated/NOTES.md', 'mine\n');
    const untouched = [out(dir, 'ubuntu/app1/Dockerfile'), out(dir, 'ubuntu/app2/Dockerfile'), out(dir, 'NOTES.md')].map(inode);

    // one template changed, one image removed, one added
    write(dir, 'docker/app0/Dockerfile.j2', 'FROM {{ namespace }}/base:{{ tag }}\nRUN echo changed\n');
    fs.rmSync(path.join(dir, 'docker/app19'), { recursive: true });
    write(dir, 'docker/app20/Dockerfile.j2', 'FROM {{ namespace }}/base:{{ tag }}\nRUN echo 20\n');
    const r = await run(dir, ['generate']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/files, [1-9]\d* changed, 2 added, 2 removed$/);
    expect([out(dir, 'ubuntu/app1/Dockerfile'), out(dir, 'ubuntu/app2/Dockerfile'), out(dir, 'NOTES.md')].map(inode)).toEqual(untouched);
    expect(fs.readFileSync(out(dir, 'ubuntu/app0/Dockerfile'), 'utf8')).toContain('RUN echo changed');
    expect(fs.existsSync(out(dir, 'ubuntu/app19'))).toBe(false);
    expect(leftovers(dir)).toEqual([]);
    // what a write of the whole set gives, and what check holds it to
    const whole = snapshot(out(dir));
    fs.rmSync(out(dir), { recursive: true });
    expect((await run(dir, ['generate'])).exitCode).toBe(0);
    write(dir, 'generated/NOTES.md', 'mine\n');
    expect(snapshot(out(dir))).toEqual(whole);
    expect((await run(dir, ['check'])).exitCode).toBe(0);
  });

  it('that fails part way is put back, and the whole write that follows fails without touching it', { timeout: 60_000 }, async () => {
    const dir = tree();
    expect((await run(dir, ['generate'])).exitCode).toBe(0);
    // a dir of the user's where the new image's Dockerfile goes: moving it into place fails after the changed files moved
    write(dir, 'generated/ubuntu/app20/Dockerfile/mine.txt', 'mine\n');
    // and a link where a Dockerfile was: stale, moved out, and back
    fs.rmSync(out(dir, 'ubuntu/app1/Dockerfile'));
    fs.symlinkSync('../app2/Dockerfile', out(dir, 'ubuntu/app1/Dockerfile'));
    const before = snapshot(out(dir));
    write(dir, 'docker/app0/Dockerfile.j2', 'FROM {{ namespace }}/base:{{ tag }}\nRUN echo changed\n');
    write(dir, 'docker/app20/Dockerfile.j2', 'FROM {{ namespace }}/base:{{ tag }}\nRUN echo 20\n');
    const r = await run(dir, ['generate']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('KG703');
    expect(snapshot(out(dir))).toEqual(before);
    expect(fs.readlinkSync(out(dir, 'ubuntu/app1/Dockerfile'))).toBe('../app2/Dockerfile');
    expect(leftovers(dir)).toEqual([]);
  });

  it('killed part way: the next check says so, the next generate puts the files back first, and touches nothing outside the output dir', { timeout: 60_000 }, async () => {
    const dir = tree();
    expect((await run(dir, ['generate'])).exitCode).toBe(0);
    const before = snapshot(out(dir));
    // the state a kill leaves: a replaced file moved out and its new version in, an added file in, a removed one out
    const pid = deadPid();
    const undo = path.join(dir, `generated.kolla-gen-${pid}.undo`);
    write(undo, 'files/ubuntu/app0/Dockerfile', fs.readFileSync(out(dir, 'ubuntu/app0/Dockerfile'), 'utf8'));
    write(dir, 'generated/ubuntu/app0/Dockerfile', 'the new version\n');
    write(undo, 'files/ubuntu/app19/Dockerfile', fs.readFileSync(out(dir, 'ubuntu/app19/Dockerfile'), 'utf8'));
    fs.rmSync(out(dir, 'ubuntu/app19/Dockerfile'));
    write(dir, 'generated/ubuntu/app20/Dockerfile', 'added\n');
    write(dir, 'victim.txt', 'not the output\n');
    // (one naming a path out of the output dir is not recovered at all: KG725, test/hostile-commits.test.ts)
    fs.writeFileSync(path.join(undo, 'added.json'), JSON.stringify({ files: ['ubuntu/app20/Dockerfile'], dirs: ['ubuntu/app20'] }));
    const check = await json(dir, ['check']);
    expect(check.exitCode).toBe(1);
    expect(check.diagnostics.find((d) => d.code === 'KG722')?.message).toBe(`a run was killed while updating generated: generated.kolla-gen-${pid}.undo holds the files it had replaced`);
    const r = await run(dir, ['generate']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(`warning[KG722]: generated was being updated by run ${pid} when it was killed: put back the files it had replaced, added or removed`);
    expect(r.stdout).toMatch(/up to date$/);
    expect(snapshot(out(dir))).toEqual(before);
    expect(fs.readFileSync(path.join(dir, 'victim.txt'), 'utf8')).toBe('not the output\n');
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('a run killed while replacing the output dir', () => {
  it('between the two renames: the next check says so, the next generate restores the old dir first', { timeout: 60_000 }, async () => {
    const dir = await generated();
    const pid = deadPid();
    write(dir, 'generated/README.md', 'kept\n');
    const kept = snapshot(out(dir));
    fs.renameSync(out(dir), path.join(dir, `generated.kolla-gen-${pid}.old`));
    fs.cpSync(path.join(dir, `generated.kolla-gen-${pid}.old`), path.join(dir, `generated.kolla-gen-${pid}.tmp`), { recursive: true });
    const check = await json(dir, ['check']);
    expect(check.exitCode).toBe(1);
    expect(check.diagnostics.find((d) => d.code === 'KG722')?.message).toBe(
      `generated is missing, but generated.kolla-gen-${pid}.old holds it: a run was killed while replacing it`,
    );
    expect(fs.existsSync(out(dir))).toBe(false);
    const result = await run(dir, ['generate']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain(`warning[KG722]: generated was missing: restored it from generated.kolla-gen-${pid}.old`);
    expect(result.stderr).toContain(`removed generated.kolla-gen-${pid}.tmp, left by killed runs`);
    expect(result.stdout).toMatch(/up to date$/);
    expect(snapshot(out(dir))).toEqual(kept);
    expect(fs.readdirSync(dir).filter((n) => n.includes('.kolla-gen-'))).toEqual([]);
  });

  it('before or after the renames: leftovers of dead runs are removed, those of a live run are not', { timeout: 60_000 }, async () => {
    const dir = await generated();
    const pid = deadPid();
    const before = snapshot(out(dir));
    write(dir, `generated.kolla-gen-${pid}.tmp/docker-bake.hcl`, 'half written');
    write(dir, `generated.kolla-gen-${pid + 1}.old/docker-bake.hcl`, 'the previous output');
    // this test's own process is alive: its dirs are another run's work in progress
    write(dir, `generated.kolla-gen-${process.pid}.tmp/docker-bake.hcl`, 'in progress');
    if (fs.existsSync(`/proc/${pid + 1}`)) return; // that pid was taken meanwhile: nothing to say
    const result = await run(dir, ['generate']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain('warning[KG722]: removed');
    expect(snapshot(out(dir))).toEqual(before);
    expect(fs.readdirSync(dir).filter((n) => n.includes('.kolla-gen-'))).toEqual([`generated.kolla-gen-${process.pid}.tmp`]);
  });
});

it('tests every code of KG720-KG739 here', () => {
  const mine = Object.keys(CODES).filter((code) => code >= 'KG720' && code <= 'KG739');
  // Those a pull request's commit reaches are tested with the other hostile commits, colliding names (KG730) with
  // the collisions.
  const source = [import.meta.filename, ...['hostile-commits.test.ts', 'collisions.test.ts'].map((f) => path.join(import.meta.dirname, f))].map((f) => fs.readFileSync(f, 'utf8')).join('');
  expect(mine.filter((code) => !source.includes(`'${code}'`))).toEqual([]);
});

/** The run dirs a generate leaves beside the output dir (`generated.kolla-gen-<pid>.tmp|old|undo`). */
const runDirs = (dir: string) => fs.readdirSync(dir).filter((n) => n.includes('.kolla-gen-'));

describe('a generate stopped by a signal while it writes', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s: removes its temp dir, leaves the output dir as it was, exits %i', { timeout: 120_000 }, async (signal, exitCode) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-signal-'));
    temps.push(dir);
    // Large enough that writing it takes a while (about 2,500 files): the temp dir is seen before the swap.
    spawnSync('node', [path.join(ROOT, 'bench', 'synthetic.mjs'), '--images', '300', '--write-tree', dir]);
    expect((await run(dir, ['generate', '-q'])).exitCode).toBe(0);
    const before = snapshot(out(dir));
    // Another tag: every file changes, so the whole set is written into the temp dir.
    const child = run(dir, ['generate', '-q', '--tag', 'other']);
    const tmp = path.join(dir, `generated.kolla-gen-${child.pid}.tmp`);
    for (let i = 0; i < 30_000 && !fs.existsSync(tmp) && child.exitCode === null; i++) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(fs.existsSync(tmp), 'the temp dir, while the run writes it').toBe(true);
    child.kill(signal);
    const result = await child;
    expect(result.exitCode, result.stderr).toBe(exitCode);
    const code = 'KG724';
    expect(result.stderr).toContain(`error[${code}]: interrupted by ${signal} while writing generated: removed generated.kolla-gen-${child.pid}.tmp; generated is as it was`);
    expect(runDirs(dir)).toEqual([]);
    expect(snapshot(out(dir))).toEqual(before);
  });
});

/**
 * Runs the CLI as a user the file modes hold back: as root (the tests' usual user, whom modes do not stop), as nobody
 * through setpriv, on a tree handed to nobody; as another user, as that user.
 */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fs.existsSync(p));
const isRoot = process.getuid?.() === 0;
function runUnprivileged(dir: string, args: string[]) {
  if (!isRoot) return run(dir, args);
  spawnSync('chown', ['-R', '65534:65534', dir]);
  return execa(SETPRIV as string, ['--reuid=65534', '--regid=65534', '--clear-groups', 'node', CLI, ...args], {
    cwd: dir,
    reject: false,
    env: { PATH: process.env.PATH ?? '', HOME: dir, KOLLA_GEN_CACHE: 'off' },
    extendEnv: false,
  });
}

describe.skipIf(isRoot && SETPRIV === undefined)('an output dir this user may not change (as nobody through setpriv when run as root)', () => {
  async function generatedTree(): Promise<string> {
    const dir = await generated();
    const first = await runUnprivileged(dir, ['generate', '-q']);
    expect(first.exitCode, first.stderr).toBe(0);
    return dir;
  }

  it.each([
    ['every file changes: the whole set is written', ['--tag', 'other']],
    ['one image changes: the update in place is rolled back', []],
  ])('a read-only output dir in a writable folder, %s: nothing changed, no run dirs left, KG703 names what needs write access', { timeout: 60_000 }, async (_what, args) => {
    const dir = await generatedTree();
    if (args.length === 0) fs.appendFileSync(path.join(dir, 'docker', 'db', 'Dockerfile.j2'), 'RUN echo changed\n');
    fs.chmodSync(out(dir), 0o555);
    const before = snapshot(out(dir));
    const r = await runUnprivileged(dir, ['generate', ...args]);
    fs.chmodSync(out(dir), 0o755);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toContain('error[KG703]: cannot replace generated: generated is not writable (EACCES); nothing was changed');
    expect(r.stderr).toContain('hint: kolla-gen replaces generated whole and removes the old one: generated and every folder in it need write access (chmod -R u+w generated)');
    expect(snapshot(out(dir))).toEqual(before);
    expect(runDirs(dir)).toEqual([]);
    // once writable, the same run replaces it
    expect((await runUnprivileged(dir, ['generate', ...args])).exitCode).toBe(0);
    expect(snapshot(out(dir))).not.toEqual(before);
    expect(runDirs(dir)).toEqual([]);
  });

  it('a read-only folder around a writable output dir: KG703 names that folder, nothing changed', { timeout: 60_000 }, async () => {
    const dir = await generatedTree();
    const before = snapshot(out(dir));
    fs.chmodSync(dir, 0o555);
    const r = await runUnprivileged(dir, ['generate', '--tag', 'other']);
    fs.chmodSync(dir, 0o755);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toContain('error[KG703]: cannot replace generated: . is not writable (EACCES); nothing was changed');
    expect(r.stderr).toContain('the folder holding it, ., needs write access (chmod u+w .)');
    expect(snapshot(out(dir))).toEqual(before);
    expect(runDirs(dir)).toEqual([]);
  });
});
