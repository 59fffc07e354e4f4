// An image's other arches take the first arch's rendering when everything the render read of its context is the same
// there (issue 14). Whatever is shared, the outcomes must be exactly those of rendering every job on its own.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRenderer, sameReads } from '../src/jinja/index.js';
import { loadProject } from '../src/load/load.js';
import type { Project } from '../src/load/project.js';
import { renderImages, renderJobs } from '../src/render/images.js';
import { FIXTURES, temps, write } from './support/cli.js';

function load(dir: string, args: Record<string, unknown> = {}): Project {
  const { project, diagnostics } = loadProject({ ...args, output: 'out' }, { cwd: dir, env: {} });
  if (!project) throw new Error(JSON.stringify(diagnostics));
  return project;
}

/** Every job rendered by a renderer of its own: nothing shared between arches. */
function alone(project: Project) {
  return renderJobs(project).flatMap((job) => renderImages(project, [job]));
}

const TREE: Record<string, string> = {
  'kolla-gen.yaml': 'namespace: acme\ntag: "1.0"\nbases: [ubuntu, rocky]\narches: [amd64, arm64]\nvars:\n  pkgs: [a, b]\n',
  'docker/macros.j2': '{% macro arch_line() %}RUN echo {{ debian_arch }}{% endmacro %}{% macro plain() %}RUN echo plain{% endmacro %}\n',
  'docker/base/Dockerfile.j2': 'FROM {{ base_image }}:{{ base_distro_tag }}\nRUN echo {{ pkgs | join(" ") }}\n',
  // reads the arch itself
  'docker/direct/Dockerfile.j2': 'FROM {{ namespace }}/base:{{ tag }}\nRUN echo {{ base_arch }}\n',
  // reads it through a macro imported with the context
  'docker/macro/Dockerfile.j2': '{% import "macros.j2" as m with context %}FROM {{ namespace }}/base:{{ tag }}\n{{ m.arch_line() }}\n',
  // imports the same macros but calls only the one that reads no arch
  'docker/plain/Dockerfile.j2': '{% import "macros.j2" as m with context %}FROM {{ namespace }}/base:{{ tag }}\n{{ m.plain() }}\n',
  // reads the arch on one base only
  'docker/branch/Dockerfile.j2': 'FROM {{ namespace }}/base:{{ tag }}\n{% if base_distro == "rocky" %}RUN echo {{ debian_arch }}{% endif %}\n',
  // a name the context lacks on every arch, and a mutation of a context list that must not leak into the next render
  'docker/mutate/Dockerfile.j2': 'FROM {{ namespace }}/base:{{ tag }}\n{% if nothing is defined %}RUN no{% endif %}{% set _ = pkgs.append(debian_arch) %}RUN echo {{ pkgs | join(" ") }}\n',
};

describe('sharing a rendering between arches', () => {
  it('gives, for every fixture, the outcomes of rendering each job alone', () => {
    for (const name of ['basic', 'split', 'overlay', 'kolla-mini']) {
      const dir = path.join(FIXTURES, name);
      const argsFile = path.join(dir, 'args.json');
      const args = fs.existsSync(argsFile) ? (JSON.parse(fs.readFileSync(argsFile, 'utf8')) as Record<string, unknown>) : {};
      const project = load(dir, args);
      expect(renderImages(project, renderJobs(project)), name).toEqual(alone(project));
    }
  });

  it('renders again wherever the render read something that differs by arch, directly, in a macro or in one branch', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-share-'));
    temps.push(dir);
    for (const [rel, text] of Object.entries(TREE)) write(dir, rel, text);
    const project = load(dir);
    const outcomes = renderImages(project, renderJobs(project));
    expect(outcomes).toEqual(alone(project));
    const text = (key: string) => outcomes.find((o) => o.key === key)?.rendering?.text;
    expect(text('direct|ubuntu|arm64')).toContain('RUN echo aarch64');
    expect(text('macro|rocky|arm64')).toContain('RUN echo arm64');
    expect(text('branch|rocky|arm64')).toContain('RUN echo arm64');
    expect(text('branch|ubuntu|arm64')).toBe(text('branch|ubuntu|amd64'));
    expect(text('mutate|ubuntu|arm64')).toContain('RUN echo a b arm64');
    expect(text('mutate|ubuntu|amd64')).toContain('RUN echo a b amd64');
  });

  it('records every name a render looks up in its context, found or not, and compares them by value', () => {
    const renderer = createRenderer({ load: (name) => (name === 't' ? { path: 't', source: '{{ a }}{% if b is defined %}{{ b }}{% endif %}{{ f() }}' } : undefined) });
    const f = () => 'x';
    const reads = new Set<string>();
    expect(renderer.render('t', { a: [1, { k: 'v' }], f, unused: 1 }, undefined, reads)).toEqual({ ok: true, text: "[1, {'k': 'v'}]x" });
    expect([...reads].sort()).toEqual(['a', 'b', 'f']);
    const ctx = { a: [1, { k: 'v' }], f, unused: 1 };
    expect(sameReads(reads, ctx, { a: [1, { k: 'v' }], f, unused: 2 })).toBe(true);
    expect(sameReads(reads, ctx, { a: [1, { k: 'w' }], f })).toBe(false);
    expect(sameReads(reads, ctx, { a: [1, { k: 'v' }], f, b: 0 })).toBe(false);
    // a function is the same only as itself: a closure may hold what differs
    expect(sameReads(reads, ctx, { a: [1, { k: 'v' }], f: () => 'x' })).toBe(false);
  });
});
