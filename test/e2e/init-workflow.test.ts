// Issue 28, "Done when": `kolla-gen init` from an empty dir, and the commands of the workflow it writes, run as a runner
// runs them against the engine's local registry (test/e2e/engine), for both layouts of docs/ops-repo.md:
//   beside     a stable-shaped kolla checkout (docker/, branch stable/2025.2) beside the ops repo, pinned by kolla-gen.yaml
//   submodule  a master-shaped checkout (kolla/docker/) added as a git submodule of the ops repo, pinned by git
// For each: init --preset kolla -D <checkout> --registry <the engine's registry>, generate, commit; then the jobs of
// .github/workflows/images.yml as on a push to main (check, build once per arch of its matrix, lists), each in a fresh
// clone of the ops repo (a runner's workspace) with `kolla-gen` on PATH; the registry then holds every image of the
// generated bake file as an amd64+arm64 manifest list under its tags, and a second round of the jobs builds nothing.
// Then a pull request (an overlay of the ops repo replaces keystone's template): its check job lists what it affects,
// each arch builds that alone on the base main pushed, and nothing is pushed. Last, the exact plain bake command
// `generate` says (with --push; without its --allow on buildx 0.13, as building.md says) pushes the lists again.
// Then the other workflow init writes, refresh-bases.yml, on the schedule, for a checkout whose base lies in the
// registry: the lock refreshed when the base moved, and a pull request of exactly what that changes.
// The checkouts are tiny stand-ins written here (not upstream's templates): base picks a busybox rootfs per arch (no
// registry, no network), cron and keystone are built on it.
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startEngine, type Engine } from './engine/index.js';
import { hasYq, type Workflow } from '../support/workflow.js';
import { runJob as runJobOn, type RunOn } from './workflow-jobs.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli.js');
const IMAGES = ['base', 'cron', 'keystone'];
const PLATFORMS = ['linux/amd64', 'linux/arm64'];
const GIT_CONFIG = ['-c', 'user.name=kolla-gen e2e', '-c', 'user.email=e2e@kolla-gen.invalid', '-c', 'commit.gpgsign=false', '-c', 'protocol.file.allow=always'];

const NEEDS_YQ = hasYq ? '' : ' (SKIPPED: no yq on PATH, which the workflow reads kolla-gen.yaml with; CI sets KG_REQUIRE_YQ)';

interface Bake {
  target: Record<string, { tags?: string[]; platforms?: string[] }>;
}

type Layout = 'beside' | 'submodule';
const CONFIG_PY = (release: string) => `# a stand-in for the parts of kolla/common/config.py kolla-gen reads
OPENSTACK_RELEASE = '${release}'

_PROFILE_OPTS = [
    cfg.ListOpt('infra',
                default=['cron'],
                help='Infra images'),
    cfg.ListOpt('main',
                default=['keystone'],
                help='Main images'),
]
`;

function write(dir: string, rel: string, text: string): void {
  mkdirSync(dirname(join(dir, rel)), { recursive: true });
  writeFileSync(join(dir, rel), text);
}

const git = (cwd: string, args: string[]) => execa('git', [...GIT_CONFIG, ...args], { cwd });

describe('kolla-gen init from an empty dir, and the workflow it writes run as a runner would, on a real engine', () => {
  let engine: Engine | undefined;
  let top = '';
  /** A dir holding `kolla-gen` (node dist/cli.js): what `npm install -g "$KOLLA_GEN_PACKAGE"` puts on a runner's PATH. */
  let bin = '';
  const t0 = Date.now();

  beforeAll(async () => {
    engine = await startEngine();
    top = mkdtempSync(join(tmpdir(), 'kolla-gen-e2e-init-'));
    bin = join(top, 'bin');
    write(bin, 'kolla-gen', `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"\n`);
    chmodSync(join(bin, 'kolla-gen'), 0o755);
  });

  afterAll(async () => {
    try {
      await engine?.stop();
    } finally {
      if (top) rmSync(top, { recursive: true, force: true });
      console.info(`[e2e init-workflow] ${engine?.name} engine: ${((Date.now() - t0) / 1000).toFixed(1)}s in all`);
    }
  });

  const kg = (cwd: string, args: string[]) =>
    execa(process.execPath, [CLI, ...args], { cwd, env: { ...engine!.env, HOME: join(top, 'home'), KOLLA_GEN_CACHE_DIR: join(top, 'kg-cache') }, extendEnv: false, reject: false });

  /**
   * Upstream kolla (a stand-in for its git server, no network), shaped as upstream's: master keeps its templates in
   * kolla/docker, stable branches in docker.
   */
  async function kollaUpstream(dir: string, branch: 'master' | 'stable/2025.2'): Promise<void> {
    const docker = branch === 'master' ? 'kolla/docker' : 'docker';
    write(dir, 'kolla/common/config.py', CONFIG_PY(branch === 'master' ? 'master' : '2025.2'));
    write(dir, 'kolla/common/users.py', "USERS = {\n    'kolla-user': {'uid': 42400, 'gid': 42400},\n}\n");
    // offline base images: a busybox rootfs per arch, picked by TARGETARCH (the template renders per arch: base_arch)
    write(
      dir,
      `${docker}/base/Dockerfile.j2`,
      [
        'FROM scratch AS base-amd64',
        'ADD rootfs-amd64.tar /',
        'FROM scratch AS base-arm64',
        'ADD rootfs-arm64.tar /',
        'FROM base-${TARGETARCH}',
        'LABEL kolla_version="{{ kolla_version }}"',
        `RUN mkdir -p /etc/kolla-e2e && echo "base {{ base_arch }} ${branch}" > /etc/kolla-e2e/base && uname -m >> /etc/kolla-e2e/base`,
        '',
      ].join('\n'),
    );
    copyFileSync(engine!.rootfs.amd64, join(dir, docker, 'base', 'rootfs-amd64.tar'));
    copyFileSync(engine!.rootfs.arm64, join(dir, docker, 'base', 'rootfs-arm64.tar'));
    for (const image of ['cron', 'keystone']) {
      write(dir, `${docker}/${image}/Dockerfile.j2`, `FROM {{ namespace }}/{{ image_prefix }}base:{{ tag }}\nRUN echo "${image} on {{ base_arch }}" > /etc/kolla-e2e/${image}\n`);
    }
    await git(dir, ['init', '-q', '-b', branch]);
    await git(dir, ['add', '-A']);
    await git(dir, ['commit', '-q', '-m', `kolla ${branch}`]);
  }

  /** Upstream moves on after the ops repo pinned it: CI must still build the pinned commit. Returns the new HEAD. */
  async function moveOn(dir: string): Promise<string> {
    const docker = existsSync(join(dir, 'kolla', 'docker')) ? 'kolla/docker' : 'docker';
    write(dir, `${docker}/cron/Dockerfile.j2`, 'FROM {{ namespace }}/{{ image_prefix }}base:{{ tag }}\nRUN echo "cron, moved on" > /etc/kolla-e2e/cron\n');
    await git(dir, ['commit', '-q', '-am', 'cron moved on']);
    return (await git(dir, ['rev-parse', 'HEAD'])).stdout.trim();
  }

  /** One job of the workflow on a fresh runner (workflow-jobs.ts), on this file's one engine: the jobs run one after the
   * other (the arm64 job emulated, not on a native runner), so they share its build cache as CI's runners do not;
   * what they must share, the registry, is real (separate-engines.test.ts gives each runner an engine of its own). */
  const runJob = (run: RunOn, workflow: Workflow, jobName: string, workspace: string, matrix: Record<string, string> = {}) =>
    runJobOn({ engine: engine!, bin, run, workflow, jobName, workspace, matrix });

  const platformsOf = async (ref: string): Promise<string[]> => {
    const raw = await engine!.skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
    const index = JSON.parse(String(raw.stdout)) as { manifests?: { platform?: { os: string; architecture: string } }[] };
    return (index.manifests ?? []).map((m) => `${m.platform?.os}/${m.platform?.architecture}`).filter((p) => p !== 'unknown/unknown').sort();
  };
  const digestOf = async (ref: string): Promise<string | undefined> => {
    const raw = await engine!.skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${ref}`], { reject: false });
    return raw.exitCode === 0 ? `sha256:${createHash('sha256').update(String(raw.stdout)).digest('hex')}` : undefined;
  };

  for (const layout of ['beside', 'submodule'] as const satisfies readonly Layout[]) {
    describe(`${layout === 'beside' ? 'a stable checkout beside the ops repo' : 'a master checkout as a submodule of the ops repo'}`, () => {
      let dir = '';
      let ops = '';
      let workflow: Workflow | undefined;
      /** The plain bake command `generate` says, as arguments after `docker`. */
      let said: string[] = [];
      let tags: string[] = [];
      let round = 0;
      /** The upstream commit the ops repo pins (upstream moves on after it). */
      let pinned = '';

      /**
       * The workflow's jobs on a push to main (check, build per arch of its matrix, lists) or on a pull request from
       * `branch` (lists is main only), each on a fresh runner. Returns each job's output, and the check job's summary.
       */
      async function runWorkflow(event: RunOn['event'], branch = 'main'): Promise<Record<string, string>> {
        round++;
        const w = workflow!;
        const on: RunOn = { event, repo: ops, branch };
        expect(Object.keys(w.jobs)).toEqual(['check', 'build', 'lists']);
        const outputs: Record<string, string> = {};
        const s0 = Date.now();
        const check = await runJob(on, w, 'check', join(dir, `round${round}-check`));
        outputs.check = check.output;
        outputs.summary = check.summary;
        const include = w.jobs.build!.strategy!.matrix.include;
        expect(include.map((m) => m.arch)).toEqual(['amd64', 'arm64']);
        for (const matrix of include) {
          const b0 = Date.now();
          outputs[`build-${matrix.arch}`] = (await runJob(on, w, 'build', join(dir, `round${round}-build-${matrix.arch}`), matrix)).output;
          console.info(`[e2e init-workflow] ${engine!.name} ${layout} round ${round} (${event}): build ${matrix.arch} ${((Date.now() - b0) / 1000).toFixed(1)}s`);
        }
        outputs.lists = (await runJob(on, w, 'lists', join(dir, `round${round}-lists`))).output;
        // KG_E2E_SHOW=1: each job's output (its progress lines left out), to see what a runner would
        if (process.env.KG_E2E_SHOW) for (const [k, v] of Object.entries(outputs)) console.info(`=== ${layout} round ${round} ${k}\n${v.split('\n').filter((l) => !l.startsWith('#')).join('\n')}`);
        console.info(`[e2e init-workflow] ${engine!.name} ${layout} round ${round} (${event}): the workflow's jobs ${((Date.now() - s0) / 1000).toFixed(1)}s`);
        return outputs;
      }

      /** Every tag of every repository of the generated tags, with its digest: what the registry holds of the images. */
      async function registryState(): Promise<Record<string, string | undefined>> {
        const state: Record<string, string | undefined> = {};
        for (const repo of new Set(tags.map((t) => t.slice(0, t.lastIndexOf(':'))))) {
          const listed = await engine!.skopeo(['list-tags', '--tls-verify=false', `docker://${repo}`]);
          for (const tag of (JSON.parse(String(listed.stdout)) as { Tags: string[] }).Tags) state[`${repo}:${tag}`] = await digestOf(`${repo}:${tag}`);
        }
        return state;
      }

      beforeAll(() => {
        dir = join(top, layout);
        mkdirSync(dir);
      });

      it('init --preset kolla from an empty dir, generate and commit: tags name the registry, generate says the bake command', async () => {
        ops = join(dir, 'ops');
        mkdirSync(ops);
        await git(ops, ['init', '-q', '-b', 'main']);
        let given: string;
        if (layout === 'beside') {
          // the operator's clone of upstream, beside the ops repo: init pins its origin and commit
          await kollaUpstream(join(dir, 'kolla-upstream'), 'stable/2025.2');
          await git(dir, ['clone', '-q', join(dir, 'kolla-upstream'), 'kolla']);
          given = '../kolla';
        } else {
          await kollaUpstream(join(dir, 'kolla-upstream'), 'master');
          await git(ops, ['submodule', 'add', '-q', join(dir, 'kolla-upstream'), 'kolla']);
          given = 'kolla';
        }
        const init = await kg(ops, ['init', '--preset', 'kolla', '-D', given, '--registry', engine!.registry]);
        expect(init.exitCode, init.stderr).toBe(0);
        expect(init.stdout).toContain(layout === 'beside' ? 'layout: beside (../kolla): kolla-gen.yaml pins upstream' : 'layout: submodule (kolla): git pins its commit');
        const generated = await kg(ops, ['generate']);
        expect(generated.exitCode, generated.stderr).toBe(0);
        const line = generated.stderr.split('\n').find((l) => l.startsWith('kolla-gen: bake it with: '));
        // beside, the read of the checkout's docker dir is granted; a submodule is inside the repo and needs none
        expect(line).toBe(`kolla-gen: bake it with: docker buildx bake -f generated/docker-bake.hcl${layout === 'beside' ? ' --allow fs.read=../kolla/docker' : ''}`);
        said = line!.slice('kolla-gen: bake it with: docker '.length).split(' ');
        const bake = JSON.parse(readFileSync(join(ops, 'generated', 'docker-bake.json'), 'utf8')) as Bake;
        tags = Object.values(bake.target).flatMap((t) => t.tags ?? []).sort();
        expect(tags).toHaveLength(IMAGES.length);
        for (const image of IMAGES) expect(tags.some((t) => t.startsWith(`${engine!.registry}/kolla/${image}:`)), `${image} in ${tags.join(' ')}`).toBe(true);
        workflow = parseYaml(readFileSync(join(ops, '.github', 'workflows', 'images.yml'), 'utf8')) as Workflow;
        expect(workflow.env.REGISTRY).toBe(engine!.registry);
        await git(ops, ['add', '-A']);
        await git(ops, ['commit', '-q', '-m', 'kolla-gen init, generate']);
        expect((await git(ops, ['status', '--porcelain'])).stdout).toBe('');
        pinned = (await git(join(ops, given), ['rev-parse', 'HEAD'])).stdout.trim();
        expect(await moveOn(join(dir, 'kolla-upstream'))).not.toBe(pinned);
      });

      it.skipIf(!hasYq)(`the workflow's jobs on a push to main, in fresh clones: every image an amd64+arm64 list under the tags of generated/${NEEDS_YQ}`, async () => {
        const w = workflow!;
        const upstreamSteps = Object.values(w.jobs).flatMap((job) => job.steps.filter((s) => s.name === 'upstream at the commit kolla-gen.yaml pins'));
        // beside, every job checks out the pinned upstream where docker_dirs expects it; a submodule comes with the checkout
        expect(upstreamSteps).toHaveLength(layout === 'beside' ? 3 : 0);
        for (const tag of tags) expect(await digestOf(tag), `${tag} before the first round`).toBeUndefined();
        const out = await runWorkflow('push');
        // upstream moved on since: every job built the commit the ops repo pins (kolla-gen.yaml's, or the submodule's)
        for (const job of ['check', 'build-amd64', 'build-arm64', 'lists']) {
          const checkout = join(dir, `round1-${job}`, layout === 'beside' ? 'kolla' : 'ops/kolla');
          expect((await git(checkout, ['rev-parse', 'HEAD'])).stdout.trim(), job).toBe(pinned);
        }
        expect(out.check).toContain('generated: up to date');
        // each arch's job builds every image and pushes it under its per-arch content tag; lists then builds nothing and
        // points the tags of generated/ at the lists of those (a build job that pushed nothing would leave it all to lists)
        for (const arch of ['amd64', 'arm64']) {
          expect(out[`build-${arch}`], arch).toMatch(new RegExp(`^${IMAGES.length} built, 0 failed, 0 skipped, 0 unbuildable$`, 'm'));
          for (const image of IMAGES) expect(out[`build-${arch}`], `${arch} ${image}`).toContain(`: pushed ${engine!.registry}/kolla/${image}:kg-`);
        }
        expect(out.lists).toMatch(new RegExp(`^0 built, 0 failed, 0 skipped, ${IMAGES.length} already in the registry, 0 unbuildable$`, 'm'));
        for (const tag of tags) expect(out.lists).toContain(`(tagged again: ${tag})`);
        for (const tag of tags) expect(await platformsOf(tag), tag).toEqual(PLATFORMS);
        // the images are what the checkout's templates say, on each arch (arm64 under emulation)
        const keystone = tags.find((t) => t.includes('/kolla/keystone:'))!;
        for (const [platform, machine] of [['linux/amd64', 'x86_64'], ['linux/arm64', 'aarch64']] as const) {
          await engine!.docker(['pull', '--quiet', '--platform', platform, keystone]);
          const run = await engine!.docker(['run', '--rm', '--platform', platform, keystone, 'cat', '/etc/kolla-e2e/base', '/etc/kolla-e2e/keystone']);
          expect(String(run.stdout).trim()).toBe(`base ${machine} ${layout === 'beside' ? 'stable/2025.2' : 'master'}\n${machine}\nkeystone on ${machine}`);
        }
      });

      it.skipIf(!hasYq)(`a second round of the workflow's jobs builds nothing: every image is in the registry (skip-existing)${NEEDS_YQ}`, async () => {
        const before = await registryState();
        const out = await runWorkflow('push');
        for (const job of ['build-amd64', 'build-arm64', 'lists']) expect(out[job], job).toMatch(new RegExp(`^0 built, 0 failed, 0 skipped, ${IMAGES.length} already in the registry, 0 unbuildable$`, 'm'));
        expect(await registryState()).toEqual(before);
      });

      it.skipIf(!hasYq)(`a pull request that overlays keystone: check lists it alone, each arch builds it alone on the base main pushed, nothing is pushed${NEEDS_YQ}`, async () => {
        await git(ops, ['switch', '-q', '-c', 'overlay-keystone']);
        write(ops, 'overlays/docker/keystone/Dockerfile.j2', 'FROM {{ namespace }}/{{ image_prefix }}base:{{ tag }}\nRUN echo "keystone of the ops repo on {{ base_arch }}" > /etc/kolla-e2e/keystone\n');
        const configFile = join(ops, 'kolla-gen.yaml');
        const config = readFileSync(configFile, 'utf8');
        expect(config).toContain('\n#  - overlays/docker\n');
        writeFileSync(configFile, config.replace('\n#  - overlays/docker\n', '\n  - overlays/docker\n'));
        const generated = await kg(ops, ['generate', '--quiet']);
        expect(generated.exitCode, generated.stderr).toBe(0);
        await git(ops, ['add', '-A']);
        await git(ops, ['commit', '-q', '-m', 'keystone: the ops repo overlay']);
        const before = await registryState();
        try {
          const out = await runWorkflow('pull_request', 'overlay-keystone');
          // kolla-gen summary of what the pull request affects
          expect(out.summary).toMatch(/^## Images affected since (origin\/)?main$/m);
          expect(out.summary).toMatch(/keystone/);
          expect(out.summary).not.toMatch(/cron/);
          for (const arch of ['amd64', 'arm64']) {
            expect(out[`build-${arch}`], arch).toMatch(/^Built \(1\):\n {2}ubuntu-keystone\n1 built, 0 failed, 0 skipped, 0 unbuildable$/m);
          }
          expect(out.lists, 'lists is main only').toBe('');
          expect(await registryState()).toEqual(before);
        } finally {
          await git(ops, ['switch', '-q', 'main']);
        }
      });

      it.skipIf(!hasYq)(`a pull request that bumps upstream with generated/: check passes on the new commit, each arch builds what it changes (every image: base names the commit), nothing is pushed${NEEDS_YQ}`, async () => {
        const checkout = join(ops, layout === 'beside' ? '../kolla' : 'kolla');
        await git(ops, ['switch', '-q', '-c', 'bump-kolla']);
        try {
          // docs/ops-repo.md, "Bumping upstream"
          await git(checkout, ['pull', '-q', '--ff-only']);
          if (layout === 'beside') {
            const bumped = await kg(ops, ['init', '--bump']);
            expect(bumped.exitCode, bumped.stderr).toBe(0);
          }
          const generated = await kg(ops, ['generate', '--quiet']);
          expect(generated.exitCode, generated.stderr).toBe(0);
          await git(ops, ['add', '-A']);
          await git(ops, ['commit', '-q', '-m', 'Bump kolla']);
          const before = await registryState();
          const out = await runWorkflow('pull_request', 'bump-kolla');
          expect(out.check).toContain('generated: up to date');
          // the summary says what the pull request changes: every image (beside, the checkout is the same at both ends of
          // --affected-since, so the step says upstream.commit moved and lists them all)
          if (layout === 'beside') {
            expect(out.summary).toContain('### Images affected since main\nupstream.commit moved: every image');
            for (const image of IMAGES) expect(out.summary, image).toMatch(new RegExp(`^ {2}${image}$`, 'm'));
            expect(out.summary).not.toContain('0 selected');
          } else {
            // the submodule moves with the pull request: kolla-gen summary sees both commits and names every image
            expect(out.summary).toMatch(/^## Images affected since (origin\/)?main$/m);
            expect(out.summary).toMatch(new RegExp(`^\\| ubuntu \\| ${IMAGES.length} \\|`, 'm'));
            for (const image of IMAGES) expect(out.summary, image).toContain(`\`${image}\``);
          }
          for (const arch of ['amd64', 'arm64']) {
            expect(out[`build-${arch}`], arch).toMatch(new RegExp(`^Built \\(${IMAGES.length}\\):\n(  ubuntu-[a-z]+\n){${IMAGES.length}}${IMAGES.length} built, 0 failed, 0 skipped, 0 unbuildable$`, 'm'));
          }
          expect(await registryState()).toEqual(before);
        } finally {
          await git(ops, ['switch', '-q', 'main']);
          // the operator's checkout back at the commit main pins
          if (layout === 'beside') await git(checkout, ['reset', '-q', '--hard', pinned]);
          else await git(ops, ['submodule', 'update', '-q']);
          expect((await git(checkout, ['rev-parse', 'HEAD'])).stdout.trim()).toBe(pinned);
        }
      });

      it('the plain bake command generate says, with --push, pushes every image as an amd64+arm64 list', async () => {
        // the lists the workflow made are deleted first, so that what the registry holds afterwards is this bake's
        for (const tag of tags) {
          if (await digestOf(tag)) await engine!.skopeo(['delete', '--tls-verify=false', `docker://${tag}`]);
          expect(await digestOf(tag), tag).toBeUndefined();
        }
        // buildx 0.13 has no bake --allow (and reads anywhere): building.md says to leave the flag out there
        const knowsAllow = /^\s*--allow\b/m.test(String((await engine!.docker(['buildx', 'bake', '--help'])).stdout));
        const command = knowsAllow ? said : said.filter((arg, i) => arg !== '--allow' && said[i - 1] !== '--allow');
        const b0 = Date.now();
        // buildx 0.13 pushes some images twice (BuildKit's push, then "pushing … with docker"), and the registry once
        // answered such a second push's HEAD with a 500 (CI, the oldest engine): a race of the engine, run once more
        const push = () => engine!.docker([...command, '--push'], { cwd: ops, reject: false, all: true });
        const first = await push();
        const r = first.exitCode !== 0 && /unexpected status from HEAD request to \S+: 500 Internal Server Error/.test(String(first.all)) ? await push() : first;
        console.info(`[e2e init-workflow] ${engine!.name} ${layout}: docker ${[...command, '--push'].join(' ')}: ${((Date.now() - b0) / 1000).toFixed(1)}s`);
        expect(r.exitCode, String(r.all).slice(-4000)).toBe(0);
        for (const tag of tags) expect(await platformsOf(tag), tag).toEqual(PLATFORMS);
      });
    });
  }

  // Issue 27, item 4: the refresh of the base-image lock init writes (.github/workflows/refresh-bases.yml), run on the
  // schedule as a runner runs it, against the engine's registry: a kolla checkout beside the ops repo (upstream moved on
  // after the pin) whose base image lies in that registry. A base that did not move changes nothing; a new base under
  // the same tag gives one commit, on the refresh branch pushed to the ops repo, of exactly kolla-gen.lock.json and the
  // generated files that pin it, and a pull request (`gh`, a stand-in that logs its calls: it needs GitHub).
  describe('the refresh of the lock (refresh-bases.yml): a kolla checkout beside the ops repo, its base in the registry', () => {
    let dir = '';
    let ops = '';
    let refreshBin = '';
    let baseRef = '';
    let pinned = '';
    let workflow: Workflow | undefined;
    let round = 0;
    const ghLog = () => join(dir, 'gh.log');
    const calls = () => (existsSync(ghLog()) ? readFileSync(ghLog(), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { args: string[]; token: string }) : []);
    const refreshBranch = 'kolla-gen/refresh-bases-main';

    /** Builds and pushes the upstream base `<registry>/upstream/ubuntu:24.04` (amd64), its /etc/version `version`; its digest. */
    const pushBase = async (version: string): Promise<string> => {
      const context = join(dir, 'upstream-base');
      write(context, 'version', `${version}\n`);
      // --no-cache: on dockerd 26 a second push under the name, its ADD step cached, failed to unpack the image ("parent
      // snapshot ... does not exist")
      const r = await engine!.docker(['buildx', 'build', '--push', '--no-cache', '--provenance=false', '--platform', 'linux/amd64', '-t', baseRef, context], { reject: false });
      expect(r.exitCode, String(r.stderr).slice(-3000)).toBe(0);
      return (await digestOf(baseRef))!;
    };

    /** The refresh job on a fresh runner, on the schedule on main. */
    const runRefresh = async () => {
      round++;
      const workspace = join(dir, `refresh${round}`);
      const out = await runJobOn({ engine: engine!, bin: refreshBin, run: { event: 'schedule', repo: ops, branch: 'main' }, workflow: workflow!, jobName: 'refresh', workspace });
      // the job rendered the commit the ops repo pins, not upstream's HEAD
      expect((await git(join(workspace, 'kolla'), ['rev-parse', 'HEAD'])).stdout.trim()).toBe(pinned);
      return { output: out.output, body: join(workspace, 'runner-temp', 'pull-request.md') };
    };
    const branches = async () => (await git(ops, ['branch', '--list', 'kolla-gen/*', '--format=%(refname:short)'])).stdout.split('\n').filter(Boolean);

    beforeAll(async () => {
      dir = join(top, 'refresh');
      mkdirSync(dir);
      baseRef = `${engine!.registry}/upstream/ubuntu:24.04`;
      write(dir, 'upstream-base/Dockerfile', 'FROM scratch\nADD rootfs-amd64.tar /\nCOPY version /etc/version\n');
      copyFileSync(engine!.rootfs.amd64, join(dir, 'upstream-base', 'rootfs-amd64.tar'));
      // kolla-gen on PATH, and gh, which logs each call with the token it was given
      refreshBin = join(dir, 'bin');
      write(refreshBin, 'kolla-gen', `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"\n`);
      write(
        refreshBin,
        'gh',
        `#!${process.execPath}\nrequire('node:fs').appendFileSync(${JSON.stringify(ghLog())}, JSON.stringify({ args: process.argv.slice(2), token: process.env.GH_TOKEN }) + '\\n');\n`,
      );
      for (const name of ['kolla-gen', 'gh']) chmodSync(join(refreshBin, name), 0o755);
    });

    it('init, then kolla-gen lock and generate, committed: the base is pinned by its digest', async () => {
      const base1 = await pushBase('v1');
      // upstream's base template, as kolla's: FROM the base image kolla-gen.yaml names
      const upstream = join(dir, 'kolla-upstream');
      await kollaUpstream(upstream, 'stable/2025.2');
      write(upstream, 'docker/base/Dockerfile.j2', 'FROM {{ base_image }}:{{ base_distro_tag }}\nLABEL kolla_version="{{ kolla_version }}"\nRUN mkdir -p /etc/kolla-e2e\n');
      await git(upstream, ['commit', '-q', '-am', 'base: FROM the base image']);
      await git(dir, ['clone', '-q', upstream, 'kolla']);
      ops = join(dir, 'ops');
      mkdirSync(ops);
      await git(ops, ['init', '-q', '-b', 'main']);
      const init = await kg(ops, ['init', '--preset', 'kolla', '-D', '../kolla', '--registry', engine!.registry]);
      expect(init.exitCode, init.stderr).toBe(0);
      expect(init.stdout).toContain('wrote .github/workflows/refresh-bases.yml');
      const configFile = join(ops, 'kolla-gen.yaml');
      const config = readFileSync(configFile, 'utf8');
      expect(config).toContain('\n# base_images:\n#   ubuntu: { image: ubuntu, tag: "24.04" }\n');
      writeFileSync(configFile, config.replace('\n# base_images:\n#   ubuntu: { image: ubuntu, tag: "24.04" }\n', `\nbase_images:\n  ubuntu: { image: ${engine!.registry}/upstream/ubuntu, tag: "24.04" }\n`));
      const locked = await kg(ops, ['lock']);
      expect(locked.exitCode, locked.stderr).toBe(0);
      expect(JSON.parse(readFileSync(join(ops, 'kolla-gen.lock.json'), 'utf8'))).toEqual({ version: 1, bases: { [baseRef]: { digest: base1 } } });
      const generated = await kg(ops, ['generate', '--quiet']);
      expect(generated.exitCode, generated.stderr).toBe(0);
      await git(ops, ['add', '-A']);
      await git(ops, ['commit', '-q', '-m', 'kolla-gen init, lock, generate']);
      pinned = (await git(join(dir, 'kolla'), ['rev-parse', 'HEAD'])).stdout.trim();
      expect(await moveOn(upstream)).not.toBe(pinned);
      workflow = parseYaml(readFileSync(join(ops, '.github', 'workflows', 'refresh-bases.yml'), 'utf8')) as Workflow;
      expect(Object.keys(workflow.jobs)).toEqual(['refresh']);
    });

    it.skipIf(!hasYq)(`the refresh job, no base moved: nothing changes, no branch, no pull request${NEEDS_YQ}`, async () => {
      const { output } = await runRefresh();
      expect(output).toContain('kolla-gen.lock.json is up to date (1 base)');
      expect(output).toContain('every base is where kolla-gen.lock.json pins it: nothing to do');
      expect(await branches()).toEqual([]);
      expect(calls()).toEqual([]);
    });

    it.skipIf(!hasYq)(`a new base under the same tag: the refresh job pushes one commit of exactly the lock and the generated files that pin it, and opens a pull request${NEEDS_YQ}`, async () => {
      const main = (await git(ops, ['rev-parse', 'main'])).stdout.trim();
      const base1 = (JSON.parse(readFileSync(join(ops, 'kolla-gen.lock.json'), 'utf8')) as { bases: Record<string, { digest: string }> }).bases[baseRef]!.digest;
      const base2 = await pushBase('v2');
      expect(base2).not.toBe(base1);
      const { output, body } = await runRefresh();
      expect(output).toContain(`updated  ${baseRef} ${base1.slice(0, 19)}… → ${base2}`);
      expect(await branches()).toEqual([refreshBranch]);
      expect((await git(ops, ['rev-parse', 'main'])).stdout.trim(), 'main is left as it was').toBe(main);
      expect((await git(ops, ['log', '--format=%an: %s', `main..${refreshBranch}`])).stdout).toBe('github-actions[bot]: Refresh the base images (kolla-gen lock)');
      // the lock, and the bake files and manifest that pin its digest; no rendered Dockerfile (they keep the tag)
      expect((await git(ops, ['diff', '--name-only', 'main', refreshBranch])).stdout.split('\n')).toEqual([
        'generated/docker-bake.hcl',
        'generated/docker-bake.json',
        'generated/manifest.json',
        'kolla-gen.lock.json',
      ]);
      const show = async (file: string) => (await git(ops, ['show', `${refreshBranch}:${file}`])).stdout;
      expect(JSON.parse(await show('kolla-gen.lock.json'))).toEqual({ version: 1, bases: { [baseRef]: { digest: base2 } } });
      const bake = JSON.parse(await show('generated/docker-bake.json')) as { target: Record<string, { contexts?: Record<string, string> }> };
      const pins = Object.entries(bake.target).flatMap(([name, t]) => Object.values(t.contexts ?? {}).filter((v) => v.startsWith('docker-image://')).map((v) => `${name} ${v}`));
      expect(pins.length).toBeGreaterThan(0);
      for (const pin of pins) expect(pin).toMatch(new RegExp(`^ubuntu-base(-amd64|-arm64)? docker-image://${baseRef.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}@${base2}$`));
      // the branch passes kolla-gen check as images.yml's check job runs it on the pull request
      await git(ops, ['switch', '-q', refreshBranch]);
      try {
        const checked = await kg(ops, ['check']);
        expect(checked.exitCode, checked.stderr).toBe(0);
      } finally {
        await git(ops, ['switch', '-q', 'main']);
      }
      // the pull request, described by kolla-gen summary: every image, since each is built on base
      expect(calls()).toEqual([
        { args: ['pr', 'list', '--head', refreshBranch, '--state', 'open', '--json', 'number', '--jq', '.[].number'], token: '(the job token: gh is a stand-in)' },
        { args: ['pr', 'create', '--base', 'main', '--head', refreshBranch, '--title', 'Refresh the base images (kolla-gen lock)', '--body-file', body], token: '(the job token: gh is a stand-in)' },
      ]);
      const text = readFileSync(body, 'utf8');
      expect(text).toContain('## Images affected since HEAD');
      expect(text).toContain(`the external bases changed (${baseRef}@${base1} → ${baseRef}@${base2})`);
      for (const image of IMAGES) expect(text, image).toContain(`\`${image}\``);
    });
  });

  it('stops, leaving nothing running', async () => {
    const e = engine!;
    await e.stop();
    expect(e.leftovers()).toEqual([]);
  });
});
