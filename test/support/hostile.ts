// What the hostile-commit tests share: a repo made from a fixture and committed, an "outside" dir beside it (what a
// commit must never reach), and a dir tree byte for byte (contents, link targets, modes), never following a link.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { expect } from 'vitest';
import { CLI, FIXTURES, temps } from './cli.js';

/** Each entry of a tree by its "/"-path: `file <mode> <sha256>`, `link <target>`, `dir <mode>` or `other <mode>`. */
export type TreeSnapshot = Record<string, string>;

/** A dir tree byte for byte; `skip`: top-level names left out (a repo's `.git`, which git itself changes). */
export function treeSnapshot(dir: string, skip: string[] = []): TreeSnapshot {
  const out: TreeSnapshot = {};
  const walk = (abs: string, rel: string) => {
    for (const name of fs.readdirSync(abs).sort()) {
      if (rel === '' && skip.includes(name)) continue;
      const p = path.join(abs, name);
      const r = rel === '' ? name : `${rel}/${name}`;
      const stat = fs.lstatSync(p);
      const mode = (stat.mode & 0o7777).toString(8);
      if (stat.isSymbolicLink()) out[r] = `link ${fs.readlinkSync(p)}`;
      else if (stat.isDirectory()) {
        out[r] = `dir ${mode}`;
        walk(p, r);
      } else if (stat.isFile()) out[r] = `file ${mode} ${createHash('sha256').update(fs.readFileSync(p)).digest('hex')}`;
      else out[r] = `other ${mode}`;
    }
  };
  if (fs.existsSync(dir)) walk(dir, '');
  return out;
}

/** A repo (a committed git checkout) and the dir beside it that nothing may touch, both in one temp dir. */
export interface Scene {
  /** The temp dir holding both. */
  top: string;
  repo: string;
  outside: string;
}

export const git = (cwd: string, args: string[]) => execa('git', args, { cwd });

/** Everything in the repo committed (a pull request's commit: links, planted dirs and all). */
export async function commitAll(repo: string, message: string): Promise<void> {
  await git(repo, ['add', '-A']);
  await git(repo, ['commit', '-q', '--allow-empty', '-m', message]);
}

/**
 * A fixture's tree and config as a git repo at `<top>/repo`, committed, and `<top>/outside` with a dotfile dir
 * (`.docker/config.json`, as a runner's registry credentials) and a plain file: the files a commit aims at.
 */
export async function scene(fixture: string): Promise<Scene> {
  const top = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-hostile-'));
  temps.push(top);
  const repo = path.join(top, 'repo');
  const outside = path.join(top, 'outside');
  fs.cpSync(path.join(FIXTURES, fixture), repo, { recursive: true, filter: (src) => !src.includes(`${path.sep}expected`) });
  fs.mkdirSync(path.join(outside, '.docker'), { recursive: true });
  fs.writeFileSync(path.join(outside, '.docker', 'config.json'), '{"auths":{"registry.example.org":{"auth":"c2VjcmV0"}}}\n');
  fs.writeFileSync(path.join(outside, 'keep.txt'), 'outside the repo\n');
  fs.mkdirSync(path.join(outside, 'dir'));
  fs.writeFileSync(path.join(outside, 'dir', 'Dockerfile'), 'FROM outside\n');
  await git(repo, ['init', '-q']);
  await git(repo, ['config', 'user.email', 'test@example.org']);
  await git(repo, ['config', 'user.name', 'kolla-gen test']);
  await git(repo, ['config', 'commit.gpgsign', 'false']);
  await commitAll(repo, 'tree');
  return { top, repo, outside };
}

/** The CLI a hostile test runs: dist/cli.js, or another build (KOLLA_GEN_HOSTILE_CLI: to record how main behaved). */
export const HOSTILE_CLI = process.env.KOLLA_GEN_HOSTILE_CLI ?? CLI;

export function runCli(cwd: string, args: string[], env: Record<string, string> = {}) {
  return execa('node', [HOSTILE_CLI, ...args], { cwd, reject: false, env });
}

/** Both sides of a scene byte for byte: the repo (its `.git` left out) and the dir beside it. */
export function sceneSnapshot(s: Scene): { repo: TreeSnapshot; outside: TreeSnapshot } {
  return { repo: treeSnapshot(s.repo, ['.git']), outside: treeSnapshot(s.outside) };
}

/** Nothing outside the repo changed, nor (with `within`: but for the entries under that dir) anything in it. */
export function expectUntouched(before: ReturnType<typeof sceneSnapshot>, after: ReturnType<typeof sceneSnapshot>, within?: string): void {
  expect(after.outside).toEqual(before.outside);
  const outsideOf = (t: TreeSnapshot) => Object.fromEntries(Object.entries(t).filter(([rel]) => within === undefined || (rel !== within && !rel.startsWith(`${within}/`))));
  expect(outsideOf(after.repo)).toEqual(outsideOf(before.repo));
}

/** A pid no process has (for a planted leftover of a "killed run"). */
export function deadPid(): number {
  for (let pid = 3_999_999; pid > 100_000; pid -= 7919) {
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') return pid;
    }
  }
  throw new Error('no free pid found');
}

/** The error `code` in a run's stderr, located at `at` (`file:line:col`, or a RegExp of it), its message holding `words`. */
export function expectError(stderr: string, code: string, at: string | RegExp, words = ''): void {
  const located = typeof at === 'string' ? at.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : at.source;
  const escaped = words.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  expect(stderr).toMatch(new RegExp(`error\\[${code}\\]: [^\\n]*${escaped}[^\\n]*\\n\\s+--> ${located}`));
}
