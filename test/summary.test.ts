// @vitest-environment jsdom
// kolla-gen summary --affected-since REV: the markdown a CI job summary shows, from real CLI runs on a git repo: the
// images added, removed and affected per variant, a mermaid graph that mermaid 11's own parser takes (jsdom stands in
// for the browser, as in deps-tools.test.ts), and what changed per image between the two generations.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { copyFixture, run, write } from './support/cli.js';
import { instructionChanges, instructions, mermaidOf } from '../src/commands/summary.js';
import type { GraphNode } from '../src/graph/format.js';

async function mermaidParse(text: string): Promise<string> {
  const { default: mermaid } = await import('mermaid');
  mermaid.initialize({ startOnLoad: false });
  const result = await mermaid.parse(text);
  return result ? result.diagramType : 'none';
}

/** The mermaid block of a summary. */
const mermaidBlock = (md: string) => /```mermaid\n([\s\S]*?)```/.exec(md)?.[1] ?? '';

const git = (dir: string, args: string[]) => execa('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: dir });

/** The basic fixture, generated and committed. */
async function repo(): Promise<string> {
  const dir = copyFixture('basic');
  expect((await run(dir, ['generate'])).exitCode).toBe(0);
  await git(dir, ['init', '-q']);
  await git(dir, ['add', '-A']);
  await git(dir, ['commit', '-qm', 'start']);
  return dir;
}

describe('kolla-gen summary', () => {
  it('a base change: base changed, its descendants through it, per variant with counts; the instruction it adds', async () => {
    const dir = await repo();
    fs.appendFileSync(path.join(dir, 'docker', 'base', 'Dockerfile.j2'), 'RUN echo bumped\n');
    const r = await run(dir, ['summary', '--affected-since', 'HEAD']);
    expect(r.exitCode).toBe(0);
    const md = r.stdout;
    expect(md).toMatch(/^## Images affected since HEAD\n/);
    expect(md).toContain('| variant | to build | changed | through a parent | added | removed | unchanged |');
    expect(md).toContain('| ubuntu | 4 | 1 | 3 | 0 | 0 | 0 |');
    expect(md).toContain('| rocky | 4 | 1 | 3 | 0 | 0 | 0 |');
    expect(md).toContain('| **all** | **8** | 2 | 6 | 0 | 0 | 0 |');
    expect(md).toContain('<details><summary>ubuntu, rocky: 4 to build</summary>');
    expect(md).toContain('- changed: `base`');
    expect(md).toContain('- through `base`: `db`, `tools-base`, `tools-api`');
    expect(md).toContain('**base** on ubuntu, rocky: the rendered Dockerfile changed\n\n~~~diff\n+ RUN echo bumped\n~~~');
    expect(await mermaidParse(mermaidBlock(md))).toBe('flowchart-v2');
    expect(mermaidBlock(md)).toContain('class v1_base,v1_db,v1_tools_base,v1_tools_api changed');
    // --json: the same facts for scripts
    const json = JSON.parse((await run(dir, ['summary', '--affected-since', 'HEAD', '--json'])).stdout) as { result: { variants: { variant: string; changed: string[] }[] } };
    expect(json.result.variants.map((v) => [v.variant, v.changed])).toEqual([['ubuntu', ['base']], ['rocky', ['base']]]);
  });

  it('a leaf FROM change, an added and a removed image; the graph shows what is built and its parents only', async () => {
    const dir = await repo();
    write(dir, 'docker/db/Dockerfile.j2', 'FROM {{ namespace }}/{{ image_prefix }}tools-base:{{ tag }}\nRUN echo db > /etc/role\n');
    write(dir, 'docker/cache/Dockerfile.j2', 'FROM {{ namespace }}/{{ image_prefix }}base:{{ tag }}\nRUN echo cache\n');
    fs.rmSync(path.join(dir, 'docker', 'tools', 'tools-api'), { recursive: true });
    const r = await run(dir, ['summary', '--affected-since', 'HEAD']);
    expect(r.exitCode).toBe(0);
    const md = r.stdout;
    expect(md).toContain('| ubuntu | 2 | 1 | 0 | 1 | 1 | 2 |');
    expect(md).toContain('- added: `cache`');
    expect(md).toContain('- removed: `tools-api`');
    expect(md).toContain('~~~diff\n- FROM acme/base:1.0-ubuntu\n+ FROM acme/tools-base:1.0-ubuntu\n~~~');
    const graph = mermaidBlock(md);
    expect(await mermaidParse(graph)).toBe('flowchart-v2');
    expect(graph).toContain('v1_tools_base["tools-base"]'); // db's parent, drawn for context, not marked
    expect(graph).toMatch(/class v1_\w+,v1_\w+ changed/);
    expect(graph).not.toContain('tools_api');
  });

  it('nothing changed: says so; without --affected-since: a usage error', async () => {
    const dir = await repo();
    const r = await run(dir, ['summary', '--affected-since', 'HEAD']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('Nothing to build: every image has the content hash it had at HEAD.');
    const bare = await run(dir, ['summary']);
    expect(bare.exitCode).toBe(1);
    expect(bare.stderr).toContain('give --affected-since <rev>');
  });

  it('the graph is capped, says how many it left out, and mermaid still parses it', async () => {
    const chain: GraphNode[] = Array.from({ length: 200 }, (_, i) => ({ name: `img-${i}`, parents: i > 0 ? [`img-${i - 1}`] : [] }));
    const marked = new Set(chain.map((n) => n.name));
    const g = mermaidOf([{ title: 'debian', nodes: chain, marked }, { title: 'ubuntu', nodes: chain, marked }, { title: 'rocky', nodes: chain.slice(0, 5), marked }]);
    expect(g.shown).toBe(60);
    expect(g.leftOut).toBe(145); // debian and ubuntu share one box of 200; rocky's 5 left out too
    expect(g.mermaid).toContain('subgraph v1["debian, ubuntu"]');
    expect(await mermaidParse(g.mermaid)).toBe('flowchart-v2');
  });

  it('compares Dockerfiles by instruction, as BuildKit reads them: continuations joined, comments and blank lines left out, directives and heredoc lines kept', () => {
    expect(instructions('# c\nFROM a\n\nRUN x \\\n  && y\n# d\nCMD ["z"]\n')).toEqual(['FROM a', 'RUN x && y', 'CMD ["z"]']);
    expect(instructions('# syntax=docker/dockerfile:1\nFROM a\nRUN <<EOF\n# kept: a heredoc line\nEOF\n')).toEqual(['#syntax=docker/dockerfile:1', 'FROM a', 'RUN <<EOF', '# kept: a heredoc line', 'EOF']);
    expect(instructionChanges('FROM a\nRUN x\nRUN x\n', 'FROM b\n# note\nRUN x\n')).toEqual({ removed: ['FROM a', 'RUN x'], added: ['FROM b'] });
  });
});
