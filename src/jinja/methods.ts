// The Python methods templates call on values: str, list, tuple and dict. Jinja2's SandboxedEnvironment allows
// the mutating ones too (list.append, dict.update, …), so they are here.
import {
  DictView,
  RenderError,
  dictSet,
  hasKey,
  isDict,
  newDict,
  pyEquals,
  pyCompare,
  str,
  strRepr,
  truthy,
  tuple,
  typeName,
  Undefined,
  type Dict,
} from './python.js';
import { iterate, callValue, type Method } from './runtime.js';
import { checkSize, tick } from './limits.js';

/** A padded str of width w: checked before it is built. */
function padded(w: number, fname: string): number {
  checkSize(w, `the result of ${fname}`);
  return w;
}

export type { Method };


/** Positional-or-keyword arguments by name, with defaults. */
export function bind(fname: string, names: string[], defaults: unknown[], args: unknown[], kwargs: Dict): unknown[] {
  if (args.length > names.length) throw new RenderError(`${fname}() takes at most ${names.length} argument(s) (${args.length} given)`);
  const out = names.map((n, i) => (i < args.length ? args[i] : hasKey(kwargs, n) ? kwargs[n] : defaults[i - (names.length - defaults.length)]));
  for (const k of Object.keys(kwargs)) {
    if (!names.includes(k)) throw new RenderError(`${fname}() got an unexpected keyword argument '${k}'`);
  }
  return out;
}

function strArg(v: unknown, fname: string): string {
  if (typeof v === 'string') return v;
  throw new RenderError(`${fname}() argument must be str, not ${typeName(v)}`);
}

// eslint-disable-next-line no-control-regex -- Python's own character classes
const WS = /[ \t\n\r\x0b\x0c\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;

function stripChars(s: string, chars: unknown, left: boolean, right: boolean): string {
  const isStrip = chars === null || chars === undefined ? (c: string) => WS.test(c) : (c: string) => (chars as string).includes(c);
  const cs = Array.from(s);
  let a = 0;
  let b = cs.length;
  if (left) while (a < b && isStrip(cs[a]!)) a++;
  if (right) while (b > a && isStrip(cs[b - 1]!)) b--;
  return cs.slice(a, b).join('');
}

export function pySplit(s: string, sep: unknown, maxsplit: number): string[] {
  if (sep === null || sep === undefined) {
    const out: string[] = [];
    let rest = s.replace(/^\s+/, '');
    while (rest.length) {
      if (maxsplit >= 0 && out.length === maxsplit) {
        out.push(rest);
        break;
      }
      const m = /\s+/.exec(rest);
      if (!m) {
        out.push(rest);
        break;
      }
      out.push(rest.slice(0, m.index));
      rest = rest.slice(m.index + m[0].length);
    }
    return out;
  }
  const sepStr = strArg(sep, 'split');
  if (sepStr === '') throw new RenderError('ValueError: empty separator');
  const parts = s.split(sepStr);
  if (maxsplit < 0 || parts.length <= maxsplit + 1) return parts;
  return [...parts.slice(0, maxsplit), parts.slice(maxsplit).join(sepStr)];
}

function pyRsplit(s: string, sep: unknown, maxsplit: number): string[] {
  if (maxsplit < 0) return pySplit(s, sep, -1);
  if (sep === null || sep === undefined) {
    const out: string[] = [];
    let rest = s.replace(/\s+$/, '');
    while (rest.length) {
      if (out.length === maxsplit) {
        out.unshift(rest);
        break;
      }
      const m = /\s+(?=\S*$)/.exec(rest);
      if (!m) {
        out.unshift(rest);
        break;
      }
      out.unshift(rest.slice(m.index + m[0].length));
      rest = rest.slice(0, m.index);
    }
    return out;
  }
  const sepStr = strArg(sep, 'rsplit');
  const parts = s.split(sepStr);
  if (parts.length <= maxsplit + 1) return parts;
  return [parts.slice(0, parts.length - maxsplit).join(sepStr), ...parts.slice(parts.length - maxsplit)];
}

export function pyTitle(s: string): string {
  let out = '';
  let prevCased = false;
  for (const ch of s) {
    const cased = ch.toLowerCase() !== ch.toUpperCase();
    out += cased ? (prevCased ? ch.toLowerCase() : ch.toUpperCase()) : ch;
    prevCased = cased;
  }
  return out;
}

export function pyCapitalize(s: string): string {
  const cs = Array.from(s);
  return cs.length ? cs[0]!.toUpperCase() + cs.slice(1).join('').toLowerCase() : '';
}

function affix(self: string, args: unknown[], kwargs: Dict, fname: string, test: (s: string, a: string) => boolean): boolean {
  const [prefix, start, end] = bind(fname, ['prefix', 'start', 'end'], [null, null], args, kwargs);
  const s = Array.from(self).slice((start as number | null) ?? 0, (end as number | null) ?? undefined).join('');
  if (Array.isArray(prefix)) return prefix.some((p) => test(s, strArg(p, fname)));
  return test(s, strArg(prefix, fname));
}

function count(haystack: string, needle: string): number {
  if (needle === '') return Array.from(haystack).length + 1;
  return haystack.split(needle).length - 1;
}

const isAll = (s: string, re: RegExp): boolean => s.length > 0 && Array.from(s).every((c) => re.test(c));

export const strMethods = new Map<string, Method>(
  Object.entries({
    startswith: (s: string, a, k) => affix(s, a, k, 'startswith', (x, p) => x.startsWith(p)),
    endswith: (s: string, a, k) => affix(s, a, k, 'endswith', (x, p) => x.endsWith(p)),
    split: (s: string, a, k) => {
      const [sep, max] = bind('split', ['sep', 'maxsplit'], [null, -1], a, k);
      return pySplit(s, sep, max as number);
    },
    rsplit: (s: string, a, k) => {
      const [sep, max] = bind('rsplit', ['sep', 'maxsplit'], [null, -1], a, k);
      return pyRsplit(s, sep, max as number);
    },
    splitlines: (s: string, a, k) => {
      const [keep] = bind('splitlines', ['keepends'], [false], a, k);
      // eslint-disable-next-line no-control-regex -- Python's own character classes
      const parts = s.match(/[^\n\r\v\f\x1c-\x1e\x85\u2028\u2029]*(\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]|$)/g) ?? [];
      const lines = parts.filter((p, i) => p !== '' || i < parts.length - 1).filter((p) => p !== '');
      // eslint-disable-next-line no-control-regex -- Python's own character classes
      return truthy(keep) ? lines : lines.map((l) => l.replace(/(\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029])$/, ''));
    },
    strip: (s: string, a, k) => stripChars(s, bind('strip', ['chars'], [null], a, k)[0], true, true),
    lstrip: (s: string, a, k) => stripChars(s, bind('lstrip', ['chars'], [null], a, k)[0], true, false),
    rstrip: (s: string, a, k) => stripChars(s, bind('rstrip', ['chars'], [null], a, k)[0], false, true),
    upper: (s: string) => s.toUpperCase(),
    lower: (s: string) => s.toLowerCase(),
    casefold: (s: string) => s.toLowerCase(),
    swapcase: (s: string) => Array.from(s).map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join(''),
    title: (s: string) => pyTitle(s),
    capitalize: (s: string) => pyCapitalize(s),
    replace: (s: string, a, k) => {
      const [old, rep, n] = bind('replace', ['old', 'new', 'count'], [-1], a, k);
      const o = strArg(old, 'replace');
      const r = strArg(rep, 'replace');
      const parts = s.split(o);
      const limit = (n as number) < 0 ? parts.length : (n as number) + 1;
      checkSize(s.length + (Math.min(limit, parts.length) - 1) * Math.max(0, r.length - o.length), 'the result of replace');
      return parts.slice(0, limit).join(r) + (parts.length > limit ? o + parts.slice(limit).join(o) : '');
    },
    join: (s: string, a, k) => {
      const [it] = bind('join', ['iterable'], [], a, k);
      const parts = iterate(it).map((x, i) => {
        if (typeof x !== 'string') throw new RenderError(`sequence item ${i}: expected str instance, ${typeName(x)} found`);
        return x;
      });
      checkSize(parts.reduce((n, p) => n + p.length, 0) + s.length * Math.max(0, parts.length - 1), 'the result of join');
      return parts.join(s);
    },
    find: (s: string, a, k) => s.indexOf(strArg(bind('find', ['sub'], [], a, k)[0], 'find')),
    rfind: (s: string, a, k) => s.lastIndexOf(strArg(bind('rfind', ['sub'], [], a, k)[0], 'rfind')),
    index: (s: string, a, k) => {
      const i = s.indexOf(strArg(bind('index', ['sub'], [], a, k)[0], 'index'));
      if (i < 0) throw new RenderError('ValueError: substring not found');
      return i;
    },
    count: (s: string, a, k) => count(s, strArg(bind('count', ['sub'], [], a, k)[0], 'count')),
    isdigit: (s: string) => isAll(s, /\p{Nd}/u),
    isnumeric: (s: string) => isAll(s, /\p{N}/u),
    isdecimal: (s: string) => isAll(s, /\p{Nd}/u),
    isalpha: (s: string) => isAll(s, /\p{L}/u),
    isalnum: (s: string) => isAll(s, /[\p{L}\p{N}]/u),
    isspace: (s: string) => isAll(s, WS),
    islower: (s: string) => /\p{Ll}/u.test(s) && s === s.toLowerCase(),
    isupper: (s: string) => /\p{Lu}/u.test(s) && s === s.toUpperCase(),
    zfill: (s: string, a, k) => {
      const w = padded(bind('zfill', ['width'], [], a, k)[0] as number, 'zfill');
      const sign = /^[-+]/.test(s) ? s[0]! : '';
      const body = sign ? s.slice(1) : s;
      return sign + body.padStart(w - sign.length, '0');
    },
    center: (s: string, a, k) => {
      const [w, fill] = bind('center', ['width', 'fillchar'], [' '], a, k) as [number, string];
      const n = w - s.length;
      if (n <= 0) return s;
      padded(w, 'center');
      const left = Math.floor(n / 2) + (n & w & 1);
      return fill.repeat(left) + s + fill.repeat(n - left);
    },
    ljust: (s: string, a, k) => {
      const [w, fill] = bind('ljust', ['width', 'fillchar'], [' '], a, k) as [number, string];
      return s.padEnd(padded(w, 'ljust'), fill);
    },
    rjust: (s: string, a, k) => {
      const [w, fill] = bind('rjust', ['width', 'fillchar'], [' '], a, k) as [number, string];
      return s.padStart(padded(w, 'rjust'), fill);
    },
    partition: (s: string, a, k) => {
      const sep = strArg(bind('partition', ['sep'], [], a, k)[0], 'partition');
      const i = s.indexOf(sep);
      return i < 0 ? tuple([s, '', '']) : tuple([s.slice(0, i), sep, s.slice(i + sep.length)]);
    },
    rpartition: (s: string, a, k) => {
      const sep = strArg(bind('rpartition', ['sep'], [], a, k)[0], 'rpartition');
      const i = s.lastIndexOf(sep);
      return i < 0 ? tuple(['', '', s]) : tuple([s.slice(0, i), sep, s.slice(i + sep.length)]);
    },
    removeprefix: (s: string, a, k) => {
      const p = strArg(bind('removeprefix', ['prefix'], [], a, k)[0], 'removeprefix');
      return p && s.startsWith(p) ? s.slice(p.length) : s;
    },
    removesuffix: (s: string, a, k) => {
      const p = strArg(bind('removesuffix', ['suffix'], [], a, k)[0], 'removesuffix');
      return p && s.endsWith(p) ? s.slice(0, -p.length) : s;
    },
  } satisfies Record<string, (s: string, a: unknown[], k: Dict) => unknown>) as [string, Method][],
);

function indexOf(list: unknown[], x: unknown): number {
  return list.findIndex((y) => pyEquals(y, x));
}

function sortKeyed(list: unknown[], args: unknown[], kwargs: Dict): void {
  const [key, reverse] = bind('sort', ['key', 'reverse'], [null, false], args, kwargs);
  tick(list.length);
  const keyed = list.map((v) => [key === null ? v : callValue(key, [v], newDict(), 'key'), v] as const);
  keyed.sort((a, b) => pyCompare(a[0], b[0]) * (truthy(reverse) ? -1 : 1));
  list.splice(0, list.length, ...keyed.map((p) => p[1]));
}

const sequenceMethods = {
  index: (l: unknown[], a: unknown[], k: Dict) => {
    const i = indexOf(l, bind('index', ['value'], [], a, k)[0]);
    if (i < 0) throw new RenderError(`ValueError: ${strRepr(str(a[0]))} is not in list`);
    return i;
  },
  count: (l: unknown[], a: unknown[], k: Dict) => {
    const x = bind('count', ['value'], [], a, k)[0];
    return l.filter((y) => pyEquals(y, x)).length;
  },
};

export const tupleMethods = new Map<string, Method>(Object.entries(sequenceMethods) as [string, Method][]);

export const listMethods = new Map<string, Method>(
  Object.entries({
    ...sequenceMethods,
    append: (l: unknown[], a: unknown[], k: Dict) => {
      const [x] = bind('append', ['object'], [], a, k);
      checkSize(l.length + 1, 'the list', 1);
      l.push(x);
      return null;
    },
    extend: (l: unknown[], a: unknown[], k: Dict) => {
      const items = iterate(bind('extend', ['iterable'], [], a, k)[0]);
      checkSize(l.length + items.length, 'the list', items.length);
      for (const x of items) l.push(x);
      return null;
    },
    insert: (l: unknown[], a: unknown[], k: Dict) => {
      const [i, x] = bind('insert', ['index', 'object'], [], a, k) as [number, unknown];
      const j = i < 0 ? Math.max(0, l.length + i) : Math.min(i, l.length);
      checkSize(l.length + 1, 'the list', 1);
      l.splice(j, 0, x);
      return null;
    },
    remove: (l: unknown[], a: unknown[], k: Dict) => {
      const i = indexOf(l, bind('remove', ['value'], [], a, k)[0]);
      if (i < 0) throw new RenderError('ValueError: list.remove(x): x not in list');
      l.splice(i, 1);
      return null;
    },
    pop: (l: unknown[], a: unknown[], k: Dict) => {
      const [i] = bind('pop', ['index'], [-1], a, k) as [number];
      if (!l.length) throw new RenderError('IndexError: pop from empty list');
      const j = i < 0 ? l.length + i : i;
      if (j < 0 || j >= l.length) throw new RenderError('IndexError: pop index out of range');
      return l.splice(j, 1)[0];
    },
    reverse: (l: unknown[]) => (l.reverse(), null),
    sort: (l: unknown[], a: unknown[], k: Dict) => (sortKeyed(l, a, k), null),
    clear: (l: unknown[]) => ((l.length = 0), null),
    copy: (l: unknown[]) => [...l],
  }) as [string, Method][],
);

export const dictMethods = new Map<string, Method>(
  Object.entries({
    items: (d: Dict) => new DictView(d, 'items'),
    keys: (d: Dict) => new DictView(d, 'keys'),
    values: (d: Dict) => new DictView(d, 'values'),
    get: (d: Dict, a: unknown[], k: Dict) => {
      const [key, def] = bind('get', ['key', 'default'], [null], a, k);
      return typeof key === 'string' && hasKey(d, key) ? d[key] : def;
    },
    setdefault: (d: Dict, a: unknown[], k: Dict) => {
      const [key, def] = bind('setdefault', ['key', 'default'], [null], a, k);
      const name = str(key);
      if (!hasKey(d, name)) dictSet(d, name, def);
      return d[name];
    },
    pop: (d: Dict, a: unknown[], k: Dict) => {
      const key = str(a[0]);
      if (hasKey(d, key)) {
        const v = d[key];
        delete d[key];
        return v;
      }
      if (a.length > 1) return a[1];
      void k;
      throw new RenderError(`KeyError: ${strRepr(key)}`);
    },
    update: (d: Dict, a: unknown[], k: Dict) => {
      const other = a[0];
      if (isDict(other)) for (const key of Object.keys(other)) dictSet(d, key, other[key]);
      else if (other instanceof DictView) for (const key of Object.keys(other.dict)) dictSet(d, key, other.dict[key]);
      else if (other !== undefined && !(other instanceof Undefined)) {
        for (const pair of iterate(other)) {
          const [key, v] = iterate(pair);
          dictSet(d, str(key), v);
        }
      }
      for (const key of Object.keys(k)) dictSet(d, key, k[key]);
      return null;
    },
    copy: (d: Dict) => {
      const c = newDict();
      for (const key of Object.keys(d)) dictSet(c, key, d[key]);
      return c;
    },
    clear: (d: Dict) => {
      for (const key of Object.keys(d)) delete d[key];
      return null;
    },
  }) as [string, Method][],
);
