// The bake file in JSON: the same build as the HCL file, in the layout of JSON.stringify(…, null, 2).

import type { BakeFile } from './model.js';
import { checkNames, escapeTemplate, groupAttributes, headerLines, targetAttributes, type BakeAttribute } from './escape.js';

/**
 * A JSON value whose object members keep the order given: JSON.stringify would move
 * integer-like keys (a build arg named "1") ahead of the others.
 */
type Node =
  | string
  | Node[]
  | { kind: 'object'; members: [string, Node][] }
  | { kind: 'comment'; text: string }
  /** A string bake evaluates as written: `${expression}`. */
  | { kind: 'template'; text: string };

function object(members: [string, Node][]): Node {
  return { kind: 'object', members };
}

/** A JSON string holding the HCL template whose value is `s`. */
function jsonString(s: string): string {
  return escapeControls(JSON.stringify(escapeTemplate(s)));
}

const C1 = /[\u007f-\u009f]/;
/** JSON.stringify leaves DEL and the C1 controls raw; escape them, as the HCL file does, so none hides in a diff. */
function escapeControls(json: string): string {
  return C1.test(json) ? json.replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : json;
}

function write(node: Node, indent: string): string {
  const inner = `${indent}  `;
  if (typeof node === 'string') return jsonString(node);
  if (Array.isArray(node)) {
    if (node.length === 0) return '[]';
    return `[\n${node.map((n) => inner + write(n, inner)).join(',\n')}\n${indent}]`;
  }
  // Bake never evaluates a comment, so it is written as it reads.
  if (node.kind === 'comment') return JSON.stringify(node.text);
  if (node.kind === 'template') return escapeControls(JSON.stringify(node.text));
  if (node.members.length === 0) return '{}';
  const members = node.members.map(([k, v]) => `${inner}${jsonString(k)}: ${write(v, inner)}`);
  return `{\n${members.join(',\n')}\n${indent}}`;
}

function body(attrs: BakeAttribute[]): Node {
  return object(
    attrs.map(({ key, value: v }): [string, Node] => {
      switch (v.kind) {
        case 'string': return [key, v.value];
        case 'list': return [key, [...v.items]];
        case 'map': return [key, object(v.entries.map(([k, val]) => [k, val]))];
        // A string that is one interpolation has the expression's value, list or object (HCL's JSON syntax).
        case 'expression': return [key, { kind: 'template', text: `\${${v.hcl}}` }];
        case 'concat': {
          const items = `[${v.items.map((i) => JSON.stringify(i)).join(', ')}]`;
          return [key, { kind: 'template', text: `\${concat(${[items, ...v.parts].join(', ')})}` }];
        }
      }
    }),
  );
}

export function emitJson(file: BakeFile): string {
  checkNames(file);
  const members: [string, Node][] = [];
  const header = headerLines(file.header);
  // HCL's JSON syntax skips a body member named "//": bake reads it as a comment.
  const comment = header.filter((l) => l !== '').join(' ');
  if (comment !== '') members.push(['//', { kind: 'comment', text: comment }]);
  // An empty "group" or "target" object is an error in HCL's JSON syntax (a block without a label).
  const v = file.archVariable;
  if (v) members.push(['variable', object([[v.name, object([['default', v.arches.join(',')]])]])]);
  if (file.groups.length > 0) members.push(['group', object(file.groups.map((g) => [g.name, body(groupAttributes(g, v))]))]);
  if (file.targets.length > 0) members.push(['target', object(file.targets.map((t) => [t.name, body(targetAttributes(t, v))]))]);
  return write(object(members), '') + '\n';
}
