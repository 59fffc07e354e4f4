// Names the output holds that two sources would take (issue 25, item 4), image folders Windows cannot check out and
// refs a registry refuses (item 7): each is a KG error naming its sources, exit 1, the output dir byte for byte as it
// was (never exit 2).
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, snapshot, temps, write } from './support/cli.js';

// KG_TEST_CLI runs the cases against another build (main's dist, for the before/after of the issue).
const CLI_UNDER_TEST = process.env.KG_TEST_CLI ?? CLI;

function kg(cwd: string, args: string[]) {
  return execa('node', [CLI_UNDER_TEST, ...args], { cwd, reject: false, extendEnv: false, env: { PATH: process.env.PATH ?? '', HOME: cwd, KOLLA_GEN_CACHE: 'off' }, timeout: 90_000 });
}

/** A tree of images (folder → template) with its config, in a temp dir. */
function tree(images: Record<string, string>, config = 'namespace: acme\ntag: "1.0"\nbases: [ubuntu]\narches: [amd64, arm64]\n'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-collisions-'));
  temps.push(dir);
  write(dir, 'kolla-gen.yaml', config);
  for (const [folder, template] of Object.entries(images)) write(dir, `docker/${folder}/Dockerfile.j2`, template);
  return dir;
}

/** generate and check both fail with the code, the output dir (made before the colliding image came) untouched. */
async function expectRefused(dir: string, add: Record<string, string>, code: string, ...mentions: string[]) {
  expect((await kg(dir, ['generate'])).exitCode).toBe(0);
  for (const [folder, template] of Object.entries(add)) write(dir, `docker/${folder}/Dockerfile.j2`, template);
  const before = snapshot(path.join(dir, 'generated'));
  for (const command of ['generate', 'check']) {
    const r = await kg(dir, [command]);
    expect(r.stderr).not.toContain('internal error');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`error[${code}]`);
    for (const m of mentions) expect(r.stderr).toContain(m);
    expect(snapshot(path.join(dir, 'generated'))).toEqual(before);
  }
}

const PER_ARCH = 'FROM ubuntu:24.04\nRUN echo {{ debian_arch }}\n';
const SAME = 'FROM ubuntu:24.04\nRUN true\n';

describe('generated names with two sources', () => {
  it('an image folder named like another image\'s amd64 target (renders differ per arch)', async () => {
    const dir = tree({ base: PER_ARCH });
    await expectRefused(dir, { 'base-amd64': SAME }, 'KG730', '"ubuntu-base-amd64"', 'docker/base-amd64/Dockerfile.j2:1:1', 'docker/base/Dockerfile.j2:1:1', 'amd64 rendering');
  });

  it('the same with arm64, on the second base, and a child of the joined image', async () => {
    const dir = tree(
      { base: PER_ARCH, child: 'FROM acme/base:1.0-{{ base_distro }}\nRUN true\n' },
      'namespace: acme\ntag: "1.0-{base}"\nbases: [ubuntu, rocky]\narches: [amd64, arm64]\n',
    );
    await expectRefused(dir, { 'base-arm64': 'FROM acme/base:1.0-{{ base_distro }}\n' }, 'KG730', '"ubuntu-base-arm64"', '"rocky-base-arm64"', 'docker/base-arm64/Dockerfile.j2:1:1');
  });

  it('an image whose renders differ beside one named like its per-arch target, which also differs', async () => {
    const dir = tree({ tools: PER_ARCH });
    await expectRefused(dir, { 'tools-arm64': PER_ARCH }, 'KG730', '"ubuntu-tools-arm64"', 'docker/tools/Dockerfile.j2:1:1');
  });

  it('no collision where the image renders the same on every arch (no per-arch targets)', async () => {
    const dir = tree({ base: SAME, 'base-amd64': SAME });
    expect((await kg(dir, ['generate'])).exitCode).toBe(0);
    expect((await kg(dir, ['check'])).exitCode).toBe(0);
  });
});

describe('names a clone or a registry cannot take', () => {
  it('image folder con beside others: generate and check refuse it, the output untouched', async () => {
    const dir = tree({ base: SAME });
    await expectRefused(dir, { con: SAME }, 'KG135', 'docker/con/Dockerfile.j2:1:1');
  });

  it.each(['nul', 'aux', 'prn', 'com1', 'lpt9', 'con.d', 'nul.txt', 'Aux', 'COM3.x'])('image folder %s (Windows device name)', async (name) => {
    const dir = tree({ base: SAME, [name]: SAME });
    const r = await kg(dir, ['generate']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('error[KG135]');
    expect(r.stderr).toContain(`docker/${name}/Dockerfile.j2:1:1`);
    expect(fs.existsSync(path.join(dir, 'generated'))).toBe(false);
  });

  it.each(['console', 'nullx', 'com0', 'lpt10', 'auxiliary'])('image folder %s is no device name', async (name) => {
    const dir = tree({ [name]: SAME });
    expect((await kg(dir, ['generate'])).exitCode).toBe(0);
  });

  it('a ref whose repository name is over 255 characters (each part alone is valid)', async () => {
    // 252 characters: "/ba" makes 255, which fits; "/bbbb" makes 257.
    const namespace = [...Array(4).fill('a'.repeat(50)), 'a'.repeat(48)].join('/');
    const dir = tree({ ba: SAME }, `namespace: ${namespace}\ntag: "1.0"\nbases: [ubuntu]\narches: [amd64]\n`);
    await expectRefused(dir, { bbbb: SAME }, 'KG136', '257 characters', 'docker/bbbb/Dockerfile.j2:1:1');
  });

  it('a tag over 128 characters', async () => {
    const dir = tree({ base: SAME }, `namespace: acme\ntag: "${'t'.repeat(129)}"\nbases: [ubuntu]\narches: [amd64]\n`);
    const r = await kg(dir, ['generate']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('error[KG133]');
  });
});

describe('values bake normalises to NFC', () => {
  const config = (args: string, labels: string) =>
    `namespace: acme\ntag: "1.0"\nbases: [ubuntu]\narches: [amd64]\nbuild_args:\n  GREETING: "${args}"\nlabels:\n  note: "${labels}"\n`;
  const TEMPLATE = 'FROM ubuntu:24.04\nARG GREETING\nRUN echo $GREETING\n';

  it('a build arg or label value not in NFC is refused where it is written (the hash would cover other bytes than BuildKit gets)', async () => {
    const dir = tree({ base: TEMPLATE }, config('caf\u00e9', 'caf\u00e9'));
    expect((await kg(dir, ['generate'])).exitCode).toBe(0);
    const before = snapshot(path.join(dir, 'generated'));
    write(dir, 'kolla-gen.yaml', config('cafe\u0301', '\u212b'));
    for (const command of ['generate', 'check']) {
      const r = await kg(dir, [command]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/error\[KG137\]: build_args: the value of "GREETING"/);
      expect(r.stderr).toContain('kolla-gen.yaml:6:3');
      expect(r.stderr).toMatch(/error\[KG137\]: labels: the value of "note"/);
      expect(r.stderr).toContain('kolla-gen.yaml:8:3');
      expect(snapshot(path.join(dir, 'generated'))).toEqual(before);
    }
  });
});
