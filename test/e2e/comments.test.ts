// "Affected" means BuildKit would build something else, on a real engine (test/e2e/engine): an edit of comments and
// blank lines alone (a Jinja comment line, Dockerfile comments, a comment inside a continued RUN) shows in the committed
// Dockerfile, selects nothing with --affected-since, and a build of the edited generation runs no step again (every
// step CACHED) and pushes the same layers.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type Engine } from './engine/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli.js');

const BASE = 'FROM scratch\nADD rootfs.tar /\nRUN echo base > /etc/role \\\n    && echo more >> /etc/role\n';
// the same instructions, with what BuildKit does not read around and inside them
const BASE_COMMENTED =
  '{# why the root file system comes first #}\nFROM scratch\n# the busybox root file system\n\nADD rootfs.tar /\n' +
  'RUN echo base > /etc/role \\\n    # the role, for the child\n    && echo more >> /etc/role\n';
const TREE: Record<string, string> = {
  'kolla-gen.yaml': 'namespace: e2e\ntag: "1"\nbases: [debian]\narches: [amd64]\n',
  'docker/base/Dockerfile.j2': BASE,
  'docker/child/Dockerfile.j2': 'FROM {{ namespace }}/{{ image_prefix }}base:{{ tag }}\nRUN echo child > /etc/child\n',
};

describe('a comment-only edit on a real engine', () => {
  let engine: Engine | undefined;
  let work = '';

  const kg = (args: string[]) => execa(process.execPath, [CLI, ...args], { cwd: work, env: { ...engine!.env }, extendEnv: false, reject: false });
  const git = (args: string[]) =>
    execa('git', ['-c', 'user.name=kolla-gen e2e', '-c', 'user.email=e2e@kolla-gen.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd: work });
  /** Generates and bakes the whole tree, pushed: the bake's plain progress. */
  const build = async (): Promise<string> => {
    const made = await kg(['generate', '--registry', engine!.registry]);
    expect(made.exitCode, made.stderr).toBe(0);
    const r = await execa('docker', ['buildx', 'bake', '-f', 'generated/docker-bake.json', '--push', '--provenance=false', '--progress=plain'], {
      cwd: work,
      env: { ...engine!.env },
      extendEnv: false,
      reject: false,
    });
    expect(r.exitCode, r.stderr.slice(-4000)).toBe(0);
    return r.stderr;
  };
  /** The layer digests of an image the registry holds. */
  const layers = async (image: string): Promise<string[]> => {
    const r = await engine!.skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${engine!.registry}/e2e/${image}:1`]);
    const manifest = JSON.parse(String(r.stdout)) as { layers?: { digest: string }[] };
    return (manifest.layers ?? []).map((l) => l.digest);
  };

  beforeAll(async () => {
    engine = await startEngine();
    work = mkdtempSync(join(tmpdir(), 'kolla-gen-e2e-comments-'));
    for (const [rel, text] of Object.entries(TREE)) {
      mkdirSync(join(work, rel, '..'), { recursive: true });
      writeFileSync(join(work, rel), text);
    }
    copyFileSync(engine.rootfs.amd64, join(work, 'docker', 'base', 'rootfs.tar'));
  });

  afterAll(async () => {
    try {
      await engine?.stop();
    } finally {
      if (work) rmSync(work, { recursive: true, force: true });
    }
  });

  it('shows in the Dockerfile, selects nothing, and builds again from the cache into the same layers', async () => {
    await build();
    const before = { base: await layers('base'), child: await layers('child') };
    expect(before.base.length).toBeGreaterThanOrEqual(2);
    expect(before.child.length).toBe(before.base.length + 1);
    await git(['init', '-q']);
    await git(['add', '-A']);
    await git(['commit', '-q', '-m', 'the tree']);

    writeFileSync(join(work, 'docker/base/Dockerfile.j2'), BASE_COMMENTED);
    const progress = await build();
    // the committed Dockerfile shows the edit: it is what people review
    expect(readFileSync(join(work, 'generated/debian/base/Dockerfile'), 'utf8')).toContain('# the role, for the child');
    // nothing is affected
    const listed = await kg(['list', '--registry', engine!.registry, '--affected-since', 'HEAD', '--json']);
    expect(listed.exitCode, listed.stderr).toBe(0);
    const out = JSON.parse(listed.stdout) as { result: { variants: { images: string[] }[] } };
    expect(out.result.variants.map((v) => v.images)).toEqual([[]]);
    // every step of both images came from the cache ("#7 [debian-base 3/3] RUN …" then "#7 CACHED")
    const steps = [...progress.matchAll(/^#(\d+) \[[^\]]+\] (?:ADD|RUN|COPY)\b.*$/gm)].map((m) => ({ id: m[1] as string, line: m[0] }));
    expect(steps.length, progress.slice(-4000)).toBeGreaterThanOrEqual(3);
    for (const step of steps) expect(progress, step.line).toMatch(new RegExp(`^#${step.id} CACHED$`, 'm'));
    // and the registry holds the same layers
    expect({ base: await layers('base'), child: await layers('child') }).toEqual(before);
  });
});
