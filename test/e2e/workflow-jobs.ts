// The jobs of the workflows `kolla-gen init` writes (.github/workflows/images.yml, refresh-bases.yml), run as a runner
// runs them, on an e2e engine (test/e2e/engine): what init-workflow.test.ts and separate-engines.test.ts share, so that
// both follow the workflows as they change.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { expect } from 'vitest';
import type { Engine } from './engine/index.js';
import type { Workflow } from '../support/workflow.js';

// A runner's git: a submodule (or upstream) at a local path needs the file protocol, which git refuses to submodules by default.
export const RUNNER_GIT_ENV = { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'protocol.file.allow', GIT_CONFIG_VALUE_0: 'always' };

/**
 * What a run of the workflow is on: a push to main, a pull request from a branch of the ops repo into main, or (the
 * refresh) the schedule on main.
 */
export interface RunOn {
  event: 'push' | 'pull_request' | 'schedule';
  /** The ops repo the runner clones. */
  repo: string;
  branch: string;
}

export interface JobRun {
  /** The runner's engine: its docker, buildx and builder. */
  engine: Engine;
  /**
   * A dir holding `kolla-gen` (node dist/cli.js): what `npm install -g "$KOLLA_GEN_PACKAGE"` puts on a runner's PATH;
   * and `gh`, a stand-in, for a job that calls it (GitHub's runners have it).
   */
  bin: string;
  run: RunOn;
  workflow: Workflow;
  jobName: string;
  /** The runner's workspace: a fresh dir. */
  workspace: string;
  matrix?: Record<string, string>;
}

/**
 * One job of the workflow, on a fresh runner: its workspace a fresh clone of the ops repo. Steps that use actions are
 * replaced by what they do here, or skipped:
 *   actions/checkout          git clone (whole history, as fetch-depth: 0) and the submodules (submodules: true); its
 *                             origin is the ops repo, which a `git push` of the job reaches (its token: no matter)
 *   actions/setup-node        nothing: node 20 runs this test
 *   actions/cache             nothing: a fresh KOLLA_GEN_CACHE_DIR per job, as a cache miss
 *   docker/setup-buildx-action, docker/setup-qemu-action
 *                             nothing: the engine's builder (docker driver, containerd image store) builds both
 *                             arches, arm64 under the qemu-aarch64 entry the engine registered
 *   docker/login-action       nothing: the local registry takes pushes without credentials
 * and the one `run:` step that installs kolla-gen (`npm install -g "$KOLLA_GEN_PACKAGE"`) by the wrapper on PATH.
 * Every other `run:` runs as written, with bash -eo pipefail (GitHub's `shell: bash`), in the workspace, with the env of
 * the workflow, the job and the step; `${{ … }}` and `if:` are evaluated from the tables below (a push to main, the
 * schedule on main, or a pull request into main). A step, expression or condition the tables do not know fails the
 * test: a change of the workflow must be looked at here.
 */
export async function runJob(job: JobRun): Promise<{ output: string; summary: string }> {
  const { engine, bin, run, workflow, jobName, workspace } = job;
  const matrix = job.matrix ?? {};
  const steps = workflow.jobs[jobName]!;
  const pr = run.event === 'pull_request';
  const expressions: Record<string, string> = {
    'vars.KOLLA_GEN_PACKAGE': '(replaced: kolla-gen is on PATH)',
    "secrets.REGISTRY_USERNAME != ''": 'false',
    'secrets.KOLLA_GEN_PR_TOKEN || github.token': '(the job token: gh is a stand-in)',
    'github.base_ref': pr ? 'main' : '',
    ...Object.fromEntries(Object.entries(matrix).map(([k, v]) => [`matrix.${k}`, v])),
  };
  const expand = (text: string) =>
    text.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_m, expr: string) => {
      if (!(expr in expressions)) throw new Error(`${jobName}: the test knows no value of the expression \${{ ${expr} }}`);
      return expressions[expr]!;
    });
  const expandAll = (env: Record<string, string> = {}) => Object.fromEntries(Object.entries(env).map(([k, v]) => [k, expand(String(v))]));
  const env: Record<string, string> = { ...expandAll(workflow.env), ...expandAll(steps.env) };
  const conditions: Record<string, boolean> = {
    "github.event_name != 'pull_request'": !pr,
    "github.event_name == 'pull_request'": pr,
    "env.HAS_CREDENTIALS == 'true'": env.HAS_CREDENTIALS === 'true',
  };
  const when = (condition: string | undefined, what: string) => {
    if (condition === undefined) return true;
    if (!(condition in conditions)) throw new Error(`${what}: the test knows no value of the condition if: ${condition}`);
    return conditions[condition]!;
  };
  if (!when(steps.if, jobName)) return { output: '', summary: '' };
  const home = join(workspace, 'home');
  mkdirSync(home, { recursive: true });
  const summary = join(home, 'step-summary.md');
  const runnerTemp = join(workspace, 'runner-temp');
  mkdirSync(runnerTemp, { recursive: true });
  const ops = join(workspace, 'ops');
  const outputs: string[] = [];
  for (const [i, step] of steps.steps.entries()) {
    const name = `${jobName}${matrix.arch ? ` (${matrix.arch})` : ''} step ${i + 1}: ${step.name ?? step.uses ?? step.run?.split('\n')[0]}`;
    if (!when(step.if, name)) continue;
    if (step.uses) {
      const action = step.uses.replace(/@.*/, '');
      if (action === 'actions/checkout') {
        expect(step.with, name).toMatchObject({ 'fetch-depth': 0, submodules: true });
        // on a pull request, actions/checkout checks out its merge into the base branch: here the branch, one commit on main
        await execa('git', ['clone', '-q', '--branch', run.branch, run.repo, ops], { env: RUNNER_GIT_ENV });
        await execa('git', ['submodule', 'update', '-q', '--init', '--recursive'], { cwd: ops, env: RUNNER_GIT_ENV });
      } else if (action === 'docker/login-action') {
        expect(step.with?.registry, name).toBe('${{ env.REGISTRY }}');
      } else if (!['actions/setup-node', 'actions/cache', 'docker/setup-buildx-action', 'docker/setup-qemu-action'].includes(action)) {
        throw new Error(`${name}: the test does not know what the action ${step.uses} does`);
      }
      continue;
    }
    if (step.run === 'npm install -g "$KOLLA_GEN_PACKAGE"') continue;
    const script = join(home, `step-${i + 1}.sh`);
    writeFileSync(script, expand(step.run!));
    const r = await execa('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], {
      cwd: ops,
      env: {
        PATH: `${bin}:${engine.env.PATH}`,
        HOME: home,
        DOCKER_HOST: engine.env.DOCKER_HOST!,
        DOCKER_CONFIG: engine.env.DOCKER_CONFIG!,
        BUILDKIT_PROGRESS: 'plain',
        KOLLA_GEN_CACHE_DIR: join(home, 'kolla-gen-cache'),
        CI: 'true',
        GITHUB_ACTIONS: 'true',
        GITHUB_EVENT_NAME: run.event,
        GITHUB_REF: pr ? 'refs/pull/1/merge' : 'refs/heads/main',
        GITHUB_REF_NAME: pr ? '1/merge' : 'main',
        GITHUB_BASE_REF: pr ? 'main' : '',
        GITHUB_WORKSPACE: ops,
        GITHUB_STEP_SUMMARY: summary,
        RUNNER_TEMP: runnerTemp,
        ...RUNNER_GIT_ENV,
        ...env,
        ...expandAll(step.env),
      },
      extendEnv: false,
      reject: false,
      all: true,
    });
    expect(r.exitCode, `${name} failed:\n${String(r.all).slice(-4000)}`).toBe(0);
    outputs.push(String(r.all));
  }
  return { output: outputs.join('\n'), summary: existsSync(summary) ? readFileSync(summary, 'utf8') : '' };
}
