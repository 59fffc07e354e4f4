import { describe, expect, it } from 'vitest';
import { resolveConfig, type CliOptions } from '../src/load/config/resolve.js';

function resolve(text: string | undefined, cli: CliOptions = {}, vars?: string) {
  return resolveConfig({
    cli,
    config: text === undefined ? undefined : { path: 'kolla-gen.yaml', text },
    varsFiles: vars === undefined ? [] : [{ path: 'vars.yaml', text: vars }],
    env: { SECRET: 's3cret', PROXY: 'http://proxy:3128' },
  });
}

describe('resolveConfig', () => {
  it('has the defaults of DESIGN.md', () => {
    const { config } = resolve(undefined);
    expect(config).toMatchObject({
      dockerDirs: ['docker'],
      output: 'generated',
      namespace: 'kolla',
      tag: 'latest',
      arches: ['amd64', 'arm64'],
      hasTypeAxis: false,
      families: [{ base: 'ubuntu' }, { base: 'debian' }, { base: 'rocky' }, { base: 'centos' }],
      env: {},
    });
  });

  it('crosses bases with types, the command line winning over the file', () => {
    const { config } = resolve('bases: [ubuntu, rocky]\ntypes: [binary, source]\ntag: "1"', { bases: ['rocky'], types: ['source'], tag: '2' });
    expect(config?.families).toEqual([{ base: 'rocky', type: 'source' }]);
    expect(config?.tag).toBe('2');
  });

  it("accepts Kolla's arch names", () => {
    expect(resolve(undefined, { arches: ['x86_64', 'aarch64', 'amd64'] }).config?.arches).toEqual(['amd64', 'arm64']);
  });

  it('merges vars: config, then --vars files in order', () => {
    const { config } = resolve('vars:\n  a: 1\n  b: 2', {}, 'b: 3\nc: [x]');
    expect(config?.vars).toEqual({ a: 1, b: 3, c: ['x'] });
  });

  it('passes only the environment variables --pass-env names', () => {
    expect(resolve(undefined, { passEnv: ['PROXY'] }).config?.env).toEqual({ PROXY: 'http://proxy:3128' });
  });

  it('stringifies build args and adds --build-arg', () => {
    expect(resolve('build_args:\n  A: 1\n  B: true', { buildArgs: ['C=x=y'] }).config?.buildArgs).toEqual({ A: '1', B: 'true', C: 'x=y' });
  });

  it.each<[string, string | undefined, CliOptions, string | undefined, string, { line: number; column: number } | undefined]>([
    ['broken YAML', 'bases: [ubuntu\ntag: 1', {}, undefined, 'KG101', { line: 2, column: 1 }],
    ['an unknown key', 'tag: x\nbasez: [ubuntu]', {}, undefined, 'KG102', { line: 2, column: 1 }],
    ['a wrong type', 'bases: ubuntu', {}, undefined, 'KG102', { line: 1, column: 8 }],
    ['a nested wrong type', 'profiles:\n  infra: [1, mariadb]', {}, undefined, 'KG102', { line: 2, column: 11 }],
    ['an unknown base in the file', 'bases: [ubuntu, suse]', {}, undefined, 'KG104', { line: 1, column: 8 }],
    ['an unknown base on the command line', undefined, { bases: ['suse'] }, undefined, 'KG104', undefined],
    ['an unknown arch', undefined, { arches: ['riscv64'] }, undefined, 'KG104', undefined],
    ['a type the tree does not have', 'types: [binary]', { types: ['source'] }, undefined, 'KG104', undefined],
    ['a bad unbuildable key', 'unbuildable:\n  ubuntu+rocky: [x]', {}, undefined, 'KG102', { line: 2, column: 3 }],
    ['a malformed --build-arg', undefined, { buildArgs: ['NOVALUE'] }, undefined, 'KG105', undefined],
    ['a vars file that is a list', undefined, {}, '- a\n- b', 'KG103', { line: 1, column: 1 }],
    ['a vars file that is not YAML', undefined, {}, 'a: [', 'KG103', { line: 1, column: 5 }],
  ])('%s', (_name, text, cli, vars, code, where) => {
    const { config, diagnostics } = resolve(text, cli, vars);
    expect(config).toBeUndefined();
    expect(diagnostics[0]?.code).toBe(code);
    if (where) expect(diagnostics[0]?.location).toMatchObject(where);
  });
});
