// Every fixture under test/fixtures/<case>/ (those with an args.json) runs through the pipeline in memory; its output
// files, or its diagnostics, are compared with the golden files in expected/. Update with `npx vitest run -u`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileProject } from '../src/commands/run.js';
import type { CliOptions } from '../src/load/config/resolve.js';
import { formatDiagnostic } from '../src/core/diagnostics.js';
import { outputFiles } from '../src/write/output.js';

const FIXTURES = path.join(import.meta.dirname, 'fixtures');
const cases = fs
  .readdirSync(FIXTURES)
  .filter((name) => fs.existsSync(path.join(FIXTURES, name, 'args.json')))
  .sort();

function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

describe.each(cases)('fixture %s', async (name) => {
  const dir = path.join(FIXTURES, name);
  const { config: configFile, ...cli } = JSON.parse(fs.readFileSync(path.join(dir, 'args.json'), 'utf8')) as CliOptions & { config?: string };
  const run = () => compileProject({ output: 'out', ...cli }, { cwd: dir, env: { HOME: '/should/not/leak' }, configFile });
  const expectedDir = path.join(dir, 'expected');

  if (name.startsWith('error-')) {
    it('fails with the golden diagnostics', async () => {
      const { compiled, diagnostics } = await run();
      expect(compiled).toBeUndefined();
      await expect(diagnostics.map(formatDiagnostic).join('\n\n') + '\n').toMatchFileSnapshot(path.join(expectedDir, 'diagnostics.txt'));
    });
    return;
  }

  const { compiled, diagnostics } = await run();
  it('compiles without errors, with the golden warnings', async () => {
    expect(diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic)).toEqual([]);
    expect(compiled).toBeDefined();
    await expect(diagnostics.map(formatDiagnostic).join('\n\n') + '\n').toMatchFileSnapshot(path.join(expectedDir, 'diagnostics.txt'));
  });
  if (!compiled) return;
  const files = outputFiles(compiled);

  it('writes exactly the golden set of files', () => {
    const produced = [...files.keys()];
    const golden = listFiles(expectedDir).filter((f) => f !== 'diagnostics.txt');
    // A new fixture has no golden files yet: the snapshots below create them.
    if (golden.length > 0) expect(produced).toEqual(golden);
  });

  it.each([...files.keys()])('%s', async (rel) => {
    const file = files.get(rel);
    const text = file && 'text' in file ? file.text : fs.readFileSync(path.join(dir, file?.copyFrom ?? ''), 'utf8');
    await expect(text).toMatchFileSnapshot(path.join(expectedDir, rel));
  });

  it('is deterministic: a second run gives the same bytes', async () => {
    const again = (await run()).compiled;
    expect(again && [...outputFiles(again)]).toEqual([...files]);
  });
});
