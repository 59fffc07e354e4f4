// In-tree links reach the build as files, on a real engine (test/e2e/engine): upstream Kolla links files across image
// folders (kolla-toolbox/apt_preferences_rabbitmq.debian -> ../rabbitmq/…). BuildKit sends a link as a link, so a COPY
// of one that points out of the image's folder fails; kolla-gen builds such an image from a merged context under
// generated/contexts/ with the files in place of the links.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type Engine } from './engine/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli.js');

const TREE: Record<string, string> = {
  'kolla-gen.yaml': 'namespace: e2e\ntag: "1"\nbases: [debian]\narches: [amd64]\n',
  'docker/base/Dockerfile.j2': 'FROM scratch\nADD rootfs-amd64.tar /\n',
  'docker/shared/shared.txt': 'shared by a link\n',
  'docker/shared/conf/a.conf': 'a = 1\n',
  'docker/app/Dockerfile.j2': [
    'FROM {{ namespace }}/base:{{ tag }}',
    'COPY shared.txt /etc/links/shared.txt',
    'COPY conf/ /etc/links/conf/',
    'COPY own.txt /etc/links/own.txt',
    '',
  ].join('\n'),
  'docker/app/own.txt': 'a file of its own\n',
};

describe('in-tree links on a real engine', () => {
  let engine: Engine | undefined;
  let work = '';

  const kg = (args: string[]) => execa(process.execPath, [CLI, ...args], { cwd: work, env: engine!.env, extendEnv: false, reject: false });

  beforeAll(async () => {
    engine = await startEngine();
    work = mkdtempSync(join(tmpdir(), 'kolla-gen-e2e-links-'));
    for (const [rel, text] of Object.entries(TREE)) {
      mkdirSync(dirname(join(work, rel)), { recursive: true });
      writeFileSync(join(work, rel), text);
    }
    copyFileSync(engine.rootfs.amd64, join(work, 'docker', 'base', 'rootfs-amd64.tar'));
    symlinkSync('../shared/shared.txt', join(work, 'docker', 'app', 'shared.txt'));
    symlinkSync('../shared/conf', join(work, 'docker', 'app', 'conf'));
  });

  afterAll(async () => {
    try {
      await engine?.stop();
    } finally {
      if (work) rmSync(work, { recursive: true, force: true });
    }
  });

  it('BuildKit alone fails on a link out of the context (why the merged context is needed)', async () => {
    writeFileSync(join(work, 'plain.Dockerfile'), 'FROM scratch\nCOPY shared.txt /\n');
    const r = await engine!.docker(['buildx', 'build', '-f', join(work, 'plain.Dockerfile'), join(work, 'docker', 'app')], { reject: false });
    expect(r.exitCode).not.toBe(0);
    expect(String(r.stderr)).toMatch(/shared\.txt.*not found|not found.*shared\.txt/);
  });

  it('builds the image whose context holds links from generated/contexts/, and the image holds the files', async () => {
    const gen = await kg(['generate', '--registry', engine!.registry]);
    expect(gen.exitCode, gen.stderr).toBe(0);
    const build = await kg(['build', '--registry', engine!.registry, '--push']);
    expect(build.exitCode, `${build.stdout}\n${build.stderr.slice(-3000)}`).toBe(0);
    expect(build.stdout.split('\n').pop()).toBe('2 built, 0 failed, 0 skipped, 0 unbuildable');
    const ref = `${engine!.registry}/e2e/app:1`;
    await engine!.docker(['pull', '--quiet', '--platform', 'linux/amd64', ref]);
    const r = await engine!.docker(['run', '--rm', '--platform', 'linux/amd64', ref, 'sh', '-c', 'cat /etc/links/shared.txt /etc/links/conf/a.conf /etc/links/own.txt; test -L /etc/links/shared.txt && echo link || echo file']);
    expect(String(r.stdout).trim()).toBe(['shared by a link', 'a = 1', 'a file of its own', 'file'].join('\n'));
  });
});
