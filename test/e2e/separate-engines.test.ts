// Per-arch runners on separate engines (issue 27, item 5): the build job of the workflow `kolla-gen init` writes, once
// per arch of its matrix, each on an engine of its own (own dockerd, data root, containerd and build cache: nothing
// shared but the registry), both at once, then its lists job on a fresh third engine. Every image of the e2e tree
// (test/e2e/fixtures/tree: 9 images on 4 levels, one rendered differently per arch, hence joined) then has an
// amd64+arm64 list under its tags whose images are exactly the ones the arch runners pushed; a second round of the jobs
// builds nothing; the lists carry each runner's provenance attestation. The jobs' steps are read from the workflow
// (workflow-jobs.ts), so the test follows it as it changes.
import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startEngine, type Engine } from './engine/index.js';
import type { Workflow } from '../support/workflow.js';
import { runJob, type RunOn } from './workflow-jobs.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli.js');
const TREE = join(ROOT, 'test', 'e2e', 'fixtures', 'tree');
const IMAGES = ['app', 'archinfo', 'archtool', 'base', 'plugin', 'runtime', 'service', 'tools', 'worker'];
const ARCHES = ['amd64', 'arm64'] as const;
const GIT_CONFIG = ['-c', 'user.name=kolla-gen e2e', '-c', 'user.email=e2e@kolla-gen.invalid', '-c', 'commit.gpgsign=false'];

interface Descriptor {
  digest: string;
  platform?: { os: string; architecture: string };
  annotations?: Record<string, string>;
}

describe('per-arch runners on separate engines, one registry: the workflow of kolla-gen init', () => {
  /** The registry's owner (and the amd64 runner), the arm64 runner, and the lists runner (started fresh for its job). */
  const engines: Engine[] = [];
  let top = '';
  let bin = '';
  let ops = '';
  let registry = '';
  let workflow: Workflow | undefined;
  let tags: string[] = [];
  let round = 0;
  const t0 = Date.now();

  const git = (cwd: string, args: string[]) => execa('git', [...GIT_CONFIG, ...args], { cwd });
  const kg = (args: string[]) => execa(process.execPath, [CLI, ...args], { cwd: ops, env: { ...engines[0]!.env, HOME: join(top, 'home'), KOLLA_GEN_CACHE_DIR: join(top, 'kg-cache') }, extendEnv: false, reject: false });
  const skopeo = (args: string[]) => engines[0]!.skopeo(args, { reject: false });
  const raw = async (ref: string): Promise<string | undefined> => {
    const r = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
    return r.exitCode === 0 ? String(r.stdout) : undefined;
  };
  const repositories = () => [...new Set(tags.map((t) => t.slice(0, t.lastIndexOf(':'))))].sort();
  const tagsOf = async (repository: string): Promise<string[]> => {
    const r = await skopeo(['list-tags', '--tls-verify=false', `docker://${repository}`]);
    return r.exitCode === 0 ? (JSON.parse(String(r.stdout)) as { Tags: string[] }).Tags.sort() : [];
  };
  /** The linux images a ref names, arch → digest: its own, or those of the list it is. */
  const imagesOf = async (ref: string): Promise<Record<string, string>> => {
    const text = await raw(ref);
    if (text === undefined) return {};
    const parsed = JSON.parse(text) as { manifests?: Descriptor[] };
    if (parsed.manifests === undefined) {
      const config = JSON.parse(String((await skopeo(['inspect', '--config', '--raw', '--tls-verify=false', `docker://${ref}`])).stdout)) as { architecture: string };
      return { [config.architecture]: `sha256:${createHash('sha256').update(text).digest('hex')}` };
    }
    return Object.fromEntries(parsed.manifests.filter((m) => m.platform?.os === 'linux').map((m) => [m.platform!.architecture, m.digest]));
  };
  /** Every tag of the images' repositories with the digest it names: what the registry holds of them. */
  const registryState = async (): Promise<Record<string, string | undefined>> => {
    const state: Record<string, string | undefined> = {};
    for (const repository of repositories()) {
      for (const tag of await tagsOf(repository)) {
        const text = await raw(`${repository}:${tag}`);
        state[`${repository}:${tag}`] = text === undefined ? undefined : createHash('sha256').update(text).digest('hex');
      }
    }
    return state;
  };

  beforeAll(async () => {
    // the amd64 runner's engine runs the registry the others push to
    engines.push(await startEngine());
    registry = engines[0]!.registry;
    engines.push(await startEngine({ registry }));
    top = mkdtempSync(join(tmpdir(), 'kolla-gen-e2e-separate-'));
    bin = join(top, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'kolla-gen'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"\n`);
    chmodSync(join(bin, 'kolla-gen'), 0o755);

    // the ops repo: the e2e tree, the workflow `kolla-gen init` writes for this registry, generated/ committed
    ops = join(top, 'ops');
    mkdirSync(ops);
    await git(ops, ['init', '-q', '-b', 'main']);
    cpSync(join(TREE, 'docker'), join(ops, 'docker'), { recursive: true });
    copyFileSync(engines[0]!.rootfs.amd64, join(ops, 'docker', 'base', 'rootfs-amd64.tar'));
    copyFileSync(engines[0]!.rootfs.arm64, join(ops, 'docker', 'base', 'rootfs-arm64.tar'));
    const init = await kg(['init', '-D', 'docker', '--registry', registry]);
    expect(init.exitCode, init.stderr).toBe(0);
    // the tree's own config (its namespace, variables, one base), with the registry init was given and provenance
    writeFileSync(join(ops, 'kolla-gen.yaml'), `${readFileSync(join(TREE, 'kolla-gen.yaml'), 'utf8')}registry: ${registry}\nattest:\n  provenance: min\n`);
    const generated = await kg(['generate', '--quiet']);
    expect(generated.exitCode, generated.stderr).toBe(0);
    await git(ops, ['add', '-A']);
    await git(ops, ['commit', '-q', '-m', 'the e2e tree, kolla-gen init, generate']);
    workflow = parseYaml(readFileSync(join(ops, '.github', 'workflows', 'images.yml'), 'utf8')) as Workflow;
    expect(workflow.env.REGISTRY).toBe(registry);
    const bake = JSON.parse(readFileSync(join(ops, 'generated', 'docker-bake.json'), 'utf8')) as { target: Record<string, { tags?: string[] }> };
    tags = Object.values(bake.target).flatMap((t) => t.tags ?? []).sort();
    expect(tags).toHaveLength(IMAGES.length);
  });

  afterAll(async () => {
    const problems: string[] = [];
    // the registry's owner last
    for (const engine of [...engines].reverse()) {
      try {
        await engine.stop();
      } catch (e) {
        problems.push((e as Error).message);
      }
    }
    if (top) rmSync(top, { recursive: true, force: true });
    console.info(`[e2e separate-engines] ${engines[0]?.name} engines: ${((Date.now() - t0) / 1000).toFixed(1)}s in all`);
    if (problems.length > 0) throw new Error(problems.join('\n'));
  });

  /**
   * One round on a push to main: the build job once per arch of the matrix, each on its own engine, both at once; then
   * the lists job on a fresh engine, stopped after it. Returns each job's output.
   */
  async function runRound(): Promise<Record<string, string>> {
    round++;
    const w = workflow!;
    const on: RunOn = { event: 'push', repo: ops, branch: 'main' };
    expect(Object.keys(w.jobs)).toContain('build');
    expect(w.jobs.lists?.needs).toBe('build');
    const include = w.jobs.build!.strategy!.matrix.include;
    expect(include.map((m) => m.arch)).toEqual([...ARCHES]);
    const outputs: Record<string, string> = {};
    const b0 = Date.now();
    await Promise.all(
      include.map(async (matrix, i) => {
        const workspace = join(top, `round${round}-build-${matrix.arch}`);
        outputs[`build-${matrix.arch}`] = (await runJob({ engine: engines[i]!, bin, run: on, workflow: w, jobName: 'build', workspace, matrix })).output;
      }),
    );
    console.info(`[e2e separate-engines] ${engines[0]!.name} round ${round}: both build jobs ${((Date.now() - b0) / 1000).toFixed(1)}s`);
    const lists = await startEngine({ registry });
    try {
      outputs.lists = (await runJob({ engine: lists, bin, run: on, workflow: w, jobName: 'lists', workspace: join(top, `round${round}-lists`) })).output;
    } finally {
      await lists.stop();
    }
    if (process.env.KG_E2E_SHOW) for (const [k, v] of Object.entries(outputs)) console.info(`=== round ${round} ${k}\n${v.split('\n').filter((l) => !l.startsWith('#')).join('\n')}`);
    return outputs;
  }

  it('the engines share the registry and nothing else', () => {
    const [a, b] = engines;
    expect(b!.registry).toBe(a!.registry);
    expect(b!.pids.registry).toBeUndefined();
    expect(b!.tmpDir).not.toBe(a!.tmpDir);
    expect(b!.env.DOCKER_HOST).not.toBe(a!.env.DOCKER_HOST);
    expect(b!.bridge).not.toBe(a!.bridge);
    expect(b!.binfmtEntry).not.toBe(a!.binfmtEntry);
  });

  it("each arch's runner builds every image on its own engine; the lists runner builds nothing and lists exactly their images", async () => {
    for (const tag of tags) expect(await raw(tag), `${tag} before the first round`).toBeUndefined();
    const w = workflow!;
    const on: RunOn = { event: 'push', repo: ops, branch: 'main' };
    const include = w.jobs.build!.strategy!.matrix.include;
    // the arch jobs first, on their own engines at once; what each pushed under its per-arch content tags
    round++;
    const outputs: Record<string, string> = {};
    await Promise.all(
      include.map(async (matrix, i) => {
        const workspace = join(top, `round${round}-build-${matrix.arch}`);
        outputs[matrix.arch!] = (await runJob({ engine: engines[i]!, bin, run: on, workflow: w, jobName: 'build', workspace, matrix })).output;
      }),
    );
    const pushed: Record<string, Record<string, string>> = {};
    for (const arch of ARCHES) {
      expect(outputs[arch], arch).toMatch(new RegExp(`^${IMAGES.length} built, 0 failed, 0 skipped, 0 unbuildable$`, 'm'));
      for (const repository of repositories()) {
        const kgTags = [...outputs[arch]!.matchAll(new RegExp(`: pushed ${repository.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(kg-[0-9a-f]+)`, 'g'))].map((m) => m[1]!);
        expect(kgTags, `${arch} pushed ${repository}`).toHaveLength(1);
        const images = await imagesOf(`${repository}:${kgTags[0]}`);
        // one image of the runner's arch, and nothing of the other
        expect(Object.keys(images), `${repository}:${kgTags[0]}`).toEqual([arch]);
        (pushed[repository] ??= {})[arch] = images[arch]!;
      }
    }
    // the lists job, on a fresh engine
    const lists = await startEngine({ registry });
    let out = '';
    try {
      out = (await runJob({ engine: lists, bin, run: on, workflow: w, jobName: 'lists', workspace: join(top, `round${round}-lists`) })).output;
    } finally {
      await lists.stop();
    }
    expect(out).toMatch(new RegExp(`^0 built, 0 failed, 0 skipped, ${IMAGES.length} already in the registry, 0 unbuildable$`, 'm'));
    for (const tag of tags) {
      const repository = tag.slice(0, tag.lastIndexOf(':'));
      // the list under the tag of generated/: amd64 and arm64, exactly the digests the arch runners pushed
      expect(await imagesOf(tag), tag).toEqual(pushed[repository]);
      // and each runner's provenance of its image
      const list = JSON.parse((await raw(tag))!) as { manifests: Descriptor[] };
      const attested = list.manifests.filter((m) => m.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest').map((m) => m.annotations?.['vnd.docker.reference.digest']);
      expect(attested.sort(), `${tag} attestations`).toEqual(Object.values(pushed[repository]!).sort());
    }
  });

  it('a second round of the jobs builds nothing and changes nothing in the registry', async () => {
    const before = await registryState();
    expect(Object.keys(before).length).toBeGreaterThan(tags.length);
    const out = await runRound();
    for (const job of ['build-amd64', 'build-arm64', 'lists']) expect(out[job], job).toMatch(new RegExp(`^0 built, 0 failed, 0 skipped, ${IMAGES.length} already in the registry, 0 unbuildable$`, 'm'));
    expect(await registryState()).toEqual(before);
  });
});
