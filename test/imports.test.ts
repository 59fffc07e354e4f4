// The source tree reads as the pipeline: no import circles, and a stage imports only earlier stages and core/.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.join(import.meta.dirname, '..', 'src');

/** The stages in pipeline order; a file may import only from its own stage or an earlier one. */
const STAGES = ['core', 'jinja', 'load', 'render', 'graph', 'changes', 'emit', 'pipeline.ts', 'write', 'engine', 'commands', 'cli.ts'];

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Every relative import of a file, type-only ones included: a circle of types is a circle too. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
  const urls = [...text.matchAll(/new URL\(['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
  return [...specs, ...urls].map((spec) => path.relative(SRC, path.resolve(path.dirname(file), spec)).replace(/\.js$/, '.ts'));
}

const graph = new Map(sourceFiles(SRC).map((file) => [path.relative(SRC, file), importsOf(file)]));

function stageOf(file: string): number {
  const stage = STAGES.indexOf(file.split(path.sep)[0]!);
  if (stage < 0) throw new Error(`${file} is in no stage: add its folder to STAGES`);
  return stage;
}

describe('the source tree', () => {
  it('has every import resolve to a file of src/', () => {
    const missing = [...graph].flatMap(([file, deps]) => deps.filter((dep) => !graph.has(dep)).map((dep) => `${file} → ${dep}`));
    expect(missing).toEqual([]);
  });

  it('has no import circle', () => {
    const circles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, trail: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        circles.push([...trail.slice(trail.indexOf(file)), file].join(' → '));
        return;
      }
      state.set(file, 'open');
      for (const dep of graph.get(file) ?? []) visit(dep, [...trail, file]);
      state.set(file, 'done');
    };
    for (const file of [...graph.keys()].sort()) visit(file, []);
    expect(circles).toEqual([]);
  });

  it('has each stage import only its own and earlier stages', () => {
    const backwards = [...graph].flatMap(([file, deps]) => deps.filter((dep) => graph.has(dep) && stageOf(dep) > stageOf(file)).map((dep) => `${file} → ${dep}`));
    expect(backwards).toEqual([]);
  });
});
