// The bounds of one render: a pull request's template may not exhaust memory or time. Every bound is a count
// (characters, items, steps), never a clock, so a render that passes passes on every machine.
//
// Rendering is synchronous and one render runs at a time per thread, so the running render's budget is module
// state that render() sets up and tears down.
import { RenderError } from './errors.js';

export interface RenderLimits {
  /** The most characters of one str, or items of one list, tuple or dict, a template may build. */
  maxValueSize: number;
  /** The most characters one render may output (an include, a macro or a `set` block included). */
  maxOutputSize: number;
  /** The most steps one render may take: loop iterations, calls, compared items, and each character or item built. */
  maxSteps: number;
}

/**
 * Generous: upstream Kolla master renders each of its images in under 2,000 steps, with under 32,000 characters of
 * output and no value over 2,000 (measured with --preset kolla, every base and arch); these are 150 to 2,500 times
 * that, and still stop a hostile template within seconds and some tens of MB (building a value costs steps too).
 */
export const DEFAULT_RENDER_LIMITS: RenderLimits = {
  maxValueSize: 5_000_000,
  maxOutputSize: 5_000_000,
  maxSteps: 5_000_000,
};

/** The config keys and flags that raise each limit, for the hints. */
export const LIMIT_SETTINGS = {
  maxValueSize: { key: 'render_limits.max_value_size', flag: '--max-value-size' },
  maxOutputSize: { key: 'render_limits.max_output_size', flag: '--max-output-size' },
  maxSteps: { key: 'render_limits.max_steps', flag: '--max-steps' },
} as const;

interface Budget {
  limits: RenderLimits;
  strictUndefined: boolean;
  steps: number;
}

let active: Budget | null = null;

/** Runs one render under these limits; nested calls (there are none today) keep the outer budget. */
export function withBudget<T>(limits: RenderLimits, strictUndefined: boolean, run: () => T): T {
  if (active) return run();
  active = { limits, strictUndefined, steps: 0 };
  try {
    return run();
  } finally {
    active = null;
  }
}

/** Whether the running render makes undefined variables strict (Jinja2's StrictUndefined). */
export const isStrictUndefined = (): boolean => active?.strictUndefined === true;

const count = (n: number): string => n.toLocaleString('en-US');

/** Spends `n` steps of the render's work budget. */
export function tick(n = 1): void {
  if (!active) return;
  active.steps += n;
  if (active.steps > active.limits.maxSteps) {
    const s = LIMIT_SETTINGS.maxSteps;
    throw new RenderError(`the render took more than ${count(active.limits.maxSteps)} steps (${s.key}, ${s.flag})`, 'work-limit');
  }
}

/**
 * Checks, before building it, that a value of `size` characters or items stays within the limit, and charges
 * building it (`charge`, by default all of it) to the work budget.
 */
export function checkSize(size: number, what: string, charge = size): void {
  if (!active) return;
  if (!(size <= active.limits.maxValueSize)) {
    const s = LIMIT_SETTINGS.maxValueSize;
    const n = Number.isFinite(size) ? count(size) : 'unbounded';
    throw new RenderError(`${what} would hold ${n} characters or items, more than ${count(active.limits.maxValueSize)} (${s.key}, ${s.flag})`, 'value-limit');
  }
  tick(charge);
}

/** Checks that output of `size` characters stays within the limit. */
export function checkOutput(size: number): void {
  if (!active) return;
  if (size > active.limits.maxOutputSize) {
    const s = LIMIT_SETTINGS.maxOutputSize;
    throw new RenderError(`the output grew past ${count(active.limits.maxOutputSize)} characters (${s.key}, ${s.flag})`, 'output-limit');
  }
}

/** Checks a value built elsewhere (a filter's, a call's result) against the value limit; returns it. */
export function checkValue<T>(value: T, what: string): T {
  if (!active) return value;
  const size = typeof value === 'string' || Array.isArray(value) ? value.length : 0;
  if (size > active.limits.maxValueSize) {
    const s = LIMIT_SETTINGS.maxValueSize;
    throw new RenderError(`${what} holds ${count(size)} characters or items, more than ${count(active.limits.maxValueSize)} (${s.key}, ${s.flag})`, 'value-limit');
  }
  return value;
}
