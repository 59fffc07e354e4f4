// A worker thread's share of the rendering: every variant of the images it was given.
import { parentPort, workerData } from 'node:worker_threads';
import type { Project } from '../load/project.js';
import { renderImages, renderJobs } from './images.js';

const { project, images } = workerData as { project: Project; images: string[] };
const mine = new Set(images);
parentPort?.postMessage(renderImages(project, renderJobs(project).filter((job) => mine.has(job.image.name))));
