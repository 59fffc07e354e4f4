// kolla-gen check: one line per stale, missing or extra file, one error and one hint; --diff, the unified diff of
// what generate would change (git applies it), deterministic and bounded; --json, each file with its state.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { copyFixture, run, snapshot, write } from './support/cli.js';
import { DIFF_MAX_LINES, fileDiff, unifiedDiff } from '../src/write/diff.js';

/** The basic fixture generated, then three kinds of drift: a stale, a missing and an extra file. */
async function drifted(): Promise<string> {
  const dir = copyFixture('basic');
  expect((await run(dir, ['generate'])).exitCode).toBe(0);
  fs.appendFileSync(path.join(dir, 'docker', 'db', 'Dockerfile.j2'), 'RUN echo changed\n');
  fs.rmSync(path.join(dir, 'generated', 'ubuntu', 'tools-api', 'Dockerfile'));
  write(dir, 'generated/stray.txt', 'stray\n');
  const file = path.join(dir, 'generated', 'manifest.json');
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as { files: string[] };
  fs.writeFileSync(file, `${JSON.stringify({ ...manifest, files: [...manifest.files, 'stray.txt'] }, null, 2)}\n`);
  return dir;
}

describe('kolla-gen check', () => {
  it('says each file on a line of its own, then one error with one hint', async () => {
    const dir = await drifted();
    const r = await run(dir, ['check']);
    expect(r.exitCode).toBe(1);
    const lines = r.stderr.split('\n');
    const files = lines.filter((l) => /^(stale|missing|extra) +generated\//.test(l));
    expect(files).toContain('stale   generated/ubuntu/db/Dockerfile');
    expect(files).toContain('missing generated/ubuntu/tools-api/Dockerfile');
    expect(files).toContain('extra   generated/stray.txt');
    expect(files).toEqual([...files].sort((a, b) => (a.slice(8) < b.slice(8) ? -1 : 1)));
    expect(r.stderr.match(/error\[/g)).toHaveLength(1);
    expect(r.stderr.match(/hint: /g)).toHaveLength(1);
    expect(r.stderr).toContain('hint: run `kolla-gen generate` and commit the result (kolla-gen check --diff shows what it changes)');
    expect(lines.length).toBe(files.length + 4); // the error, its hint, the count, the last newline
    expect(r.stdout).toBe('');
    // -q: the files and the error still
    const quiet = await run(dir, ['check', '-q']);
    expect(quiet.stderr).toBe(r.stderr);
  });

  it('--diff: the unified diff of what generate would change, which git applies to make the output generate writes', async () => {
    const dir = await drifted();
    const r = await run(dir, ['check', '--diff']);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('--- a/generated/ubuntu/db/Dockerfile\n+++ b/generated/ubuntu/db/Dockerfile\n@@ ');
    expect(r.stdout).toContain('+RUN echo changed');
    expect(r.stdout).toContain('--- /dev/null\n+++ b/generated/ubuntu/tools-api/Dockerfile');
    expect(r.stdout).toContain('--- a/generated/stray.txt\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-stray');
    expect(r.stderr).not.toContain('check --diff shows');
    // deterministic: the same bytes again
    expect((await run(dir, ['check', '--diff'])).stdout).toBe(r.stdout);
    // applied, the output is what generate writes
    const patch = path.join(dir, 'drift.patch');
    fs.writeFileSync(patch, `${r.stdout}\n`);
    await execa('git', ['init', '-q'], { cwd: dir });
    const applied = await execa('git', ['apply', '--whitespace=nowarn', patch], { cwd: dir, reject: false });
    expect(applied.stderr).toBe('');
    fs.rmSync(patch);
    const patched = snapshot(path.join(dir, 'generated'));
    expect((await run(dir, ['generate'])).exitCode).toBe(0);
    expect(patched).toEqual(snapshot(path.join(dir, 'generated')));
    expect((await run(dir, ['check', '--diff'])).stdout).toMatch(/^generated: up to date/);
  });

  it('--json: each file with its state, and the diff', async () => {
    const dir = await drifted();
    const r = await run(dir, ['check', '--json', '--diff']);
    const out = JSON.parse(r.stdout) as { ok: boolean; result: { files: { path: string; state: string }[]; stale: string[]; diff: string } };
    expect(out.ok).toBe(false);
    expect(out.result.files).toContainEqual({ path: 'generated/ubuntu/db/Dockerfile', state: 'stale' });
    expect(out.result.files).toContainEqual({ path: 'generated/ubuntu/tools-api/Dockerfile', state: 'missing' });
    expect(out.result.files).toContainEqual({ path: 'generated/stray.txt', state: 'extra' });
    expect(out.result.stale).toContain('ubuntu/db/Dockerfile');
    expect(out.result.diff).toContain('+++ b/generated/ubuntu/db/Dockerfile');
    expect(r.stderr).toBe('');
  });

  it('--diff is bounded: cut after its lines, with what was cut said', async () => {
    const long = { text: `${Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n')}\n` };
    const entries = [
      { name: 'out/b', a: { text: 'old\n' }, b: { text: 'b\n' } },
      { name: 'out/a', a: { text: 'old\n' }, b: long },
    ];
    const whole = unifiedDiff(entries);
    expect(whole.cutFiles).toBe(0);
    expect(whole.text.indexOf('+++ b/out/a')).toBeLessThan(whole.text.indexOf('+++ b/out/b'));
    // the rendered Dockerfiles first, what a reviewer reads; then the bake files and manifest.json
    const ranked = unifiedDiff([{ name: 'g/docker-bake.hcl', a: { text: 'x\n' }, b: undefined }, { name: 'g/z/y/Dockerfile.arm64', a: { text: 'x\n' }, b: undefined }]).text;
    expect(ranked.indexOf('a/g/z/y/Dockerfile.arm64')).toBeLessThan(ranked.indexOf('a/g/docker-bake.hcl'));
    const cut = unifiedDiff(entries, 20);
    expect(cut.text.split('\n')).toHaveLength(21);
    expect(cut.cutFiles).toBe(2);
    expect(cut.cutLines).toBe(whole.text.split('\n').length - 21);
    // the CLI says it cut, and where
    const big = await drifted();
    fs.appendFileSync(path.join(big, 'docker', 'base', 'Dockerfile.j2'), `${Array.from({ length: 3000 }, (_, i) => `RUN echo ${i}`).join('\n')}\n`);
    const r = await run(big, ['check', '--diff']);
    const out = r.stdout.split('\n');
    expect(out).toHaveLength(DIFF_MAX_LINES + 1);
    // --help says the bound the diff keeps (the CLI does not load write/diff.ts for --help)
    expect((await run(big, ['check', '--help'])).stdout.replace(/\s+/g, ' ')).toContain(`at most ${DIFF_MAX_LINES} lines`);
    expect(out[2000]).toMatch(/^# diff cut at 2000 lines: \d+ more lines of \d+ files left out \(run `kolla-gen generate`, then git diff, for all of it\)$/);
  });

  it('says a binary file differs; a new file is diffed from /dev/null; an overlong line is cut', () => {
    expect(fileDiff('g/x', { binary: true }, { text: 'x' })).toEqual(['Binary files a/g/x and b/g/x differ']);
    expect(fileDiff('g/x', undefined, { text: 'x\n' })).toEqual(['--- /dev/null', '+++ b/g/x', '@@ -0,0 +1,1 @@', '+x']);
    const wide = unifiedDiff([{ name: 'g/x', a: { text: 'a\n' }, b: { text: `${'y'.repeat(1000)}\n` } }]).text;
    expect(wide).toContain(`+${'y'.repeat(399)}… (601 more characters)\n`);
  });
});
