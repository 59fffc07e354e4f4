// kolla-build's selection rules, table-driven over one small graph:
//   base ─┬─ openstack-base ─┬─ nova-base ─┬─ nova-api
//         │                  │             └─ nova-compute
//         │                  └─ horizon
//         └─ mariadb
import { describe, expect, it } from 'vitest';
import { resolveConfig, type CliOptions } from '../src/load/config/resolve.js';
import type { VariantGraph } from '../src/graph/graph.js';
import { compileSelector, selectImages, unbuildableFor, type Status } from '../src/graph/select.js';
import { selectionDiagnostics } from '../src/graph/selected-nothing.js';

const PARENTS: Record<string, string[]> = {
  base: [],
  'openstack-base': ['base'],
  mariadb: ['base'],
  'nova-base': ['openstack-base'],
  horizon: ['openstack-base'],
  'nova-api': ['nova-base'],
  'nova-compute': ['nova-base'],
};

const graph: VariantGraph = {
  variant: { base: 'ubuntu', arch: 'amd64' },
  parents: new Map(Object.entries(PARENTS)),
  children: new Map(Object.keys(PARENTS).map((n) => [n, Object.keys(PARENTS).filter((c) => PARENTS[c]?.includes(n)).sort()])),
  order: ['base', 'mariadb', 'openstack-base', 'horizon', 'nova-base', 'nova-api', 'nova-compute'],
};

const CONFIG = `
profiles:
  infra: [mariadb]
  main: ["^nova-", horizon]
  empty: []
unbuildable:
  rocky: [horizon]
  arm64: [nova-compute]
  rocky+arm64: [nova-base]
`;

function run(cli: CliOptions, variant: { base: 'ubuntu' | 'rocky'; arch: 'amd64' | 'arm64' } = { base: 'ubuntu', arch: 'amd64' }) {
  const { config, diagnostics } = resolveConfig({ cli, config: { path: 'kolla-gen.yaml', text: CONFIG } });
  expect(diagnostics).toEqual([]);
  if (!config) throw new Error('no config');
  const { selector, diagnostics: problems } = compileSelector(config);
  if (!selector) return { problems: problems.map((d) => d.code) };
  const status = selectImages({ graph, selector, unbuildable: unbuildableFor(config, { ...variant }), skipParents: config.skipParents });
  const by = (s: Status) => graph.order.filter((n) => status.get(n) === s).sort();
  return { selected: by('selected'), skipped: by('skipped'), unbuildable: by('unbuildable') };
}

const ALL = Object.keys(PARENTS).sort();

describe('selectImages', () => {
  it.each<[string, CliOptions, Parameters<typeof run>[1] | undefined, ReturnType<typeof run>]>([
    ['no filter selects everything', {}, undefined, { selected: ALL, skipped: [], unbuildable: [] }],
    ['a regex pulls in the ancestors', { regexes: ['nova-api'] }, undefined, { selected: ['base', 'nova-api', 'nova-base', 'openstack-base'], skipped: [], unbuildable: [] }],
    ['regexes are searched anywhere in the name', { regexes: ['compute'] }, undefined, { selected: ['base', 'nova-base', 'nova-compute', 'openstack-base'], skipped: [], unbuildable: [] }],
    ['anchored regexes', { regexes: ['^base$'] }, undefined, { selected: ['base'], skipped: [], unbuildable: [] }],
    ['several regexes are or-ed', { regexes: ['^mariadb', 'horizon'] }, undefined, { selected: ['base', 'horizon', 'mariadb', 'openstack-base'], skipped: [], unbuildable: [] }],
    ['a profile selects its entries as regexes', { profiles: ['main'] }, undefined, { selected: ['base', 'horizon', 'nova-api', 'nova-base', 'nova-compute', 'openstack-base'], skipped: [], unbuildable: [] }],
    ['profiles apply only when no regex is given', { profiles: ['main'], regexes: ['mariadb'] }, undefined, { selected: ['base', 'mariadb'], skipped: [], unbuildable: [] }],
    ['skip-parents skips every selected image with children', { regexes: ['nova-api'], skipParents: true }, undefined, { selected: ['nova-api'], skipped: ['base', 'nova-base', 'openstack-base'], unbuildable: [] }],
    ['skip-parents: children count even when not selected', { regexes: ['nova-base'], skipParents: true }, undefined, { selected: [], skipped: ['base', 'nova-base', 'openstack-base'], unbuildable: [] }],
    ['unbuildable by base', {}, { base: 'rocky', arch: 'amd64' }, { selected: ALL.filter((n) => n !== 'horizon'), skipped: [], unbuildable: ['horizon'] }],
    ['unbuildable by arch', {}, { base: 'ubuntu', arch: 'arm64' }, { selected: ALL.filter((n) => n !== 'nova-compute'), skipped: [], unbuildable: ['nova-compute'] }],
    ['unbuildable by base+arch reaches every descendant', {}, { base: 'rocky', arch: 'arm64' }, { selected: ['base', 'mariadb', 'openstack-base'], skipped: [], unbuildable: ['horizon', 'nova-api', 'nova-base', 'nova-compute'] }],
    ['a regex matching an unbuildable image pulls in nothing', { regexes: ['horizon'] }, { base: 'rocky', arch: 'amd64' }, { selected: [], skipped: [], unbuildable: ['horizon'] }],
    ['--enable-unbuildable ignores the table', { enableUnbuildable: true }, { base: 'rocky', arch: 'arm64' }, { selected: ALL, skipped: [], unbuildable: [] }],
  ])('%s', (_name, cli, variant, expected) => {
    expect(run(cli, variant)).toEqual(expected);
  });

  it.each<[string, CliOptions, string[]]>([
    ['an invalid regex', { regexes: ['nova-(api'] }, ['KG600']],
    ['an unknown profile', { profiles: ['nope'] }, ['KG601']],
    ['an empty profile', { profiles: ['empty'] }, ['KG601']],
  ])('%s is an error', (_name, cli, codes) => {
    expect(run(cli)).toEqual({ problems: codes });
  });
});

describe('a selection of nothing (selectionDiagnostics)', () => {
  const VARIANTS = [
    { base: 'ubuntu', arch: 'amd64' },
    { base: 'rocky', arch: 'amd64' },
    { base: 'rocky', arch: 'arm64' },
  ] as const;
  function said(cli: CliOptions, variants: readonly { base: 'ubuntu' | 'rocky'; arch: 'amd64' | 'arm64' }[] = VARIANTS, empty: 'error' | 'warning' = 'error') {
    const { config } = resolveConfig({ cli, config: { path: 'kolla-gen.yaml', text: CONFIG } });
    if (!config) throw new Error('no config');
    const { selector } = compileSelector(config);
    if (!selector) throw new Error('no selector');
    const outcome = variants.map((v) => ({
      id: `${v.base}-${v.arch}`,
      statuses: selectImages({ graph, selector, unbuildable: unbuildableFor(config, { ...v }), skipParents: config.skipParents }),
    }));
    return selectionDiagnostics({ images: graph.order, variants: outcome, selector, regexes: config.regexes, profiles: config.selectedProfiles, empty }).map(
      (d) => `${d.severity} ${d.code}: ${d.message}${d.hint ? ` | ${d.hint}` : ''}`,
    );
  }

  it.each<[string, CliOptions, string[]]>([
    ['a selection that builds on every variant says nothing', { regexes: ['mariadb'] }, []],
    ['a mistyped regex: an error, with the image it was near', { regexes: ['nova-apii$'] }, ["error KG605: no image of the tree matches the regex 'nova-apii$' | did you mean nova-api? (regexes are searched anywhere in the name; kolla-gen list shows the images)"]],
    ['a regex like no image: no guess', { regexes: ['^keystone'] }, ["error KG605: no image of the tree matches the regex '^keystone' | regexes are searched anywhere in the name; kolla-gen list shows the images"]],
    ['one regex of several matches nothing: a warning, the others build', { regexes: ['mariadb', 'horizn'] }, ["warning KG606: the regex 'horizn' matches no image of the tree | did you mean horizon? (the other regexes select images: they are built)"]],
    ['variants that select nothing beside one that does: a warning naming them', { regexes: ['horizon'] }, ['warning KG602: no image selected on 2 variants rocky-amd64, rocky-arm64; the others build | what the selection matches is unbuildable or skipped there: kolla-gen explain IMAGE says why for one image']],
    ['everything --skip-parents skips', { regexes: ['nova-base'], skipParents: true }, ["error KG605: the regex 'nova-base' selects no image on any variant: --skip-parents skips every image it selects (each has children) | leave out --skip-parents, or select images without children"]],
  ])('%s', (_name, cli, expected) => {
    expect(said(cli)).toEqual(expected);
  });

  it('unbuildable on every variant of the run: an error naming them; explain takes it as a warning', () => {
    const rocky = VARIANTS.slice(1);
    expect(said({ regexes: ['horizon'] }, rocky)).toEqual([
      "error KG605: the regex 'horizon' selects no image on any variant: every image it matches is unbuildable on the variants of this run (rocky-amd64, rocky-arm64) | the unbuildable table leaves them out: pick other bases or arches (-b, -a), or pass --enable-unbuildable",
    ]);
    expect(said({ regexes: ['horizon'] }, rocky, 'warning')[0]).toMatch(/^warning KG605: /);
  });
});
