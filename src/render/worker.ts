// A worker thread's share of the rendering: the render jobs it was given (by number).
import { parentPort, workerData } from 'node:worker_threads';
import type { Project } from '../load/project.js';
import { renderImages, renderJobs } from './images.js';
import { keepTrees, treeReport } from '../jinja/parsed.js';

const { project, jobs, trees } = workerData as { project: Project; jobs: number[]; trees?: Map<string, Uint8Array> };
const mine = new Set(jobs);
if (trees) keepTrees(() => trees);
const outcomes = renderImages(project, renderJobs(project).filter((job) => mine.has(job.job)));
parentPort?.postMessage({ outcomes, trees: treeReport() });
