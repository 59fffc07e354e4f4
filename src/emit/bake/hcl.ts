// The bake file in HCL, laid out as `terraform fmt` / `hclfmt` would leave it.

import type { BakeFile } from './model.js';
import { checkNames, escapeTemplate, groupAttributes, headerLines, targetAttributes, type BakeAttribute } from './escape.js';

const INDENT = '  ';
/** A list longer than this on one line is written one item per line. */
const MAX_INLINE_WIDTH = 100;
/** Words that, as a bare object key, HCL would read as a value or a `for` expression. */
const KEYWORDS = new Set(['true', 'false', 'null', 'for', 'in', 'if', 'else', 'endif', 'endfor']);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const SURROGATE = /[\ud800-\udfff]/;
/** What a quoted string escapes: a backslash, a quote, a control character (Cc: C0, DEL and C1). */
// eslint-disable-next-line no-control-regex -- control characters are what it finds
const NEEDS_ESCAPE = /[\\"\u0000-\u001f\u007f-\u009f]/;

/** An HCL quoted template whose value is `s`. */
export function hclString(s: string): string {
  const escaped = escapeTemplate(s);
  if (!NEEDS_ESCAPE.test(escaped)) return `"${escaped}"`;
  const body = escaped.replace(/[\\"\p{Cc}]/gu, (c) => {
    switch (c) {
      case '\\': return '\\\\';
      case '"': return '\\"';
      case '\n': return '\\n';
      case '\r': return '\\r';
      case '\t': return '\\t';
      default: return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    }
  });
  return `"${body}"`;
}

function hclKey(key: string): string {
  return IDENTIFIER.test(key) && !KEYWORDS.has(key) ? key : hclString(key);
}

/** Columns as an editor counts them (code points), which is what alignment pads to. */
function width(s: string): number {
  if (!SURROGATE.test(s)) return s.length;
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** One line of a body: a single-line `key = value`, or any other line (which ends an alignment run). */
type Line = { indent: string; key: string; value: string } | { text: string };

/** Pads the `=` of each run of consecutive single-line attributes of one body to one column. */
function align(lines: Line[]): string[] {
  const out: string[] = [];
  let run: { indent: string; key: string; value: string }[] = [];
  const flush = (): void => {
    const pad = Math.max(0, ...run.map((l) => width(l.key)));
    for (const l of run) out.push(`${l.indent}${l.key}${' '.repeat(pad - width(l.key))} = ${l.value}`);
    run = [];
  };
  for (const line of lines) {
    if ('text' in line) {
      flush();
      out.push(line.text);
    } else {
      if (run.length > 0 && run[0]?.indent !== line.indent) flush();
      run.push(line);
    }
  }
  flush();
  return out;
}

function attributeLines(attr: BakeAttribute, indent: string, forceMultiline: boolean): Line[] {
  const inner = indent + INDENT;
  const v = attr.value;
  switch (v.kind) {
    case 'string':
      return [{ indent, key: attr.key, value: hclString(v.value) }];
    case 'list': {
      const items = v.items.map(hclString);
      const inline = `[${items.join(', ')}]`;
      if (items.length === 0 || (!forceMultiline && width(`${indent}${attr.key} = ${inline}`) <= MAX_INLINE_WIDTH)) {
        return [{ indent, key: attr.key, value: inline }];
      }
      // Trailing commas, as terraform fmt keeps them, so adding an item changes one line.
      return [{ text: `${indent}${attr.key} = [` }, ...items.map((i) => ({ text: `${inner}${i},` })), { text: `${indent}]` }];
    }
    case 'expression':
      return [{ indent, key: attr.key, value: v.hcl }];
    case 'concat': {
      const items = v.items.map(hclString);
      const head = items.length === 0 ? ['[],'] : items.length === 1 ? [`[${items[0]}],`] : ['[', ...items.map((i) => `${INDENT}${i},`), '],'];
      return [
        { text: `${indent}${attr.key} = concat(` },
        ...[...head, ...v.parts.map((p) => `${p},`)].map((l) => ({ text: `${inner}${l}` })),
        { text: `${indent})` },
      ];
    }
    case 'map':
      return [
        { text: `${indent}${attr.key} = {` },
        ...v.entries.map(([k, val]) => ({ indent: inner, key: hclKey(k), value: hclString(val) })),
        { text: `${indent}}` },
      ];
  }
}

function block(header: string, attrs: BakeAttribute[], multilineKeys: ReadonlySet<string>): string[] {
  const lines = attrs.flatMap((a) => attributeLines(a, INDENT, multilineKeys.has(a.key)));
  return [`${header} {`, ...align(lines), '}'];
}

export function emitHcl(file: BakeFile): string {
  checkNames(file);
  const sections: string[][] = [];
  const header = headerLines(file.header).map((l) => (l === '' ? '#' : `# ${l}`));
  if (header.length > 0) sections.push(header);
  const v = file.archVariable;
  if (v) {
    sections.push([
      `# The arches to build, comma-separated: KG_ARCHES=arm64 docker buildx bake builds only arm64.`,
      ...block(`variable ${hclString(v.name)}`, [{ key: 'default', value: { kind: 'string', value: v.arches.join(',') } }], new Set()),
    ]);
  }
  // A group's members one per line: a target joining or leaving a group is then a one-line diff.
  for (const g of file.groups) sections.push(block(`group ${hclString(g.name)}`, groupAttributes(g, v), new Set(['targets'])));
  for (const t of file.targets) sections.push(block(`target ${hclString(t.name)}`, targetAttributes(t, v), new Set()));
  return sections.map((s) => s.join('\n')).join('\n\n') + '\n';
}
