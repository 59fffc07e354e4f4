// kolla-gen lock and the lock file, through the built CLI, against a stand-in registry on loopback (plain HTTP, the v2
// manifest API): a tag resolves to the digest the registry serves; the lock pins it in the bake file (a named context)
// and in the content hash; a moved tag marks exactly the images built on it affected once the lock is refreshed.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { CLI, FIXTURES, run, snapshot, temps, write } from './support/cli.js';
import { closedPort, listenLocal } from './support/net.js';
import * as os from 'node:os';
import type { Workflow } from './support/workflow.js';

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/** repository → tag → manifest body: what the stand-in registry serves. */
const tags = new Map<string, Map<string, string>>();
let host = '';
const server = http.createServer((req, res) => {
  const m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(req.url ?? '');
  if (req.url === '/v2/') return void res.writeHead(200).end('{}');
  const body = m ? tags.get(m[1] as string)?.get(m[2] as string) : undefined;
  if (body === undefined) return void res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
  res.writeHead(200, { 'Content-Type': OCI_INDEX, 'Docker-Content-Digest': digestOf(body), 'Content-Length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
});

const digestOf = (body: string) => `sha256:${createHash('sha256').update(body).digest('hex')}`;

/** Pushes a new index under repository:tag (random content: a new digest); its digest. */
function push(repository: string, tag: string): string {
  const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [], annotations: { salt: randomBytes(8).toString('hex') } });
  if (!tags.has(repository)) tags.set(repository, new Map());
  tags.get(repository)?.set(tag, body);
  return digestOf(body);
}

beforeAll(async () => {
  host = await listenLocal(server);
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/**
 * Two bases: alpha (under a-base, and a-child below it) and beta (under b-base); and c-stage, whose FROM names a stage
 * and a digest (nothing to lock). A git repo with the tree committed.
 */
async function project(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-lock-'));
  temps.push(dir);
  write(dir, 'kolla-gen.yaml', 'namespace: kg\nbases: [ubuntu]\narches: [amd64]\n');
  write(dir, 'docker/a-base/Dockerfile.j2', `FROM ${host}/lib/alpha:1\nRUN echo a\n`);
  write(dir, 'docker/a-child/Dockerfile.j2', 'FROM {{ namespace }}/a-base:{{ tag }}\nRUN echo child\n');
  write(dir, 'docker/b-base/Dockerfile.j2', `# a comment line first\nFROM ${host}/lib/beta:1\nRUN echo b\n`);
  write(dir, 'docker/c-stage/Dockerfile.j2', `FROM ${host}/lib/alpha@sha256:${'c'.repeat(64)} AS build\nFROM build\n`);
  await execa('git', ['init', '-q'], { cwd: dir });
  await execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'add', '-A'], { cwd: dir });
  await execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'tree'], { cwd: dir });
  return dir;
}

const commit = (dir: string, message: string) =>
  execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', message], { cwd: dir }).then(() => undefined);
const readLockFile = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'kolla-gen.lock.json'), 'utf8')) as { version: number; bases: Record<string, { digest: string }> };
const bake = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'generated', 'docker-bake.json'), 'utf8')) as { target: Record<string, { contexts?: Record<string, string> }> };

describe('kolla-gen lock', () => {
  it('is opt-in: without a lock file no base is pinned, and generate and check pass as before', async () => {
    push('lib/alpha', '1');
    push('lib/beta', '1');
    const dir = await project();
    expect((await run(dir, ['generate', '-q'])).exitCode).toBe(0);
    expect((await run(dir, ['check'])).exitCode).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'generated', 'docker-bake.hcl'), 'utf8')).not.toContain('docker-image://');
    expect(bake(dir).target['ubuntu-a-base']?.contexts ?? {}).toEqual({});
  });

  it('writes every external base with the digest the registry serves, sorted; a second run changes no byte', async () => {
    const alpha = push('lib/alpha', '1');
    const beta = push('lib/beta', '1');
    const dir = await project();
    const r = await run(dir, ['lock']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(`added    ${host}/lib/alpha:1 ${alpha}`);
    const text = fs.readFileSync(path.join(dir, 'kolla-gen.lock.json'), 'utf8');
    // The digested FROM of c-stage is no entry; the keys sorted.
    expect(text).toBe(`${JSON.stringify({ version: 1, bases: { [`${host}/lib/alpha:1`]: { digest: alpha }, [`${host}/lib/beta:1`]: { digest: beta } } }, null, 2)}\n`);
    const again = await run(dir, ['lock']);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain('kolla-gen.lock.json is up to date (2 bases)');
    expect(fs.readFileSync(path.join(dir, 'kolla-gen.lock.json'), 'utf8')).toBe(text);
    expect((await run(dir, ['lock', '--check'])).exitCode).toBe(0);
  });

  it('pins the bake file to the locked digests through named contexts; the Dockerfile keeps its tag', async () => {
    const alpha = push('lib/alpha', '1');
    const beta = push('lib/beta', '1');
    const dir = await project();
    expect((await run(dir, ['lock'])).exitCode).toBe(0);
    expect((await run(dir, ['generate', '-q'])).exitCode).toBe(0);
    const targets = bake(dir).target;
    expect(targets['ubuntu-a-base']?.contexts).toEqual({ [`${host}/lib/alpha:1`]: `docker-image://${host}/lib/alpha:1@${alpha}` });
    expect(targets['ubuntu-b-base']?.contexts).toEqual({ [`${host}/lib/beta:1`]: `docker-image://${host}/lib/beta:1@${beta}` });
    // The child links to its parent's target only; the stage-and-digest image needs no pin.
    expect(targets['ubuntu-a-child']?.contexts).toEqual({ 'kg/a-base': 'target:ubuntu-a-base' });
    expect(targets['ubuntu-c-stage']?.contexts ?? {}).toEqual({});
    expect(fs.readFileSync(path.join(dir, 'generated', 'ubuntu', 'a-base', 'Dockerfile'), 'utf8')).toContain(`FROM ${host}/lib/alpha:1\n`);
    expect((await run(dir, ['check'])).exitCode).toBe(0);
  });

  it('check and generate fail on a base the lock lacks, naming the template line and the lock file; generated/ is left as it was', async () => {
    push('lib/alpha', '1');
    push('lib/beta', '1');
    const dir = await project();
    expect((await run(dir, ['lock'])).exitCode).toBe(0);
    expect((await run(dir, ['generate', '-q'])).exitCode).toBe(0);
    const lock = readLockFile(dir);
    delete lock.bases[`${host}/lib/beta:1`];
    fs.writeFileSync(path.join(dir, 'kolla-gen.lock.json'), JSON.stringify(lock));
    const before = snapshot(path.join(dir, 'generated'));
    for (const command of ['check', 'generate']) {
      const r = await run(dir, [command]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain(`error[KG481]: external base ${host}/lib/beta:1 has no entry in kolla-gen.lock.json`);
      expect(r.stderr).toContain('--> docker/b-base/Dockerfile.j2:2:1');
      expect(r.stderr).not.toContain('alpha');
    }
    expect(snapshot(path.join(dir, 'generated'))).toEqual(before);
    // A selection without b-base needs no entry for beta.
    expect((await run(dir, ['list', 'a-'])).exitCode).toBe(0);
  });

  it('a moved tag: lock --check fails and writes nothing; lock REF refreshes that base alone; exactly its descendants are affected', async () => {
    push('lib/alpha', '1');
    const beta = push('lib/beta', '1');
    const dir = await project();
    expect((await run(dir, ['lock'])).exitCode).toBe(0);
    expect((await run(dir, ['generate', '-q'])).exitCode).toBe(0);
    await execa('git', ['add', '-A'], { cwd: dir });
    await commit(dir, 'lock');
    const locked = fs.readFileSync(path.join(dir, 'kolla-gen.lock.json'), 'utf8');
    const alpha2 = push('lib/alpha', '1');
    push('lib/beta', '1');

    const checked = await run(dir, ['lock', '--check']);
    expect(checked.exitCode).toBe(1);
    expect(checked.stderr).toContain('error[KG483]: kolla-gen.lock.json is out of date: 2 bases would change');
    expect(fs.readFileSync(path.join(dir, 'kolla-gen.lock.json'), 'utf8')).toBe(locked);
    // The committed generation still builds from the old digests.
    expect((await run(dir, ['check'])).exitCode).toBe(0);

    const r = await run(dir, ['lock', `${host}/lib/alpha:1`]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(`updated  ${host}/lib/alpha:1`);
    expect(readLockFile(dir).bases).toEqual({ [`${host}/lib/alpha:1`]: { digest: alpha2 }, [`${host}/lib/beta:1`]: { digest: beta } });

    const listed = await run(dir, ['list', '--affected-since', 'HEAD', '--json']);
    expect(listed.exitCode, listed.stderr).toBe(0);
    const variant = (JSON.parse(listed.stdout) as { result: { variants: { images: string[]; unaffected: string[] }[] } }).result.variants[0];
    expect(variant?.images).toEqual(['a-base', 'a-child']);
    expect(variant?.unaffected.sort()).toEqual(['b-base', 'c-stage']);
    const explained = await run(dir, ['explain', 'a-base', '--affected-since', 'HEAD']);
    expect(explained.stdout).toContain('the external bases changed');
    // generate now differs from the committed generation: check says so.
    expect((await run(dir, ['check'])).exitCode).toBe(1);
  });

  it('refuses a ref that is no base of the tree, and a tag the registry lacks or cannot be asked for', async () => {
    push('lib/alpha', '1');
    push('lib/beta', '1');
    const dir = await project();
    const unknown = await run(dir, ['lock', 'ubuntu:24.04']);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain('error[KG484]: ubuntu:24.04 is no external base of the tree');
    tags.get('lib/beta')?.delete('1');
    const missing = await run(dir, ['lock']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain(`error[KG482]: cannot resolve ${host}/lib/beta:1: the registry has no such tag`);
    expect(fs.existsSync(path.join(dir, 'kolla-gen.lock.json'))).toBe(false);
    const port = await closedPort();
    write(dir, 'docker/b-base/Dockerfile.j2', `FROM 127.0.0.1:${port}/lib/beta:1\n`);
    const down = await run(dir, ['lock']);
    expect(down.exitCode).toBe(1);
    expect(down.stderr).toContain(`error[KG482]: cannot resolve 127.0.0.1:${port}/lib/beta:1`);
  });

  it('a broken lock file is an error with its place for check; kolla-gen lock rewrites it', async () => {
    push('lib/alpha', '1');
    push('lib/beta', '1');
    const dir = await project();
    write(dir, 'kolla-gen.lock.json', `{\n  "version": 1,\n  "bases": {\n    "${host}/lib/alpha:1": { "digest": "sha256:abc" }\n  }\n}\n`);
    const r = await run(dir, ['check']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`error[KG480]: kolla-gen.lock.json: the entry of ${host}/lib/alpha:1 has no "digest": "sha256:<64 hex>"`);
    expect(r.stderr).toContain('--> kolla-gen.lock.json:4:1');
    const fixed = await run(dir, ['lock']);
    expect(fixed.exitCode, fixed.stderr).toBe(0);
    expect(fixed.stderr).toContain('warning[KG480]');
    expect((await run(dir, ['check'])).exitCode).toBe(1); // generated/ not written yet: stale, but no KG480
    expect((await run(dir, ['generate', '-q'])).exitCode).toBe(0);
  });

  it('--preset kolla: the preset\'s base images are pinned once locked, on every variant; a missing one names the base template', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-lock-kolla-'));
    temps.push(dir);
    fs.cpSync(path.join(FIXTURES, 'kolla-mini', 'kolla'), path.join(dir, 'kolla'), { recursive: true });
    write(dir, 'kolla-gen.yaml', 'preset: kolla\ndocker_dirs: [kolla/docker]\nbases: [ubuntu, rocky]\n');
    expect((await run(dir, ['generate', '-q'])).exitCode).toBe(0);
    const manifest = () => JSON.parse(fs.readFileSync(path.join(dir, 'generated', 'manifest.json'), 'utf8')) as { images: { image: string; externalBases?: string[] }[] };
    const bases = [...new Set(manifest().images.flatMap((i) => i.externalBases ?? []))].sort();
    expect(bases).toEqual(['quay.io/rockylinux/rockylinux:10', 'ubuntu:26.04']);
    const digests = Object.fromEntries(bases.map((ref, i) => [ref, `sha256:${String(i + 1).repeat(64)}`]));
    write(dir, 'kolla-gen.lock.json', JSON.stringify({ version: 1, bases: Object.fromEntries(bases.map((ref) => [ref, { digest: digests[ref] }])) }));
    expect((await run(dir, ['generate', '-q'])).exitCode).toBe(0);
    for (const image of manifest().images) for (const ref of image.externalBases ?? []) expect(ref).toMatch(/@sha256:/);
    const pinned = Object.entries(bake(dir).target).filter(([, t]) => Object.values(t.contexts ?? {}).some((v) => v.startsWith('docker-image://')));
    // base renders per arch upstream: each per-arch target is pinned (the join names only them).
    expect(pinned.map(([name]) => name).sort()).toEqual(['rocky-base-amd64', 'rocky-base-arm64', 'ubuntu-base-amd64', 'ubuntu-base-arm64']);
    expect(bake(dir).target['ubuntu-base-arm64']?.contexts).toEqual({ 'ubuntu:26.04': `docker-image://ubuntu:26.04@${digests['ubuntu:26.04']}` });
    write(dir, 'kolla-gen.lock.json', JSON.stringify({ version: 1, bases: { 'ubuntu:26.04': { digest: digests['ubuntu:26.04'] } } }));
    const r = await run(dir, ['check']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('error[KG481]: external base quay.io/rockylinux/rockylinux:10 has no entry in kolla-gen.lock.json');
    expect(r.stderr).toContain('--> kolla/docker/base/Dockerfile.j2:1:1');
    expect((await run(dir, ['check', '-b', 'ubuntu'])).stderr).not.toContain('KG481');
  });
});

// The refresh `kolla-gen init` writes (.github/workflows/refresh-bases.yml): its lock and pull-request steps run as a
// runner runs them (bash -eo pipefail in a fresh clone), against the stand-in registry, with a stand-in `gh` that logs
// its calls. test/e2e/init-workflow.test.ts runs the whole job on a real engine and its registry.
describe('the refresh of the lock init writes', () => {
  it('does nothing without a lock, nothing while no base moved; a moved base: a branch with exactly the lock and generated/ changed, and a pull request; moved again: the open pull request gets the new commit', async () => {
    push('lib/alpha', '1');
    const beta = push('lib/beta', '1');
    const dir = await project();
    const gitIn = (cwd: string, args: string[]) => execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd });
    // an ops repo started before the refresh existed: init keeps its config and writes the workflows
    const init = await run(dir, ['init']);
    expect(init.exitCode, init.stderr).toBe(0);
    expect(init.stdout).toContain('kept kolla-gen.yaml');
    expect(init.stdout).toContain('wrote .github/workflows/refresh-bases.yml');
    expect((await run(dir, ['generate', '-q'])).exitCode).toBe(0);
    await gitIn(dir, ['add', '-A']);
    await gitIn(dir, ['commit', '-qm', 'kolla-gen init, generate']);
    const main = (await gitIn(dir, ['branch', '--show-current'])).stdout.trim();
    const refreshBranch = `kolla-gen/refresh-bases-${main}`;
    const workflow = parseYaml(fs.readFileSync(path.join(dir, '.github/workflows/refresh-bases.yml'), 'utf8')) as Workflow;
    const steps = workflow.jobs.refresh!.steps;
    const lockStep = steps.find((s) => s.name === 'kolla-gen lock, then kolla-gen generate')!;
    const prStep = steps.find((s) => s.name === 'a pull request when a base moved')!;
    expect(prStep.env).toEqual({ GH_TOKEN: '${{ secrets.KOLLA_GEN_PR_TOKEN || github.token }}' });

    // the runner: kolla-gen on PATH (what npm install -g puts there), and gh, which logs its calls
    const top = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-refresh-'));
    temps.push(top);
    const bin = path.join(top, 'bin');
    const log = path.join(top, 'gh.log');
    write(bin, 'kolla-gen', `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"\n`);
    write(
      bin,
      'gh',
      `#!${process.execPath}\nconst fs = require('node:fs');\nfs.appendFileSync(process.env.GH_LOG, JSON.stringify({ args: process.argv.slice(2), token: process.env.GH_TOKEN }) + '\\n');\nif (process.argv[2] === 'pr' && process.argv[3] === 'list' && process.env.GH_OPEN) console.log(process.env.GH_OPEN);\n`,
    );
    for (const name of ['kolla-gen', 'gh']) fs.chmodSync(path.join(bin, name), 0o755);
    const calls = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { args: string[]; token: string }) : []);
    let round = 0;
    const runSteps = async (open = '') => {
      round++;
      const workspace = path.join(top, `round${round}`, 'ops');
      const temp = path.join(top, `round${round}`, 'tmp');
      fs.mkdirSync(temp, { recursive: true });
      // actions/checkout: the branch the workflow runs on, its origin the repo
      await execa('git', ['clone', '-q', '--branch', main, dir, workspace]);
      const outputs: string[] = [];
      for (const step of [lockStep, prStep]) {
        const r = await execa('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run!], {
          cwd: workspace,
          env: {
            PATH: `${bin}:${process.env.PATH}`,
            HOME: path.join(top, 'home'),
            DOCKER_CONFIG: path.join(top, 'docker-config'),
            KOLLA_GEN_CACHE_DIR: path.join(top, 'cache'),
            RUNNER_TEMP: temp,
            GITHUB_REF_NAME: main,
            GH_TOKEN: 'the-token',
            GH_LOG: log,
            GH_OPEN: open,
          },
          extendEnv: false,
          reject: false,
          all: true,
        });
        expect(r.exitCode, `${step.name}:\n${r.all}`).toBe(0);
        outputs.push(String(r.all));
      }
      return { output: outputs.join('\n'), body: path.join(temp, 'pull-request.md') };
    };
    const branches = async () => (await gitIn(dir, ['branch', '--list', 'kolla-gen/*', '--format=%(refname:short)'])).stdout.split('\n').filter(Boolean);
    const changed = async () => (await gitIn(dir, ['diff', '--name-only', main, refreshBranch])).stdout.split('\n').filter(Boolean);
    const lockOn = async (rev: string) => (JSON.parse((await gitIn(dir, ['show', `${rev}:kolla-gen.lock.json`])).stdout) as { bases: Record<string, { digest: string }> }).bases;

    // no lock: the lock is off, and the refresh does not turn it on
    const off = await runSteps();
    expect(off.output).toContain('no kolla-gen.lock.json: the lock is off, nothing to refresh');
    expect(off.output).toContain('every base is where kolla-gen.lock.json pins it: nothing to do');
    expect(fs.existsSync(path.join(top, 'round1', 'ops', 'kolla-gen.lock.json'))).toBe(false);
    expect(calls()).toEqual([]);
    expect(await branches()).toEqual([]);

    // the lock turned on (committed with generated/): no base moved, nothing changes
    expect((await run(dir, ['lock'])).exitCode).toBe(0);
    expect((await run(dir, ['generate', '-q'])).exitCode).toBe(0);
    await gitIn(dir, ['add', '-A']);
    await gitIn(dir, ['commit', '-qm', 'kolla-gen lock']);
    const still = await runSteps();
    expect(still.output).toContain('kolla-gen.lock.json is up to date (2 bases)');
    expect(still.output).toContain('every base is where kolla-gen.lock.json pins it: nothing to do');
    expect(calls()).toEqual([]);
    expect(await branches()).toEqual([]);

    // alpha moved: one commit on the refresh branch, pushed, holding the lock and the generated files that pin it (no
    // rendered Dockerfile: they keep their tags), and a pull request described by kolla-gen summary
    const alpha2 = push('lib/alpha', '1');
    const moved = await runSteps();
    expect(moved.output).toContain(`updated  ${host}/lib/alpha:1`);
    expect(await branches()).toEqual([refreshBranch]);
    expect(await changed()).toEqual(['generated/docker-bake.hcl', 'generated/docker-bake.json', 'generated/manifest.json', 'kolla-gen.lock.json']);
    expect((await gitIn(dir, ['log', '--format=%an <%ae>: %s', `${main}..${refreshBranch}`])).stdout).toBe(
      'github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>: Refresh the base images (kolla-gen lock)',
    );
    expect(await lockOn(refreshBranch)).toEqual({ [`${host}/lib/alpha:1`]: { digest: alpha2 }, [`${host}/lib/beta:1`]: { digest: beta } });
    expect(calls()).toEqual([
      { args: ['pr', 'list', '--head', refreshBranch, '--state', 'open', '--json', 'number', '--jq', '.[].number'], token: 'the-token' },
      { args: ['pr', 'create', '--base', main, '--head', refreshBranch, '--title', 'Refresh the base images (kolla-gen lock)', '--body-file', moved.body], token: 'the-token' },
    ]);
    const body = fs.readFileSync(moved.body, 'utf8');
    expect(body).toContain('## Images affected since HEAD');
    expect(body).toContain('- changed: `a-base`\n- through `a-base`: `a-child`');
    expect(body).toContain(`**a-base** on ubuntu: the external bases changed (${host}/lib/alpha:1@`);
    expect(body).not.toContain('`b-base`');

    // alpha moved again while that pull request is open: the branch, force-pushed, holds one commit with the newest
    // digest; no second pull request
    const alpha3 = push('lib/alpha', '1');
    const again = await runSteps('7');
    expect(again.output).toContain(`the open pull request from ${refreshBranch} has the new commit`);
    expect(calls().slice(2)).toEqual([{ args: ['pr', 'list', '--head', refreshBranch, '--state', 'open', '--json', 'number', '--jq', '.[].number'], token: 'the-token' }]);
    expect((await gitIn(dir, ['rev-list', '--count', `${main}..${refreshBranch}`])).stdout).toBe('1');
    expect((await lockOn(refreshBranch))[`${host}/lib/alpha:1`]).toEqual({ digest: alpha3 });
  });
});
