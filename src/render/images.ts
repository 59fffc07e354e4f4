// Renders every (image, variant) and parses its FROM lines: the one costly stage, so it can run in worker threads.
import { raiseTemplateError, createRenderer, sameReads, type RenderResult } from '../jinja/index.js';
import type { Project } from '../load/project.js';
import { templateContext } from './context.js';
import { error, type Diagnostic, type SourceLocation } from '../core/diagnostics.js';
import { platformArgs, resolveScan, scanDockerfile, type FromLine, type Scan } from './dockerfile.js';
import type { TemplateSourceFile } from '../jinja/index.js';
import { familyId, type Arch, type Family, type Image } from '../core/types.js';
import { reusableOutcomes, type RenderReuse } from './reuse.js';

export interface Rendering {
  text: string;
  froms: FromLine[];
}

/** One job's result: its place in the job list keeps the output independent of how jobs were shared out. */
export interface RenderOutcome {
  job: number;
  key: string;
  rendering?: Rendering;
  diagnostics: Diagnostic[];
  /** The loader names the render loaded (see RenderResult); absent when it failed. */
  templates?: string[];
}

export interface RenderJob {
  job: number;
  image: Image;
  family: Family;
  arch: Arch;
}

export function renderKey(image: string, family: Family, arch: Arch): string {
  return `${image}|${familyId(family)}|${arch}`;
}

/** Every (family, arch, image) of the project, numbered in that order. */
export function renderJobs(project: Project): RenderJob[] {
  const jobs: RenderJob[] = [];
  for (const family of project.config.families) {
    for (const arch of project.config.arches) {
      for (const image of project.tree.images) jobs.push({ job: jobs.length, image, family, arch });
    }
  }
  return jobs;
}

/** A problem in the rendered text, placed in the template: on the same literal line, or on the n-th FROM line. */
function locateRenderedLine(template: TemplateSourceFile, rendered: string, line: number, column: number): SourceLocation {
  const renderedLines = rendered.split('\n');
  const text = renderedLines[line - 1] ?? '';
  const lines = template.source.split('\n');
  const same = lines.findIndex((l) => l.trim() === text.trim() && text.trim() !== '');
  if (same >= 0) {
    const shift = (lines[same]?.search(/\S/) ?? 0) - Math.max(0, text.search(/\S/));
    return { file: template.path, line: same + 1, column: Math.max(1, column + shift) };
  }
  const isFrom = (l: string) => /^\s*FROM\b/i.test(l);
  if (isFrom(text)) {
    const nth = renderedLines.slice(0, line).filter(isFrom).length;
    const index = lines.flatMap((l, i) => (isFrom(l) ? [i] : []))[nth - 1];
    if (index !== undefined) return { file: template.path, line: index + 1, column: 1 };
  }
  return { file: template.path, line: 1, column: 1 };
}

/** The jobs whose outcome `reuse` holds (--affected-since, at the revision: the same as now), and the rest, to render. */
export function splitReusable(project: Project, jobs: RenderJob[], reuse: RenderReuse<RenderOutcome> | undefined): { reused: RenderOutcome[]; rest: RenderJob[] } {
  if (!reuse) return { reused: [], rest: jobs };
  const reusable = reusableOutcomes(project, reuse);
  const reused: RenderOutcome[] = [];
  const rest: RenderJob[] = [];
  for (const job of jobs) {
    const key = renderKey(job.image.name, job.family, job.arch);
    const same = reusable(job.image, job.family, job.arch, key);
    if (same) reused.push({ job: job.job, key, rendering: same.rendering, diagnostics: [], templates: same.templates });
    else rest.push(job);
  }
  return { reused, rest };
}

/** Renders the jobs; with `reuse`, takes the outcome it holds where that is sure to be the same (see splitReusable). */
export function renderImages(project: Project, jobs: RenderJob[], reuse?: RenderReuse<RenderOutcome>): RenderOutcome[] {
  if (reuse) {
    const { reused, rest } = splitReusable(project, jobs, reuse);
    return [...reused, ...renderImages(project, rest)].sort((x, y) => x.job - y.job);
  }
  return jobs.map(jobRenderer(project));
}

/**
 * As renderImages, handing the event loop back between slices of jobs: a child process started before (the git
 * export of --affected-since) goes on with its next step while the tree renders.
 */
export async function renderImagesYielding(project: Project, jobs: RenderJob[], slice = 64): Promise<RenderOutcome[]> {
  const render = jobRenderer(project);
  const outcomes: RenderOutcome[] = [];
  for (let i = 0; i < jobs.length; i += slice) {
    if (i > 0) await new Promise((resolve) => setImmediate(resolve));
    for (const job of jobs.slice(i, i + slice)) outcomes.push(render(job));
  }
  return outcomes;
}

/** One renderer for the project (templates compiled once), as a function of a job. */
function jobRenderer(project: Project): (job: RenderJob) => RenderOutcome {
  const { config } = project;
  const renderer = createRenderer({
    load: (name) => project.templates.get(name),
    overrides: project.overrides,
    // kolla-build's way for a template to refuse a variant.
    globals: { raise_error: (message: unknown) => raiseTemplateError(String(message)) },
    limits: config.renderLimits,
    strictUndefined: config.strictUndefined,
  });
  // An image's other arches mostly render the same text: a render is a function of what it reads of its context (the
  // renderer records each name it looks up there), so where all of that is the same on another arch, so is the text,
  // and its lines are read once too (only the FROMs' ARG expansion depends on the arch).
  type Shared = { context: Record<string, unknown>; reads: Set<string>; text: string; loaded: Set<string>; scan: Scan };
  const earlier = new Map<string, Shared>();
  const renderShared = (image: Image, family: Family, context: Record<string, unknown>): { result: RenderResult; loaded: Set<string>; scan?: Scan } => {
    const share = `${image.name}|${familyId(family)}`;
    const before = earlier.get(share);
    if (before && sameReads(before.reads, before.context, context)) return { result: { ok: true, text: before.text }, loaded: before.loaded, scan: before.scan };
    const loaded = new Set<string>();
    const reads = new Set<string>();
    const result = renderer.render(image.template, context, loaded, reads);
    if (!result.ok) return { result, loaded };
    const scan = scanDockerfile(result.text);
    if (!before) earlier.set(share, { context, reads, text: result.text, loaded, scan });
    return { result, loaded, scan };
  };
  return ({ job, image, family, arch }): RenderOutcome => {
    const key = renderKey(image.name, family, arch);
    const context = templateContext(config, image, { ...family, arch });
    const { result, loaded, scan } = renderShared(image, family, context);
    if (!result.ok) return { job, key, diagnostics: [result.diagnostic] };
    const parsed = resolveScan(scan ?? scanDockerfile(result.text), { buildArgs: config.buildArgs, platformArgs: platformArgs(arch) });
    const template = project.templates.get(image.template) ?? { path: image.template, source: '' };
    const diagnostics: Diagnostic[] = parsed.problems.map((problem) => {
      const line = result.text.split('\n')[problem.line - 1] ?? '';
      const location = locateRenderedLine(template, result.text, problem.line, problem.column);
      const undefinedNames = undefinedVariables(template.source.split('\n')[location.line - 1] ?? '', context);
      return error('KG401', `${problem.message} (rendered for ${familyId(family)}-${arch}: "${line.trim()}")`, {
        location,
        source: template.source,
        variants: [`${familyId(family)}-${arch}`],
        ...(undefinedNames.length > 0
          ? {
              hint: `${undefinedNames.map((n) => `"${n}"`).join(', ')} ${undefinedNames.length === 1 ? 'is' : 'are'} not defined, so ${undefinedNames.length === 1 ? 'it renders' : 'they render'} as nothing: define ${undefinedNames.length === 1 ? 'it' : 'them'} under vars in kolla-gen.yaml or in a --vars file, or fix the name`,
            }
          : {}),
      });
    });
    if (parsed.froms.length === 0 && parsed.problems.length === 0) {
      diagnostics.push(
        error('KG400', `${image.name} has no FROM when rendered for ${familyId(family)}-${arch}`, {
          location: { file: template.path, line: 1, column: 1 },
          source: template.source,
        }),
      );
    }
    return { job, key, rendering: { text: result.text, froms: parsed.froms }, diagnostics, templates: [...loaded] };
  };
}

/** The variables a template line prints (`{{ name… }}`) that the context does not define. */
function undefinedVariables(line: string, context: Record<string, unknown>): string[] {
  const names = [...line.matchAll(/\{\{-?\s*([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] as string);
  return [...new Set(names)].filter((name) => !Object.hasOwn(context, name));
}
