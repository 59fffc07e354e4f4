// A worker thread's share of the rendering: the render jobs it was given (by number).
import { parentPort, workerData } from 'node:worker_threads';
import type { Project } from '../load/project.js';
import { renderImages, renderJobs } from './images.js';

const { project, jobs } = workerData as { project: Project; jobs: number[] };
const mine = new Set(jobs);
parentPort?.postMessage(renderImages(project, renderJobs(project).filter((job) => mine.has(job.job))));
