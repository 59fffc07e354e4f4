// The base image lock on a real engine and its registry (test/e2e/engine): a base pushed to the registry is locked
// to its digest; a new base pushed under the same tag changes nothing until the lock is refreshed (the bake builds
// from the pinned digest, even with --pull and no cache); once refreshed, exactly the images built on it are affected
// and rebuilt by --skip-existing, while an image on another base is not.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type Engine } from './engine/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli.js');

describe('the base image lock on a real engine', () => {
  let engine: Engine | undefined;
  let work = '';
  let upstream = '';

  const kg = (args: string[]) => execa(process.execPath, [CLI, ...args], { cwd: work, env: { ...engine!.env }, extendEnv: false, reject: false });
  const git = (args: string[]) =>
    execa('git', ['-c', 'user.name=kolla-gen e2e', '-c', 'user.email=e2e@kolla-gen.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd: work });
  /** Builds and pushes an upstream base `<registry>/upstream/<name>:1` whose /etc/version says `version`; its digest. */
  const pushBase = async (name: string, version: string): Promise<string> => {
    writeFileSync(join(upstream, 'version'), `${name} ${version}\n`);
    const ref = `${engine!.registry}/upstream/${name}:1`;
    const r = await engine!.docker(['buildx', 'build', '--push', '--provenance=false', '--platform', 'linux/amd64', '-t', ref, upstream], { reject: false });
    expect(r.exitCode, String(r.stderr).slice(-3000)).toBe(0);
    const inspected = await engine!.skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
    return `sha256:${(await import('node:crypto')).createHash('sha256').update(String(inspected.stdout)).digest('hex')}`;
  };
  /** What /etc/seen holds in the pushed image (the base's version its RUN copied). */
  const seen = async (image: string): Promise<string> => {
    const ref = `${engine!.registry}/e2e/${image}:1`;
    await engine!.docker(['pull', '-q', ref]);
    const r = await engine!.docker(['run', '--rm', ref, 'cat', '/etc/seen']);
    return String(r.stdout).trim();
  };
  const built = async (args: string[]) => {
    const r = await kg(['build', '--push', '--summary-json-file', 'summary.json', ...args]);
    expect(r.exitCode, r.stderr.slice(-4000)).toBe(0);
    const summary = JSON.parse(readFileSync(join(work, 'summary.json'), 'utf8')) as { built: { image: string }[]; existing: { image: string }[] };
    return { built: summary.built.map((e) => e.image).sort(), existing: summary.existing.map((e) => e.image).sort() };
  };
  const lockDigest = () => (JSON.parse(readFileSync(join(work, 'kolla-gen.lock.json'), 'utf8')) as { bases: Record<string, { digest: string }> }).bases;

  beforeAll(async () => {
    engine = await startEngine();
    upstream = mkdtempSync(join(tmpdir(), 'kolla-gen-e2e-upstream-'));
    copyFileSync(engine.rootfs.amd64, join(upstream, 'rootfs-amd64.tar'));
    writeFileSync(join(upstream, 'Dockerfile'), 'FROM scratch\nADD rootfs-amd64.tar /\nCOPY version /etc/version\n');
    work = mkdtempSync(join(tmpdir(), 'kolla-gen-e2e-lock-'));
    const tree: Record<string, string> = {
      'kolla-gen.yaml': `namespace: e2e\ntag: "1"\nregistry: ${engine.registry}\nbases: [debian]\narches: [amd64]\n`,
      'docker/a/Dockerfile.j2': `FROM ${engine.registry}/upstream/alpha:1\nRUN cp /etc/version /etc/seen\n`,
      'docker/a-child/Dockerfile.j2': 'FROM {{ namespace }}/{{ image_prefix }}a:{{ tag }}\nRUN echo child > /etc/child\n',
      'docker/b/Dockerfile.j2': `FROM ${engine.registry}/upstream/beta:1\nRUN cp /etc/version /etc/seen\n`,
    };
    for (const [rel, text] of Object.entries(tree)) {
      mkdirSync(join(work, rel, '..'), { recursive: true });
      writeFileSync(join(work, rel), text);
    }
  });

  afterAll(async () => {
    try {
      await engine?.stop();
    } finally {
      for (const dir of [work, upstream]) if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  it('pins, builds from the pin, and rebuilds exactly the descendants of a refreshed base', async () => {
    const alpha1 = await pushBase('alpha', 'v1');
    const beta1 = await pushBase('beta', 'v1');
    const alphaRef = `${engine!.registry}/upstream/alpha:1`;
    const betaRef = `${engine!.registry}/upstream/beta:1`;

    const locked = await kg(['lock']);
    expect(locked.exitCode, locked.stderr).toBe(0);
    expect(lockDigest()).toEqual({ [alphaRef]: { digest: alpha1 }, [betaRef]: { digest: beta1 } });
    expect((await kg(['generate'])).exitCode).toBe(0);
    const bake = JSON.parse(readFileSync(join(work, 'generated/docker-bake.json'), 'utf8')) as { target: Record<string, { contexts?: Record<string, string> }> };
    expect(bake.target['debian-a']?.contexts).toEqual({ [alphaRef]: `docker-image://${alphaRef}@${alpha1}` });
    await git(['init', '-q']);
    await git(['add', '-A']);
    await git(['commit', '-q', '-m', 'the tree and its lock']);

    expect(await built(['--skip-existing'])).toEqual({ built: ['a', 'a-child', 'b'], existing: [] });
    expect(await seen('a')).toBe('alpha v1');

    // A new alpha under the same tag: until the lock is refreshed, builds still use the pinned digest, even when told
    // to pull and to use no cache; nothing is affected and --skip-existing builds nothing.
    const alpha2 = await pushBase('alpha', 'v2');
    expect(alpha2).not.toBe(alpha1);
    expect(await built(['--no-cache', '--pull'])).toEqual({ built: ['a', 'a-child', 'b'], existing: [] });
    expect(await seen('a')).toBe('alpha v1');
    expect(await built(['--skip-existing'])).toEqual({ built: [], existing: ['a', 'a-child', 'b'] });
    const stale = await kg(['lock', '--check']);
    expect(stale.exitCode).toBe(1);
    expect(stale.stderr).toContain('KG483');

    // Refreshed: only alpha moves; a and a-child are affected, b is not; --skip-existing rebuilds exactly those.
    const refreshed = await kg(['lock']);
    expect(refreshed.exitCode, refreshed.stderr).toBe(0);
    expect(lockDigest()).toEqual({ [alphaRef]: { digest: alpha2 }, [betaRef]: { digest: beta1 } });
    const listed = await kg(['list', '--affected-since', 'HEAD', '--json']);
    expect(listed.exitCode, listed.stderr).toBe(0);
    const variant = (JSON.parse(listed.stdout) as { result: { variants: { images: string[]; unaffected: string[] }[] } }).result.variants[0];
    expect({ images: variant?.images, unaffected: variant?.unaffected }).toEqual({ images: ['a', 'a-child'], unaffected: ['b'] });
    expect((await kg(['generate'])).exitCode).toBe(0);
    expect(await built(['--skip-existing'])).toEqual({ built: ['a', 'a-child'], existing: ['b'] });
    expect(await seen('a')).toBe('alpha v2');
    expect(await seen('b')).toBe('beta v1');
  });
});
