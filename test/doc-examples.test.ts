// Every ```console example of README.md, docs/ and docker/README.md is run, and its output compared with what the
// example shows. A `$ kolla-gen …` line is a command (run by bash, kolla-gen being the built CLI); the lines after it,
// up to the next `$`, are its stdout; `…` in them stands for any text within a line. Each document runs in a fresh
// temp dir that the README's ```sh setup blocks (the quick start's tree) and then its own set up, in order.
// Examples that need docker or a registry are written ```text or ```sh instead, and are not run.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, ROOT } from './support/cli.js';

interface Block {
  kind: 'setup' | 'console';
  text: string;
  line: number;
}

function blocks(file: string): Block[] {
  const lines = fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(console|sh setup)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i + 1;
    while (i + 1 < lines.length && lines[i + 1] !== '```') i++;
    out.push({ kind: open[1] === 'console' ? 'console' : 'setup', text: lines.slice(start, i + 1).join('\n'), line: start });
    i++;
  }
  return out;
}

/** `$ cmd` lines and the output shown after each. */
function steps(block: Block): { command: string; expected: string[]; line: number }[] {
  const out: { command: string; expected: string[]; line: number }[] = [];
  block.text.split('\n').forEach((text, n) => {
    if (text.startsWith('$ ')) out.push({ command: text.slice(2), expected: [], line: block.line + n + 1 });
    else if (out.length === 0) throw new Error(`line ${block.line + n + 1}: a console example starts with a "$ " line`);
    else out.at(-1)!.expected.push(text);
  });
  return out;
}

const matches = (pattern: string, actual: string) =>
  new RegExp(`^${pattern.split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(actual);

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const BASH_PRELUDE = `kolla-gen() { node ${JSON.stringify(CLI)} "$@"; }\nset -e\n`;
const env = { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), GIT_AUTHOR_NAME: 'doc', GIT_AUTHOR_EMAIL: 'doc@example.org', GIT_COMMITTER_NAME: 'doc', GIT_COMMITTER_EMAIL: 'doc@example.org', LC_ALL: 'C' };
const bash = (cwd: string, script: string) => execa('bash', ['-c', BASH_PRELUDE + script], { cwd, reject: false, env, extendEnv: false });

const DOCUMENTS = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).sort().map((f) => `docs/${f}`), 'docker/README.md'];
const withExamples = DOCUMENTS.filter((f) => blocks(f).some((b) => b.kind === 'console'));

describe('documented examples', () => {
  it('README.md and docs/ have examples to run', () => {
    expect(withExamples).toContain('README.md');
    expect(withExamples.length).toBeGreaterThanOrEqual(2);
  });

  it.each(withExamples)('%s: every console example prints what it shows', { timeout: 300_000 }, async (file) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-doc-'));
    dirs.push(dir);
    const setup = file === 'README.md' ? [] : blocks('README.md').filter((b) => b.kind === 'setup');
    for (const block of [...setup, ...blocks(file)]) {
      const where = block.kind === 'setup' && setup.includes(block) ? 'README.md' : file;
      if (block.kind === 'setup') {
        const r = await bash(dir, block.text);
        expect(r.exitCode, `${where}:${block.line}: setup failed: ${r.stderr}`).toBe(0);
        continue;
      }
      for (const step of steps(block)) {
        const r = await bash(dir, step.command);
        const at = `${where}:${step.line}: $ ${step.command}`;
        expect(r.exitCode, `${at}\n${r.stderr}`).toBe(0);
        const actual = r.stdout.split('\n');
        const shown = step.expected;
        const same = actual.length === shown.length && shown.every((line, i) => matches(line, actual[i]!));
        expect(same ? shown : actual, `${at}: the output differs from the example`).toEqual(shown);
      }
    }
  });
});
