// Worker threads render large trees: their outcomes must be exactly those of rendering in process.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProject } from '../src/load/load.js';
import { renderImages, renderJobs } from '../src/render/images.js';
import type * as Parallel from '../src/render/parallel.js';

const FIXTURES = path.join(import.meta.dirname, 'fixtures');

describe('renderParallel', () => {
  it.each(['basic', 'split', 'overlay'])('gives the in-process outcomes, in job order, for %s', async (name) => {
    const dir = path.join(FIXTURES, name);
    const args = (await import(path.join(dir, 'args.json'), { with: { type: 'json' } })).default as Record<string, string[]>;
    const { project } = loadProject({ ...args, output: 'out' }, { cwd: dir, env: {} });
    if (!project) throw new Error('fixture did not load');
    // The worker is the built one (dist/), as users run it; test/setup/build.ts built it.
    const { renderParallel } = (await import(path.join(import.meta.dirname, '..', 'dist', 'render', 'parallel.js'))) as typeof Parallel;
    const inProcess = renderImages(project, renderJobs(project));
    const parallel = await renderParallel(project, 3);
    expect(parallel.map((o) => o.job)).toEqual(inProcess.map((o) => o.job));
    expect(parallel).toEqual(inProcess);
    expect(inProcess.length).toBeGreaterThan(1);
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
