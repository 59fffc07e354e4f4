// The labels of images built by the real kolla-build (master and stable/2026.1, run from their checkouts) and by
// kolla-gen (--preset kolla, generate then bake) on the same engine, from the same kolla-build.conf and two small
// images of an extra docker dir over the checkout's tree (a base from the engine's registry, and one built on it).
// kolla-build dates its labels by the clock: kolla-gen is run with SOURCE_DATE_EPOCH set to the `created` kolla-build
// gave, so that every label can be compared as it is. Needs KOLLA_RELEASES_DIR (the checkouts) and a python3 with
// kolla-build's Debian packages (python3-oslo.config, -git, -pbr, -docker, -jinja2, -yaml).
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type Engine } from './engine/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli.js');
const PY = process.env.KG_PYTHON || 'python3';
const releasesDir = process.env.KOLLA_RELEASES_DIR ?? '';
const RELEASES = ['master', 'stable-2026.1'];
const ready =
  RELEASES.every((r) => existsSync(join(releasesDir, r, 'kolla', 'cmd', 'build.py'))) &&
  spawnSync(PY, ['-c', 'import jinja2, oslo_config, git, pbr, docker, yaml'], { stdio: 'ignore' }).status === 0;
if (!ready) console.warn('e2e/kolla-labels.test.ts: skipped: set KOLLA_RELEASES_DIR to the kolla checkouts (master/, stable-2026.1/), with kolla-build\'s python packages installed');

type Labels = Record<string, string>;

describe.skipIf(!ready)('labels: kolla-build and kolla-gen on a real engine', () => {
  let engine: Engine | undefined;
  let work = '';
  let registry = '';

  const configLabels = async (reference: string): Promise<Labels> => {
    const r = await engine!.skopeo(['inspect', '--config', '--tls-verify=false', `docker://${reference}`]);
    return (JSON.parse(String(r.stdout)) as { config?: { Labels?: Labels } }).config?.Labels ?? {};
  };

  beforeAll(async () => {
    engine = await startEngine();
    registry = engine.registry;
    work = mkdtempSync(join(tmpdir(), 'kolla-gen-e2e-labels-'));
    // The base both builds start from: busybox, in the engine's registry (no internet registry is reachable).
    const baseCtx = join(work, 'busybox');
    mkdirSync(baseCtx);
    copyFileSync(engine.rootfs.amd64, join(baseCtx, 'rootfs-amd64.tar'));
    writeFileSync(join(baseCtx, 'Dockerfile'), 'FROM scratch\nADD rootfs-amd64.tar /\n');
    await engine.docker(['buildx', 'build', '--platform', 'linux/amd64', '--push', '-t', `${registry}/e2e/busybox:1`, baseCtx]);
    // Two images of an extra docker dir: kolla's templates, its own names and variables.
    const images: [string, string][] = [
      ['lab-base', '{{ base_image }}:{{ base_distro_tag }}'],
      ['lab-app', '{{ namespace }}/{{ image_prefix }}lab-base:{{ tag }}'],
    ];
    for (const [image, from] of images) {
      mkdirSync(join(work, 'labs', image), { recursive: true });
      writeFileSync(join(work, 'labs', image, 'Dockerfile.j2'), `FROM ${from}\nLABEL maintainer="{{ maintainer }}" name="{{ image_name }}"\nRUN echo {{ image_name }} > /built\n`);
    }
    writeFileSync(join(work, 'kolla-build.conf'), `[DEFAULT]\nbase = ubuntu\nbase_image = ${registry}/e2e/busybox\nbase_tag = 1\ntag = t\nregistry = ${registry}\n`);
  }, 300_000);

  afterAll(async () => {
    try {
      await engine?.stop();
    } finally {
      if (work) rmSync(work, { recursive: true, force: true });
    }
  });

  for (const release of RELEASES) {
    it(`${release}: kolla-gen's images carry every label kolla-build's carry, with the same value`, async () => {
      const checkout = join(releasesDir, release);
      const dockerDir = [join(checkout, 'kolla', 'docker'), join(checkout, 'docker')].find((d) => existsSync(join(d, 'base')))!;
      const ns = release.replace(/[^a-z0-9]/g, '');
      // kolla-build, from the checkout: its docker python client and (master) its `docker buildx build` reach the
      // engine through DOCKER_HOST, and push to its registry.
      const kb = await execa(
        PY,
        ['-m', 'kolla.cmd.build', '--config-file', join(work, 'kolla-build.conf'), '-D', join(work, 'labs'), '-n', `kb${ns}`, '--push', '--threads', '1', '--work-dir', join(work, `kb-${ns}`), '^lab-'],
        { cwd: work, reject: false, extendEnv: false, env: { ...engine!.env, HOME: work, TZ: 'UTC', LANG: 'C.UTF-8', PYTHONPATH: checkout, PBR_VERSION: '99.0.0' } },
      );
      const kbApp = await configLabels(`${registry}/kb${ns}/lab-app:t`).catch(() => undefined);
      expect(kbApp, `kolla-build failed:\n${kb.stdout}\n${kb.stderr.slice(-4000)}`).toBeDefined();
      const created = kbApp!['org.opencontainers.image.created'];
      expect(created, 'kolla-build added the OCI labels').toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      const epoch = String(Date.parse(created!) / 1000);

      // kolla-gen: the same conf, the checkout's tree under the extra dir, dated by kolla-build's clock.
      const kg = await execa(
        process.execPath,
        [CLI, 'build', '--preset', 'kolla', '--kolla-config', 'kolla-build.conf', '-D', dockerDir, '-D', 'labs', '-n', `kg${ns}`, '-a', 'amd64', '-o', `gen-${ns}`, '--push', '^lab-'],
        { cwd: work, reject: false, extendEnv: false, env: { ...engine!.env, SOURCE_DATE_EPOCH: epoch } },
      );
      expect(kg.exitCode, `${kg.stdout}\n${kg.stderr.slice(-4000)}`).toBe(0);

      for (const image of ['lab-base', 'lab-app']) {
        const theirs = await configLabels(`${registry}/kb${ns}/${image}:t`);
        const ours = await configLabels(`${registry}/kg${ns}/${image}:t`);
        const ourKolla = Object.fromEntries(Object.entries(ours).filter(([k]) => !k.startsWith('kolla-gen.')));
        console.info(`[e2e labels] ${release} ${image}: kolla-build ${Object.keys(theirs).length} labels, kolla-gen ${Object.keys(ourKolla).length} (+${Object.keys(ours).length - Object.keys(ourKolla).length} of its own)`);
        expect(ourKolla).toEqual(theirs);
      }
      const expected = release === 'master' ? 12 : 11; // 10 (master) or 9 of kolla-build's, and the template's maintainer and name
      expect(Object.keys(kbApp!)).toHaveLength(expected);
    }, 900_000);
  }
});
