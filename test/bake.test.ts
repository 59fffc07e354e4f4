import { parse } from '@cdktf/hcl2json';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { emitHcl } from '../src/emit/bake/hcl.js';
import { emitJson } from '../src/emit/bake/json.js';
import type { BakeFile, BakeTarget } from '../src/emit/bake/model.js';

// What a bake file means, whichever syntax wrote it: blocks by name, every string as bake evaluates it.
type Build = { group: Record<string, Record<string, unknown>>; target: Record<string, Record<string, unknown>> };

/**
 * The value of an HCL template that holds no interpolation: `$${` is `${` and `%%{` is `%{`,
 * read leftmost first as HCL's scanner reads them (`$$${` is `$` then the escape `$${`).
 * A live `${` or `%{` throws: the emitters must never write one.
 */
function unescapeTemplate(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if ((c === '$' || c === '%') && s[i + 1] === c && s[i + 2] === '{') {
      out += `${c}{`;
      i += 2;
    } else if ((c === '$' || c === '%') && s[i + 1] === '{') {
      throw new Error(`live template sequence at ${i} in ${JSON.stringify(s)}`);
    } else {
      out += c;
    }
  }
  return out;
}

/**
 * Unescapes every string and every object key, as bake evaluates both; then NFC, because bake's
 * values are cty strings, which are NFC-normalised in both syntaxes (hcl2json's already are).
 */
function evaluate(v: unknown): unknown {
  if (typeof v === 'string') return unescapeTemplate(v).normalize('NFC');
  if (Array.isArray(v)) return v.map(evaluate);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [evaluate(k) as string, evaluate(x)]));
  }
  return v;
}

/**
 * hcl2json answers in HCL's JSON syntax: each block label maps to an array of bodies
 * (`target: { a: [ {...} ] }`), string escapes are decoded, and literal `${`/`%{` come back
 * re-escaped as `$${`/`%%{` (an interpolation would come back as a live `${…}`).
 */
async function buildFromHcl(text: string): Promise<Build> {
  const raw = (await parse('docker-bake.hcl', text)) as Record<string, Record<string, unknown[]>>;
  expect(Object.keys(raw).every((k) => k === 'group' || k === 'target')).toBe(true);
  const unwrap = (blocks: Record<string, unknown[]> = {}): Record<string, Record<string, unknown>> =>
    Object.fromEntries(
      Object.entries(blocks).map(([name, bodies]) => {
        expect(bodies).toHaveLength(1);
        return [name, evaluate(bodies[0]) as Record<string, unknown>];
      }),
    );
  return { group: unwrap(raw.group), target: unwrap(raw.target) };
}

function buildFromJson(text: string, header: string[]): Build {
  const raw = JSON.parse(text) as Record<string, unknown>;
  const { '//': comment, group = {}, target = {}, ...rest } = raw;
  expect(rest).toEqual({});
  const lines = header.flatMap((h) => h.split(/\r\n|\r|\n/)).filter((l) => l !== '');
  expect(comment).toBe(lines.length > 0 ? lines.join(' ') : undefined);
  return evaluate({ group, target }) as Build;
}

/** What the model says, in the same shape: empty lists and maps left out, as both emitters leave them out. */
function buildFromModel(file: BakeFile): Build {
  const nonEmpty = (entries: [string, unknown][]): Record<string, unknown> =>
    Object.fromEntries(
      entries.filter(([, v]) => v !== undefined && (typeof v !== 'object' || Object.keys(v as object).length > 0)),
    );
  return {
    group: Object.fromEntries(
      file.groups.map((g) => [g.name, { ...nonEmpty([['description', g.description || undefined]]), targets: g.targets }]),
    ),
    target: Object.fromEntries(
      file.targets.map((t) => [
        t.name,
        nonEmpty([
          ['description', t.description || undefined],
          ['context', t.context],
          ['dockerfile', t.dockerfile],
          ['contexts', t.contexts],
          ['tags', t.tags],
          ['platforms', t.platforms],
          ['args', t.args],
          ['labels', t.labels],
          ['cache-from', t.cacheFrom],
          ['cache-to', t.cacheTo],
        ]),
      ]),
    ),
  };
}

function nfc(v: unknown): unknown {
  if (typeof v === 'string') return v.normalize('NFC');
  if (Array.isArray(v)) return v.map(nfc);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.normalize('NFC'), nfc(x)]));
  return v;
}

/** Both files, read back, say exactly what the model says (as bake reads strings: NFC). */
async function expectRoundTrip(file: BakeFile): Promise<void> {
  const model = nfc(buildFromModel(file));
  expect(await buildFromHcl(emitHcl(file))).toEqual(model);
  expect(buildFromJson(emitJson(file), file.header)).toEqual(model);
}

function target(name: string, extra: Partial<BakeTarget> = {}): BakeTarget {
  return {
    name,
    context: `docker/${name}`,
    dockerfile: `../../generated/ubuntu/${name}/Dockerfile`,
    contexts: {},
    tags: [`kolla/${name}:2026.1`],
    platforms: ['linux/amd64', 'linux/arm64'],
    args: {},
    labels: {},
    ...extra,
  };
}

const HOSTILE = {
  interpolation: '${HOME}',
  directive: '%{ if true }x%{ endif }',
  escaped: '$${already}',
  escapedDirective: '%%{ already }',
  quotes: 'say "hi"',
  backslashes: 'C:\\path\\${x}\\',
  newlines: 'one\ntwo\r\nthree',
  tab: 'a\tb',
  controls: '\u0000\u0001\u001b\u007f\u0085',
  unicode: 'é ß 中文 \u2028',
  emoji: '😀👩‍👩‍👧',
  trailingDollar: 'cost$',
  dollars: '$$',
  lonePercent: '100%',
  braces: '{$}{%}',
  tripleDollar: '$$${x}',
  empty: '',
} satisfies Record<string, string>;

const SMALL: BakeFile = {
  header: ['Generated by kolla-gen from docker/ and kolla-gen.yaml.', 'Do not edit: run `kolla-gen generate`.'],
  groups: [
    { name: 'default', targets: ['ubuntu-base', 'ubuntu-nova-api'] },
    { name: 'profile-empty', description: 'A profile that matched nothing', targets: [] },
  ],
  targets: [
    target('ubuntu-base', {
      description: 'The base of every image',
      args: { http_proxy: 'http://10.0.0.1:3128', HOME_DIR: '${HOME}' },
      labels: { 'org.opencontainers.image.title': 'base', 'org.opencontainers.image.version': '2026.1' },
    }),
    target('ubuntu-nova-api', {
      contexts: { 'kolla/ubuntu-base:2026.1': 'target:ubuntu-base' },
      platforms: ['linux/amd64'],
      args: { QUOTE: 'say "hi"\n', 'for': 'keyword', 'weird key': '%{ x }' },
      cacheFrom: ['type=registry,ref=registry.example.com/cache/ubuntu-nova-api'],
      cacheTo: ['type=inline'],
    }),
  ],
};

describe('emitHcl and emitJson', () => {
  test('golden files of a small bake file', async () => {
    await expect(emitHcl(SMALL)).toMatchFileSnapshot('fixtures/bake/expected.hcl');
    await expect(emitJson(SMALL)).toMatchFileSnapshot('fixtures/bake/expected.json');
  });

  test('the golden bake file round-trips through both syntaxes', async () => {
    await expectRoundTrip(SMALL);
  });

  test('hostile strings in values, keys, contexts, tags and descriptions round-trip', async () => {
    const file: BakeFile = {
      header: ['header with ${HOME}'],
      groups: [{ name: 'default', description: HOSTILE.interpolation, targets: ['a', 'b-2', 'C_3'] }],
      targets: [
        target('a', { description: HOSTILE.directive, args: HOSTILE, labels: Object.fromEntries(Object.entries(HOSTILE).map(([k, v]) => [v, k])) }),
        target('b-2', {
          context: 'dir with ${x}',
          dockerfile: 'Docker"file',
          contexts: { 'kolla/ubuntu-base:2026.1': 'target:a', [HOSTILE.interpolation]: 'docker-image://${REG}/x' },
          tags: Object.values(HOSTILE),
          cacheFrom: [HOSTILE.escaped],
          cacheTo: [HOSTILE.backslashes],
        }),
        target('C_3', { args: { '1': 'integer-like key', '10': 'ten', '9': 'nine' } }),
      ],
    };
    await expectRoundTrip(file);
  });

  test('a target built on some arches only: a build stage that fails, naming it, when KG_ARCHES names none of them', async () => {
    const file: BakeFile = {
      header: [],
      archVariable: { name: 'KG_ARCHES', arches: ['amd64', 'arm64'] },
      groups: [],
      targets: [
        target('both', { followsArches: true }),
        target('x86only', { followsArches: true, platforms: ['linux/amd64'] }),
        // a per-arch target of a join builds its one arch, reached only through its join: no stage of its own
        target('join-arm64', { platforms: ['linux/arm64'] }),
      ],
    };
    const hcl = emitHcl(file);
    const stage = 'contains(split(",", KG_ARCHES), "amd64") ? null : "kolla-gen: x86only builds only on amd64, not for KG_ARCHES=${KG_ARCHES}"';
    expect(hcl).toContain(` = ${stage}\n`);
    expect(hcl.match(/^ {2}target +=/gm)).toHaveLength(1);
    const json = JSON.parse(emitJson(file)) as { target: Record<string, { target?: string }> };
    expect(json.target.x86only?.target).toBe(`\${${stage}}`);
    expect(json.target.both?.target).toBeUndefined();
    expect(json.target['join-arm64']?.target).toBeUndefined();
    // HashiCorp's parser reads it (buildx's evaluation of it, on 0.13 and 0.29: test/e2e/arches.test.ts)
    expect(Object.keys(((await parse('x.hcl', hcl)) as { target: Record<string, unknown> }).target).sort()).toEqual(['both', 'join-arm64', 'x86only']);
  });

  test('no live ${ or %{ is left in either file', () => {
    const file: BakeFile = { header: [], groups: [], targets: [target('a', { args: HOSTILE, labels: { [HOSTILE.interpolation]: HOSTILE.directive } })] };
    for (const text of [emitHcl(file), emitJson(file)]) {
      expect(text).not.toMatch(/(?<![$])\$\{|(?<![%])%\{/);
    }
    expect(emitHcl(file)).toContain('interpolation    = "$${HOME}"');
    expect(emitJson(file)).toContain('"$${HOME}": "%%{ if true }x%%{ endif }"');
  });

  test('map keys: identifiers bare, others quoted, keywords quoted, sorted by code unit', () => {
    const file: BakeFile = {
      header: [],
      groups: [],
      targets: [target('a', { args: { b: '1', B: '2', 'a-b': '3', _x: '4', '9': '5', 'null': '6', 'é': '7', 'x.y': '8' } })],
    };
    expect(emitHcl(file)).toContain(
      [
        '  args = {',
        '    "9"    = "5"',
        '    B      = "2"',
        '    _x     = "4"',
        '    a-b    = "3"',
        '    b      = "1"',
        '    "null" = "6"',
        '    "x.y"  = "8"',
        '    "é"    = "7"',
        '  }',
      ].join('\n'),
    );
    const json = emitJson(file);
    const keys = [...json.matchAll(/^ {8}"([^"]*)":/gm)].map((m) => m[1]);
    expect(keys).toEqual(['9', 'B', '_x', 'a-b', 'b', 'null', 'x.y', 'é']);
  });

  test('same model, keys inserted in another order: same bytes', () => {
    const a = target('a', { args: { X: '1', A: '2', M: '3' }, labels: { z: '1', y: '2' }, contexts: { 'k/b:1': 'target:b', 'k/a:1': 'target:c' } });
    const b = target('a', { args: { M: '3', A: '2', X: '1' }, labels: { y: '2', z: '1' }, contexts: { 'k/a:1': 'target:c', 'k/b:1': 'target:b' } });
    const file = (t: BakeTarget): BakeFile => ({ header: ['h'], groups: [{ name: 'default', targets: ['a'] }], targets: [t] });
    expect(emitHcl(file(a))).toBe(emitHcl(file(b)));
    expect(emitJson(file(a))).toBe(emitJson(file(b)));
  });

  test('empty lists and maps are left out, but a group keeps its empty targets list', () => {
    const file: BakeFile = {
      header: [],
      groups: [{ name: 'none', targets: [] }],
      targets: [target('a', { tags: [], platforms: [], cacheFrom: [], cacheTo: [] })],
    };
    expect(emitHcl(file)).toBe(
      ['group "none" {', '  targets = []', '}', '', 'target "a" {', '  context    = "docker/a"', '  dockerfile = "../../generated/ubuntu/a/Dockerfile"', '}', ''].join('\n'),
    );
    expect(JSON.parse(emitJson(file))).toEqual({
      group: { none: { targets: [] } },
      target: { a: { context: 'docker/a', dockerfile: '../../generated/ubuntu/a/Dockerfile' } },
    });
  });

  test('a file without groups, targets or header has no empty block objects (an error in HCL JSON)', async () => {
    const file: BakeFile = { header: [], groups: [], targets: [] };
    expect(emitJson(file)).toBe('{}\n');
    expect(emitHcl(file)).toBe('\n');
    expect(await parse('empty.hcl', emitHcl(file))).toEqual({});
  });

  test('a long list is written one item per line, and still parses', async () => {
    const tags = Array.from({ length: 6 }, (_, i) => `registry.example.com/kolla/ubuntu-nova-api:2026.1-${i}`);
    const file: BakeFile = { header: [], groups: [], targets: [target('a', { tags })] };
    const hcl = emitHcl(file);
    expect(hcl).toContain(`  tags = [\n${tags.map((t) => `    "${t}",\n`).join('')}  ]\n  platforms = ["linux/amd64", "linux/arm64"]\n`);
    await expectRoundTrip(file);
  });

  test('header lines become comments in HCL and one "//" member in JSON', () => {
    const file: BakeFile = { header: ['line one', '', 'line\nthree'], groups: [], targets: [] };
    expect(emitHcl(file)).toBe('# line one\n#\n# line\n# three\n');
    expect(emitJson(file)).toBe('{\n  "//": "line one line three"\n}\n');
  });

  test.each([
    ['a target name outside [a-zA-Z0-9_-]', { header: [], groups: [], targets: [target('nova.api')] }],
    ['a group name outside [a-zA-Z0-9_-]', { header: [], groups: [{ name: 'a b', targets: [] }], targets: [] }],
    ['a group member outside [a-zA-Z0-9_-]', { header: [], groups: [{ name: 'g', targets: ['x"y'] }], targets: [] }],
    ['two targets of one name', { header: [], groups: [], targets: [target('a'), target('a')] }],
    ['a lone surrogate', { header: [], groups: [], targets: [target('a', { args: { A: '\ud800' } })] }],
    ['two keys bake reads as one (equal under NFC)', { header: [], groups: [], targets: [target('a', { args: { 'é': '1', 'e\u0301': '2' } })] }],
  ] satisfies [string, BakeFile][])('throws on %s (a bug of the caller)', (_, file) => {
    expect(() => emitHcl(file)).toThrow();
    expect(() => emitJson(file)).toThrow();
  });
});

describe('the normaliser the round trips rely on', () => {
  test.each([
    ['$${HOME}', '${HOME}'],
    ['%%{ if }', '%{ if }'],
    ['$$${x}', '$${x}'],
    ['$$$${x}', '$$${x}'],
    ['$$', '$$'],
    ['a$', 'a$'],
    ['{$}', '{$}'],
  ])('%s evaluates to %s', (template, value) => {
    expect(unescapeTemplate(template)).toBe(value);
  });

  test.each(['${HOME}', 'a%{ if }', '$${a}${b}'])('%s holds a live sequence and throws', (template) => {
    expect(() => unescapeTemplate(template)).toThrow();
  });

  test('hcl2json returns literal ${ re-escaped and live interpolation as written', async () => {
    const parsed = await parse('probe.hcl', 'a = "\\u0024{x}"\nb = "$${x}"\nc = "${x}"\n');
    expect(parsed).toEqual({ a: '$${x}', b: '$${x}', c: '${x}' });
  });
});

describe('property: HCL and JSON round-trip any strings', () => {
  const name = fc.string({ unit: fc.constantFrom(...'abcXYZ019_-'), minLength: 1, maxLength: 12 });
  const hostileUnit = fc.constantFrom('${', '%{', '$', '%', '{', '}', '\\', '"', '\n', '\r', '\t', '$$', '%%', '\u0000', 'é', '😀', ' ', 'a');
  const text = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.array(hostileUnit, { maxLength: 12 }).map((parts) => parts.join('')),
  );
  // Keys equal under NFC are one key to bake (and the emitters refuse them).
  const stringMap = fc
    .dictionary(text, text, { maxKeys: 5 })
    .filter((m) => new Set(Object.keys(m).map((k) => k.normalize('NFC'))).size === Object.keys(m).length);
  const arbTarget = fc.record({
    name,
    description: fc.option(text, { nil: undefined }),
    context: text,
    dockerfile: text,
    contexts: stringMap,
    tags: fc.array(text, { maxLength: 4 }),
    platforms: fc.array(text, { maxLength: 3 }),
    args: stringMap,
    labels: stringMap,
    cacheFrom: fc.option(fc.array(text, { maxLength: 2 }), { nil: undefined }),
    cacheTo: fc.option(fc.array(text, { maxLength: 2 }), { nil: undefined }),
  });
  const arbFile = fc
    .record({
      header: fc.array(fc.string({ maxLength: 10 }), { maxLength: 2 }),
      targets: fc.uniqueArray(arbTarget, { selector: (t) => t.name, minLength: 1, maxLength: 4 }),
      groups: fc.uniqueArray(fc.record({ name, targets: fc.array(name, { maxLength: 3 }) }), { selector: (g) => g.name, maxLength: 2 }),
    })
    .map((f): BakeFile => ({
      ...f,
      targets: f.targets.map(({ description, cacheFrom, cacheTo, ...t }) => ({
        ...t,
        ...(description === undefined ? {} : { description }),
        ...(cacheFrom === undefined ? {} : { cacheFrom }),
        ...(cacheTo === undefined ? {} : { cacheTo }),
      })),
    }));

  test('parsed HCL, parsed JSON and the model agree', async () => {
    await fc.assert(
      fc.asyncProperty(arbFile, async (file) => {
        await expectRoundTrip(file);
      }),
      { numRuns: 300 },
    );
  });
});
