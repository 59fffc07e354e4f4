// What `npm pack` ships: the docs every message names (a tarball install has no clone to look in), and a clear word
// when the build it runs (prepare) lacks its dev dependencies.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { ROOT, temps } from './support/cli.js';

/** Every docs/*.md a text of src/ names: the hints, the explanations (kolla-gen help KGxxx), the messages. */
function docsNamed(): string[] {
  const named = new Set<string>();
  for (const e of fs.readdirSync(path.join(ROOT, 'src'), { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || !e.name.endsWith('.ts')) continue;
    for (const m of fs.readFileSync(path.join(e.parentPath, e.name), 'utf8').matchAll(/docs\/[\w.-]+\.md/g)) named.add(m[0]);
  }
  return [...named].sort();
}

describe('npm pack', () => {
  it('ships every doc the messages name', { timeout: 60_000 }, async () => {
    const named = docsNamed();
    expect(named).toContain('docs/configuration.md');
    const packed = await execa('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
    const files = (JSON.parse(packed.stdout) as { files: { path: string }[] }[])[0]?.files.map((f) => f.path) ?? [];
    expect(files).toContain('dist/cli.js');
    expect(named.filter((doc) => !files.includes(doc))).toEqual([]);
  });

  it('without the dev dependencies, its build (prepare) says to run npm ci first, with no stack trace', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-pack-'));
    temps.push(dir);
    fs.mkdirSync(path.join(dir, 'scripts'));
    fs.copyFileSync(path.join(ROOT, 'scripts', 'bundle.mjs'), path.join(dir, 'scripts', 'bundle.mjs'));
    const result = await execa('node', [path.join(dir, 'scripts', 'bundle.mjs')], { cwd: dir, reject: false, env: { PATH: process.env.PATH ?? '' }, extendEnv: false });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe('kolla-gen build: esbuild is not installed. Run `npm ci` first (it installs the dev dependencies the build needs), then `npm run build` or `npm pack`.');
  });
});
