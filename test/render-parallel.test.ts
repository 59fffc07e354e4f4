// Worker threads render large trees: their outcomes must be exactly those of rendering in process.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProject } from '../src/load/load.js';
import { renderImages, renderJobs } from '../src/render/images.js';
import type * as Parallel from '../src/render/parallel.js';
import type * as Parsed from '../src/jinja/parsed.js';
import { normalizeSource } from '../src/jinja/syntax.js';

const FIXTURES = path.join(import.meta.dirname, 'fixtures');

// @ts-expect-error: the build script is plain JavaScript
import { bundle } from '../scripts/bundle.mjs';

describe('renderParallel', () => {
  // The worker as users run it: bundled by the build's own script, the worker file beside the code that starts it.
  let built: string;
  beforeAll(async () => {
    built = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-parallel-'));
    await bundle(built, { parallel: 'src/render/parallel.ts', worker: 'src/render/worker.ts', parsed: 'src/jinja/parsed.ts' });
  });
  afterAll(() => fs.rmSync(built, { recursive: true, force: true }));

  it.each(['basic', 'split', 'overlay'])('gives the in-process outcomes, in job order, for %s', async (name) => {
    const dir = path.join(FIXTURES, name);
    const args = (await import(path.join(dir, 'args.json'), { with: { type: 'json' } })).default as Record<string, string[]>;
    const { project } = loadProject({ ...args, output: 'out' }, { cwd: dir, env: {} });
    if (!project) throw new Error('fixture did not load');
    const { renderParallel } = (await import(path.join(built, 'parallel.js'))) as typeof Parallel;
    const inProcess = renderImages(project, renderJobs(project));
    const parallel = await renderParallel(project, 3);
    expect(parallel.map((o) => o.job)).toEqual(inProcess.map((o) => o.job));
    expect(parallel).toEqual(inProcess);
    expect(inProcess.length).toBeGreaterThan(1);
  });

  it('hands back the trees its workers parsed, for the cache on disk', async () => {
    const dir = path.join(FIXTURES, 'split');
    const { project } = loadProject({ output: 'out' }, { cwd: dir, env: {} });
    if (!project) throw new Error('fixture did not load');
    const { renderParallel } = (await import(path.join(built, 'parallel.js'))) as typeof Parallel;
    const { keepTrees, textKey, treesToKeep } = (await import(path.join(built, 'parsed.js'))) as typeof Parsed;
    expect(treesToKeep()).toBeUndefined();
    keepTrees();
    await renderParallel(project, 3);
    const kept = treesToKeep();
    const templates = new Set(project.tree.images.map((image) => image.template));
    expect(templates.size).toBeGreaterThan(1);
    for (const name of templates) expect(kept?.has(textKey(normalizeSource(project.templates.get(name)!.source)))).toBe(true);
  });

  it('uses workers only for large trees on 4 cores or more', async () => {
    const dir = path.join(FIXTURES, 'basic');
    const { project } = loadProject({ output: 'out' }, { cwd: dir, env: {} });
    if (!project) throw new Error('fixture did not load');
    const { workerCount } = await import('../src/render/parallel.js');
    const large = { ...project, tree: { ...project.tree, images: Array.from({ length: 500 }, () => project.tree.images[0]!) } };
    expect([workerCount(project, 8), workerCount(large, 2), workerCount(large, 4), workerCount(large, 16)]).toEqual([1, 1, 4, 4]);
  });
});
