// A pull request's template may not exhaust memory or time, and strict mode and Python's numbers behave as
// documented: each hostile template, run through the built CLI, is a KG error at its line, with its hint, exit 1,
// and generated/ left as it was. Every test has a timeout (before the bounds, these ran out of memory after
// 35-55 s); none asserts a duration.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CODES } from '../src/core/diagnostics.js';
import { copyFixture, run, snapshot, write } from './support/cli.js';

const TEMPLATE = 'docker/tools/tools-api/Dockerfile.j2';
const FROM = 'FROM {{ namespace }}/{{ image_prefix }}tools-base:{{ tag }}\n';
const TIMEOUT = 60_000;

/** A copy of the basic fixture, generated once, whose tools-api template then becomes `body` (from line 2 on). */
async function treeWith(body: string, config = ''): Promise<{ dir: string; before: Record<string, string> }> {
  const dir = copyFixture('basic');
  const generated = await run(dir, ['generate', '--quiet']);
  expect(generated.exitCode, generated.stderr).toBe(0);
  write(dir, TEMPLATE, FROM + body);
  if (config) fs.appendFileSync(path.join(dir, 'kolla-gen.yaml'), config);
  return { dir, before: snapshot(path.join(dir, 'generated')) };
}

/** generate fails with `code` at line:column of the template, prints its hint, and leaves generated/ untouched. */
async function expectFailure(body: string, code: keyof typeof CODES, line: number, args: string[] = [], config = '') {
  const { dir, before } = await treeWith(body, config);
  const result = await run(dir, ['generate', ...args]);
  expect(result.exitCode, result.stderr).toBe(1);
  expect(result.stderr).toContain(`error[${code}]`);
  expect(result.stderr).toMatch(new RegExp(`--> ${TEMPLATE}:${line}:\\d+`));
  expect(result.stderr).toContain(`hint: ${CODES[code].hint}`);
  expect(result.stderr).not.toMatch(/internal error|heap out of memory/);
  expect(snapshot(path.join(dir, 'generated'))).toEqual(before);
  return result.stderr;
}

describe('rendering is bounded', () => {
  it('refuses a value too large before building it (slice of 10**9 slices)', { timeout: TIMEOUT }, async () => {
    const stderr = await expectFailure('{{ range(10)|slice(10**9)|list|length }}\n', 'KG310', 2);
    expect(stderr).toContain('render_limits.max_value_size');
  });

  it('refuses list repetition of 10**8 items, six times over', { timeout: TIMEOUT }, async () => {
    await expectFailure('{% set a = [1] * 100000000 %}\n'.repeat(6), 'KG310', 2);
  });

  it('refuses a str that doubles in a loop', { timeout: TIMEOUT }, async () => {
    await expectFailure("{% set parts = ['x'] %}\n{% for i in range(100) %}{% set _ = parts.append(parts[-1] ~ parts[-1]) %}{% endfor %}\n", 'KG310', 3);
  });

  it('refuses padding to a width of 10**9', { timeout: TIMEOUT }, async () => {
    await expectFailure("RUN echo {{ 'x'.center(10**9) }}{{ '%*d' % (10**9, 1) }}\n", 'KG310', 2);
  });

  it('refuses output past the limit', { timeout: TIMEOUT }, async () => {
    const stderr = await expectFailure("{% for i in range(100000) %}\n{{ 'x' * 1000 }}\n{% endfor %}\n", 'KG311', 3);
    expect(stderr).toContain('render_limits.max_output_size');
  });

  it('stops a loop that runs away (10**10 iterations)', { timeout: TIMEOUT }, async () => {
    const stderr = await expectFailure('{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}\n', 'KG312', 2);
    expect(stderr).toContain('render_limits.max_steps');
  });

  it('stops printing a list that holds the same big list many times', { timeout: TIMEOUT }, async () => {
    await expectFailure('{% set a = [1] * 1000 %}{% set b = [a] * 1000 %}{% set c = [b] * 1000 %}\n{{ c }}\n', 'KG312', 3);
  });

  it('stops comparing nested lists whose work is far larger than their size', { timeout: TIMEOUT }, async () => {
    await expectFailure('{% set a = [1] * 1000 %}{% set b = [a] * 1000 %}{% set a2 = [1] * 1000 %}{% set b2 = [a2] * 1000 %}\n\n{{ [b] * 1000 == [b2] * 1000 }}\n', 'KG312', 4);
  });

  it('takes its limits from the flags and from render_limits in the config', { timeout: TIMEOUT }, async () => {
    // About 200,000 steps: within the default, past --max-steps 100000, within the config's 1,000,000 again.
    const body = '{% for i in range(400) %}{% for j in range(500) %}{% endfor %}{% endfor %}\n';
    const { dir } = await treeWith(body);
    expect((await run(dir, ['generate', '--quiet'])).exitCode).toBe(0);
    const lowered = await run(dir, ['generate', '--max-steps', '100000']);
    expect(lowered.exitCode).toBe(1);
    expect(lowered.stderr).toContain('error[KG312]: the render took more than 100,000 steps');
    fs.appendFileSync(path.join(dir, 'kolla-gen.yaml'), 'render_limits:\n  max_steps: 100000\n  max_output_size: 1000000\n');
    expect((await run(dir, ['generate'])).stderr).toContain('error[KG312]');
    // The flag wins over the config.
    expect((await run(dir, ['generate', '--quiet', '--max-steps', '1000000'])).exitCode).toBe(0);
    const tight = await run(dir, ['generate', '--max-output-size', '10']);
    expect(tight.stderr).toContain('error[KG311]: the output grew past 10 characters');
  });

  it('refuses limits that are not whole numbers of 1 or more', { timeout: TIMEOUT }, async () => {
    const { dir } = await treeWith('');
    const flag = await run(dir, ['generate', '--max-steps', '0']);
    expect(flag.exitCode).toBe(1);
    expect(flag.stderr).toContain("option '--max-steps <n>' argument '0' is invalid");
    fs.appendFileSync(path.join(dir, 'kolla-gen.yaml'), 'render_limits:\n  max_value_size: -5\n');
    const config = await run(dir, ['generate']);
    expect(config.exitCode).toBe(1);
    expect(config.stderr).toContain('error[KG102]: render_limits.max_value_size');
  });

  it('turns a runaway recursion into a KG error, not a crash', { timeout: TIMEOUT }, async () => {
    const stderr = await expectFailure('{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}\n{{ m(0) }}\n', 'KG301', 2);
    expect(stderr).toContain('maximum recursion depth exceeded');
  });
});

describe('--strict-undefined', () => {
  const body = 'LABEL a="{{ defined_one | default(\'x\') }}"\n{% if maybe is defined %}RUN true{% endif %}\nRUN echo {{ typo_variable }}\n';
  let dir: string;
  beforeAll(async () => {
    ({ dir } = await treeWith(body));
  });

  it('renders an undefined variable as "" without it', { timeout: TIMEOUT }, async () => {
    expect((await run(dir, ['generate', '--quiet'])).exitCode).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'generated/ubuntu/tools-api/Dockerfile'), 'utf8')).toMatch(/^RUN echo $/m);
  });

  it('fails on it with the flag, and still allows `is defined` and `default`', { timeout: TIMEOUT }, async () => {
    const stderr = await expectFailure(body, 'KG313', 4, ['--strict-undefined']);
    expect(stderr).toContain("'typo_variable' is undefined");
  });

  it('fails on it with strict_undefined: true in the config', { timeout: TIMEOUT }, async () => {
    await expectFailure(body, 'KG313', 4, [], 'strict_undefined: true\n');
  });
});

describe('numbers as Python computes them', () => {
  it('refuses an int a double cannot hold, where Python would print all its digits', { timeout: TIMEOUT }, async () => {
    const stderr = await expectFailure('\nRUN echo {{ 2 ** 1024 }}\n', 'KG314', 3);
    expect(stderr).toContain('2 ** 1024 is an int of 309 digits');
    await expectFailure('RUN echo {{ 2 ** 53 + 1 }}\n', 'KG314', 2);
    await expectFailure('RUN echo {{ 12345678901234567890 }}\n', 'KG314', 2);
  });

  it('renders nested format fields and exact floats as Python does', { timeout: TIMEOUT }, async () => {
    const { dir } = await treeWith("RUN echo '[{{ '{:{}}'.format(1, 5) }}]' {{ '%.0f' % 2.5 }} {{ '%.2f' % 1e21 }} {{ 2 ** 64 }}\n");
    expect((await run(dir, ['generate', '--quiet'])).exitCode).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'generated/ubuntu/tools-api/Dockerfile'), 'utf8')).toContain(
      "RUN echo '[    1]' 2 1000000000000000000000.00 18446744073709551616",
    );
  });
});
