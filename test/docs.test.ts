// The references generated from the source (docs/diagnostics.md, docs/cli.md) are current, a stale one is caught,
// and `kolla-gen help CODE` explains a code.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { CODES } from '../src/core/diagnostics.js';
import { EXPLANATIONS } from '../src/core/explanations.js';
import { CLI, ROOT, temps } from './support/cli.js';

const docsScript = (args: string[]) => execa(process.execPath, [path.join(ROOT, 'scripts', 'docs.mjs'), ...args], { cwd: ROOT, reject: false });

describe('generated references', () => {
  it('docs/diagnostics.md and docs/cli.md are what npm run docs writes', { timeout: 180_000 }, async () => {
    const r = await docsScript(['--check']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('docs: up to date');
    expect(r.exitCode).toBe(0);
  });

  it('a stale reference fails the check, naming the file, and npm run docs mends it', { timeout: 240_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-docs-'));
    temps.push(dir);
    for (const name of ['diagnostics.md', 'cli.md']) fs.copyFileSync(path.join(ROOT, 'docs', name), path.join(dir, name));
    fs.writeFileSync(path.join(dir, 'cli.md'), fs.readFileSync(path.join(dir, 'cli.md'), 'utf8').replace('--skip-parents', '--skip-parent'));
    const stale = await docsScript(['--check', '--dir', dir]);
    expect(stale.exitCode).toBe(1);
    expect(stale.stderr).toContain(`stale: ${path.relative(ROOT, path.join(dir, 'cli.md'))}\n`);
    expect(stale.stderr).not.toContain('diagnostics.md');
    await docsScript(['--dir', dir]);
    expect(fs.readFileSync(path.join(dir, 'cli.md'), 'utf8')).toBe(fs.readFileSync(path.join(ROOT, 'docs', 'cli.md'), 'utf8'));
  });

  it('documents every code, with its title, hint and explanation', () => {
    const page = fs.readFileSync(path.join(ROOT, 'docs', 'diagnostics.md'), 'utf8');
    for (const [code, { title, hint }] of Object.entries(CODES)) {
      expect(page).toContain(`### ${code}\n\n**${title}**\n`);
      expect(page).toContain(`Hint: ${hint}`);
    }
    expect(page).toContain(EXPLANATIONS.KG402);
  });
});

describe('kolla-gen help CODE', () => {
  it('prints the long explanation, then the hint', async () => {
    const r = await execa(process.execPath, [CLI, 'help', 'kg402'], { reject: false });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(`KG402: ${CODES.KG402.title}\n\n${EXPLANATIONS.KG402}\n\nhint: ${CODES.KG402.hint}`);
  });

  it('prints the title and hint of a code without an explanation', async () => {
    expect(EXPLANATIONS.KG105).toBeUndefined();
    const r = await execa(process.execPath, [CLI, 'help', 'KG105'], { reject: false });
    expect(r.stdout).toBe(`KG105: ${CODES.KG105.title}\n\nhint: ${CODES.KG105.hint}`);
  });

  it('says so, with KG150 and exit 1, for a code that does not exist', async () => {
    const r = await execa(process.execPath, [CLI, 'help', 'KG999'], { reject: false });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('error[KG150]: kolla-gen has no diagnostic code KG999');
  });

  it('still shows a command\'s help', async () => {
    const r = await execa(process.execPath, [CLI, 'help', 'list'], { reject: false });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('Usage: kolla-gen list [options] [regex...]');
  });
});
