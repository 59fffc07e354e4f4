// Jinja2's built-in filters, with Jinja2's argument names and defaults.
import { bind, pyCapitalize, pySplit } from './methods.js';
import { getattr, getitem } from './attributes.js';
import { iterate, length, BoundMethod } from './runtime.js';
import type { Test } from './tests.js';
import { checkSize, tick } from './limits.js';
import {
  DictView,
  PyFloat,
  RenderError,
  Undefined,
  dictSet,
  floatRepr,
  intStr,
  isDict,
  isFloat,
  makeFloat,
  newDict,
  percentFormat,
  pyCompare,
  pyEquals,
  str,
  toNumber,
  truthy,
  tuple,
  typeName,
  type Dict,
} from './python.js';

export interface FilterEnv {
  /** A variable of the render context (for pass_context filters such as `customizable`). */
  resolve(name: string): unknown;
  filter(name: string): Filter;
  test(name: string): Test;
}

export type Filter = (env: FilterEnv, value: unknown, args: unknown[], kwargs: Dict) => unknown;

/** Jinja2's make_attrgetter: "a.b.0" looks up items (then attributes) step by step. */
function attrGetter(attribute: unknown, defaultValue?: unknown): (v: unknown) => unknown {
  const parts = typeof attribute === 'number' ? [attribute] : str(attribute).split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  return (v) => {
    let cur = v;
    for (const p of parts) cur = getitem(cur, p);
    if (defaultValue !== undefined && cur instanceof Undefined) return defaultValue;
    return cur;
  };
}

function sortKey(caseSensitive: unknown): (v: unknown) => unknown {
  return truthy(caseSensitive) ? (v) => v : (v) => (typeof v === 'string' ? v.toLowerCase() : v);
}

function sortBy<T>(items: T[], key: (v: T) => unknown, reverse: boolean): T[] {
  tick(items.length);
  const keyed = items.map((v) => ({ k: key(v), v }));
  keyed.sort((a, b) => pyCompare(a.k, b.k) * (reverse ? -1 : 1));
  return keyed.map((p) => p.v);
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };

function toJson(v: unknown, indent: number | null, level: number): string {
  if (v === null || v instanceof Undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : floatRepr(v);
  if (v instanceof PyFloat) return floatRepr(v.value);
  if (typeof v === 'string') {
    // eslint-disable-next-line no-control-regex -- Python's own character classes
    return '"' + v.replace(/[\\"\u0000-\u001f\u007f-\uffff]/g, (c) => {
      const map: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };
      return map[c] ?? '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0');
    }) + '"';
  }
  tick();
  if (indent !== null) checkSize(indent * (level + 1), 'the indent of tojson');
  const pad = indent === null ? '' : '\n' + ' '.repeat(indent * (level + 1));
  const end = indent === null ? '' : '\n' + ' '.repeat(indent * level);
  const sep = indent === null ? ', ' : ',';
  // The same big list many times over prints as much: bounded as it is built.
  if (Array.isArray(v) || v instanceof DictView) {
    const items = iterate(v);
    if (!items.length) return '[]';
    tick(items.length);
    const text = '[' + items.map((x) => pad + toJson(x, indent, level + 1)).join(sep) + end + ']';
    checkSize(text.length, 'the result of tojson');
    return text;
  }
  if (isDict(v)) {
    const keys = Object.keys(v).sort();
    if (!keys.length) return '{}';
    tick(keys.length);
    const text = '{' + keys.map((k) => pad + toJson(k, indent, level + 1) + ': ' + toJson(v[k], indent, level + 1)).join(sep) + end + '}';
    checkSize(text.length, 'the result of tojson');
    return text;
  }
  throw new RenderError(`Object of type ${typeName(v)} is not JSON serializable`);
}

/** Python's round(): correctly rounded on the exact binary value, exact halves to even. */
function pyRound(x: number, digits: number): number {
  if (!Number.isFinite(x) || digits > 20 || digits < 0) return digits < 0 ? Math.round(x / 10 ** -digits) * 10 ** -digits : x;
  const exact = Math.abs(x).toFixed(Math.min(100, digits + 60));
  const cut = exact.indexOf('.') + digits + (digits > 0 ? 1 : 0);
  const tail = exact.slice(digits > 0 ? cut : exact.indexOf('.') + 1);
  if (/^50*$/.test(tail)) {
    const head = exact.slice(0, digits > 0 ? cut : exact.indexOf('.'));
    const lastDigit = Number(head[head.length - 1]);
    const down = Number(head);
    const up = down + 10 ** -digits;
    return Math.sign(x) * Number((lastDigit % 2 === 0 ? down : up).toFixed(digits));
  }
  return Number(x.toFixed(digits));
}

function toInt(v: unknown, def: unknown, base: number): unknown {
  if (typeof v === 'string') {
    const s = v.trim().replace(/_/g, '');
    if (base === 10 && /^[-+]?\d+$/.test(s)) {
      const n = parseInt(s, 10);
      const digits = s.replace(/^\+/, '').replace(/^(-?)0+(?=\d)/, '$1');
      if (intStr(n) !== digits && !(n === 0 && digits === '-0')) {
        throw new RenderError(`the int ${digits} has more digits than a double holds: Python holds it exactly, kolla-gen cannot`, 'unsupported');
      }
      return n;
    }
    if (base !== 10) {
      const body = s.replace(/^[-+]?0[xob]/i, (m) => m.slice(0, m.length - 2));
      const n = parseInt(body, base);
      if (!Number.isNaN(n)) return n;
    }
    if (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(s)) return Math.trunc(parseFloat(s));
    return def;
  }
  const n = toNumber(v);
  return n === undefined ? def : Math.trunc(n);
}

function toFloat(v: unknown, def: unknown): unknown {
  if (typeof v === 'string') {
    const s = v.trim();
    if (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(s)) return makeFloat(parseFloat(s));
    if (/^[-+]?(inf|infinity|nan)$/i.test(s)) return parseFloat(s.replace(/inf(inity)?/i, 'Infinity'));
    return def;
  }
  const n = toNumber(v);
  return n === undefined ? def : makeFloat(n);
}

function selectOrReject(env: FilterEnv, value: unknown, args: unknown[], select: boolean, byAttr: boolean): unknown[] {
  const rest = [...args];
  const getter = byAttr ? attrGetter(rest.shift()) : (v: unknown) => v;
  let test: (v: unknown) => boolean;
  if (rest.length) {
    const t = env.test(str(rest.shift()));
    test = (v) => t(v, rest, newDict());
  } else test = truthy;
  return iterate(value).filter((v) => test(getter(v)) === select);
}

function minMax(value: unknown, args: unknown[], kwargs: Dict, sign: number, name: string): unknown {
  const [caseSensitive, attribute] = bind(name, ['case_sensitive', 'attribute'], [false, null], args, kwargs);
  const items = iterate(value);
  if (!items.length) return new Undefined(`No aggregated item, sequence was empty.`);
  const key = sortKey(caseSensitive);
  const get = attribute === null ? (v: unknown) => v : attrGetter(attribute);
  let best = items[0];
  for (const v of items.slice(1)) if (pyCompare(key(get(v)), key(get(best))) * sign > 0) best = v;
  return best;
}

const strOf = (v: unknown): string => str(v);

export const filters = new Map<string, Filter>(
  Object.entries({
    abs: (_e, v) => {
      const n = toNumber(v);
      if (n === undefined) throw new RenderError(`bad operand type for abs(): '${typeName(v)}'`);
      return isFloat(v) ? makeFloat(Math.abs(n)) : Math.abs(n);
    },
    attr: (_e, v, a, k) => {
      const [name] = bind('attr', ['name'], [], a, k);
      if (isDict(v) && typeof name === 'string' && Object.prototype.hasOwnProperty.call(v, name) && !(getattr(v, name) instanceof BoundMethod)) {
        return new Undefined(`'dict object' has no attribute '${name}'`);
      }
      return getattr(v, str(name));
    },
    batch: (_e, v, a, k) => {
      const [count, fill] = bind('batch', ['linecount', 'fill_with'], [null], a, k);
      const n = count as number;
      if (fill !== null) checkSize(n, 'a batch');
      const out: unknown[][] = [];
      let cur: unknown[] = [];
      for (const x of iterate(v)) {
        if (cur.length === n) {
          out.push(cur);
          cur = [];
        }
        cur.push(x);
      }
      if (cur.length) {
        if (fill !== null) while (cur.length < n) cur.push(fill);
        out.push(cur);
      }
      return out;
    },
    capitalize: (_e, v) => pyCapitalize(strOf(v)),
    center: (_e, v, a, k) => {
      const [width] = bind('center', ['width'], [80], a, k) as [number];
      const s = strOf(v);
      const n = width - s.length;
      if (n <= 0) return s;
      checkSize(width, 'the result of center');
      const left = Math.floor(n / 2) + (n & width & 1);
      return ' '.repeat(left) + s + ' '.repeat(n - left);
    },
    default: (_e, v, a, k) => {
      const [def, boolean] = bind('default', ['default_value', 'boolean'], ['', false], a, k);
      return v instanceof Undefined || (truthy(boolean) && !truthy(v)) ? def : v;
    },
    dictsort: (_e, v, a, k) => {
      const [caseSensitive, by, reverse] = bind('dictsort', ['case_sensitive', 'by', 'reverse'], [false, 'key', false], a, k);
      if (!isDict(v)) throw new RenderError('You can only sort by either "key" or "value"');
      const pos = by === 'key' ? 0 : by === 'value' ? 1 : -1;
      if (pos < 0) throw new RenderError('You can only sort by either "key" or "value"');
      const key = sortKey(caseSensitive);
      return sortBy(Object.keys(v).map((x) => tuple([x, v[x]])), (p) => key(p[pos]), truthy(reverse));
    },
    escape: (_e, v) => {
      if (v instanceof Undefined) v.use();
      return v instanceof Undefined ? '' : strOf(v).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
    },
    first: (_e, v) => {
      const items = iterate(v);
      return items.length ? items[0] : new Undefined('No first item, sequence was empty.');
    },
    float: (_e, v, a, k) => toFloat(v, bind('float', ['default'], [new PyFloat(0)], a, k)[0]),
    format: (_e, v, a, k) => percentFormat(strOf(v), Object.keys(k).length ? k : tuple([...a])),
    indent: (_e, v, a, k) => {
      const [width, first, blank] = bind('indent', ['width', 'first', 'blank'], [4, false, false], a, k);
      if (typeof width !== 'string') checkSize(width as number, 'the indent');
      const indention = typeof width === 'string' ? width : ' '.repeat(width as number);
      const s = strOf(v) + '\n';
      const lines = splitlines(s);
      checkSize(s.length + lines.length * indention.length, 'the result of indent');
      let rv: string;
      if (truthy(blank)) rv = lines.join('\n' + indention);
      else {
        rv = lines.shift() ?? '';
        if (lines.length) rv += '\n' + lines.map((l) => (l ? indention + l : l)).join('\n');
      }
      return truthy(first) ? indention + rv : rv;
    },
    int: (_e, v, a, k) => {
      const [def, base] = bind('int', ['default', 'base'], [0, 10], a, k);
      return toInt(v, def, base as number);
    },
    items: (_e, v) => (v instanceof Undefined ? [] : isDict(v) ? new DictView(v, 'items').list() : iterate(v)),
    join: (_e, v, a, k) => {
      const [d, attribute] = bind('join', ['d', 'attribute'], ['', null], a, k);
      const get = attribute === null ? (x: unknown) => x : attrGetter(attribute);
      const parts = iterate(v).map((x) => strOf(get(x)));
      const sep = strOf(d);
      checkSize(parts.reduce((n, p) => n + p.length, 0) + sep.length * Math.max(0, parts.length - 1), 'the result of join');
      return parts.join(sep);
    },
    last: (_e, v) => {
      const items = iterate(v);
      return items.length ? items[items.length - 1] : new Undefined('No last item, sequence was empty.');
    },
    length: (_e, v) => length(v),
    list: (_e, v) => [...iterate(v)],
    lower: (_e, v) => strOf(v).toLowerCase(),
    map: (e, v, a, k) => {
      const items = iterate(v);
      if (!a.length && Object.prototype.hasOwnProperty.call(k, 'attribute')) {
        const get = attrGetter(k.attribute, Object.prototype.hasOwnProperty.call(k, 'default') ? k.default : undefined);
        return items.map(get);
      }
      const [name, ...rest] = a;
      if (name === undefined) return items;
      const f = e.filter(str(name));
      return items.map((x) => f(e, x, rest, k));
    },
    max: (_e, v, a, k) => minMax(v, a, k, 1, 'max'),
    min: (_e, v, a, k) => minMax(v, a, k, -1, 'min'),
    reject: (e, v, a) => selectOrReject(e, v, a, false, false),
    rejectattr: (e, v, a) => selectOrReject(e, v, a, false, true),
    replace: (_e, v, a, k) => {
      const [old, rep, count] = bind('replace', ['old', 'new', 'count'], [null], a, k);
      const s = strOf(v);
      const o = strOf(old);
      const parts = s.split(o);
      const limit = count === null ? parts.length : (count as number) + 1;
      checkSize(s.length + (Math.min(limit, parts.length) - 1) * Math.max(0, strOf(rep).length - o.length), 'the result of replace');
      return parts.slice(0, limit).join(strOf(rep)) + (parts.length > limit ? o + parts.slice(limit).join(o) : '');
    },
    reverse: (_e, v) => (typeof v === 'string' ? Array.from(v).reverse().join('') : [...iterate(v)].reverse()),
    round: (_e, v, a, k) => {
      const [precision, method] = bind('round', ['precision', 'method'], [0, 'common'], a, k);
      const n = toNumber(v);
      if (n === undefined) throw new RenderError(`type ${typeName(v)} doesn't define __round__ method`);
      const p = precision as number;
      const m = 10 ** p;
      if (method === 'common') return !isFloat(v) && typeof v !== 'boolean' ? n : makeFloat(pyRound(n, p));
      if (method === 'ceil') return makeFloat(Math.ceil(n * m) / m);
      if (method === 'floor') return makeFloat(Math.floor(n * m) / m);
      throw new RenderError('method must be common, ceil or floor');
    },
    safe: (_e, v) => strOf(v),
    select: (e, v, a) => selectOrReject(e, v, a, true, false),
    selectattr: (e, v, a) => selectOrReject(e, v, a, true, true),
    slice: (_e, v, a, k) => {
      const [slices, fill] = bind('slice', ['slices', 'fill_with'], [null], a, k);
      const seq = iterate(v);
      const n = slices as number;
      checkSize(n, 'the slices of slice');
      const per = Math.floor(seq.length / n);
      const extra = seq.length % n;
      const out: unknown[][] = [];
      let offset = 0;
      for (let i = 0; i < n; i++) {
        const start = offset + i * per;
        if (i < extra) offset++;
        const end = offset + (i + 1) * per;
        const part = seq.slice(start, end);
        if (fill !== null && i >= extra) part.push(fill);
        out.push(part);
      }
      return out;
    },
    sort: (_e, v, a, k) => {
      const [reverse, caseSensitive, attribute] = bind('sort', ['reverse', 'case_sensitive', 'attribute'], [false, false, null], a, k);
      const key = sortKey(caseSensitive);
      const get = attribute === null ? (x: unknown) => x : attrGetter(attribute);
      return sortBy([...iterate(v)], (x) => key(get(x)), truthy(reverse));
    },
    string: (_e, v) => strOf(v),
    striptags: (_e, v) => strOf(v).replace(/<!--.*?-->|<[^>]*>/gs, '').replace(/\s+/g, ' ').trim(),
    sum: (_e, v, a, k) => {
      const [attribute, start] = bind('sum', ['attribute', 'start'], [null, 0], a, k);
      const get = attribute === null ? (x: unknown) => x : attrGetter(attribute);
      let total: unknown = start;
      for (const x of iterate(v)) {
        const n = toNumber(get(x));
        const t = toNumber(total);
        if (n === undefined || t === undefined) throw new RenderError(`unsupported operand type(s) for +: '${typeName(total)}' and '${typeName(get(x))}'`);
        total = isFloat(total) || isFloat(get(x)) ? makeFloat(t + n) : t + n;
      }
      return total;
    },
    title: (_e, v) =>
      strOf(v)
        .split(/([-\s({[<]+)/)
        .filter((w) => w)
        .map((w) => w[0]!.toUpperCase() + w.slice(1).toLowerCase())
        .join(''),
    tojson: (_e, v, a, k) => {
      const [indent] = bind('tojson', ['indent'], [null], a, k);
      return toJson(v, indent as number | null, 0).replace(/[<>&']/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
    },
    trim: (_e, v, a, k) => {
      const [chars] = bind('trim', ['chars'], [null], a, k);
      const s = strOf(v);
      if (chars === null) return s.replace(/^\s+|\s+$/g, '');
      const cs = strOf(chars);
      let i = 0;
      let j = s.length;
      while (i < j && cs.includes(s[i]!)) i++;
      while (j > i && cs.includes(s[j - 1]!)) j--;
      return s.slice(i, j);
    },
    truncate: (_e, v, a, k) => {
      const [len, killwords, end, leeway] = bind('truncate', ['length', 'killwords', 'end', 'leeway'], [255, false, '...', null], a, k);
      const s = strOf(v);
      const n = len as number;
      const e = strOf(end);
      if (s.length <= n + ((leeway as number | null) ?? 5)) return s;
      if (truthy(killwords)) return s.slice(0, n - e.length) + e;
      const head = s.slice(0, n - e.length);
      const cut = head.lastIndexOf(' ');
      return (cut < 0 ? head : head.slice(0, cut)) + e;
    },
    unique: (_e, v, a, k) => {
      const [caseSensitive, attribute] = bind('unique', ['case_sensitive', 'attribute'], [false, null], a, k);
      const key = sortKey(caseSensitive);
      const get = attribute === null ? (x: unknown) => x : attrGetter(attribute);
      const seen: unknown[] = [];
      const out: unknown[] = [];
      for (const x of iterate(v)) {
        const kx = key(get(x));
        tick(seen.length);
        if (!seen.some((s) => pyEquals(s, kx))) {
          seen.push(kx);
          out.push(x);
        }
      }
      return out;
    },
    upper: (_e, v) => strOf(v).toUpperCase(),
    wordcount: (_e, v) => (strOf(v).match(/[\p{L}\p{N}_]+/gu) ?? []).length,
    wordwrap: (_e, v, a, k) => {
      const [width, breakLong, wrapstring] = bind('wordwrap', ['width', 'break_long_words', 'wrapstring', 'break_on_hyphens'], [79, true, null, true], a, k);
      const w = width as number;
      if (!(w > 0)) throw new RenderError(`ValueError: invalid width ${str(width)} (must be > 0)`);
      return strOf(v)
        .split(/\r\n|\r|\n/)
        .map((para) => {
          const lines: string[] = [];
          let cur = '';
          for (const word of pySplit(para, null, -1)) {
            if (cur && cur.length + 1 + word.length > w) {
              lines.push(cur);
              cur = '';
            }
            let rest = word;
            while (truthy(breakLong) && rest.length > w && !cur) {
              lines.push(rest.slice(0, w));
              rest = rest.slice(w);
            }
            cur = cur ? `${cur} ${rest}` : rest;
          }
          if (cur) lines.push(cur);
          return lines.join(wrapstring === null ? '\n' : strOf(wrapstring));
        })
        .join('\n');
    },
    dict: (_e, v) => {
      const d = newDict();
      if (isDict(v)) for (const key of Object.keys(v)) dictSet(d, key, v[key]);
      return d;
    },
  } satisfies Record<string, Filter>),
);

function splitlines(s: string): string[] {
  // eslint-disable-next-line no-control-regex -- Python's own character classes
  const lines = s.split(/\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

for (const [alias, name] of [['d', 'default'], ['e', 'escape'], ['count', 'length'], ['forceescape', 'escape']] as const) {
  filters.set(alias, filters.get(name)!);
}
filters.delete('dict');
