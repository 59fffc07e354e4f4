// Input a user or a pull request can get wrong: each case is a KG error (or warning) with its code, its place, its
// hint, exit 1, and generated/ untouched; and what must keep working (a FROM chain 10,000 deep, ordinary regexes).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { copyFixture, run, snapshot, write } from './support/cli.js';

const T = { timeout: 120_000 };

// The basic fixture, generated once: each bad run must leave generated/ as it was.
let dir = '';
let before: Record<string, string> = {};
const config = () => fs.readFileSync(path.join(dir, 'kolla-gen.yaml'), 'utf8');
let original = '';

beforeAll(async () => {
  dir = copyFixture('basic');
  original = config();
  const r = await run(dir, ['generate']);
  expect(r.exitCode).toBe(0);
  before = snapshot(path.join(dir, 'generated'));
  expect(Object.keys(before).length).toBeGreaterThan(0);
}, 120_000);

/** Runs `generate` with the config text (or the original) and args; the output dir must be untouched. */
async function refused(args: string[], configText = original) {
  fs.writeFileSync(path.join(dir, 'kolla-gen.yaml'), configText);
  const r = await run(dir, ['generate', ...args]);
  fs.writeFileSync(path.join(dir, 'kolla-gen.yaml'), original);
  expect(snapshot(path.join(dir, 'generated'))).toEqual(before);
  expect(r.stderr).not.toContain('internal error');
  expect(r.exitCode).toBe(1);
  return r.stderr;
}

const BOMB = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(',')}]`)].join('\n');

describe('YAML, Unicode and bake maps', () => {
  it('an alias bomb in kolla-gen.yaml is KG130 at its first alias', T, async () => {
    const err = await refused([], `${original}vars:\n  ${BOMB.split('\n').join('\n  ')}\n`);
    expect(err).toContain('error[KG130]');
    expect(err).toMatch(/--> kolla-gen\.yaml:\d+:\d+/);
    expect(err).toContain('hint: a YAML file may use at most 100 aliases');
  });

  it('an alias bomb in a --vars file is KG130 in that file', T, async () => {
    write(dir, 'bomb.yaml', `${BOMB}\n`);
    const err = await refused(['--vars', 'bomb.yaml']);
    expect(err).toContain('error[KG130]');
    expect(err).toContain('--> bomb.yaml:2:8');
  });

  it('a lone surrogate in build_args is KG131 at its key', T, async () => {
    const err = await refused([], original.replace('build_args:\n', 'build_args:\n  LONE: "x\\ud800y"\n'));
    expect(err).toContain('error[KG131]: build_args.LONE (kolla-gen.yaml): "x\\ud800y" holds a lone UTF-16 surrogate');
    expect(err).toContain('--> kolla-gen.yaml:6:3');
  });

  it('two NFC-equal keys in build_args are KG132, once', T, async () => {
    const err = await refused([], original.replace('build_args:\n', 'build_args:\n  "caf\\u00e9": "1"\n  "cafe\\u0301": "2"\n'));
    expect(err.match(/error\[KG132\]/g)).toHaveLength(1);
    expect(err).toContain('--> kolla-gen.yaml:7:3');
    expect(err).toContain('hint: bake normalises strings to NFC');
  });
});

describe('refs: every part against the distribution grammar, named by its source', () => {
  const cases: [string, string[], string, RegExp][] = [
    ['--namespace UPPER', ['--namespace', 'UPPER'], 'error[KG133]: --namespace: "UPPER" is not a valid image namespace (repository names are lowercase)', /hint: a namespace is lowercase/],
    ["--tag 'bad tag!'", ['--tag', 'bad tag!'], 'error[KG133]: --tag: "bad tag!" is not a valid image tag', /hint: a tag is 1 to 128 characters/],
    ["--tag 'x${y}'", ['--tag', 'x${y}'], 'error[KG133]: --tag: "x${y}" is not a valid image tag (a "${" would be expanded', /hint: a tag/],
    ['--cache-ref with options', ['--cache-ref', 'reg/c,type=local,dest=/x'], 'error[KG133]: --cache-ref: "reg/c,type=local,dest=/x" is not a valid cache repository (",", "=" and spaces would add cache options)', /hint: write a repository/],
    ['--registry a..b', ['--registry', 'a..b'], 'error[KG133]: --registry: "a..b" is not a valid image registry', /hint: a registry is a host/],
    ['--image-name-prefix Foo-', ['--image-name-prefix', 'Foo-'], 'error[KG133]: --image-name-prefix: "Foo-" is not a valid image prefix', /hint: the image name prefix/],
  ];
  for (const [name, args, message, hint] of cases) {
    it(name, T, async () => {
      const err = await refused(args);
      expect(err).toContain(message);
      expect(err).toMatch(hint);
    });
  }

  it('a tag in kolla-gen.yaml points at its key, with the family filled in', T, async () => {
    const err = await refused([], original.replace('tag: "1.0-{base}"', 'tag: "1.0 {base}"'));
    expect(err).toContain('error[KG133]: tag (kolla-gen.yaml): "1.0 ubuntu" is not a valid image tag (from "1.0 {base}")');
    expect(err).toContain('--> kolla-gen.yaml:2:6');
  });

  for (const folder of ['Foo', 'a..b']) {
    it(`an image folder ${folder} is KG134 at its template`, T, async () => {
      write(dir, `docker/${folder}/Dockerfile.j2`, 'FROM ubuntu:24.04\n');
      try {
        const err = await refused([]);
        expect(err).toContain(`error[KG134]: image folder "${folder}" cannot be part of an image ref`);
        expect(err).toContain(`--> docker/${folder}/Dockerfile.j2:1:1`);
        expect(err).toContain('hint: an image is named after its folder');
      } finally {
        fs.rmSync(path.join(dir, 'docker', folder), { recursive: true });
      }
    });
  }
});

describe('regexes run in bounded time', () => {
  it("'^(a+)+$' against a name of 33 a's answers at once; an ordinary regex still selects", T, async () => {
    write(dir, `docker/${'a'.repeat(33)}/Dockerfile.j2`, 'FROM ubuntu:24.04\n');
    try {
      const r = await run(dir, ['list', '-b', 'ubuntu', '-a', 'amd64', '^(a+)+$']);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toContain('a'.repeat(33));
      const plain = await run(dir, ['list', '-b', 'ubuntu', '-a', 'amd64', '^tools-(api|base)$', 'd\\w$']);
      expect(plain.stdout.split('\n').map((l) => l.trim()).filter((l) => l && !l.endsWith('selected')).sort()).toEqual(['base', 'db', 'tools-api', 'tools-base']);
    } finally {
      fs.rmSync(path.join(dir, 'docker', 'a'.repeat(33)), { recursive: true });
    }
  });

  it('a profile regex with exponential backtracking is bounded too', T, async () => {
    write(dir, `docker/${'a'.repeat(33)}/Dockerfile.j2`, 'FROM ubuntu:24.04\n');
    fs.writeFileSync(path.join(dir, 'kolla-gen.yaml'), original.replace('  infra: [db]', '  infra: [db]\n  evil: ["^(a+)+$"]'));
    try {
      const r = await run(dir, ['list', '-b', 'ubuntu', '-a', 'amd64', '-p', 'evil']);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toContain('a'.repeat(33));
    } finally {
      fs.writeFileSync(path.join(dir, 'kolla-gen.yaml'), original);
      fs.rmSync(path.join(dir, 'docker', 'a'.repeat(33)), { recursive: true });
    }
  });

  it('lookaround is refused as KG610, an invalid regex stays KG600', T, async () => {
    const err = await refused(['(?<=tools-)api']);
    expect(err).toContain('error[KG610]: regex /(?<=tools-)api/ cannot be used: it uses lookaround');
    expect(err).toContain('hint: selection regexes run on RE2');
    expect(await refused(['(\\w)\\1'])).toContain('error[KG610]: regex /(\\w)\\1/ cannot be used: it uses backreferences');
    expect(await refused(['a('])).toContain('error[KG600]');
  });

  it('an invalid regex in a config profile fails generate, at its place in the config', T, async () => {
    const err = await refused([], original.replace('  infra: [db]', '  infra: [db]\n  broken: ["db", "(a"]'));
    expect(err).toContain('error[KG600]: profiles.broken: entry /(a/ is not a valid regex');
    expect(err).toContain('--> kolla-gen.yaml:9:18');
  });
});

describe('messages', () => {
  it('a typo in a parent is one KG402 listing the variants it hits', T, async () => {
    const file = path.join(dir, 'docker/tools/tools-api/Dockerfile.j2');
    const text = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, text.replace('tools-base', 'tools-bsae'));
    try {
      const err = await refused([]);
      expect(err.match(/error\[KG402\]/g)).toHaveLength(1);
      expect(err).toContain('--> docker/tools/tools-api/Dockerfile.j2:1:1');
      expect(err).toContain('on 4 variants: ubuntu-amd64, ubuntu-arm64, rocky-amd64, rocky-arm64');
      expect(err).toContain('hint: did you mean tools-base?');
      expect(err).toContain('kolla-gen: 1 error');
    } finally {
      fs.writeFileSync(file, text);
    }
  });

  it('an undefined variable in a FROM is one KG401 whose hint names it', T, async () => {
    const file = path.join(dir, 'docker/tools/tools-api/Dockerfile.j2');
    const text = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, text.replace('{{ tag }}', '{{ tga }}'));
    try {
      const err = await refused([]);
      expect(err.match(/error\[KG401\]/g)).toHaveLength(1);
      expect(err).toContain('on 4 variants');
      expect(err).toContain('hint: "tga" is not defined, so it renders as nothing');
    } finally {
      fs.writeFileSync(file, text);
    }
  });

  it('a FROM one edit from a tree image warns KG410 with a did you mean', T, async () => {
    const file = path.join(dir, 'docker/tools/tools-api/Dockerfile.j2');
    const text = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, text.replace('{{ namespace }}', 'acm'));
    try {
      const r = await run(dir, ['list', '-b', 'ubuntu']);
      expect(r.exitCode).toBe(0);
      expect(r.stderr).toContain('warning[KG410]: FROM acm/tools-base:1.0-ubuntu is pulled as an external base');
      expect(r.stderr).toContain('--> docker/tools/tools-api/Dockerfile.j2:1:1');
      expect(r.stderr).toContain('hint: did you mean acme/tools-base:1.0-ubuntu?');
    } finally {
      fs.writeFileSync(file, text);
    }
  });

  it('-b ubunto: did you mean ubuntu', T, async () => {
    const err = await refused(['-b', 'ubunto']);
    expect(err).toContain('error[KG104]: unknown base "ubunto"');
    expect(err).toContain('hint: did you mean ubuntu?');
  });

  it("--content-tags only (a space) is KG611 with the fix, not a regex", T, async () => {
    const err = await refused(['--content-tags', 'only']);
    expect(err).toContain('error[KG611]');
    expect(err).toContain('hint: write --content-tags=only');
  });

  it("-p '' is an error, not every image", T, async () => {
    const err = await refused(['-p', '']);
    expect(err).toContain('error[KG601]: an empty profile name selects nothing');
    expect(err).toContain('hint: name a profile (infra)');
  });
});

describe('a FROM chain 10,000 deep', () => {
  it('generate, list and check work (no recursion overflows)', { timeout: 900_000 }, async () => {
    // Its own temp dir, removed here: 10,000 folders take longer to remove than an afterAll hook may.
    const deep = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-deep-'));
    try {
    fs.writeFileSync(path.join(deep, 'kolla-gen.yaml'), 'bases: [ubuntu]\narches: [amd64]\n');
    write(deep, 'docker/i0/Dockerfile.j2', 'FROM ubuntu:24.04\n');
    for (let i = 1; i < 10_000; i++) write(deep, `docker/i${i}/Dockerfile.j2`, `FROM {{ namespace }}/{{ image_prefix }}i${i - 1}:{{ tag }}\n`);
    const generated = await run(deep, ['generate']);
    expect(generated.stderr).toBe('kolla-gen: bake it with: docker buildx bake -f generated/docker-bake.hcl');
    expect(generated.exitCode).toBe(0);
    const list = await run(deep, ['list', 'i9999$']);
    expect(list.exitCode).toBe(0);
    expect(list.stdout).toContain('ubuntu-amd64: 10000 selected');
    const check = await run(deep, ['check']);
    expect(check.exitCode).toBe(0);
    const bake = JSON.parse(fs.readFileSync(path.join(deep, 'generated/docker-bake.json'), 'utf8')) as { target: Record<string, { contexts?: Record<string, string> }> };
    expect(bake.target['ubuntu-i9999']?.contexts).toEqual({ 'kolla/i9998': 'target:ubuntu-i9998' });
    } finally {
      fs.rmSync(deep, { recursive: true, force: true });
    }
  });
});
