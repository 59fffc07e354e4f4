// Jinja2's built-in tests (`x is defined`, `x is divisibleby 3`, …).
import { bind } from './methods.js';
import { BoundMethod, Joiner, Macro, PyFunction } from './runtime.js';
import {
  DictView,
  PyFloat,
  RenderError,
  Undefined,
  isDict,
  isTuple,
  pyCompare,
  pyEquals,
  toNumber,
  type Dict,
} from './python.js';

export type Test = (value: unknown, args: unknown[], kwargs: Dict) => boolean;

const one = (name: string, args: unknown[], kwargs: Dict, param = 'other'): unknown => bind(name, [param], [], args, kwargs)[0];

function contains(container: unknown, item: unknown): boolean {
  if (container instanceof Undefined) container.use();
  // Hashing a strict Undefined (a dict's `in`) or printing it (a str's) raises.
  if (item instanceof Undefined && (typeof container === 'string' || isDict(container) || container instanceof DictView)) item.use();
  if (typeof container === 'string') {
    if (typeof item !== 'string') throw new RenderError(`'in <string>' requires string as left operand, not ${typeof item}`);
    return container.includes(item);
  }
  if (Array.isArray(container)) return container.some((x) => pyEquals(x, item));
  if (isDict(container)) return typeof item === 'string' && Object.prototype.hasOwnProperty.call(container, item);
  if (container instanceof DictView) return contains(container.list(), item);
  if (container instanceof Undefined) return false;
  throw new RenderError(`argument of type '${container === null ? 'NoneType' : typeof container}' is not iterable`);
}

export { contains as pyContains };

const isNumber = (v: unknown): boolean => typeof v === 'number' || typeof v === 'boolean' || v instanceof PyFloat;

function intOf(v: unknown, what: string): number {
  const n = toNumber(v);
  if (n === undefined) throw new RenderError(`${what}: a number is required`);
  return n;
}

export const tests = new Map<string, Test>(
  Object.entries({
    defined: (v) => !(v instanceof Undefined),
    undefined: (v) => v instanceof Undefined,
    none: (v) => v === null,
    boolean: (v) => typeof v === 'boolean',
    false: (v) => v === false,
    true: (v) => v === true,
    integer: (v) => typeof v === 'number' && Number.isInteger(v),
    float: (v) => v instanceof PyFloat || (typeof v === 'number' && !Number.isInteger(v)),
    number: isNumber,
    string: (v) => typeof v === 'string',
    mapping: (v) => isDict(v),
    sequence: (v) => typeof v === 'string' || Array.isArray(v) || isDict(v) || v instanceof DictView,
    iterable: (v) => typeof v === 'string' || Array.isArray(v) || isDict(v) || v instanceof DictView || v instanceof Undefined,
    callable: (v) => v instanceof Macro || v instanceof PyFunction || v instanceof BoundMethod || v instanceof Joiner || typeof v === 'function',
    lower: (v) => typeof v === 'string' && v === v.toLowerCase(),
    upper: (v) => typeof v === 'string' && v === v.toUpperCase(),
    odd: (v) => Math.abs(intOf(v, 'odd') % 2) === 1,
    even: (v) => intOf(v, 'even') % 2 === 0,
    divisibleby: (v, a, k) => intOf(v, 'divisibleby') % intOf(one('divisibleby', a, k, 'num'), 'divisibleby') === 0,
    in: (v, a, k) => contains(one('in', a, k, 'seq'), v),
    eq: (v, a, k) => pyEquals(v, one('eq', a, k)),
    ne: (v, a, k) => !pyEquals(v, one('ne', a, k)),
    lt: (v, a, k) => pyCompare(v, one('lt', a, k), '<') < 0,
    le: (v, a, k) => pyCompare(v, one('le', a, k), '<=') <= 0,
    gt: (v, a, k) => pyCompare(v, one('gt', a, k), '>') > 0,
    ge: (v, a, k) => pyCompare(v, one('ge', a, k), '>=') >= 0,
    sameas: (v, a, k) => v === one('sameas', a, k),
    escaped: () => false,
    tuple: (v) => isTuple(v),
  } satisfies Record<string, Test>),
);

for (const [alias, name] of [
  ['equalto', 'eq'], ['==', 'eq'], ['!=', 'ne'], ['<', 'lt'], ['<=', 'le'], ['>', 'gt'], ['>=', 'ge'],
  ['greaterthan', 'gt'], ['lessthan', 'lt'],
] as const) {
  tests.set(alias, tests.get(name)!);
}
tests.delete('tuple');
