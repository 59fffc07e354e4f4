// network_mode of kolla-gen.yaml (kolla-build's option of that name): the config key and its diagnostics, the key of a
// kolla-build.conf, the `network` every target of the bake files gets, the grant the printed bake command carries, and
// how buildx 0.13 and 0.29 (both ends of the supported range) read the files.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig, type CliOptions } from '../src/load/config/resolve.js';
import { parseKollaConfig, withKollaConfig } from '../src/load/kolla/config.js';
import { copyFixture, run } from './support/cli.js';
import { bakePrintRaw, engineBuildxes } from './support/buildx.js';

function resolve(text: string, cli: CliOptions = {}) {
  return resolveConfig({ cli, config: { path: 'kolla-gen.yaml', text } });
}

describe('network_mode: of kolla-gen.yaml', () => {
  it.each<[string, string]>([
    ['tag: x\n', 'default'],
    ['network_mode: default\n', 'default'],
    ['network_mode: host\n', 'host'],
    ['network_mode: none\n', 'none'],
  ])('%j → %s', (text, mode) => {
    const { config, diagnostics } = resolve(text);
    expect(diagnostics).toEqual([]);
    expect(config?.networkMode).toBe(mode);
  });

  it('KG102: a network BuildKit does not know (a named docker network), at its line', () => {
    const { config, diagnostics } = resolve('tag: x\nnetwork_mode: bridge\n');
    expect(config).toBeUndefined();
    expect(diagnostics.map((d) => d.code)).toEqual(['KG102']);
    expect(diagnostics[0]?.message).toContain('network_mode');
    expect(diagnostics[0]?.location).toMatchObject({ file: 'kolla-gen.yaml', line: 2 });
  });
});

describe('network_mode of a kolla-build.conf', () => {
  const conf = (text: string) => parseKollaConfig({ path: 'kolla-build.conf', text: `[DEFAULT]\n${text}` });

  it.each<[string, string | undefined]>([
    ['network_mode = host\n', 'host'],
    ['network_mode = none\n', 'none'],
    ['network_mode = default\n', 'default'],
    ['network_mode =\n', 'default'],
    // not written: kolla-gen's own default, not kolla-build's (host); docs/kolla.md says so
    ['tag = x\n', undefined],
  ])('%j → %s', (text, mode) => {
    const { values, diagnostics } = conf(text);
    expect(diagnostics).toEqual([]);
    expect(values?.networkMode).toBe(mode);
    const { config } = resolveConfig({ cli: withKollaConfig({}, values!), config: { path: 'kolla-gen.yaml', text: 'tag: y\n' } });
    expect(config?.networkMode).toBe(mode ?? 'default');
  });

  it('KG112: a named network, which BuildKit cannot run a RUN in', () => {
    const { diagnostics } = conf('tag = x\nnetwork_mode = my-net\n');
    expect(diagnostics.map((d) => [d.code, d.location?.line])).toEqual([['KG112', 3]]);
    expect(diagnostics[0]?.message).toContain('network_mode = my-net');
  });

  it('is no longer said to be ignored (KG113)', () => {
    expect(conf('network_mode = host\n').diagnostics.map((d) => d.code)).not.toContain('KG113');
  });
});

/** test/fixtures/split (a join of per-arch targets, and an image on amd64 only) generated with `extra` in its config. */
async function generated(extra: string) {
  const dir = copyFixture('split');
  fs.appendFileSync(path.join(dir, 'kolla-gen.yaml'), extra);
  const r = await run(dir, ['generate', '--json']);
  expect(r.exitCode, r.stderr).toBe(0);
  const json = (JSON.parse(fs.readFileSync(path.join(dir, 'generated', 'docker-bake.json'), 'utf8')) as { target: Record<string, Record<string, unknown>> }).target;
  const bake = (JSON.parse(r.stdout) as { result: { bake: { command: string; entitlements?: string[] } } }).result.bake;
  return { dir, bake, json, hcl: fs.readFileSync(path.join(dir, 'generated', 'docker-bake.hcl'), 'utf8') };
}

describe('the bake files and the printed command', () => {
  it('network_mode: host gives every target, per-arch ones too, network = "host"; the command grants network.host', async () => {
    const { bake, json, hcl } = await generated('network_mode: host\n');
    const names = Object.keys(json);
    expect(names.some((n) => !(json[n]?.tags as string[] | undefined)?.length)).toBe(true); // a per-arch target is among them
    for (const name of names) expect(json[name]?.network, name).toBe('host');
    expect(hcl.match(/^ {2}network +?= "host"$/gm)).toHaveLength(names.length);
    expect(bake.entitlements).toEqual(['network.host']);
    expect(bake.command).toMatch(/ --allow network\.host$/);
  });

  it('network_mode: none: network = "none", and no grant (none needs none)', async () => {
    const { bake, json } = await generated('network_mode: none\n');
    for (const [name, t] of Object.entries(json)) expect(t.network, name).toBe('none');
    expect(bake.entitlements).toBeUndefined();
    expect(bake.command).not.toContain('network');
  });

  it('without it: no network attribute (BuildKit\'s default), the command as before', async () => {
    const { bake, json, hcl } = await generated('');
    expect(Object.values(json).some((t) => 'network' in t)).toBe(false);
    expect(hcl).not.toMatch(/^\s*network\b/m);
    expect(bake.command).not.toContain('network');
  });

  const buildxes = engineBuildxes();
  if (buildxes.length < 2) console.warn(`network-mode.test.ts: ${buildxes.length} of the 2 engines' buildx found (run test/e2e/engine/provision.sh): skipped the bake --print checks`);

  it.skipIf(buildxes.length < 2)('buildx 0.29 reads network from both files; 0.13 ignores it without a word (why build refuses it there, KG821)', async () => {
    const { dir, json } = await generated('network_mode: host\n');
    const names = Object.keys(json);
    for (const { suite, path: buildx } of buildxes) {
      for (const file of ['docker-bake.hcl', 'docker-bake.json']) {
        const printed = await bakePrintRaw(buildx, dir, `generated/${file}`, names);
        for (const name of names) expect(printed[name]?.network, `${suite} ${file} ${name}`).toBe(suite === 'forky' ? 'host' : undefined);
      }
    }
  });
});
