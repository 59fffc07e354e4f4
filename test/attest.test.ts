// attest: of kolla-gen.yaml (issue 27, item 3): the config's keys and their diagnostics, the `attest` entries the bake
// files give every pushed target, and how buildx 0.13 and 0.29 (both ends of the supported range) read them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/load/config/resolve.js';
import { attestEntries } from '../src/emit/bake/assemble.js';
import { copyFixture, run } from './support/cli.js';
import { bakePrintRaw, engineBuildxes } from './support/buildx.js';

function resolve(text: string) {
  return resolveConfig({ cli: {}, config: { path: 'kolla-gen.yaml', text } });
}

const GENERATOR = 'registry.example:5000/mirror/buildkit-syft-scanner:stable-1';

describe('attest: of kolla-gen.yaml', () => {
  it.each<[string, string[]]>([
    ['attest: { provenance: max }', ['type=provenance,mode=max']],
    ['attest: { provenance: min, sbom: true }', ['type=provenance,mode=min', 'type=sbom']],
    [`attest: { provenance: false, sbom: true, sbom_generator: "${GENERATOR}" }`, ['type=provenance,disabled=true', `type=sbom,generator=${GENERATOR}`]],
    // buildx's default provenance (min, where the builder stores it), and no SBOM: nothing to write
    ['attest: { sbom: false }', []],
  ])('%s → %j', (text, entries) => {
    const { config, diagnostics } = resolve(text);
    expect(diagnostics).toEqual([]);
    expect(attestEntries(config!.attest!)).toEqual(entries);
  });

  it('no attest key: no attest in the config, nothing asked of buildx', () => {
    expect(resolve('tag: x\n').config?.attest).toBeUndefined();
  });

  it.each<[string, string, string, number]>([
    ['KG475', `attest:\n  sbom: true\n  sbom_generator: "scanner,mode=x"\n`, 'is not an image reference', 3],
    ['KG476', `attest:\n  provenance: max\n  sbom_generator: ${GENERATOR}\n`, 'attest.sbom is not set', 3],
    ['KG476', `attest:\n  sbom: false\n  sbom_generator: ${GENERATOR}\n`, 'attest.sbom is false', 3],
    ['KG102', `attest:\n  provenance: maximal\n`, 'attest.provenance', 2],
    ['KG102', `attest:\n  provenence: max\n`, 'attest.provenence', 2],
  ])('%s: %j', (code, text, message, line) => {
    const { config, diagnostics } = resolve(text);
    expect(config).toBeUndefined();
    expect(diagnostics.map((d) => d.code)).toEqual([code]);
    expect(diagnostics[0]?.message).toContain(message);
    expect(diagnostics[0]?.location).toMatchObject({ file: 'kolla-gen.yaml', line });
  });

  it('a misspelt key says which it meant', () => {
    expect(resolve('attest:\n  sbom_generater: x\n').diagnostics[0]?.hint).toContain('did you mean sbom_generator?');
  });
});

/** test/fixtures/split (a join of per-arch targets, and an image on amd64 only) generated with `attest` in its config. */
async function generated(attest: string | undefined): Promise<{ dir: string; json: Record<string, Record<string, unknown>>; hcl: string }> {
  const dir = copyFixture('split');
  if (attest !== undefined) fs.appendFileSync(path.join(dir, 'kolla-gen.yaml'), attest);
  const r = await run(dir, ['generate', '-q']);
  expect(r.exitCode, r.stderr).toBe(0);
  const json = (JSON.parse(fs.readFileSync(path.join(dir, 'generated', 'docker-bake.json'), 'utf8')) as { target: Record<string, Record<string, unknown>> }).target;
  return { dir, json, hcl: fs.readFileSync(path.join(dir, 'generated', 'docker-bake.hcl'), 'utf8') };
}

const ATTEST = `attest:\n  provenance: max\n  sbom: true\n  sbom_generator: ${GENERATOR}\n`;
const ENTRIES = ['type=provenance,mode=max', `type=sbom,generator=${GENERATOR}`];

describe('the bake files', () => {
  it('give every pushed target (a join too) the entries; a per-arch target, built through its join, none', async () => {
    const { json, hcl } = await generated(ATTEST);
    const pushed = Object.entries(json).filter(([, t]) => (t.tags as string[] | undefined)?.length);
    const perArch = Object.entries(json).filter(([, t]) => !(t.tags as string[] | undefined)?.length);
    expect(pushed.length).toBeGreaterThan(0);
    expect(perArch.length).toBeGreaterThan(0);
    for (const [name, t] of pushed) expect(t.attest, name).toEqual(ENTRIES);
    for (const [name, t] of perArch) expect(t.attest, name).toBeUndefined();
    // HCL: the same entries, one block per pushed target
    expect(hcl.split('\n  attest = [\n    "type=provenance,mode=max",\n    "type=sbom,generator=').length - 1).toBe(pushed.length);
  });

  it('without attest: in the config, no attest attribute (buildx decides)', async () => {
    const { json, hcl } = await generated(undefined);
    expect(Object.values(json).some((t) => 'attest' in t)).toBe(false);
    expect(hcl).not.toContain('attest');
  });

  const buildxes = engineBuildxes();
  if (buildxes.length < 2) console.warn(`attest.test.ts: ${buildxes.length} of the 2 engines' buildx found (run test/e2e/engine/provision.sh): skipped the bake --print checks`);

  /** bake --print's attest of a target as strings: 0.13 prints them as written, 0.29 as objects of their keys. */
  const printed = (t: Record<string, unknown> | undefined): string[] | undefined =>
    (t?.attest as (string | Record<string, unknown>)[] | undefined)?.map((a) =>
      typeof a === 'string'
        ? a
        : [`type=${String(a.type)}`, ...Object.entries(a).filter(([k]) => k !== 'type').sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, v]) => `${k}=${String(v)}`)].join(','),
    );

  it.skipIf(buildxes.length < 2).each(buildxes.map((b) => [b.suite, b.path] as const))(
    'buildx of %s reads both files to the entries, and its --provenance overrides them for one run',
    async (_suite, buildx) => {
      const { dir, json } = await generated(ATTEST);
      const pushed = Object.keys(json).filter((name) => (json[name]?.tags as string[] | undefined)?.length);
      for (const file of ['docker-bake.hcl', 'docker-bake.json']) {
        const targets = await bakePrintRaw(buildx, dir, `generated/${file}`, pushed);
        for (const name of pushed) expect(printed(targets[name]), `${file} ${name}`).toEqual(ENTRIES);
        const once = await bakePrintRaw(buildx, dir, `generated/${file}`, ['--provenance=false', ...pushed]);
        for (const name of pushed) expect(printed(once[name]), `${file} ${name} --provenance=false`).toEqual(['type=provenance,disabled=true', ENTRIES[1]]);
      }
      const off = await generated('attest:\n  provenance: false\n');
      const name = pushed[0]!;
      expect(printed((await bakePrintRaw(buildx, off.dir, 'generated/docker-bake.json', [name]))[name])).toEqual(['type=provenance,disabled=true']);
    },
  );
});
