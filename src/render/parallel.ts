// Shares the rendering of a large tree out to worker threads, one share of the images each.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Project } from '../load/project.js';
import { renderImagesYielding, renderJobs, splitReusable, type RenderOutcome } from './images.js';
import type { RenderReuse } from './reuse.js';
import { knownTrees, mergeTreeReport, type TreeReport } from '../jinja/parsed.js';

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
 * the revision), the outcomes it holds that are sure to be the same are taken, and only the rest is rendered.
 */
export async function renderParallel(project: Project, workers = workerCount(project), reuse?: RenderReuse<RenderOutcome>): Promise<RenderOutcome[]> {
  const { reused, rest } = splitReusable(project, renderJobs(project), reuse);
  if (workers <= 1 || (reuse && rest.length < PARALLEL_FROM)) return [...reused, ...(await renderImagesYielding(project, rest))].sort((a, b) => a.job - b.job);
  // Each worker takes every variant of its share of the images (a template is compiled once per worker).
  const order = new Map(project.tree.images.map((image, i) => [image.name, i]));
  const shares: number[][] = Array.from({ length: workers }, () => []);
  for (const job of rest) shares[(order.get(job.image.name) ?? 0) % workers]?.push(job.job);
  const results = await Promise.all(shares.filter((s) => s.length > 0).map((share) => runWorker(project, share)));
  return [...reused, ...results.flat()].sort((a, b) => a.job - b.job);
}
