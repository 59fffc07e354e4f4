// Differential test: every corpus case rendered by kolla-gen and by real Jinja2 (the python3 on PATH that imports jinja2)
// must give the same bytes; the error cases must fail in both, kolla-gen pointing at the right file and line.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRenderer, type TemplateSourceFile } from '../src/jinja/index.js';
import { JINJA2_MISSING, findJinjaPython } from './support/python.js';

const CORPUS = 'test/jinja/corpus';
const PYTHON = findJinjaPython();
if (PYTHON === undefined) console.warn(`test/jinja.test.ts: ${JINJA2_MISSING}`);
/** The oracle's suites: skipped, with the message above, where no Python has jinja2. */
const oracleDescribe = PYTHON === undefined ? describe.skip : describe;

interface OracleResult {
  text?: string;
  error?: string;
  type?: string;
  lineno?: number | null;
}

function load(name: string): TemplateSourceFile | undefined {
  const path = join(CORPUS, name);
  if (name.split('/').includes('..') || !existsSync(path)) return undefined;
  return { path, source: readFileSync(path, 'utf8') };
}

function readContext(path: string): Record<string, unknown> {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>) : {};
}

const list = (dir: string, suffix: string): string[] =>
  readdirSync(join(CORPUS, dir))
    .filter((f) => f.endsWith(suffix))
    .sort()
    .map((f) => `${dir}/${f}`);

const plainCases = list('cases', '.j2');
const errorCases = list('errors', '.j2');
const overrideCases = list('overrides', '.case.json');
const strictCases = list('strict', '.j2');
const strictPasses = strictCases.filter((name) => !existsSync(join(CORPUS, name.replace(/\.j2$/, '.expect.json'))));
const strictErrors = strictCases.filter((name) => !strictPasses.includes(name));

let oracle: Record<string, OracleResult> = {};

beforeAll(async () => {
  if (PYTHON === undefined) return;
  const missing = `real Jinja2 did not run: ${JINJA2_MISSING}`;
  const { stdout } = await execa(PYTHON, ['test/jinja/render.py', CORPUS]);
  oracle = JSON.parse(stdout) as Record<string, OracleResult>;
  if ('__error__' in oracle) throw new Error(missing);
}, 60_000);

const renderer = createRenderer({ load });

oracleDescribe('kolla-gen renders like Jinja2', () => {
  it('has a corpus', () => {
    expect(plainCases.length + overrideCases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(plainCases)('%s', (name) => {
    const expected = oracle[name];
    expect(expected, `Jinja2 gave no result for ${name}`).toBeDefined();
    expect(expected!.error, `Jinja2 itself failed on ${name}`).toBeUndefined();
    const result = renderer.render(name, readContext(join(CORPUS, name.replace(/\.j2$/, '.json'))));
    if (!result.ok) expect.fail(`kolla-gen failed: ${result.diagnostic.code} ${result.diagnostic.message} at ${JSON.stringify(result.diagnostic.location)}`);
    expect(result.text).toBe(expected!.text);
  });

  it.each(overrideCases)('%s', (name) => {
    const spec = JSON.parse(readFileSync(join(CORPUS, name), 'utf8')) as { template: string; overrides: string[]; context?: Record<string, unknown> };
    const expected = oracle[name];
    expect(expected?.error, `Jinja2 itself failed on ${name}`).toBeUndefined();
    const r = createRenderer({ load, overrides: spec.overrides.map((o) => load(o)!) });
    const result = r.render(spec.template, spec.context ?? {});
    if (!result.ok) expect.fail(`kolla-gen failed: ${result.diagnostic.code} ${result.diagnostic.message} at ${JSON.stringify(result.diagnostic.location)}`);
    expect(result.text).toBe(expected!.text);
  });
});

interface ExpectedError {
  code: string;
  file: string;
  line: number;
  /** A part of kolla-gen's message. */
  message?: string;
  /** When Jinja2 reports the error at another line than kolla-gen (e.g. inside an imported file). */
  jinjaLine?: number | null;
}

oracleDescribe('kolla-gen fails where Jinja2 fails', () => {
  it.each(errorCases)('%s', (name) => {
    const expected = JSON.parse(readFileSync(join(CORPUS, name.replace(/\.j2$/, '.expect.json')), 'utf8')) as ExpectedError;
    const jinja = oracle[name];
    expect(jinja?.error, `Jinja2 rendered ${name} without error`).toBeDefined();
    if (expected.jinjaLine !== undefined) expect(jinja!.lineno).toBe(expected.jinjaLine);
    const result = renderer.render(name, readContext(join(CORPUS, name.replace(/\.j2$/, '.json'))));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const d = result.diagnostic;
    expect({ code: d.code, file: d.location?.file, line: d.location?.line }).toEqual({
      code: expected.code,
      file: join(CORPUS, expected.file),
      line: expected.line,
    });
    if (expected.message) expect(d.message).toContain(expected.message);
    expect(d.message).not.toMatch(/unknown path|\[Line \d+/);
    expect(d.source).toBe(readFileSync(join(CORPUS, expected.file), 'utf8'));
  });
});

describe('--strict-undefined is Jinja2\'s StrictUndefined', () => {
  const strict = createRenderer({ load, strictUndefined: true });
  const context = (name: string) => readContext(join(CORPUS, name.replace(/\.j2$/, '.json')));

  it('has cases that pass and cases that fail', () => {
    expect(strictPasses.length).toBeGreaterThanOrEqual(1);
    expect(strictErrors.length).toBeGreaterThanOrEqual(8);
  });

  it.each(strictPasses)('%s renders as with StrictUndefined', (name) => {
    const expected = oracle[name];
    expect(expected?.error, `Jinja2 itself failed on ${name}`).toBeUndefined();
    const result = strict.render(name, context(name));
    if (!result.ok) expect.fail(`kolla-gen failed: ${result.diagnostic.code} ${result.diagnostic.message}`);
    expect(result.text).toBe(expected!.text);
    // Without strict mode the same template renders the same: strictness only adds errors.
    expect(renderer.render(name, context(name))).toEqual({ ok: true, text: expected!.text });
  });

  it.each(strictErrors)('%s fails as with StrictUndefined, and renders without it', (name) => {
    const expected = JSON.parse(readFileSync(join(CORPUS, name.replace(/\.j2$/, '.expect.json')), 'utf8')) as ExpectedError;
    const jinja = oracle[name];
    expect(jinja?.type, `Jinja2 rendered ${name} without error`).toBe('UndefinedError');
    if (expected.jinjaLine !== undefined) expect(jinja!.lineno).toBe(expected.jinjaLine);
    const result = strict.render(name, context(name));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const d = result.diagnostic;
    expect({ code: d.code, file: d.location?.file, line: d.location?.line }).toEqual({ code: expected.code, file: join(CORPUS, expected.file), line: expected.line });
    expect(d.message).toMatch(/is undefined|has no attribute/);
    expect(renderer.render(name, context(name)).ok).toBe(true);
  });
});
