// Each command's --help: only the options it takes, under a heading per group; an option it does not take is a usage error.
import { describe, expect, it } from 'vitest';
import { copyFixture, run } from './support/cli.js';

const HEADINGS = {
  input: 'Input options (the tree and its templates):',
  selection: 'Selection options (which images):',
  naming: 'Naming options (image references):',
  registry: 'Registry options:',
  bake: 'Output dir and bake file options:',
  output: 'Output options:',
  build: 'Build options (docker buildx bake):',
};
type Group = keyof typeof HEADINGS;

/** A flag of each group, to look for in the help and to give where the command does not take it. */
const SAMPLE: Record<Group, string[]> = {
  input: ['--config', '--docker-dir', '--vars'],
  selection: ['--base', '--profile', '--affected-since'],
  naming: ['--namespace', '--tag', '--content-tags'],
  registry: ['--skip-existing', '--verify-existing', '--insecure-registry'],
  bake: ['--output', '--build-arg', '--cache-ref'],
  output: ['--json', '--quiet'],
  build: ['--push', '--builder', '--retries'],
};

const COMMANDS: [string, Group[]][] = [
  ['generate', ['input', 'selection', 'naming', 'registry', 'bake', 'output']],
  ['check', ['input', 'selection', 'naming', 'registry', 'bake', 'output']],
  ['list', ['input', 'selection', 'naming', 'registry', 'output']],
  ['explain', ['input', 'selection', 'naming', 'registry', 'output']],
  ['deps', ['input', 'selection', 'output']],
  ['build', ['input', 'selection', 'naming', 'registry', 'bake', 'output', 'build']],
];
const GROUPS = Object.keys(HEADINGS) as Group[];

/** A value for a flag that takes one, so that the flag itself is what is judged. */
const VALUE: Record<string, string> = { '--config': 'x', '--docker-dir': 'x', '--vars': 'x', '--base': 'ubuntu', '--profile': 'x', '--affected-since': 'HEAD',
  '--namespace': 'x', '--tag': 'x', '--insecure-registry': 'x', '--output': 'x', '--build-arg': 'A=1', '--cache-ref': 'x', '--builder': 'x', '--retries': '1' };

describe.each(COMMANDS)('kolla-gen %s --help', (command, groups) => {
  it('shows its groups, in order, and the options of no other group', async () => {
    const result = await run(process.cwd(), [command, '--help']);
    expect(result.exitCode).toBe(0);
    const headings = result.stdout.split('\n').filter((line) => /^(\S.* )?[Oo]ptions( .*)?:$/.test(line));
    expect(headings).toEqual([...groups.map((g) => HEADINGS[g]), 'Options:']);
    for (const g of GROUPS) {
      for (const flag of SAMPLE[g]) {
        if (groups.includes(g)) expect(result.stdout, `${command} --help shows ${flag}`).toMatch(new RegExp(`^ {2}(-\\w, )?${flag}\\b`, 'm'));
        else expect(result.stdout, `${command} --help leaves out ${flag}`).not.toContain(flag);
      }
    }
  });

  it('refuses each option of the groups it does not take, with exit 1 and the name of the option', async () => {
    const dir = copyFixture('basic');
    const image = command === 'explain' ? ['db'] : [];
    for (const g of GROUPS.filter((g) => !groups.includes(g))) {
      for (const flag of SAMPLE[g]) {
        const args = [command, ...image, flag, ...(VALUE[flag] !== undefined ? [VALUE[flag]] : [])];
        const result = await run(dir, args);
        expect(result.exitCode, args.join(' ')).toBe(1);
        expect(result.stderr).toContain(`error: unknown option '${flag}'`);
        expect(result.stdout).toBe('');
      }
    }
  });
});

it('every command still takes its own options (a run that would fail on an unknown one)', async () => {
  const dir = copyFixture('basic');
  expect((await run(dir, ['deps', '-c', 'kolla-gen.yaml', '-b', 'ubuntu', '--affected-since', 'HEAD', '--format', 'dot'])).stderr).not.toMatch(/unknown option/);
  expect((await run(dir, ['list', '-n', 'acme', '--tag', 'x', '--quiet'])).exitCode).toBe(0);
  expect((await run(dir, ['explain', 'db', '--registry', 'localhost:5000', '--content-tags'])).exitCode).toBe(0);
  expect((await run(dir, ['check', '-o', 'generated', '--build-arg', 'A=1'])).stderr).not.toMatch(/unknown option/);
});
