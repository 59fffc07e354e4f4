// Issue 28, items 3, 4 and 7 (.gitattributes): `kolla-gen init` from an empty dir against small kolla checkouts
// shaped like upstream's (master keeps its templates in kolla/docker, stable branches in docker; kolla/common/config.py
// holds the profiles): it reads the checkout it is given, pins the upstream commit (beside: kolla-gen.yaml's
// upstream, which the workflow checks out; submodule: git), tags with --registry, and the workflow passes a real
// workflow linter (@action-validator/cli), as this repo's own workflows do.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { CODES } from '../src/core/diagnostics.js';
import { CLI, ROOT, run, temps, write } from './support/cli.js';
import { hasYq, type Step, type Workflow } from './support/workflow.js';

const VALIDATOR = path.join(ROOT, 'node_modules', '.bin', 'action-validator');
const GIT = ['-c', 'user.email=test@example.org', '-c', 'user.name=test', '-c', 'commit.gpgsign=false', '-c', 'init.defaultBranch=master', '-c', 'protocol.file.allow=always'];
const git = (cwd: string, args: string[]) => execa('git', [...GIT, ...args], { cwd });

const CONFIG_PY = (release: string) => `# a stand-in for the parts of kolla/common/config.py kolla-gen reads
OPENSTACK_RELEASE = '${release}'

_PROFILE_OPTS = [
    cfg.ListOpt('infra',
                default=['cron', 'haproxy'],
                help='Infra images'),
    cfg.ListOpt('main',
                default=['keystone'],
                help='Main images'),
]
`;

/**
 * A kolla checkout in `<top>/kolla`, on `branch`, committed, with origin set as a clone's is: on master the templates
 * are in kolla/docker, on a stable branch in docker.
 */
async function kollaCheckout(top: string, branch: 'master' | 'stable/2025.2'): Promise<string> {
  const kolla = path.join(top, 'kolla');
  const docker = branch === 'master' ? 'kolla/docker' : 'docker';
  write(kolla, 'kolla/common/config.py', CONFIG_PY(branch === 'master' ? 'master' : '2025.2'));
  write(kolla, 'kolla/common/users.py', "USERS = {\n    'kolla-user': {'uid': 42400, 'gid': 42400},\n}\n");
  write(kolla, `${docker}/base/Dockerfile.j2`, 'FROM {{ base_image }}:{{ base_distro_tag }}\nLABEL kolla_version="{{ kolla_version }}"\n');
  for (const image of ['cron', 'haproxy', 'keystone', 'mariadb-server']) {
    write(kolla, `${docker}/${image}/Dockerfile.j2`, `FROM {{ namespace }}/{{ image_prefix }}base:{{ tag }}\nRUN echo ${image}\n`);
  }
  await git(kolla, ['init', '-q', '-b', branch]);
  await git(kolla, ['add', '-A']);
  await git(kolla, ['commit', '-q', '-m', 'kolla']);
  await git(kolla, ['remote', 'add', 'origin', 'https://opendev.org/openstack/kolla']);
  return kolla;
}

function tempTop(prefix: string): string {
  const top = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(top);
  return top;
}

async function lint(file: string) {
  const r = await execa(VALIDATOR, [file], { reject: false });
  return { exitCode: r.exitCode, output: `${r.stdout}${r.stderr}` };
}

const selected = async (ops: string, args: string[]) => {
  const r = await run(ops, ['list', ...args, '--json']);
  expect(r.exitCode, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { result: { variants: { images: string[] }[] } }).result.variants.map((v) => [...v.images].sort());
};

describe('the workflow linter', () => {
  it("passes this repo's own workflows, and fails a broken one", async () => {
    const dir = path.join(ROOT, '.github', 'workflows');
    for (const name of fs.readdirSync(dir).filter((n) => /\.ya?ml$/.test(n))) {
      const r = await lint(path.join(dir, name));
      expect(r.exitCode, `${name}: ${r.output}`).toBe(0);
    }
    // this repo's own pull requests: what they change, in the job summary; a stale check shows its diff
    const own = parseYaml(fs.readFileSync(path.join(dir, 'images.yml'), 'utf8')) as Workflow;
    const steps = own.jobs.generated!.steps;
    expect(steps.find((s) => s.run?.includes('kolla-gen summary'))?.run).toBe('npx kolla-gen summary --affected-since "origin/${{ github.base_ref }}" >> "$GITHUB_STEP_SUMMARY"');
    expect(steps.some((s) => s.run === 'npx kolla-gen check --diff')).toBe(true);
    const top = tempTop('kolla-gen-lint-');
    write(top, 'bad.yml', 'name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - uses: actions/checkout@v4\n        wiht: { a: 1 }\n');
    const bad = await lint(path.join(top, 'bad.yml'));
    expect(bad.exitCode).toBe(1);
    expect(bad.output).toContain("Additional property 'wiht' is not allowed");
  });
});

describe('kolla-gen init reads the checkout it is given', () => {
  it('a stable checkout beside the repo: finds docker/, refuses kolla/docker naming the right dir, pins the commit, uses kolla profiles, tags with --registry', async () => {
    const top = tempTop('kolla-gen-init-stable-');
    const kolla = await kollaCheckout(top, 'stable/2025.2');
    const commit = (await git(kolla, ['rev-parse', 'HEAD'])).stdout.trim();
    const ops = path.join(top, 'ops');
    fs.mkdirSync(ops);
    await git(ops, ['init', '-q']);

    // master's layout on a stable checkout: an error naming the stable layout's dir, and nothing written
    const wrong = await run(ops, ['init', '--preset', 'kolla', '-D', '../kolla/kolla/docker', '--registry', 'registry.example:5000']);
    expect(wrong.exitCode).toBe(1);
    expect(wrong.stderr).toContain('error[KG741]: -D ../kolla/kolla/docker is not the docker dir of the kolla checkout ../kolla (stable/2025.2): its templates are in ../kolla/docker');
    expect(fs.readdirSync(ops)).toEqual(['.git']);

    // the checkout itself: init finds its docker dir
    const r = await run(ops, ['init', '--preset', 'kolla', '-D', '../kolla', '--registry', 'registry.example:5000']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('kolla checkout ../kolla (stable/2025.2): docker dir ../kolla/docker, profiles infra, main');
    expect(r.stdout).toContain(`layout: beside (../kolla): kolla-gen.yaml pins upstream ${commit} (stable/2025.2)`);
    const config = parseYaml(fs.readFileSync(path.join(ops, 'kolla-gen.yaml'), 'utf8')) as Record<string, unknown>;
    expect(config.docker_dirs).toEqual(['../kolla/docker']);
    expect(config.upstream).toEqual({ url: 'https://opendev.org/openstack/kolla', commit, branch: 'stable/2025.2' });
    expect(config.registry).toBe('registry.example:5000');
    // no profiles of init's own: the preset reads the checkout's
    expect(config.profiles).toBeUndefined();

    const generated = await run(ops, ['generate']);
    expect(generated.exitCode, generated.stderr).toBe(0);
    expect(await selected(ops, ['-p', 'infra'])).toEqual([
      ['base', 'cron', 'haproxy'],
      ['base', 'cron', 'haproxy'],
    ]);
    const bake = JSON.parse(fs.readFileSync(path.join(ops, 'generated', 'docker-bake.json'), 'utf8')) as { target: Record<string, { tags?: string[] }> };
    const tags = Object.values(bake.target).flatMap((t) => t.tags ?? []);
    expect(tags.length).toBeGreaterThan(0);
    for (const tag of tags) expect(tag).toMatch(/^registry\.example:5000\/kolla\//);

    // the workflow: the linter passes it; every job checks out the pinned upstream where docker_dirs expects it; CI logs
    // in to the registry the tags name; kolla-gen build bakes (granting the read of ../kolla); the pull request path
    // builds what it affects, skipping what the registry holds, with the registry cache
    const file = path.join(ops, '.github', 'workflows', 'images.yml');
    const linted = await lint(file);
    expect(linted.exitCode, linted.output).toBe(0);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).not.toMatch(/git (clone|fetch)[^\n]*--depth/);
    const workflow = parseYaml(text) as Workflow;
    expect(workflow.env.REGISTRY).toBe('registry.example:5000');
    expect(workflow.env.CACHE_REF).toBe('registry.example:5000/kolla/cache');
    for (const [name, job] of Object.entries(workflow.jobs)) {
      const upstream = job.steps.find((s) => s.name === 'upstream at the commit kolla-gen.yaml pins');
      expect(upstream?.env, name).toEqual({ UPSTREAM_DIR: '../kolla' });
      expect(upstream?.run).toContain(`checkout -q --detach "$commit"`);
      for (const login of job.steps.filter((s) => s.uses?.startsWith('docker/login-action'))) expect(login.with?.registry, name).toBe('${{ env.REGISTRY }}');
    }
    const builds = workflow.jobs.build!.steps.filter((s) => s.run?.includes('kolla-gen build') || s.uses?.startsWith('docker/bake-action'));
    expect(builds.map((s) => s.run?.split('\n').find((l) => l.includes('kolla-gen build'))?.trim().split(' ').slice(0, 2))).toEqual([
      ['kolla-gen', 'build'],
      ['kolla-gen', 'build'],
    ]);
    const pr = builds.find((s) => s.if === "github.event_name == 'pull_request'")?.run ?? '';
    for (const flag of ['--affected-since "origin/$BASE_REF"', '--skip-existing=warn', '--cache-ref "$CACHE_REF"', '--no-cache-export']) expect(pr).toContain(flag);
    // the pull request's job summary: kolla-gen summary, saying when upstream.commit moves (the checkout is the new one at both ends)
    const summary = workflow.jobs.check!.steps.find((s) => s.run?.includes('kolla-gen summary'));
    expect(summary?.if).toBe("github.event_name == 'pull_request'");
    expect(summary?.run).toContain('kolla-gen summary --affected-since "origin/$BASE_REF" >> "$GITHUB_STEP_SUMMARY"');
    expect(summary?.run).toContain('upstream.commit moved: every image');

    // the checkout moved off the pinned commit: every command says so (CI would render the pinned one)
    expect((await run(ops, ['check'])).stderr).not.toContain('KG745');
    write(kolla, 'docker/cron/Dockerfile.j2', 'FROM {{ namespace }}/{{ image_prefix }}base:{{ tag }}\nRUN echo cron 2\n');
    await git(kolla, ['commit', '-q', '-am', 'moved on']);
    const moved = (await git(kolla, ['log', '-n1', '--pretty=format:%h'])).stdout;
    const checked = await run(ops, ['check']);
    expect(checked.exitCode).toBe(1);
    expect(checked.stderr).toContain(`warning[KG745]: the kolla checkout ../kolla is at ${moved}, but kolla-gen.yaml pins upstream.commit ${commit}`);

    // the bump: upstream.commit moves to the checkout's HEAD, every other byte of kolla-gen.yaml kept; generate, and
    // the two together pass the check
    const before = fs.readFileSync(path.join(ops, 'kolla-gen.yaml'), 'utf8');
    const head = (await git(kolla, ['rev-parse', 'HEAD'])).stdout.trim();
    const bumped = await run(ops, ['init', '--bump']);
    expect(bumped.exitCode, bumped.stderr).toBe(0);
    expect(bumped.stdout).toContain(`upstream.commit: ${commit} -> ${head} (stable/2025.2), the HEAD of ../kolla`);
    expect(fs.readFileSync(path.join(ops, 'kolla-gen.yaml'), 'utf8')).toBe(before.replace(`commit: ${commit}`, `commit: ${head}`));
    expect((await run(ops, ['generate', '--quiet'])).exitCode).toBe(0);
    const after = await run(ops, ['check']);
    expect(after.exitCode, after.stderr).toBe(0);
    expect(after.stderr).not.toContain('KG745');
    expect((await run(ops, ['init', '--bump'])).stdout).toContain('already');
  });

  it.skipIf(!hasYq)("the workflow's upstream step checks out exactly the pinned commit, where -D names it, after upstream moved on; check then passes", async () => {
    const top = tempTop('kolla-gen-init-ci-');
    const kolla = await kollaCheckout(top, 'stable/2025.2');
    const ops = path.join(top, 'ops');
    fs.mkdirSync(ops);
    await git(ops, ['init', '-q']);
    expect((await run(ops, ['init', '--preset', 'kolla', '-D', '../kolla', '--registry', 'registry.example'])).exitCode).toBe(0);
    expect((await run(ops, ['generate', '--quiet'])).exitCode).toBe(0);
    const pinned = (await git(kolla, ['rev-parse', 'HEAD'])).stdout.trim();
    // upstream moves on after the pin
    write(kolla, 'docker/keystone/Dockerfile.j2', 'FROM {{ namespace }}/{{ image_prefix }}base:{{ tag }}\nRUN echo keystone 2\n');
    await git(kolla, ['commit', '-q', '-am', 'moved on']);
    // CI: a fresh workspace two levels down holds the ops repo; its origin is the local checkout (no network)
    const workspace = path.join(top, 'ci', 'work', 'ops');
    fs.mkdirSync(path.dirname(workspace), { recursive: true });
    fs.cpSync(ops, workspace, { recursive: true });
    const configFile = path.join(workspace, 'kolla-gen.yaml');
    fs.writeFileSync(configFile, fs.readFileSync(configFile, 'utf8').replace('url: https://opendev.org/openstack/kolla', `url: ${kolla}`));
    const workflow = parseYaml(fs.readFileSync(path.join(workspace, '.github/workflows/images.yml'), 'utf8')) as Workflow;
    const step = workflow.jobs.check!.steps.find((s) => s.name === 'upstream at the commit kolla-gen.yaml pins')!;
    const r = await execa('bash', ['-eo', 'pipefail', '-c', step.run!], {
      cwd: workspace,
      env: { ...step.env, GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'protocol.file.allow', GIT_CONFIG_VALUE_0: 'always' },
      reject: false,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const checkedOut = path.join(top, 'ci', 'work', 'kolla');
    expect((await git(checkedOut, ['rev-parse', 'HEAD'])).stdout.trim()).toBe(pinned);
    fs.writeFileSync(configFile, fs.readFileSync(path.join(ops, 'kolla-gen.yaml')));
    const checked = await run(workspace, ['check']);
    expect(checked.exitCode, checked.stderr).toBe(0);
    // the registry the jobs log in to is the one the tags name; another is refused
    const registryStep = workflow.jobs.check!.steps.find((s) => s.name === 'the registry of kolla-gen.yaml is the one CI logs in to')!;
    const sameRegistry = await execa('bash', ['-eo', 'pipefail', '-c', registryStep.run!], { cwd: workspace, env: { REGISTRY: workflow.env.REGISTRY! }, reject: false });
    expect(sameRegistry.exitCode, sameRegistry.stdout).toBe(0);
    const otherRegistry = await execa('bash', ['-eo', 'pipefail', '-c', registryStep.run!], { cwd: workspace, env: { REGISTRY: 'ghcr.io' }, reject: false });
    expect(otherRegistry.exitCode).toBe(1);
    expect(otherRegistry.stdout).toContain("registry: is 'registry.example', but the workflow logs in to REGISTRY 'ghcr.io'");

    // a URL that git would read as an option is refused before git runs
    fs.writeFileSync(configFile, fs.readFileSync(configFile, 'utf8').replace('url: https://opendev.org/openstack/kolla', 'url: --upload-pack=touch${IFS}pwned'));
    const injected = await execa('bash', ['-eo', 'pipefail', '-c', step.run!], { cwd: workspace, env: { ...step.env, UPSTREAM_DIR: '../kolla2' }, reject: false });
    expect(injected.exitCode).toBe(1);
    expect(injected.stdout).toContain('::error file=kolla-gen.yaml::upstream.url');
    expect(fs.existsSync(path.join(top, 'ci', 'work', 'kolla2'))).toBe(false);
  });

  // Seen in test/e2e/init-workflow.test.ts: the summary of a pull request that bumps upstream.commit listed no image
  // ("0 selected, 3 unaffected since origin/main": the checkout beside the repo is the same at both ends of
  // --affected-since), while its build built them all. The summary now selects as the build does.
  it.skipIf(!hasYq)("the summary step of a pull request that bumps the upstream beside the repo lists every image, as its build selects them", async () => {
    const top = tempTop('kolla-gen-init-bump-summary-');
    const kolla = await kollaCheckout(top, 'stable/2025.2');
    const ops = path.join(top, 'ops');
    fs.mkdirSync(ops);
    await git(ops, ['init', '-q', '-b', 'main']);
    expect((await run(ops, ['init', '--preset', 'kolla', '-D', '../kolla', '--registry', 'registry.example'])).exitCode).toBe(0);
    expect((await run(ops, ['generate', '--quiet'])).exitCode).toBe(0);
    await git(ops, ['add', '-A']);
    await git(ops, ['commit', '-q', '-m', 'kolla-gen init, generate']);
    // the pull request: upstream moved on, bumped together with generated/
    await git(ops, ['switch', '-q', '-c', 'bump']);
    write(kolla, 'docker/keystone/Dockerfile.j2', 'FROM {{ namespace }}/{{ image_prefix }}base:{{ tag }}\nRUN echo keystone 2\n');
    await git(kolla, ['commit', '-q', '-am', 'moved on']);
    expect((await run(ops, ['init', '--bump'])).exitCode).toBe(0);
    expect((await run(ops, ['generate', '--quiet'])).exitCode).toBe(0);
    await git(ops, ['commit', '-q', '-am', 'Bump kolla']);
    // CI's checkout of the pull request (with origin/main), its ../kolla the checkout at the bumped commit
    const workspace = path.join(top, 'ci-ops');
    await git(top, ['clone', '-q', '--branch', 'bump', ops, workspace]);
    write(top, 'bin/kolla-gen', `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"\n`);
    fs.chmodSync(path.join(top, 'bin', 'kolla-gen'), 0o755);
    const workflow = parseYaml(fs.readFileSync(path.join(workspace, '.github/workflows/images.yml'), 'utf8')) as Workflow;
    const step = workflow.jobs.check!.steps.find((s) => s.name === 'what this pull request changes')!;
    const summary = path.join(top, 'summary.md');
    const r = await execa('bash', ['-eo', 'pipefail', '-c', step.run!], {
      cwd: workspace,
      env: { PATH: `${path.join(top, 'bin')}:${process.env.PATH}`, BASE_REF: 'main', GITHUB_STEP_SUMMARY: summary },
      reject: false,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const text = fs.readFileSync(summary, 'utf8');
    expect(text).toContain('### Images affected since main\nupstream.commit moved: every image');
    for (const image of ['base', 'cron', 'haproxy', 'keystone', 'mariadb-server']) expect(text, image).toMatch(new RegExp(`^ {2}${image}$`, 'm'));
    expect(text).not.toContain('unaffected since');
  });

  it('a master checkout beside the repo, found with no -D: kolla/docker, branch master', async () => {
    const top = tempTop('kolla-gen-init-master-');
    const kolla = await kollaCheckout(top, 'master');
    const ops = path.join(top, 'ops');
    fs.mkdirSync(ops);
    const r = await run(ops, ['init', '--preset', 'kolla', '--registry', 'registry.example']);
    expect(r.exitCode, r.stderr).toBe(0);
    const config = parseYaml(fs.readFileSync(path.join(ops, 'kolla-gen.yaml'), 'utf8')) as Record<string, unknown>;
    expect(config.docker_dirs).toEqual(['../kolla/kolla/docker']);
    expect(config.upstream).toEqual({ url: 'https://opendev.org/openstack/kolla', commit: (await git(kolla, ['rev-parse', 'HEAD'])).stdout.trim(), branch: 'master' });
    expect((await lint(path.join(ops, '.github', 'workflows', 'images.yml'))).exitCode).toBe(0);
    expect((await run(ops, ['generate', '--quiet'])).exitCode).toBe(0);
    expect(await selected(ops, ['-p', 'infra'])).toEqual([
      ['base', 'cron', 'haproxy'],
      ['base', 'cron', 'haproxy'],
    ]);
  });

  it('a checkout two levels up: every job checks it out at exactly the path -D names', async () => {
    const top = tempTop('kolla-gen-init-two-up-');
    await kollaCheckout(top, 'stable/2025.2');
    const ops = path.join(top, 'site', 'ops');
    fs.mkdirSync(ops, { recursive: true });
    const r = await run(ops, ['init', '--preset', 'kolla', '-D', '../../kolla/docker', '--registry', 'registry.example']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((parseYaml(fs.readFileSync(path.join(ops, 'kolla-gen.yaml'), 'utf8')) as { docker_dirs: string[] }).docker_dirs).toEqual(['../../kolla/docker']);
    const workflow = parseYaml(fs.readFileSync(path.join(ops, '.github/workflows/images.yml'), 'utf8')) as Workflow;
    for (const [name, job] of Object.entries(workflow.jobs)) {
      expect(job.steps.find((s) => s.name === 'upstream at the commit kolla-gen.yaml pins')?.env, name).toEqual({ UPSTREAM_DIR: '../../kolla' });
    }
  });

  it('a submodule: git pins it, so no upstream key; every job checks out the submodules and no other upstream', async () => {
    const top = tempTop('kolla-gen-init-submodule-');
    await kollaCheckout(top, 'stable/2025.2');
    const ops = path.join(top, 'ops');
    fs.mkdirSync(ops);
    await git(ops, ['init', '-q']);
    await git(ops, ['submodule', 'add', '-q', '../kolla', 'kolla']);
    const r = await run(ops, ['init', '--preset', 'kolla', '--registry', 'registry.example']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('KG743');
    expect(r.stdout).toContain('layout: submodule (kolla): git pins its commit');
    const config = parseYaml(fs.readFileSync(path.join(ops, 'kolla-gen.yaml'), 'utf8')) as Record<string, unknown>;
    expect(config.docker_dirs).toEqual(['kolla/docker']);
    expect(config.upstream).toBeUndefined();
    const file = path.join(ops, '.github', 'workflows', 'images.yml');
    const linted = await lint(file);
    expect(linted.exitCode, linted.output).toBe(0);
    const workflow = parseYaml(fs.readFileSync(file, 'utf8')) as Workflow;
    for (const [name, job] of Object.entries(workflow.jobs)) {
      expect(job.steps.find((s) => s.uses?.startsWith('actions/checkout'))?.with, name).toEqual({ 'fetch-depth': 0, submodules: true });
      expect(job.steps.some((s) => s.name === 'upstream at the commit kolla-gen.yaml pins'), name).toBe(false);
    }
    expect((await run(ops, ['generate', '--quiet'])).exitCode).toBe(0);
    // git bumps a submodule: --bump has nothing to move, and says how
    const bump = await run(ops, ['init', '--bump']);
    expect(bump.exitCode).toBe(1);
    expect(bump.stderr).toContain('error[KG746]: kolla-gen.yaml pins no upstream (upstream.commit) to bump');
    // a checkout inside the repo that git does not track is said
    const other = path.join(top, 'other');
    fs.mkdirSync(other);
    fs.cpSync(path.join(top, 'kolla'), path.join(other, 'kolla'), { recursive: true });
    await git(other, ['init', '-q']);
    const untracked = await run(other, ['init', '--preset', 'kolla', '-D', 'kolla/docker', '--registry', 'registry.example']);
    expect(untracked.exitCode).toBe(0);
    expect(untracked.stderr).toContain('warning[KG743]: kolla lies inside this repo but is not a submodule of it');
  });

  it('no checkout: KG740 with how to get one, and nothing written; no --registry: KG744', async () => {
    const top = tempTop('kolla-gen-init-none-');
    const ops = path.join(top, 'ops');
    fs.mkdirSync(ops);
    const r = await run(ops, ['init', '--preset', 'kolla']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('error[KG740]: no kolla checkout at ../kolla');
    expect(r.stderr).toContain('git submodule add https://opendev.org/openstack/kolla kolla');
    expect(fs.readdirSync(ops)).toEqual([]);
    await kollaCheckout(top, 'master');
    const bare = await run(ops, ['init', '--preset', 'kolla']);
    expect(bare.exitCode, bare.stderr).toBe(0);
    expect(bare.stderr).toContain('warning[KG744]: no --registry');
    expect((await run(ops, ['init', '--preset', 'kolla', '--registry', '-x'])).stderr).toContain('error[KG133]: --registry: "-x" is not a valid image registry');
  });
});

describe('the refresh of the base-image lock (.github/workflows/refresh-bases.yml)', () => {
  const TOKEN = '${{ secrets.KOLLA_GEN_PR_TOKEN || github.token }}';
  const label = (s: Step) => s.name ?? s.uses ?? s.run;

  /** The two workflows init wrote in `ops`, each passed by the linter. */
  async function workflows(ops: string): Promise<{ images: Workflow; refresh: Workflow }> {
    const read = async (name: string) => {
      const file = path.join(ops, '.github', 'workflows', name);
      const linted = await lint(file);
      expect(linted.exitCode, `${name}: ${linted.output}`).toBe(0);
      return parseYaml(fs.readFileSync(file, 'utf8')) as Workflow;
    };
    return { images: await read('images.yml'), refresh: await read('refresh-bases.yml') };
  }

  it('beside the repo: weekly and by hand, may write contents and pull requests; checks out, installs and logs in as images.yml does; then lock, generate and a pull request', async () => {
    const top = tempTop('kolla-gen-init-refresh-');
    await kollaCheckout(top, 'stable/2025.2');
    const ops = path.join(top, 'ops');
    fs.mkdirSync(ops);
    await git(ops, ['init', '-q']);
    const r = await run(ops, ['init', '--preset', 'kolla', '-D', '../kolla', '--registry', 'registry.example:5000']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('wrote .github/workflows/refresh-bases.yml');
    expect(r.stdout).toContain('kolla-gen lock                     # optional: pin the base images by digest (refresh-bases.yml keeps the lock fresh)');
    const { images, refresh } = await workflows(ops);
    expect(refresh.on).toEqual({ schedule: [{ cron: '17 5 * * 1' }], workflow_dispatch: null });
    expect(refresh.permissions).toEqual({ contents: 'write', 'pull-requests': 'write' });
    expect(Object.keys(refresh.jobs)).toEqual(['refresh']);
    const steps = refresh.jobs.refresh!.steps;
    expect(steps.map(label)).toEqual([
      'actions/checkout@v4',
      'upstream at the commit kolla-gen.yaml pins',
      'actions/setup-node@v4',
      'npm install -g "$KOLLA_GEN_PACKAGE"',
      'docker/login-action@v3',
      'kolla-gen lock, then kolla-gen generate',
      'a pull request when a base moved',
    ]);
    // images.yml's steps: the checkout (with the token that pushes the branch), the pinned upstream, node, the install,
    // the login, and the env they read
    const check = images.jobs.check!.steps;
    expect(steps[0]?.with).toEqual({ ...check[0]?.with, token: TOKEN });
    expect(steps[1]).toEqual(check.find((s) => s.name === 'upstream at the commit kolla-gen.yaml pins'));
    expect(steps[1]?.env).toEqual({ UPSTREAM_DIR: '../kolla' });
    expect(steps[2]).toEqual(check.find((s) => s.uses?.startsWith('actions/setup-node')));
    expect(steps[3]).toEqual(check.find((s) => s.run?.startsWith('npm install')));
    expect(steps[4]).toEqual(images.jobs.build!.steps.find((s) => s.uses?.startsWith('docker/login-action')));
    for (const key of ['KOLLA_GEN_PACKAGE', 'REGISTRY', 'HAS_CREDENTIALS']) expect(refresh.env[key], key).toBe(images.env[key]);
    expect(refresh.env.REGISTRY).toBe('registry.example:5000');
    // the lock is opt-in: no lock file, no refresh (and none written)
    expect(steps[5]?.run).toBe(
      [
        'if [ ! -f kolla-gen.lock.json ]; then',
        '  echo "no kolla-gen.lock.json: the lock is off, nothing to refresh (kolla-gen lock, kolla-gen generate and a commit of both turn it on)"',
        '  exit 0',
        'fi',
        'kolla-gen lock',
        'kolla-gen generate',
        '',
      ].join('\n'),
    );
    // a commit on the refresh branch, force-pushed; a pull request when none is open (lock.test.ts runs it)
    expect(steps[6]?.env).toEqual({ GH_TOKEN: TOKEN });
    const lines = steps[6]!.run!.split('\n').map((l) => l.trim());
    for (const line of [
      'if [ -z "$(git status --porcelain)" ]; then echo "every base is where kolla-gen.lock.json pins it: nothing to do"; exit 0; fi',
      'branch="kolla-gen/refresh-bases-$GITHUB_REF_NAME"',
      'kolla-gen summary --affected-since HEAD',
      'git switch -c "$branch"',
      'git push -f origin "$branch"',
      'gh pr create --base "$GITHUB_REF_NAME" --head "$branch" --title "Refresh the base images (kolla-gen lock)" --body-file "$RUNNER_TEMP/pull-request.md"',
    ]) {
      expect(lines, line).toContain(line);
    }
    // ${{ }} only in env: and with: values, never inside a script (of either workflow)
    for (const step of [...steps, ...Object.values(images.jobs).flatMap((job) => job.steps)]) expect(step.run ?? '', label(step)).not.toContain('${{');
  });

  it('a submodule: the checkout brings it (no upstream step); the job has no other difference', async () => {
    const top = tempTop('kolla-gen-init-refresh-submodule-');
    await kollaCheckout(top, 'master');
    const ops = path.join(top, 'ops');
    fs.mkdirSync(ops);
    await git(ops, ['init', '-q']);
    await git(ops, ['submodule', 'add', '-q', '../kolla', 'kolla']);
    expect((await run(ops, ['init', '--preset', 'kolla', '--registry', 'registry.example'])).exitCode).toBe(0);
    const { refresh } = await workflows(ops);
    const steps = refresh.jobs.refresh!.steps;
    expect(steps.map(label)).toEqual([
      'actions/checkout@v4',
      'actions/setup-node@v4',
      'npm install -g "$KOLLA_GEN_PACKAGE"',
      'docker/login-action@v3',
      'kolla-gen lock, then kolla-gen generate',
      'a pull request when a base moved',
    ]);
    expect(steps[0]?.with).toEqual({ 'fetch-depth': 0, submodules: true, token: TOKEN });
  });

  it('docs/lock.md shows the workflow as init writes it (its comments at the top left out)', async () => {
    const top = tempTop('kolla-gen-init-refresh-docs-');
    expect((await run(top, ['init', '--registry', 'registry.example'])).exitCode).toBe(0);
    const written = fs.readFileSync(path.join(top, '.github', 'workflows', 'refresh-bases.yml'), 'utf8');
    const page = fs.readFileSync(path.join(ROOT, 'docs', 'lock.md'), 'utf8');
    const section = page.slice(page.indexOf('\n## Keeping it fresh\n'));
    const shown = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    expect(shown).toBe(written.slice(written.indexOf('name: refresh base images\n')));
  });

  it('an ops repo init started before the refresh existed: init again writes refresh-bases.yml alone, and keeps every other file', async () => {
    const top = tempTop('kolla-gen-init-refresh-again-');
    write(top, 'docker/base/Dockerfile.j2', 'FROM debian:trixie\n');
    await git(top, ['init', '-q']);
    expect((await run(top, ['init'])).exitCode).toBe(0);
    // the repo as an older init left it, the operator's edits in its workflow
    fs.rmSync(path.join(top, '.github', 'workflows', 'refresh-bases.yml'));
    const images = path.join(top, '.github', 'workflows', 'images.yml');
    fs.appendFileSync(images, '# mine\n');
    const edited = fs.readFileSync(images, 'utf8');
    const again = await run(top, ['init', '--json']);
    expect(again.exitCode, again.stderr).toBe(0);
    const result = (JSON.parse(again.stdout) as { result: { written: string[]; kept: string[] } }).result;
    expect(result).toMatchObject({ written: ['.github/workflows/refresh-bases.yml'], kept: ['kolla-gen.yaml', '.github/workflows/images.yml', '.gitattributes'] });
    expect(fs.readFileSync(images, 'utf8')).toBe(edited);
    expect((await workflows(top)).refresh.jobs.refresh!.steps.map(label)).not.toContain('upstream at the commit kolla-gen.yaml pins');
  });
});

describe('a checkout beside the repo that cannot be pinned', () => {
  it('with no remote origin: KG742 warns, and upstream.url is left for the user (the config refuses to load without it)', async () => {
    const top = tempTop('kolla-gen-init-no-origin-');
    const kolla = await kollaCheckout(top, 'master');
    await git(kolla, ['remote', 'remove', 'origin']);
    const ops = path.join(top, 'ops');
    fs.mkdirSync(ops);
    const r = await run(ops, ['init', '--preset', 'kolla', '--registry', 'registry.example']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain('warning[KG742]: the checkout ../kolla has no usable remote origin');
    expect(fs.readFileSync(path.join(ops, 'kolla-gen.yaml'), 'utf8')).toContain('  # url: the checkout has no remote origin');
    const listed = await run(ops, ['list']);
    expect(listed.exitCode).toBe(1);
    expect(listed.stderr).toContain('KG102');
  });

  it('not a git checkout: KG742, nothing written', async () => {
    const top = tempTop('kolla-gen-init-no-git-');
    const kolla = await kollaCheckout(top, 'master');
    fs.rmSync(path.join(kolla, '.git'), { recursive: true });
    // inside another repo, whose commit is not the checkout's
    write(top, 'README', 'another repo\n');
    await git(top, ['init', '-q']);
    await git(top, ['add', 'README']);
    await git(top, ['commit', '-q', '-m', 'another']);
    const ops = path.join(top, 'ops');
    fs.mkdirSync(ops);
    const r = await run(ops, ['init', '--preset', 'kolla', '--registry', 'registry.example']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('error[KG742]: cannot read the git commit of ../kolla');
    expect(fs.readdirSync(ops)).toEqual([]);
  });
});

describe('the upstream key of kolla-gen.yaml', () => {
  it.each([
    ['commit: abc123', 'upstream.commit'],
    ['url: --upload-pack=evil', 'upstream.url'],
  ])('refuses %s (KG102 at its line)', async (line, key) => {
    const top = tempTop('kolla-gen-upstream-key-');
    const good = { url: 'url: https://opendev.org/openstack/kolla', commit: `commit: ${'a'.repeat(40)}` };
    const entries = line.startsWith('commit') ? [good.url, line] : [line, good.commit];
    write(top, 'kolla-gen.yaml', `docker_dirs: [docker]\nupstream:\n  ${entries.join('\n  ')}\n`);
    write(top, 'docker/base/Dockerfile.j2', 'FROM debian\n');
    const r = await run(top, ['list']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`kolla-gen.yaml:${line.startsWith('commit') ? 4 : 3}:\\d+`));
    expect(r.stderr).toContain('KG102');
    expect(r.stderr).toContain(key);
  });
});

describe('.gitattributes', () => {
  it('marks generated/ as generated (collapsed in review) and leaves git diff its lines', async () => {
    const top = tempTop('kolla-gen-init-attributes-');
    write(top, 'docker/base/Dockerfile.j2', 'FROM debian:trixie\nRUN echo one\n');
    await git(top, ['init', '-q']);
    expect((await run(top, ['init'])).exitCode).toBe(0);
    expect(fs.readFileSync(path.join(top, '.gitattributes'), 'utf8')).toContain('generated/** linguist-generated=true\n');
    expect((await run(top, ['generate', '--quiet'])).exitCode).toBe(0);
    await git(top, ['add', '-A']);
    await git(top, ['commit', '-q', '-m', 'generated']);
    write(top, 'docker/base/Dockerfile.j2', 'FROM debian:trixie\nRUN echo two\n');
    expect((await run(top, ['generate', '--quiet'])).exitCode).toBe(0);
    const diff = await git(top, ['diff', '--numstat', '--', 'generated']);
    const changed = diff.stdout.split('\n').filter(Boolean);
    expect(changed.length).toBeGreaterThan(0);
    // "-\t-\t<file>" is git's binary entry: every changed file has its lines counted
    for (const line of changed) expect(line).toMatch(/^\d+\t\d+\t/);
  });
});

it('tests every code of KG740-KG749 here', () => {
  const mine = Object.keys(CODES).filter((code) => code >= 'KG740' && code <= 'KG749');
  // Those a pull request's commit reaches are tested with the other hostile commits.
  const source = fs.readFileSync(import.meta.filename, 'utf8') + fs.readFileSync(path.join(import.meta.dirname, 'hostile-commits.test.ts'), 'utf8');
  expect(mine.filter((code) => !source.includes(code))).toEqual([]);
});
