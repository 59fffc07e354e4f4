import { describe, expect, test } from 'vitest';
import { depsImages, formatDot, formatGraphMarkdown, formatMermaid, formatMermaidSections, type GraphNode } from '../src/graph/format.js';

const DIAMOND: GraphNode[] = [
  { name: 'base', parents: [] },
  { name: 'left', parents: ['base'] },
  { name: 'right', parents: ['base'] },
  { name: 'both', parents: ['left', 'right'] },
];

const TWO_ROOTS: GraphNode[] = [
  { name: 'ubuntu-base', parents: [] },
  { name: 'rocky-base', parents: [] },
  { name: 'ubuntu-child', parents: ['ubuntu-base'] },
  { name: 'rocky-child', parents: ['rocky-base'] },
];

const ISOLATED: GraphNode[] = [
  { name: 'base', parents: [] },
  { name: 'child', parents: ['base'] },
  { name: 'lonely', parents: [] },
];

const DOTS_AND_DASHES: GraphNode[] = [
  { name: 'python3.12-base', parents: [] },
  { name: 'nova-api', parents: ['python3.12-base'] },
  { name: 'nova_api', parents: ['python3.12-base'] },
  { name: 'end', parents: ['nova-api'] },
];

describe('formatDot', () => {
  test('one digraph, a cluster per variant, nodes named by variant and labelled by image', () => {
    expect(formatDot([{ title: 'ubuntu', nodes: DIAMOND }, { title: 'rocky', nodes: ISOLATED }])).toBe(`digraph "images" {
  rankdir=LR
  subgraph "cluster_ubuntu" {
    label="ubuntu"
    "ubuntu/base" [label="base"]
    "ubuntu/left" [label="left"]
    "ubuntu/right" [label="right"]
    "ubuntu/both" [label="both"]
    "ubuntu/base" -> "ubuntu/left"
    "ubuntu/base" -> "ubuntu/right"
    "ubuntu/left" -> "ubuntu/both"
    "ubuntu/right" -> "ubuntu/both"
  }
  subgraph "cluster_rocky" {
    label="rocky"
    "rocky/base" [label="base"]
    "rocky/child" [label="child"]
    "rocky/lonely" [label="lonely"]
    "rocky/base" -> "rocky/child"
  }
}
`);
  });

  test('a variant without images is left out; no variant at all is still a digraph', () => {
    expect(formatDot([{ title: 'empty', nodes: [] }])).toBe('digraph "images" {\n  rankdir=LR\n}\n');
  });

  test('dots, dashes, quotes and backslashes stay inside quoted ids', () => {
    expect(formatDot([{ title: 'say "hi" \\', nodes: DOTS_AND_DASHES.slice(0, 2) }])).toBe(`digraph "images" {
  rankdir=LR
  subgraph "cluster_say \\"hi\\" \\\\" {
    label="say \\"hi\\" \\\\"
    "say \\"hi\\" \\\\/python3.12-base" [label="python3.12-base"]
    "say \\"hi\\" \\\\/nova-api" [label="nova-api"]
    "say \\"hi\\" \\\\/python3.12-base" -> "say \\"hi\\" \\\\/nova-api"
  }
}
`);
  });
});

describe('formatMermaid', () => {
  test.each([
    [
      'diamond',
      DIAMOND,
      `graph LR
  img_base["base"]
  img_left["left"]
  img_right["right"]
  img_both["both"]
  img_base --> img_left
  img_base --> img_right
  img_left --> img_both
  img_right --> img_both
`,
    ],
    [
      'two roots',
      TWO_ROOTS,
      `graph LR
  img_ubuntu_base["ubuntu-base"]
  img_rocky_base["rocky-base"]
  img_ubuntu_child["ubuntu-child"]
  img_rocky_child["rocky-child"]
  img_ubuntu_base --> img_ubuntu_child
  img_rocky_base --> img_rocky_child
`,
    ],
    [
      'isolated node',
      ISOLATED,
      `graph LR
  img_base["base"]
  img_child["child"]
  img_lonely["lonely"]
  img_base --> img_child
`,
    ],
    [
      // "nova-api" and "nova_api" sanitise alike: the second gets a suffix; "end" is safe behind the prefix.
      'dots and dashes',
      DOTS_AND_DASHES,
      `graph LR
  img_python3_12_base["python3.12-base"]
  img_nova_api["nova-api"]
  img_nova_api_2["nova_api"]
  img_end["end"]
  img_python3_12_base --> img_nova_api
  img_python3_12_base --> img_nova_api_2
  img_nova_api --> img_end
`,
    ],
  ])('%s', (_, nodes, expected) => {
    expect(formatMermaid(nodes)).toBe(expected);
  });

  test('a label with quotes or angle brackets uses entity codes', () => {
    expect(formatMermaid([{ name: 'a"<b>#', parents: [] }])).toBe('graph LR\n  img_a__b__["a#34;#60;b#62;#35;"]\n');
  });
});

describe('formatMermaidSections', () => {
  test('one flowchart, a subgraph per variant with its own ids; empty variants left out', () => {
    expect(
      formatMermaidSections([
        { title: 'ubuntu', nodes: DOTS_AND_DASHES },
        { title: 'nothing', nodes: [] },
        { title: 'rocky "9"', nodes: ISOLATED },
      ]),
    ).toBe(`graph LR
  subgraph v1["ubuntu"]
    v1_python3_12_base["python3.12-base"]
    v1_nova_api["nova-api"]
    v1_nova_api_2["nova_api"]
    v1_end["end"]
    v1_python3_12_base --> v1_nova_api
    v1_python3_12_base --> v1_nova_api_2
    v1_nova_api --> v1_end
  end
  subgraph v2["rocky #34;9#34;"]
    v2_base["base"]
    v2_child["child"]
    v2_lonely["lonely"]
    v2_base --> v2_child
  end
`);
  });
});

describe('depsImages', () => {
  test.each([
    ['diamond: parents sorted', DIAMOND, [['base'], ['left', 'base'], ['right', 'base'], ['both', 'left', 'right']]],
    ['a parent that is not among the nodes is left out, a repeated one kept once', [{ name: 'orphan', parents: ['gone', 'x', 'x'] }, { name: 'x', parents: [] }], [['orphan', 'x'], ['x']]],
    ['no nodes', [], []],
  ] satisfies [string, GraphNode[], string[][]][])('%s', (_, nodes, expected) => {
    expect(depsImages(nodes).map((i) => [i.name, ...i.parents])).toEqual(expected);
  });
});

describe('formatGraphMarkdown', () => {
  test('a heading, the do-not-edit line, and one mermaid block per section', () => {
    expect(
      formatGraphMarkdown([
        { title: 'ubuntu', nodes: ISOLATED },
        { title: 'rocky', nodes: [{ name: 'base', parents: [] }] },
      ]),
    ).toBe(`# Image dependency graph

Generated by kolla-gen: do not edit. Run \`kolla-gen generate\` to update it.

### ubuntu

\`\`\`mermaid
graph LR
  img_base["base"]
  img_child["child"]
  img_lonely["lonely"]
  img_base --> img_child
\`\`\`

### rocky

\`\`\`mermaid
graph LR
  img_base["base"]
\`\`\`
`);
  });
});
