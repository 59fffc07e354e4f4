// Shares the rendering of a large tree out to worker threads, one share of the images each.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Project } from '../load/project.js';
import { renderImages, renderJobs, type RenderOutcome } from './images.js';

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

function runWorker(project: Project, images: string[]): Promise<RenderOutcome[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { project, images } });
    worker.once('message', (outcomes: RenderOutcome[]) => resolve(outcomes));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`render worker exited with code ${code}`));
    });
  });
}

/** The outcomes of every render job, in job order whatever the number of workers. */
export async function renderParallel(project: Project, workers = workerCount(project)): Promise<RenderOutcome[]> {
  if (workers <= 1) return renderImages(project, renderJobs(project));
  const shares: string[][] = Array.from({ length: workers }, () => []);
  project.tree.images.forEach((image, i) => shares[i % workers]?.push(image.name));
  const results = await Promise.all(shares.filter((s) => s.length > 0).map((share) => runWorker(project, share)));
  return results.flat().sort((a, b) => a.job - b.job);
}
