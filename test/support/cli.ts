// What the tests of the built CLI share: fixture copies in temp dirs (removed after the file), running dist/cli.js,
// and a dir's files byte for byte.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { afterAll } from 'vitest';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures');

/** Dirs removed once the test file is done. */
export const temps: string[] = [];

// A minute, not the hook's default 10 s: a test file's trees can hold thousands of files, and CI's 2 cores are busy.
afterAll(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** A fresh copy of a fixture (its tree and config, not its expected/), in a temp dir. */
export function copyFixture(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `kolla-gen-${name}-`));
  temps.push(dir);
  fs.cpSync(path.join(FIXTURES, name), dir, { recursive: true, filter: (src) => !src.includes(`${path.sep}expected`) });
  return dir;
}

/** The built CLI in cwd; with env, only that environment (else the test's own), and the test run's template cache. */
export function run(cwd: string, args: string[], env: Record<string, string> = {}) {
  const only = Object.keys(env).length > 0;
  const cache = only && !('KOLLA_GEN_CACHE_DIR' in env) && process.env.KOLLA_GEN_CACHE_DIR ? { KOLLA_GEN_CACHE_DIR: process.env.KOLLA_GEN_CACHE_DIR } : {};
  return execa('node', [CLI, ...args], { cwd, reject: false, env: { ...cache, ...env }, extendEnv: !only });
}

/** Every file of a dir with its hash: the dir byte for byte. */
export function snapshot(dir: string): Record<string, string> {
  if (!fs.existsSync(dir)) return {};
  const out: Record<string, string> = {};
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const file = path.join(e.parentPath, e.name);
    out[path.relative(dir, file)] = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  }
  return out;
}

export function write(dir: string, rel: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  fs.writeFileSync(path.join(dir, rel), text);
}
