// Python's value model as templates see it, on plain JS values: str() and repr(), truthiness, equality and
// ordering, the arithmetic operators, and printf-style `%` formatting.
//
// Mapping: str = string, int = integral number, float = non-integral number or PyFloat (an integral float
// such as 2.0), bool = boolean, None = null, list = array, tuple = array registered in `tuples`, dict = plain
// object (own enumerable string keys), Jinja2's Undefined = Undefined.

export { RenderError } from './errors.js';
import { RenderError } from './errors.js';
import { checkSize, isStrictUndefined, tick } from './limits.js';

export const typeError = (message: string): RenderError => new RenderError(message);

/** A float whose value is integral (Python prints 2.0, JS would print 2). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/**
 * Jinja2's default Undefined: prints as "", is falsy, iterates as empty; most other uses raise. Made while a
 * --strict-undefined render runs, it is Jinja2's StrictUndefined: printing, testing, iterating, measuring or
 * comparing it raises too (`is defined`, `default` and passing it on do not).
 */
export class Undefined {
  readonly strict: boolean;
  constructor(
    readonly hint: string,
    strict = isStrictUndefined(),
  ) {
    this.strict = strict;
  }
  fail(): never {
    throw new RenderError(this.hint, this.strict ? 'strict' : 'runtime');
  }
  /** Where the default Undefined gives "", False, [] or 0: a strict one raises. */
  use(): void {
    if (this.strict) this.fail();
  }
}

export const undefinedName = (name: string): Undefined => new Undefined(`'${name}' is undefined`);

const tuples = new WeakSet<readonly unknown[]>();

export function tuple<T>(items: T[]): T[] {
  tuples.add(items);
  return items;
}

export const isTuple = (v: unknown): v is unknown[] => Array.isArray(v) && tuples.has(v);

export type Dict = Record<string, unknown>;

export function isDict(v: unknown): v is Dict {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function newDict(): Dict {
  return Object.create(null) as Dict;
}

/** Sets a key without ever touching a prototype (a key "__proto__" is just a key). */
export function dictSet(d: Dict, key: string, value: unknown): void {
  Object.defineProperty(d, key, { value, writable: true, enumerable: true, configurable: true });
}

export const hasKey = (d: Dict, key: string): boolean => Object.prototype.hasOwnProperty.call(d, key);

/** `d.items()`, `d.keys()`, `d.values()`: live views, printed as Python prints them. */
export class DictView {
  constructor(
    readonly dict: Dict,
    readonly kind: 'items' | 'keys' | 'values',
  ) {}
  list(): unknown[] {
    const keys = Object.keys(this.dict);
    if (this.kind === 'keys') return keys;
    if (this.kind === 'values') return keys.map((k) => this.dict[k]);
    return keys.map((k) => tuple([k, this.dict[k]]));
  }
}

export const isFloat = (v: unknown): boolean => v instanceof PyFloat || (typeof v === 'number' && !Number.isInteger(v));

export function makeFloat(x: number): number | PyFloat {
  return Number.isInteger(x) ? new PyFloat(x) : x;
}

/** Number value of an int, float or bool, or undefined if v is not a number in Python's sense. */
export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v instanceof PyFloat) return v.value;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}

export function typeName(v: unknown): string {
  if (v === null) return 'NoneType';
  if (v instanceof Undefined) return 'Undefined';
  switch (typeof v) {
    case 'string':
      return 'str';
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(v) ? 'int' : 'float';
    case 'function':
      return 'function';
    case 'undefined':
      return 'Undefined';
  }
  if (v instanceof PyFloat) return 'float';
  if (Array.isArray(v)) return isTuple(v) ? 'tuple' : 'list';
  if (isDict(v)) return 'dict';
  if (v instanceof DictView) return `dict_${v.kind}`;
  const named = v as { pyType?: string };
  return typeof named.pyType === 'string' ? named.pyType : 'object';
}

export function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === '' || v === 0) return false;
  if (v === true || typeof v === 'string' || typeof v === 'number') return true;
  if (v instanceof Undefined) {
    v.use();
    return false;
  }
  if (v instanceof PyFloat) return v.value !== 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isDict(v)) return Object.keys(v).length > 0;
  if (v instanceof DictView) return Object.keys(v.dict).length > 0;
  return true;
}

// --- str() and repr() ----------------------------------------------------------------------------------------

export function floatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mantissa = '', expText = '0'] = Math.abs(x).toExponential().split('e');
  const exp = Number(expText);
  const digits = mantissa.replace('.', '');
  if (exp >= -4 && exp < 16) {
    if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
    const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
    const frac = digits.slice(exp + 1);
    return `${sign}${intPart}.${frac || '0'}`;
  }
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

export function intStr(x: number): string {
  if (Object.is(x, -0)) return '0';
  // Beyond 2^53 print the exact value of the double, as Python prints its (exact) int.
  return Math.abs(x) <= Number.MAX_SAFE_INTEGER ? String(x) : BigInt(x).toString();
}

export function strRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += '\\x' + code.toString(16).padStart(2, '0');
    else if (code >= 0x80 && code < 0xa0) out += '\\x' + code.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + quote;
}

export function repr(v: unknown): string {
  if (typeof v === 'string') return strRepr(v);
  if (v instanceof Undefined) return 'Undefined';
  if (v === undefined) return '';
  // A list holding itself, or the same big list many times, prints as much: bounded as it is built.
  if (Array.isArray(v)) {
    tick(v.length);
    const items = v.map(repr);
    const text = isTuple(v) ? (items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`) : `[${items.join(', ')}]`;
    checkSize(text.length, 'the text of a list');
    return text;
  }
  if (isDict(v)) {
    const keys = Object.keys(v);
    tick(keys.length);
    const text = `{${keys.map((k) => `${strRepr(k)}: ${repr(v[k])}`).join(', ')}}`;
    checkSize(text.length, 'the text of a dict');
    return text;
  }
  if (v instanceof DictView) return `dict_${v.kind}(${repr(v.list())})`;
  return str(v);
}

/** Python's str(), which is what `{{ … }}` prints. */
export function str(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
      return Number.isInteger(v) ? intStr(v) : floatRepr(v);
    case 'boolean':
      return v ? 'True' : 'False';
    case 'undefined':
      return '';
  }
  if (v === null) return 'None';
  if (v instanceof Undefined) {
    v.use();
    return '';
  }
  if (v instanceof PyFloat) return floatRepr(v.value);
  if (typeof v === 'function') return '<function>';
  const custom = v as { pyStr?: () => string };
  if (typeof custom.pyStr === 'function') return custom.pyStr();
  return repr(v);
}

// --- comparisons -----------------------------------------------------------------------------------------------

export function pyEquals(a: unknown, b: unknown): boolean {
  if (a instanceof Undefined) a.use();
  if (b instanceof Undefined) b.use();
  if (a === b) return true;
  tick();
  const na = toNumber(a);
  const nb = toNumber(b);
  if (na !== undefined && nb !== undefined) return na === nb;
  if (a instanceof Undefined || b instanceof Undefined) return a instanceof Undefined && b instanceof Undefined;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (isTuple(a) !== isTuple(b) || a.length !== b.length) return false;
    tick(a.length);
    return a.every((x, i) => pyEquals(x, b[i]));
  }
  if (isDict(a) && isDict(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    tick(ka.length);
    return ka.every((k) => hasKey(b, k) && pyEquals(a[k], b[k]));
  }
  return false;
}

/** Python's ordering: -1, 0 or 1; a TypeError for types Python cannot order. */
export function pyCompare(a: unknown, b: unknown, op = '<'): number {
  const na = toNumber(a);
  const nb = toNumber(b);
  if (na !== undefined && nb !== undefined) return na < nb ? -1 : na > nb ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (Array.isArray(a) && Array.isArray(b) && isTuple(a) === isTuple(b)) {
    tick();
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (!pyEquals(a[i], b[i])) return pyCompare(a[i], b[i], op);
    }
    return a.length - b.length < 0 ? -1 : a.length > b.length ? 1 : 0;
  }
  if (a instanceof Undefined) a.fail();
  if (b instanceof Undefined) b.fail();
  throw typeError(`'${op}' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`);
}

// --- arithmetic ------------------------------------------------------------------------------------------------

function operands(a: unknown, b: unknown, op: string): [number, number, boolean] {
  if (a instanceof Undefined) a.fail();
  if (b instanceof Undefined) b.fail();
  const na = toNumber(a);
  const nb = toNumber(b);
  if (na === undefined || nb === undefined) {
    throw typeError(`unsupported operand type(s) for ${op}: '${typeName(a)}' and '${typeName(b)}'`);
  }
  return [na, nb, isFloat(a) || isFloat(b)];
}

const numResult = (x: number, float: boolean): number | PyFloat => (float ? makeFloat(x) : x);

function unsupported(message: string): RenderError {
  return new RenderError(message, 'unsupported');
}

/**
 * An int result computed exactly: a number when a double holds it (every int up to 2**53, and such as 2**60 or
 * 10**16 beyond), else Python's answer is refused.
 */
function exactInt(r: bigint, what: string): number {
  const n = Number(r);
  if (!Number.isFinite(n) || BigInt(n) !== r) {
    const digits = (r < 0n ? -r : r).toString().length;
    throw unsupported(`${what} is an int of ${digits} digits that a double cannot hold: Python computes it exactly, kolla-gen cannot`);
  }
  return n;
}

/** An int operand: every integral double is an exact int. */
const bigOperand = (x: number): bigint => BigInt(x);

function repeat(seq: unknown, times: unknown): unknown {
  const n = typeof times === 'boolean' ? Number(times) : (times as number);
  const count = Math.max(0, n);
  const len = typeof seq === 'string' ? seq.length : (seq as unknown[]).length;
  checkSize(len * count, typeof seq === 'string' ? 'a repeated str' : `a repeated ${typeName(seq)}`);
  if (typeof seq === 'string') return seq.repeat(count);
  const arr = seq as unknown[];
  const out: unknown[] = [];
  for (let i = 0; i < count; i++) for (const x of arr) out.push(x);
  return isTuple(arr) ? tuple(out) : out;
}

const isInt = (v: unknown): boolean => (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'boolean';
const isSeq = (v: unknown): boolean => typeof v === 'string' || Array.isArray(v);

export function add(a: unknown, b: unknown): unknown {
  if (typeof a === 'string' && typeof b === 'string') {
    // V8 joins two strs without copying them: what it costs is the shorter part, what it holds is the sum.
    checkSize(a.length + b.length, 'the result of +', Math.min(a.length, b.length));
    return a + b;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (isTuple(a) !== isTuple(b)) throw typeError(`can only concatenate ${typeName(a)} (not "${typeName(b)}") to ${typeName(a)}`);
    checkSize(a.length + b.length, 'the result of +');
    return isTuple(a) ? tuple([...a, ...b]) : [...a, ...b];
  }
  if (typeof a === 'string' || Array.isArray(a)) {
    if (b instanceof Undefined) b.fail();
    throw typeError(`can only concatenate ${typeName(a)} (not "${typeName(b)}") to ${typeName(a)}`);
  }
  const [x, y, f] = operands(a, b, '+');
  if (f) return makeFloat(x + y);
  const r = x + y;
  if (Number.isSafeInteger(r) && Number.isSafeInteger(x) && Number.isSafeInteger(y)) return r;
  return exactInt(bigOperand(x) + bigOperand(y), `${intStr(x)} + ${intStr(y)}`);
}

export function sub(a: unknown, b: unknown): unknown {
  const [x, y, f] = operands(a, b, '-');
  if (f) return makeFloat(x - y);
  const r = x - y;
  if (Number.isSafeInteger(r) && Number.isSafeInteger(x) && Number.isSafeInteger(y)) return r;
  return exactInt(bigOperand(x) - bigOperand(y), `${intStr(x)} - ${intStr(y)}`);
}

export function mul(a: unknown, b: unknown): unknown {
  if (isSeq(a) && isInt(b)) return repeat(a, b);
  if (isInt(a) && isSeq(b)) return repeat(b, a);
  const [x, y, f] = operands(a, b, '*');
  if (f) return makeFloat(x * y);
  const r = x * y;
  if (Number.isSafeInteger(r) && Number.isSafeInteger(x) && Number.isSafeInteger(y)) return r;
  return exactInt(bigOperand(x) * bigOperand(y), `${intStr(x)} * ${intStr(y)}`);
}

export function div(a: unknown, b: unknown): unknown {
  const [x, y] = operands(a, b, '/');
  if (y === 0) throw new RenderError('division by zero');
  return makeFloat(x / y);
}

export function floorDiv(a: unknown, b: unknown): unknown {
  const [x, y, f] = operands(a, b, '//');
  if (y === 0) throw new RenderError(f ? 'float floor division by zero' : 'integer division or modulo by zero');
  if (f) return makeFloat(Math.floor(x / y));
  const [bx, by] = [bigOperand(x), bigOperand(y)];
  const q = bx / by;
  // BigInt division truncates; Python's floors.
  return exactInt(q * by !== bx && bx < 0n !== by < 0n ? q - 1n : q, `${intStr(x)} // ${intStr(y)}`);
}

export function mod(a: unknown, b: unknown): unknown {
  if (typeof a === 'string') return percentFormat(a, b);
  const [x, y, f] = operands(a, b, '%');
  if (y === 0) throw new RenderError(f ? 'float modulo' : 'integer division or modulo by zero');
  if (!f) {
    const [bx, by] = [bigOperand(x), bigOperand(y)];
    const r = bx % by;
    return exactInt(r !== 0n && r < 0n !== by < 0n ? r + by : r, `${intStr(x)} % ${intStr(y)}`);
  }
  const r = x % y;
  return numResult(r !== 0 && r < 0 !== y < 0 ? r + y : r, f);
}

export function pow(a: unknown, b: unknown): unknown {
  const [x, y, f] = operands(a, b, '**');
  if (!f && y >= 0) {
    const what = `${intStr(x)} ** ${intStr(y)}`;
    const bx = bigOperand(x);
    // A double holds no int past 2**1024: refused before BigInt spends time and memory on it.
    if ((bx > 1n || bx < -1n) && y > 1024) throw unsupported(`${what} is an int beyond 2**1024 that a double cannot hold: Python computes it exactly, kolla-gen cannot`);
    return exactInt(bx ** bigOperand(y), what);
  }
  if (x < 0 && !Number.isInteger(y)) throw unsupported(`${floatRepr(x)} ** ${floatRepr(y)} is a complex number in Python: kolla-gen has none`);
  if (x === 0 && y < 0) throw new RenderError('ZeroDivisionError: 0.0 cannot be raised to a negative power');
  const r = x ** y;
  if (!Number.isFinite(r) && Number.isFinite(x) && Number.isFinite(y)) throw new RenderError("OverflowError: (34, 'Numerical result out of range')");
  return makeFloat(r);
}

export function neg(a: unknown): unknown {
  const [x, , f] = operands(a, 0, 'unary -');
  return numResult(x === 0 && !f ? 0 : -x, f);
}

export function pos(a: unknown): unknown {
  const [x, , f] = operands(a, 0, 'unary +');
  return numResult(x, f);
}

// --- printf-style formatting ------------------------------------------------------------------------------------

const PERCENT_SPEC = /%(?:\(([^)]*)\))?([-+ #0]*)(\*|\d+)?(?:\.(\*|\d+))?[hlL]?([diouxXeEfFgGcrsa%])/g;

export function percentFormat(format: string, values: unknown): string {
  const byName = isDict(values) ? values : undefined;
  const args = isTuple(values) ? [...values] : [values];
  let next = 0;
  const take = (): unknown => {
    if (next >= args.length) throw typeError('not enough arguments for format string');
    return args[next++];
  };
  const out = format.replace(PERCENT_SPEC, (_all, key: string | undefined, flags: string, width?: string, precision?: string, conv?: string) => {
    if (conv === '%') return '%';
    let value: unknown;
    if (key !== undefined) {
      if (!byName) throw typeError('format requires a mapping');
      if (!hasKey(byName, key)) throw new RenderError(`KeyError: ${strRepr(key)}`);
      value = byName[key];
    }
    const w = width === '*' ? Number(take()) : width ? Number(width) : 0;
    const p = precision === '*' ? Number(take()) : precision !== undefined ? Number(precision) : undefined;
    if (key === undefined) value = take();
    return formatOne(value, conv!, flags, w, p);
  });
  if (!byName && next < args.length) throw typeError('not all arguments converted during string formatting');
  return out;
}

function formatOne(value: unknown, conv: string, flags: string, width: number, precision?: number): string {
  checkSize(width, 'a formatted value');
  let body: string;
  let sign = '';
  const numeric = !'srac'.includes(conv);
  if (conv === 's') body = str(value);
  else if (conv === 'r' || conv === 'a') body = repr(value);
  else if (conv === 'c') body = typeof value === 'string' ? value : String.fromCodePoint(toNumber(value) ?? 0);
  else {
    if (value instanceof Undefined) value.fail();
    const n = toNumber(value);
    if (n === undefined) throw typeError(`%${conv} format: a real number is required, not ${typeName(value)}`);
    sign = n < 0 || Object.is(n, -0) ? '-' : flags.includes('+') ? '+' : flags.includes(' ') ? ' ' : '';
    const a = Math.abs(n);
    switch (conv) {
      case 'd':
      case 'i':
      case 'u':
        body = intStr(Math.trunc(a));
        break;
      case 'o':
        body = (flags.includes('#') ? '0o' : '') + Math.trunc(a).toString(8);
        break;
      case 'x':
        body = (flags.includes('#') ? '0x' : '') + Math.trunc(a).toString(16);
        break;
      case 'X':
        body = (flags.includes('#') ? '0X' : '') + Math.trunc(a).toString(16).toUpperCase();
        break;
      case 'e':
      case 'E':
        body = expFormat(a, precision ?? 6, conv === 'E');
        break;
      case 'f':
      case 'F':
        body = fixedFormat(a, precision ?? 6);
        break;
      default:
        body = generalFormat(a, precision ?? 6, conv === 'G', flags.includes('#'));
    }
    if (sign === '-' && /^[0.e+-]*$/i.test(body.replace(/^0[xo]/i, '')) && !Object.is(n, -0) && n === 0) sign = '';
  }
  if (precision !== undefined && (conv === 's' || conv === 'r' || conv === 'a')) body = body.slice(0, precision);
  const total = sign.length + body.length;
  if (total >= width) return sign + body;
  if (flags.includes('-')) return sign + body + ' '.repeat(width - total);
  if (numeric && flags.includes('0')) return sign + '0'.repeat(width - total) + body;
  return ' '.repeat(width - total) + sign + body;
}

// Python formats a float from its exact binary value, an exact tie rounding to even; JS's toFixed and
// toExponential round ties up, stop at 100 digits and switch to exponents from 1e21. So: exact, with BigInt.

/** a (finite, >= 0) as the fraction num / den. */
function fraction(a: number): [bigint, bigint] {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, a);
  const bits = view.getBigUint64(0);
  const expBits = Number((bits >> 52n) & 0x7ffn);
  const mantissa = bits & ((1n << 52n) - 1n);
  const m = expBits === 0 ? mantissa : mantissa | (1n << 52n);
  const e = (expBits === 0 ? 1 : expBits) - 1075;
  return e >= 0 ? [m << BigInt(e), 1n] : [m, 1n << BigInt(-e)];
}

/** num / den rounded to an integer, an exact half to even. */
function roundHalfEven(num: bigint, den: bigint): bigint {
  const q = num / den;
  const twice = (num % den) * 2n;
  return twice > den || (twice === den && q % 2n === 1n) ? q + 1n : q;
}

/** Python's '%.<precision>f' of a finite a >= 0. */
function fixedFormat(a: number, precision: number): string {
  if (!Number.isFinite(a)) return floatRepr(a);
  checkSize(precision, 'a formatted float');
  const [num, den] = fraction(a);
  const digits = roundHalfEven(num * 10n ** BigInt(precision), den).toString().padStart(precision + 1, '0');
  return precision === 0 ? digits : `${digits.slice(0, -precision)}.${digits.slice(-precision)}`;
}

/** The digits of a (finite, > 0) rounded to precision + 1 significant ones, and the decimal exponent of the first. */
function significant(a: number, precision: number): { digits: string; exp: number } {
  const [num, den] = fraction(a);
  let exp = Number(a.toExponential().split('e')[1]);
  // The shortest repr may round up to the next power of ten (1e23 is 9.999…e22): step back to the exact value's.
  const below = (e: number): boolean => (e >= 0 ? num < den * 10n ** BigInt(e) : num * 10n ** BigInt(-e) < den);
  while (below(exp)) exp--;
  const shift = precision - exp;
  let q = shift >= 0 ? roundHalfEven(num * 10n ** BigInt(shift), den) : roundHalfEven(num, den * 10n ** BigInt(-shift));
  if (q >= 10n ** BigInt(precision + 1)) {
    q /= 10n;
    exp++;
  }
  return { digits: q.toString(), exp };
}

function expFormat(a: number, precision: number, upper: boolean): string {
  if (!Number.isFinite(a)) return upper ? floatRepr(a).toUpperCase() : floatRepr(a);
  checkSize(precision, 'a formatted float');
  const { digits, exp } = a === 0 ? { digits: '0'.repeat(precision + 1), exp: 0 } : significant(a, precision);
  const m = precision > 0 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const s = `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return upper ? s.toUpperCase() : s;
}

function generalFormat(a: number, precision: number, upper: boolean, keepZeros: boolean): string {
  if (!Number.isFinite(a)) return upper ? floatRepr(a).toUpperCase() : floatRepr(a);
  const p = precision === 0 ? 1 : precision;
  checkSize(p, 'a formatted float');
  if (a === 0) return keepZeros ? '0.' + '0'.repeat(p - 1) : '0';
  const { exp } = significant(a, p - 1);
  let s = exp >= -4 && exp < p ? fixedFormat(a, p - 1 - exp) : expFormat(a, p - 1, upper);
  if (!keepZeros) s = s.replace(/\.?0+(?=e|E|$)/, (m) => (m.includes('.') || s.includes('.') ? '' : m));
  return s;
}

// --- str.format ----------------------------------------------------------------------------------------------------

const FORMAT_SPEC = /^(?:(.)?([<>=^]))?([-+ ])?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$/;

/** One replacement field of str.format: its name, conversion and (still unexpanded) spec. */
interface FormatField {
  name: string;
  conversion?: string;
  spec: string;
}

const formatError = (message: string): RenderError => new RenderError(`ValueError: ${message}`);

/** Python's str.format: literal text, `{{`, `}}`, and fields whose spec may hold fields of its own (`{:{}}`). */
export function strFormat(format: string, args: unknown[], kwargs: Dict, getattr: (obj: unknown, name: string) => unknown): string {
  let auto = 0;
  let numbering: 'auto' | 'manual' | undefined;
  const fieldValue = (name: string): unknown => {
    const path = name.match(/^([^.[]*)(.*)$/)!;
    const head = path[1] ?? '';
    let value: unknown;
    if (head === '' || /^\d+$/.test(head)) {
      const mode = head === '' ? 'auto' : 'manual';
      if (numbering && numbering !== mode) {
        throw formatError(mode === 'auto' ? 'cannot switch from manual field specification to automatic field numbering' : 'cannot switch from automatic field numbering to manual field specification');
      }
      numbering = mode;
      const index = head === '' ? auto++ : Number(head);
      if (index >= args.length) throw new RenderError(`IndexError: Replacement index ${index} out of range for positional args tuple`);
      value = args[index];
    } else if (hasKey(kwargs, head)) value = kwargs[head];
    else throw new RenderError(`KeyError: ${strRepr(head)}`);
    for (const m of (path[2] ?? '').matchAll(/\.(\w+)|\[([^\]]*)\]/g)) {
      if (m[1] !== undefined) value = getattr(value, m[1]);
      else {
        const k = m[2]!;
        value = Array.isArray(value) && /^\d+$/.test(k) ? value[Number(k)] : isDict(value) ? value[k] : undefined;
      }
    }
    return value;
  };
  const render = (text: string, depth: number): string => {
    if (depth > 2) throw formatError('Max string recursion exceeded');
    let out = '';
    let i = 0;
    while (i < text.length) {
      const ch = text[i]!;
      if (ch === '}') {
        if (text[i + 1] !== '}') throw formatError("Single '}' encountered in format string");
        out += '}';
        i += 2;
        continue;
      }
      if (ch !== '{') {
        out += ch;
        i++;
        continue;
      }
      if (text[i + 1] === '{') {
        out += '{';
        i += 2;
        continue;
      }
      // A field runs to its matching '}': braces inside it are the spec's nested fields.
      let j = i + 1;
      let nesting = 1;
      for (; j < text.length; j++) {
        if (text[j] === '{') nesting++;
        else if (text[j] === '}' && --nesting === 0) break;
      }
      if (j >= text.length) throw formatError(nesting > 1 ? "unmatched '{' in format spec" : "Single '{' encountered in format string");
      const field = parseField(text.slice(i + 1, j));
      let value = fieldValue(field.name);
      if (field.conversion === 'r' || field.conversion === 'a') value = repr(value);
      else if (field.conversion === 's') value = str(value);
      out += formatSpec(value, field.spec.includes('{') ? render(field.spec, depth + 1) : field.spec);
      checkSize(out.length, 'the result of format()');
      i = j + 1;
    }
    return out;
  };
  return render(format, 1);
}

function parseField(text: string): FormatField {
  // The name ends at the first '!' or ':' outside brackets.
  let k = 0;
  for (; k < text.length; k++) {
    if (text[k] === '[') {
      const close = text.indexOf(']', k);
      if (close < 0) throw formatError("Missing ']' in format string");
      k = close;
    } else if (text[k] === '!' || text[k] === ':') break;
  }
  const name = text.slice(0, k);
  let rest = text.slice(k);
  let conversion: string | undefined;
  if (rest.startsWith('!')) {
    conversion = rest[1];
    if (conversion === undefined || conversion === ':') throw formatError('end of string while looking for conversion specifier');
    if (!'rsa'.includes(conversion)) throw formatError(`Unknown conversion specifier ${conversion}`);
    rest = rest.slice(2);
    if (rest !== '' && !rest.startsWith(':')) throw formatError('expected \':\' after conversion specifier');
  }
  return { name, conversion, spec: rest.startsWith(':') ? rest.slice(1) : '' };
}

export function formatSpec(value: unknown, spec: string): string {
  if (spec === '') return str(value);
  const m = FORMAT_SPEC.exec(spec);
  if (!m) throw new RenderError(`ValueError: invalid format specifier '${spec}'`);
  const [, fill = ' ', align, signFlag = '-', alt, zero, widthText, grouping, precText, type] = m;
  const width = widthText ? Number(widthText) : 0;
  const precision = precText !== undefined ? Number(precText) : undefined;
  let body: string;
  let sign = '';
  const n = toNumber(value);
  if (typeof value === 'string' || n === undefined || typeof value === 'boolean' && !type) {
    if (type && type !== 's') throw new RenderError(`ValueError: Unknown format code '${type}' for object of type '${typeName(value)}'`);
    body = str(value);
    if (precision !== undefined) body = body.slice(0, precision);
    return pad(body, '', width, fill, align ?? '<', false);
  }
  sign = n < 0 ? '-' : signFlag === '+' ? '+' : signFlag === ' ' ? ' ' : '';
  const a = Math.abs(n);
  const t = type ?? (isFloat(value) ? '' : 'd');
  switch (t) {
    case 'd':
    case 'n':
      body = intStr(a);
      break;
    case 'b':
      body = (alt ? '0b' : '') + a.toString(2);
      break;
    case 'o':
      body = (alt ? '0o' : '') + a.toString(8);
      break;
    case 'x':
      body = (alt ? '0x' : '') + a.toString(16);
      break;
    case 'X':
      body = (alt ? '0X' : '') + a.toString(16).toUpperCase();
      break;
    case 'c':
      body = String.fromCodePoint(a);
      break;
    case 'e':
    case 'E':
      body = expFormat(a, precision ?? 6, t === 'E');
      break;
    case 'f':
    case 'F':
      body = fixedFormat(a, precision ?? 6);
      break;
    case '%':
      body = fixedFormat(a * 100, precision ?? 6) + '%';
      break;
    case 'g':
    case 'G':
      body = generalFormat(a, precision ?? 6, t === 'G', !!alt);
      break;
    default:
      body = precision !== undefined ? generalFormat(a, precision, false, false) : floatRepr(a);
  }
  if (grouping) {
    const [ip = '', fp] = body.split('.');
    body = ip.replace(/\B(?=(\d{3})+(?!\d))/g, grouping) + (fp !== undefined ? '.' + fp : '');
  }
  return pad(body, sign, width, zero && !align ? '0' : fill, zero && !align ? '=' : (align ?? '>'), true);
}

function pad(body: string, sign: string, width: number, fill: string, align: string, numeric: boolean): string {
  checkSize(width, 'a formatted value');
  const len = sign.length + body.length;
  if (len >= width) return sign + body;
  const n = width - len;
  switch (align) {
    case '<':
      return sign + body + fill.repeat(n);
    case '^':
      return fill.repeat(Math.floor(n / 2)) + sign + body + fill.repeat(Math.ceil(n / 2));
    case '=':
      return sign + fill.repeat(n) + body;
    default:
      void numeric;
      return fill.repeat(n) + sign + body;
  }
}
