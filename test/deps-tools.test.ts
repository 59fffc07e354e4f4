// @vitest-environment jsdom
// `kolla-gen deps` output fed to the tools that read it: graphviz (`dot`, `gc`) and mermaid's own parser (from npm;
// jsdom stands in for the browser its label sanitiser expects). Without graphviz the graphviz tests are skipped with a
// message, except under KG_REQUIRE_GRAPHVIZ=1 (CI), where a missing one fails.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { copyFixture, run } from './support/cli.js';
import { formatDot, formatMermaidSections, depsImages, type GraphNode } from '../src/graph/format.js';

const GRAPHVIZ_MISSING = 'graphviz is not installed: the tests that feed deps output to dot are skipped (apt-get install graphviz).';
const hasGraphviz = spawnSync('dot', ['-V'], { stdio: 'ignore' }).status === 0;
if (!hasGraphviz && process.env.KG_REQUIRE_GRAPHVIZ === '1') throw new Error(`${GRAPHVIZ_MISSING} (KG_REQUIRE_GRAPHVIZ=1: CI needs it)`);
if (!hasGraphviz) console.warn(GRAPHVIZ_MISSING);

/** A graphviz tool on stdin; its stdout, or the test fails with its stderr. */
function graphviz(tool: string, args: string[], input: string): string {
  const r = spawnSync(tool, args, { input, encoding: 'utf8', maxBuffer: 1 << 30 });
  expect(r.stderr, `${tool} ${args.join(' ')} complained`).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

/** mermaid.parse: the diagram type, or it throws with mermaid's parse error. */
async function mermaidParse(text: string, maxEdges?: number): Promise<string> {
  const { default: mermaid } = await import('mermaid');
  mermaid.initialize({ startOnLoad: false, ...(maxEdges ? { maxEdges } : {}) });
  const result = await mermaid.parse(text);
  return result ? result.diagramType : 'none';
}

const CHAIN: GraphNode[] = Array.from({ length: 10_000 }, (_, i) => ({ name: `img-${i}`, parents: i > 0 ? [`img-${i - 1}`] : [] }));

describe('deps on a tree with several variants', () => {
  const dir = copyFixture('basic');

  it.skipIf(!hasGraphviz)('--format dot: dot -Tsvg draws one SVG with a cluster per variant', async () => {
    const result = await run(dir, ['deps', '--format', 'dot']);
    expect(result.exitCode).toBe(0);
    const svg = graphviz('dot', ['-Tsvg'], result.stdout);
    expect(svg.match(/<svg /g)).toHaveLength(1);
    expect(svg.match(/class="cluster"/g)).toHaveLength(2);
    expect(svg).toContain('<title>cluster_ubuntu</title>');
    expect(svg).toContain('<title>cluster_rocky</title>');
    // base, db, tools-base, tools-api on each of the two variants; 3 edges each.
    expect(graphviz('gc', ['-n', '-e'], result.stdout).trim().split(/\s+/).slice(0, 2)).toEqual(['8', '6']);
  });

  it('--format mermaid: mermaid parses one flowchart with a subgraph per variant', async () => {
    const result = await run(dir, ['deps', '--format', 'mermaid']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.match(/^graph LR$/gm)).toHaveLength(1);
    expect(result.stdout.match(/^ {2}subgraph v\d\["(ubuntu|rocky)"\]$/gm)).toHaveLength(2);
    expect(await mermaidParse(result.stdout)).toBe('flowchart-v2');
  });

  it('mermaid rejects what is not a flowchart (the parser is really asked)', async () => {
    await expect(mermaidParse('graph LR\n  subgraph v1["x"]\n    a["a"]\n')).rejects.toThrow(/Parse error/);
  });

  it('--format json and --json give the same document, of one shape whatever the number of variants', async () => {
    const text = await run(dir, ['deps', '--format', 'json']);
    const json = await run(dir, ['deps', '--json']);
    const one = await run(dir, ['deps', '-b', 'ubuntu', '--json']);
    expect(text.exitCode).toBe(0);
    const document = JSON.parse(text.stdout) as { variants: { name: string; base: string; arch: string; images: { name: string; parents: string[] }[] }[] };
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, diagnostics: [], result: document });
    expect(document.variants.map((v) => [v.name, v.base, v.arch])).toEqual([
      ['ubuntu', 'ubuntu', 'amd64'],
      ['rocky', 'rocky', 'amd64'],
    ]);
    expect(document.variants[0]?.images).toEqual([
      { name: 'base', parents: [] },
      { name: 'db', parents: ['base'] },
      { name: 'tools-base', parents: ['base'] },
      { name: 'tools-api', parents: ['tools-base'] },
    ]);
    const single = (JSON.parse(one.stdout) as { result: typeof document }).result;
    expect(single).toEqual({ variants: [document.variants[0]] });
  });

  it('--json with --format dot or mermaid is a usage error', async () => {
    const result = await run(dir, ['deps', '--json', '--format', 'dot']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/--json/);
    expect(result.stdout).toBe('');
  });
});

describe('a 10,000-deep FROM chain', () => {
  it.skipIf(!hasGraphviz)('dot: graphviz reads all 10,000 nodes and 9,999 edges', () => {
    const out = graphviz('gc', ['-n', '-e'], formatDot([{ title: 'deep', nodes: CHAIN }]));
    expect(out.trim().split(/\s+/).slice(0, 2)).toEqual(['10000', '9999']);
  });

  it('mermaid: the parser takes it (with maxEdges raised: mermaid refuses more than 500 edges by default)', async () => {
    const text = formatMermaidSections([{ title: 'deep', nodes: CHAIN }]);
    expect(text.split('\n')).toHaveLength(1 + 1 + 10_000 + 9_999 + 1 + 1);
    await expect(mermaidParse(text)).rejects.toThrow(/Edge limit exceeded/);
    expect(await mermaidParse(text, 20_000)).toBe('flowchart-v2');
  }, 120_000);

  it('json: each image names its parent, no nesting', () => {
    const images = depsImages(CHAIN);
    expect(images).toHaveLength(10_000);
    expect(images[9_999]).toEqual({ name: 'img-9999', parents: ['img-9998'] });
    expect(JSON.parse(JSON.stringify({ variants: [{ images }] }))).toEqual({ variants: [{ images }] });
  });
});
