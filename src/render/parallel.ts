// Shares the rendering of a large tree out to worker threads, one share of the images each.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Project } from '../load/project.js';
import { renderImagesYielding, renderJobs, splitReusable, type RenderJob, type RenderOutcome } from './images.js';
import type { RenderReuse } from './reuse.js';
import { keepTreesOf, knownTrees, mergeTreeReport, type TreeReport } from '../jinja/parsed.js';
import { keepOutcomes, keptOutcomes } from './kept.js';

/** Below this many renders a worker's start-up costs more than it saves. */
const PARALLEL_FROM = 2000;
/**
 * On 2 cores the workers lose: measured on this project's 2-vCPU machines, two threads get about 1.1x the
 * throughput of one, and copying the project in and the renderings out costs more than that (16,000 renders:
 * 1.6-2.5 s in process, 3.5-4.2 s in two workers). So workers start only from 4 cores.
 */
const MIN_CORES = 4;

export function workerCount(project: Project, cores = availableParallelism()): number {
  const renders = project.tree.images.length * project.config.families.length * project.config.arches.length;
  return renders < PARALLEL_FROM || cores < MIN_CORES ? 1 : Math.min(4, cores);
}

function runWorker(project: Project, jobs: number[]): Promise<RenderOutcome[]> {
  return new Promise((resolve, reject) => {
    // The trees of the templates this process parsed or read from the cache go in; those the worker parsed come back.
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { project, jobs, trees: knownTrees() } });
    worker.once('message', (done: { outcomes: RenderOutcome[]; trees: TreeReport }) => {
      mergeTreeReport(done.trees);
      resolve(done.outcomes);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`render worker exited with code ${code}`));
    });
  });
}

/**
 * The outcomes of every render job, in job order whatever the number of workers. With `reuse` (--affected-since, at
 * the revision), the outcomes it holds that are sure to be the same are taken; then the renderings kept by earlier runs
 * (kept.ts), and only the rest is rendered. The revision's renderings are not kept: they would push out the tree's own.
 */
export async function renderParallel(project: Project, workers?: number, reuse?: RenderReuse<RenderOutcome>): Promise<RenderOutcome[]> {
  const split = splitReusable(project, renderJobs(project), reuse);
  const { kept, rest } = keptOutcomes(project, split.rest);
  // Workers only for many renders left (the project's size says how many cores to take).
  const rendered = await renderJobsOf(project, rest, workers ?? (rest.length < PARALLEL_FROM ? 1 : workerCount(project)));
  if (!reuse) {
    keepOutcomes(project, rest, rendered);
    // The trees of templates whose renderings were taken stay in the cache, for the run that renders them again.
    keepTreesOf(() => [...project.templates.values()].map((file) => file.source));
  }
  return [...split.reused, ...kept, ...rendered].sort((a, b) => a.job - b.job);
}

async function renderJobsOf(project: Project, jobs: RenderJob[], workers: number): Promise<RenderOutcome[]> {
  if (workers <= 1) return renderImagesYielding(project, jobs);
  // Each worker takes every variant of its share of the images (a template is compiled once per worker).
  const order = new Map(project.tree.images.map((image, i) => [image.name, i]));
  const shares: number[][] = Array.from({ length: workers }, () => []);
  for (const job of jobs) shares[(order.get(job.image.name) ?? 0) % workers]?.push(job.job);
  const results = await Promise.all(shares.filter((s) => s.length > 0).map((share) => runWorker(project, share)));
  return results.flat();
}
