import { describe, expect, test } from 'vitest';
import { formatDot, formatGraphMarkdown, formatMermaid, formatTreeJson, type GraphNode } from '../src/graph/format.js';

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
  test.each([
    [
      'diamond',
      DIAMOND,
      `digraph "images" {
  rankdir=LR
  "base"
  "left"
  "right"
  "both"
  "base" -> "left"
  "base" -> "right"
  "left" -> "both"
  "right" -> "both"
}
`,
    ],
    [
      'two roots',
      TWO_ROOTS,
      `digraph "images" {
  rankdir=LR
  "ubuntu-base"
  "rocky-base"
  "ubuntu-child"
  "rocky-child"
  "ubuntu-base" -> "ubuntu-child"
  "rocky-base" -> "rocky-child"
}
`,
    ],
    [
      'isolated node',
      ISOLATED,
      `digraph "images" {
  rankdir=LR
  "base"
  "child"
  "lonely"
  "base" -> "child"
}
`,
    ],
    [
      'dots and dashes',
      DOTS_AND_DASHES,
      `digraph "images" {
  rankdir=LR
  "python3.12-base"
  "nova-api"
  "nova_api"
  "end"
  "python3.12-base" -> "nova-api"
  "python3.12-base" -> "nova_api"
  "nova-api" -> "end"
}
`,
    ],
  ])('%s', (_, nodes, expected) => {
    expect(formatDot(nodes, 'images')).toBe(expected);
  });

  test('quotes and backslashes in the title are escaped', () => {
    expect(formatDot([], 'say "hi" \\ bye')).toBe('digraph "say \\"hi\\" \\\\ bye" {\n  rankdir=LR\n}\n');
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

describe('formatTreeJson', () => {
  test.each([
    ['diamond: an image with two parents appears under each', DIAMOND, { base: { left: { both: {} }, right: { both: {} } } }],
    ['two roots', TWO_ROOTS, { 'rocky-base': { 'rocky-child': {} }, 'ubuntu-base': { 'ubuntu-child': {} } }],
    ['isolated node', ISOLATED, { base: { child: {} }, lonely: {} }],
    [
      'dots and dashes',
      DOTS_AND_DASHES,
      { 'python3.12-base': { 'nova-api': { end: {} }, nova_api: {} } },
    ],
    ['a parent that is not among the nodes is left out', [{ name: 'orphan', parents: ['gone'] }], { orphan: {} }],
    ['no nodes', [], {}],
  ] satisfies [string, GraphNode[], unknown][])('%s', (_, nodes, expected) => {
    expect(formatTreeJson(nodes)).toEqual(expected);
  });

  test('keys are sorted by code unit at every level, whatever the node order', () => {
    const tree = formatTreeJson([
      { name: 'z', parents: [] },
      { name: 'B', parents: [] },
      { name: 'a', parents: [] },
      { name: 'z2', parents: ['z'] },
      { name: 'z1', parents: ['z'] },
    ]);
    expect(JSON.stringify(tree)).toBe('{"B":{},"a":{},"z":{"z1":{},"z2":{}}}');
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
