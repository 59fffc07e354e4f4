import { describe, expect, it } from 'vitest';
import { resolveConfig, type CliOptions } from '../src/load/config/resolve.js';
import { configOptions, withConfigOptions } from '../src/load/config/options.js';
import { optionsDiff, recordOptions } from '../src/load/config/made-with.js';

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

describe('the options of kolla-gen.yaml and the flags', () => {
  const written = { template_override: 'ops.j2', vars_files: ['v.yaml'], pass_env: ['HTTP_PROXY'], profile: ['infra'], regex: ['nova'], skip_parents: true };

  it('paths are relative to the config file; lists take the config\'s entries, then the flags\'; regexes on the command line replace', () => {
    const own = configOptions(written, 'ops/kolla-gen.yaml');
    expect(own).toMatchObject({ templateOverrides: ['ops/ops.j2'], varsFiles: ['ops/v.yaml'] });
    expect(withConfigOptions({ templateOverrides: ['x.j2'], profiles: ['main'], passEnv: ['HTTP_PROXY', 'NO_PROXY'] }, own)).toMatchObject({
      templateOverrides: ['ops/ops.j2', 'x.j2'],
      profiles: ['infra', 'main'],
      passEnv: ['HTTP_PROXY', 'NO_PROXY'],
      regexes: ['nova'],
      skipParents: true,
    });
    expect(withConfigOptions({ regexes: ['keystone'] }, own).regexes).toEqual(['keystone']);
  });

  it('records the same options the same way, from the config or from flags', () => {
    const fromFlags = recordOptions({}, { templateOverrides: ['ops.j2'], buildArgs: ['B=2', 'A=1'], tag: 't' }, { config: 'kolla-gen.yaml' });
    const fromConfig = recordOptions({ template_override: 'ops.j2', build_args: { A: 1, B: '2' }, tag: 't' }, {}, { config: 'kolla-gen.yaml' });
    expect(fromFlags).toEqual(fromConfig);
    expect(JSON.stringify(fromFlags)).toBe(JSON.stringify(fromConfig));
  });

  it('names the lines that make a record agree, and shows nothing of an unknown key', () => {
    const expected = recordOptions({ namespace: 'acme' }, {}, { config: 'kolla-gen.yaml' });
    const diff = optionsDiff({ config: 'kolla-gen.yaml', template_override: ['o.j2'], evil: '/etc/passwd', affected_since: 'HEAD~1' }, expected);
    expect(diff).toEqual({ set: ['template_override: ["o.j2"]'], remove: ['namespace'], runOnly: ['--affected-since "HEAD~1"'] });
    expect(optionsDiff('not a record', expected)).toBeUndefined();
    expect(optionsDiff(expected, expected)).toBeUndefined();
  });

  it('records verify_existing, from the config or the flag, only beside skip_existing (it changes how the registry is asked)', () => {
    const at = { config: 'kolla-gen.yaml' };
    expect(recordOptions({ verify_existing: true }, { skipExisting: 'error' }, at)).toEqual(recordOptions({}, { skipExisting: 'error', verifyExisting: true }, at));
    expect(recordOptions({}, { skipExisting: 'error', verifyExisting: true }, at)).toMatchObject({ skip_existing: 'error', verify_existing: true });
    expect(recordOptions({ verify_existing: true }, {}, at)).not.toHaveProperty('verify_existing');
    expect(recordOptions({ verify_existing: true }, { skipExisting: 'error', verifyExisting: false }, at)).not.toHaveProperty('verify_existing');
    const diff = optionsDiff({ config: 'kolla-gen.yaml', skip_existing: 'error', verify_existing: true }, recordOptions({}, {}, at));
    expect(diff?.runOnly).toEqual(['--skip-existing "error"', '--verify-existing']);
  });
});
