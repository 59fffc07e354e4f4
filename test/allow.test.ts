// The read grants a bake needs (src/emit/bake/allow.ts): buildx 0.20 and later refuse a local context or Dockerfile
// outside the dir bake runs in unless `--allow fs.read=<dir>` grants it. Table-driven; the real buildx answers in
// test/e2e (ops.test.ts, build.test.ts) on today's engine.
import { describe, expect, it } from 'vitest';
import { allowArgs, bakeCommand, bakeKnowsAllow, generationReads, isOutside, readGrants } from '../src/emit/bake/allow.js';

describe('readGrants', () => {
  it.each<[string, { used: string[]; roots: string[]; linkedOut?: string[] }, string[]]>([
    ['everything inside: nothing to grant', { used: ['docker/base', 'generated/contexts/app', 'generated'], roots: ['docker', 'generated'] }, []],
    ['a docker dir beside the repo: that dir, not each image', { used: ['../kolla/kolla/docker/base', '../kolla/kolla/docker/nova/nova-api', 'generated'], roots: ['../kolla/kolla/docker', 'generated'] }, ['../kolla/kolla/docker']],
    ['only the docker dirs a context uses', { used: ['../up/docker/base', 'overlays/app'], roots: ['../up/docker', '../other/docker', 'overlays'] }, ['../up/docker']],
    ['the narrowest of nested roots', { used: ['../up/docker/extra/x', '../up/docker/base'], roots: ['../up', '../up/docker', '../up/docker/extra'] }, ['../up/docker', '../up/docker/extra']],
    ['a docker dir that holds the repo: each context, never ..', { used: ['../base', '../app'], roots: ['..'] }, ['../app', '../base']],
    ['never /: each context', { used: ['/srv/tree/base'], roots: ['/'] }, ['/srv/tree/base']],
    ['an output dir outside (a private generation)', { used: ['../../tmp/kg-x/generated/contexts/app', '../../tmp/kg-x/generated'], roots: ['docker', '../../tmp/kg-x/generated'] }, ['../../tmp/kg-x/generated']],
    ['paths spelled loosely are folded first', { used: ['./../up/./docker/base', 'docker/../../up/docker/app'], roots: ['../up/docker/'] }, ['../up/docker']],
    ['an absolute docker dir', { used: ['/srv/kolla/docker/base'], roots: ['/srv/kolla/docker'] }, ['/srv/kolla/docker']],
    ['a docker dir inside by name, outside through a link', { used: ['upstream/docker/base', 'docker/app'], roots: ['upstream/docker', 'docker'], linkedOut: ['upstream/docker'] }, ['upstream/docker']],
  ])('%s', (_name, input, expected) => {
    const grants = readGrants(input);
    expect(grants).toEqual(expected);
    for (const g of grants) expect(['..', '/', '.']).not.toContain(g);
  });

  it('never grants a dir that holds the working dir, even where the bake reads it (-o .., which generate refuses)', () => {
    expect(readGrants({ used: ['..', '../../x', '/'], roots: ['..'] })).toEqual(['../../x']);
  });

  it('isOutside', () => {
    expect(['..', '../x', '/abs', 'a/../../x'].map(isOutside)).toEqual([true, true, true, true]);
    expect(['.', 'docker', 'a/../b', '..x/y'].map(isOutside)).toEqual([false, false, false, false]);
  });
});

describe('generationReads', () => {
  it('grants nothing for a generation without targets', () => {
    expect(generationReads({ contexts: [], output: '../out', dockerDirs: ['../up/docker'] })).toEqual([]);
  });
  it('grants the output dir where it lies outside: the rendered Dockerfiles are read from there', () => {
    expect(generationReads({ contexts: ['../up/docker/base'], output: '../out', dockerDirs: ['../up/docker'] })).toEqual(['../out', '../up/docker']);
  });
});

describe('the bake command', () => {
  it('says each grant as --allow fs.read=<dir>', () => {
    expect(allowArgs(['../a', '../b'])).toEqual(['--allow', 'fs.read=../a', '--allow', 'fs.read=../b']);
    expect(bakeCommand('generated/docker-bake.hcl', ['../kolla/kolla/docker'])).toBe('docker buildx bake -f generated/docker-bake.hcl --allow fs.read=../kolla/kolla/docker');
    expect(bakeCommand('generated/docker-bake.hcl', [])).toBe('docker buildx bake -f generated/docker-bake.hcl');
    expect(bakeCommand('gen/docker-bake.hcl', ["../my tree's/docker"])).toBe(`docker buildx bake -f gen/docker-bake.hcl --allow 'fs.read=../my tree'\\''s/docker'`);
  });

  it('knows which buildx takes bake --allow, from its help', () => {
    // the option lines as buildx prints them (0.29 has it; 0.13 does not)
    expect(bakeKnowsAllow('Options:\n      --allow stringArray      Allow build to access specified resources\n      --builder string')).toBe(true);
    expect(bakeKnowsAllow('Options:\n      --builder string         Override the configured builder instance\n      --load')).toBe(false);
    expect(bakeKnowsAllow('')).toBe(false);
  });
});
