// kolla-gen build without an engine: the pure parts (bake arguments, failure isolation, what a failed
// bake says, the summary) in memory, and the command itself against a fake `docker` that plays buildx's answers.
// The real thing, on a real engine, is test/e2e/build.test.ts.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bakeArgs,
  classifyBakeFailure,
  generations,
  isolateFailures,
  needsMultiPlatform,
  planTargets,
  type BakeAttempt,
  type PlanTarget,
} from '../src/engine/plan.js';
import { buildxVersion, parseInspect } from '../src/engine/buildx.js';
import { compileProject } from '../src/commands/run.js';
import { CODES } from '../src/core/diagnostics.js';
import type { Compiled } from '../src/pipeline.js';
import { formatSummary, summarizeBuild } from '../src/engine/summary.js';
import { listenLocal } from './support/net.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const TREE = path.join(ROOT, 'test', 'e2e', 'fixtures', 'tree');
const temps: string[] = [];

afterAll(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

let compiled: Compiled;
beforeAll(async () => {
  const result = await compileProject({ registry: 'localhost:5000' }, { cwd: TREE, env: {} });
  if (!result.compiled) throw new Error(JSON.stringify(result.diagnostics));
  compiled = result.compiled;
});

describe('bakeArgs', () => {
  it.each([
    [{ file: 'generated/docker-bake.json', targets: ['a', 'b'] }, ['buildx', 'bake', '-f', 'generated/docker-bake.json', 'a', 'b']],
    [
      { file: 'out/docker-bake.json', targets: ['a'], push: true, builder: 'k8s', provenance: 'false', set: ['*.platform=linux/arm64', 'a.args.X=1'], progress: 'plain', metadataFile: 'm.json' },
      ['buildx', 'bake', '-f', 'out/docker-bake.json', '--builder', 'k8s', '--push', '--provenance=false', '--set', '*.platform=linux/arm64', '--set', 'a.args.X=1', '--progress', 'plain', '--metadata-file', 'm.json', 'a'],
    ],
    [{ file: 'f.json', targets: ['a'], print: true, noCache: true, pull: true }, ['buildx', 'bake', '-f', 'f.json', '--no-cache', '--pull', '--print', 'a']],
  ])('%j', (options, expected) => {
    expect(bakeArgs(options)).toEqual(expected);
  });

  it('names every selected target, parents included, so that parents are pushed too', () => {
    const names = compiled.targets.map((t) => t.name);
    expect(names).toContain('debian-base');
    const args = bakeArgs({ file: 'generated/docker-bake.json', targets: names, push: true });
    expect(args.filter((a) => a === '-f')).toHaveLength(1);
    expect(args.slice(-names.length)).toEqual(names);
  });
});

describe('generations', () => {
  it('puts each target after every target it builds on; a join after its per-arch targets\' parents', () => {
    // archinfo renders differently per arch: its join stands for its per-arch targets, which build is never named
    expect(compiled.targets.filter((t) => t.image === 'archinfo').map((t) => t.name)).toEqual(['debian-archinfo-amd64', 'debian-archinfo-arm64', 'debian-archinfo']);
    expect(planTargets(compiled.targets).find((t) => t.name === 'debian-archinfo')).toEqual({ name: 'debian-archinfo', parents: ['debian-base'] });
    expect(generations(planTargets(compiled.targets))).toEqual([
      ['debian-base'],
      ['debian-archinfo', 'debian-runtime', 'debian-tools'],
      ['debian-app', 'debian-archtool', 'debian-service'],
      ['debian-plugin', 'debian-worker'],
    ]);
  });
});

/** A fake bake that fails whenever one of `failing` is named, recording every call. */
function fakeBake(failing: string[], fatal?: string) {
  const calls: string[][] = [];
  const bake = async (names: string[]): Promise<BakeAttempt> => {
    calls.push(names);
    if (fatal && names.includes(fatal)) return { ok: false, fatal: true, reason: 'push refused' };
    const bad = names.find((n) => failing.includes(n));
    return bad ? { ok: false, reason: `${bad} broke` } : { ok: true };
  };
  return { calls, bake };
}

describe('isolateFailures', () => {
  it('finds the failed target, skips what is below it, and builds the rest', async () => {
    const { calls, bake } = fakeBake(['debian-service']);
    const result = await isolateFailures(planTargets(compiled.targets), bake);
    const status = Object.fromEntries([...result.outcomes].map(([name, o]) => [name, o.status === 'skipped' ? `skipped (${o.parent})` : o.status]));
    expect(status).toEqual({
      'debian-base': 'built',
      'debian-archinfo': 'built',
      'debian-runtime': 'built',
      'debian-tools': 'built',
      'debian-app': 'built',
      'debian-archtool': 'built',
      'debian-service': 'failed',
      'debian-plugin': 'built',
      'debian-worker': 'skipped (debian-service)',
    });
    expect(result.outcomes.get('debian-service')).toEqual({ status: 'failed', reason: 'debian-service broke' });
    expect(result.fatal).toBeUndefined();
    // never a call naming a target below a failure, and far fewer calls than one per target on the happy path
    for (const call of calls) expect(call).not.toContain('debian-worker');
    expect(result.calls).toBe(calls.length);
    expect(calls.length).toBeLessThanOrEqual(8);
  });

  it('passes a skip down through several levels, naming the failed ancestor', async () => {
    const targets: PlanTarget[] = [
      { name: 'a', parents: [] },
      { name: 'b', parents: ['a'] },
      { name: 'c', parents: ['b'] },
      { name: 'd', parents: [] },
    ];
    const { bake } = fakeBake(['a']);
    const result = await isolateFailures(targets, bake);
    expect(result.outcomes.get('a')?.status).toBe('failed');
    expect(result.outcomes.get('b')).toEqual({ status: 'skipped', parent: 'a' });
    expect(result.outcomes.get('c')).toEqual({ status: 'skipped', parent: 'a' });
    expect(result.outcomes.get('d')).toEqual({ status: 'built' });
  });

  it('finds several failures of one generation', async () => {
    const targets: PlanTarget[] = ['a', 'b', 'c', 'd', 'e'].map((name) => ({ name, parents: [] }));
    const { bake } = fakeBake(['b', 'e']);
    const result = await isolateFailures(targets, bake);
    expect([...result.outcomes].filter(([, o]) => o.status === 'failed').map(([n]) => n)).toEqual(['b', 'e']);
    expect([...result.outcomes].filter(([, o]) => o.status === 'built').map(([n]) => n).sort()).toEqual(['a', 'c', 'd']);
  });

  it('tries a target that failed alone again before it counts as failed (--retries)', async () => {
    const targets: PlanTarget[] = [{ name: 'a', parents: [] }, { name: 'b', parents: [] }];
    let aFailures = 2;
    const calls: string[][] = [];
    const bake = async (names: string[]): Promise<BakeAttempt> => {
      calls.push(names);
      if (names.includes('a') && aFailures-- > 0) return { ok: false, reason: 'push cut off' };
      return names.includes('b') ? { ok: false, reason: 'b broke' } : { ok: true };
    };
    const result = await isolateFailures(targets, bake, { retries: 1 });
    expect(result.outcomes.get('a')).toEqual({ status: 'built' });
    expect(result.outcomes.get('b')).toEqual({ status: 'failed', reason: 'b broke' });
    expect(calls).toEqual([['a', 'b'], ['a'], ['a'], ['b'], ['b']]);
  });

  it('stops at a failure of the setup (a refused push), leaving the rest undecided', async () => {
    const { calls, bake } = fakeBake([], 'debian-base');
    const result = await isolateFailures(planTargets(compiled.targets), bake);
    expect(result.fatal?.reason).toBe('push refused');
    expect(calls).toEqual([['debian-base']]);
    expect(result.outcomes.size).toBe(0);
  });
});

describe('needsMultiPlatform', () => {
  it('needs a multi-platform builder unless --set pins the platform', () => {
    expect(needsMultiPlatform(compiled.targets, [])).toBe(true);
    expect(needsMultiPlatform(compiled.targets, ['*.platform=linux/arm64'])).toBe(false);
    expect(needsMultiPlatform(compiled.targets.filter((t) => t.arch !== undefined), [])).toBe(false);
  });
});

describe('classifyBakeFailure', () => {
  // Lines as buildx 0.13 prints them (seen on the e2e engine).
  it.each([
    {
      lines: [
        '#60 [debian-worker linux/amd64 2/3] RUN if [ -n "1" ]; then exit 3; fi',
        '#60 ERROR: process "/bin/sh -c if [ -n \\"$KG_E2E_FAIL\\" ]; then exit 3; fi" did not complete successfully: exit code: 3',
        '#58 CANCELED',
        'ERROR: failed to solve: process "/bin/sh -c if [ -n \\"$KG_E2E_FAIL\\" ]; then exit 3; fi" did not complete successfully: exit code: 3',
      ],
      kind: 'build',
      line: /^failed to solve: process .* exit code: 3$/,
      refs: [],
    },
    {
      lines: [
        '#16 ERROR: failed to push 127.0.0.1:9/e2e/base:1: failed to do request: Head "https://127.0.0.1:9/v2/e2e/base/blobs/sha256:c0": dial tcp 127.0.0.1:9: connect: connection refused',
        'ERROR: failed to solve: failed to push 127.0.0.1:9/e2e/base:1: failed to do request: dial tcp 127.0.0.1:9: connect: connection refused',
      ],
      kind: 'push',
      line: /failed to push 127\.0\.0\.1:9\/e2e\/base:1/,
      refs: ['127.0.0.1:9/e2e/base:1'],
    },
    {
      lines: ['ERROR: failed to solve: failed to push registry.example/kolla/base:1: unexpected status from HEAD request: 401 Unauthorized'],
      kind: 'push',
      line: /401 Unauthorized/,
      refs: ['registry.example/kolla/base:1'],
    },
    {
      lines: ['ERROR: Multi-platform build is not supported for the docker driver.', 'Switch to a different driver, or turn on the containerd image store, and try again.'],
      kind: 'builder',
      line: /Multi-platform build is not supported/,
      refs: [],
    },
    { lines: ['ERROR: no builder "k8s" found'], kind: 'unreachable', line: /no builder "k8s" found/, refs: [] },
    // BuildKit's message, from a buildkitd started without --allow-insecure-entitlement network.host
    {
      lines: ['#0 building with "kolla" instance using docker-container driver', 'ERROR: failed to solve: granting entitlement network.host is not allowed by build daemon configuration'],
      kind: 'entitlement',
      line: /^failed to solve: granting entitlement network\.host is not allowed/,
      refs: [],
    },
  ])('$kind: $line', ({ lines, kind, line, refs }) => {
    const failure = classifyBakeFailure(lines);
    expect(failure.kind).toBe(kind);
    expect(failure.line).toMatch(line);
    expect(failure.refs).toEqual(refs);
  });
});

describe('buildxVersion', () => {
  it.each([
    ['github.com/docker/buildx v0.29.1 a1b2c3d4e5', [0, 29]],
    ['github.com/docker/buildx 0.13.1+ds1 0.13.1+ds1-3', [0, 13]],
    ['github.com/docker/buildx 0.29.1+ds1 0.29.1+ds1-4', [0, 29]],
    ['github.com/docker/buildx v1.2.3 x', [1, 2]],
    ['github.com/docker/buildx v0.0.0+unknown', undefined],
    ['github.com/docker/buildx dev', undefined],
    ['', undefined],
  ])('%s', (text, version) => {
    expect(buildxVersion(text)).toEqual(version);
  });
});

describe('parseInspect', () => {
  it('reads the driver and the platforms of every node', () => {
    const text = [
      'Name:   kolla',
      'Driver: docker-container',
      '',
      'Nodes:',
      'Name:      kolla0',
      'Endpoint:  unix:///var/run/docker.sock',
      'Status:    running',
      'Platforms: linux/amd64*, linux/amd64/v2, linux/386',
      'Name:      kolla1',
      'Platforms: linux/arm64*, linux/arm/v7',
    ].join('\n');
    expect(parseInspect(text)).toEqual({
      name: 'kolla',
      driver: 'docker-container',
      platforms: ['linux/amd64', 'linux/amd64/v2', 'linux/386', 'linux/arm64', 'linux/arm/v7'],
    });
  });
});

describe('summary', () => {
  it('says per image what built, failed, was skipped and is unbuildable', () => {
    const outcomes = new Map(compiled.targets.map((t) => [t.name, { status: 'built' as const }]));
    outcomes.set('debian-service', { status: 'failed', reason: 'exit code: 3' } as never);
    outcomes.set('debian-worker', { status: 'skipped', parent: 'debian-service' } as never);
    const manifest = {
      ...compiled.manifest,
      images: [...compiled.manifest.images, { image: 'x86-only', base: 'debian' as const, arch: 'arm64' as const, status: 'unbuildable' as const, context: 'docker/x86-only', parents: [], dockerfileDigest: 'sha256:0', contextDigest: 'sha256:0', externalBases: [] }],
    };
    const summary = summarizeBuild({ targets: compiled.targets.filter((t) => t.arch === undefined), outcomes, manifest, pushed: false });
    expect(summary.failed.map((e) => [e.target, e.reason])).toEqual([['debian-service', 'exit code: 3']]);
    expect(summary.skipped).toEqual([
      expect.objectContaining({ image: 'worker', target: 'debian-worker', failedParent: 'debian-service', reason: 'its parent debian-service failed' }),
    ]);
    expect(summary.unbuildable).toEqual([{ image: 'x86-only', variant: 'debian', arch: 'arm64' }]);
    expect(summary.built).toHaveLength(7);
    const text = formatSummary(summary);
    expect(text).toContain('Failed (1):\n  debian-service: exit code: 3');
    expect(text).toContain('Skipped (1):\n  debian-worker: its parent debian-service failed');
    expect(text).toContain('Unbuildable (1):\n  debian-x86-only (arm64)');
    expect(text.split('\n').pop()).toBe('7 built, 1 failed, 1 skipped, 1 unbuildable');
  });
});

// --- the command, against a fake docker ---------------------------------------------------------------------

// Plays the docker CLI as buildx 0.13 answers (FAKE_BUILDX=0.29: as 0.29, whose bake knows --allow). FAKE_LOG gets one
// line per call; FAKE_FAIL names targets whose build fails; FAKE_PUSH_REFUSED makes every push fail, FAKE_REFUSE_HOST a
// bake granted network.host (a buildkitd that does not allow it); FAKE_NO_BUILDX,
// FAKE_DRIVER, FAKE_STORE, FAKE_NO_BUILDER shape the setup; FAKE_BUILDX_NAME replaces the version line (a dev build's).
// Each bake (not its help) also logs BUILDX_GIT_INFO and OTEL_TRACES_SAMPLER as it gets them.
const FAKE_DOCKER = `#!/bin/sh
echo "$*" >> "$FAKE_LOG"
case "$1 $2" in
  "--version "*) echo "Docker version 26.1.5 (fake)" ;;
  "buildx version")
    if [ -n "$FAKE_NO_BUILDX" ]; then echo "docker: 'buildx' is not a docker command." >&2; echo "See 'docker --help'" >&2; exit 1; fi
    echo "\${FAKE_BUILDX_NAME:-github.com/docker/buildx \${FAKE_BUILDX:-0.13}.1+ds1 \${FAKE_BUILDX:-0.13}.1+ds1-3}" ;;
  "buildx inspect")
    if [ -n "$FAKE_NO_BUILDER" ]; then echo "ERROR: no builder \\"$3\\" found" >&2; exit 1; fi
    printf 'Name:   default\\nDriver: %s\\n\\nNodes:\\nName:      default\\nStatus:    running\\nPlatforms: linux/amd64, linux/arm64\\n' "\${FAKE_DRIVER:-docker}" ;;
  "info --format") echo "[[\\"driver-type\\",\\"\${FAKE_STORE:-io.containerd.snapshotter.v1}\\"]]" ;;
  "buildx bake")
    if [ "$3" = "--help" ]; then
      printf 'Usage:  docker buildx bake [OPTIONS] [TARGET...]\\n\\nOptions:\\n'
      if [ "\${FAKE_BUILDX:-0.13}" = 0.29 ]; then printf '      --allow stringArray      Allow build to access specified resources\\n'; fi
      printf '      --builder string         Override the configured builder instance\\n'
      exit 0
    fi
    for arg in "$@"; do
      case "$arg" in --print) echo '{"group":{},"target":{}}'; exit 0 ;; esac
    done
    echo "BUILDX_GIT_INFO=\${BUILDX_GIT_INFO-unset}" >> "$FAKE_LOG"
    echo "OTEL_TRACES_SAMPLER=\${OTEL_TRACES_SAMPLER-unset}" >> "$FAKE_LOG"
    echo "#1 [internal] load local bake definitions" >&2
    case "$FAKE_REFUSE_HOST $*" in
      1*network.host*)
        echo "ERROR: failed to solve: granting entitlement network.host is not allowed by build daemon configuration" >&2
        exit 1 ;;
    esac
    if [ -n "$FAKE_PUSH_REFUSED" ]; then
      echo "#9 ERROR: failed to push localhost:5000/e2e/base:1: unexpected status from HEAD request: 401 Unauthorized" >&2
      echo "ERROR: failed to solve: failed to push localhost:5000/e2e/base:1: unexpected status from HEAD request: 401 Unauthorized" >&2
      exit 1
    fi
    for arg in "$@"; do
      for bad in $FAKE_FAIL; do
        if [ "$arg" = "$bad" ]; then
          echo "#7 [$arg 2/2] RUN false" >&2
          echo "#7 ERROR: process \\"/bin/sh -c false\\" did not complete successfully: exit code: 1" >&2
          echo "ERROR: failed to solve: process \\"/bin/sh -c false\\" did not complete successfully: exit code: 1" >&2
          exit 1
        fi
      done
    done
    echo "#2 DONE 0.1s" >&2 ;;
  *) echo "fake docker: unexpected: $*" >&2; exit 1 ;;
esac
`;

interface FakeRun {
  exitCode?: number;
  stdout: string;
  stderr: string;
  calls: string[];
  json: { ok: boolean; diagnostics: { code: string; severity: string; message: string; hint: string }[]; result: unknown };
}

describe('kolla-gen build (fake docker)', () => {
  let bin = '';
  let project = '';
  beforeAll(() => {
    bin = tempDir('kolla-gen-fake-docker-');
    fs.writeFileSync(path.join(bin, 'docker'), FAKE_DOCKER, { mode: 0o755 });
    project = tempDir('kolla-gen-build-');
    fs.cpSync(TREE, project, { recursive: true });
    // build bakes the committed generation: generate it first, with the options the builds below use.
    const generated = spawnSync(process.execPath, [CLI, 'generate', '--registry', 'localhost:5000'], { cwd: project, encoding: 'utf8' });
    if (generated.status !== 0) throw new Error(generated.stderr);
  });

  async function build(args: string[], env: Record<string, string> = {}, pathDir = bin): Promise<FakeRun> {
    const log = path.join(tempDir('kolla-gen-fake-log-'), 'calls');
    fs.writeFileSync(log, '');
    const r = await execa(process.execPath, [CLI, 'build', '--registry', 'localhost:5000', '--json', ...args], {
      cwd: project,
      reject: false,
      extendEnv: false,
      env: { PATH: pathDir, FAKE_LOG: log, ...env },
    });
    const calls = fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean);
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, calls, json: JSON.parse(r.stdout) as FakeRun['json'] };
  }
  const codes = (r: FakeRun) => r.json.diagnostics.map((d) => `${d.severity}:${d.code}`);

  it('generates, then bakes one target per image in one call: bake makes every manifest list, joins included', async () => {
    const r = await build(['--push', '--set', 'debian-app.args.X=1', '--provenance', 'false']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(fs.existsSync(path.join(project, 'generated', 'docker-bake.json'))).toBe(true);
    const bakes = r.calls.filter((c) => c.startsWith('buildx bake -f'));
    expect(bakes).toEqual([
      `buildx bake -f generated/docker-bake.json --push --provenance=false --set debian-app.args.X=1 ${compiled.targets.filter((t) => t.arch === undefined).map((t) => t.name).join(' ')}`,
    ]);
    expect(bakes[0]).not.toContain('debian-archinfo-amd64');
    expect(r.calls.filter((c) => c.startsWith('buildx imagetools'))).toEqual([]);
    const result = r.json.result as { built: { target: string; tags: string[] }[] };
    expect(result.built).toHaveLength(9);
    expect(result.built.find((e) => e.target === 'debian-archinfo')?.tags).toEqual(['localhost:5000/e2e/archinfo:1']);
    // buildx's progress is shown live, on stderr
    expect(r.stderr).toContain('#1 [internal] load local bake definitions');
  });

  it.each([
    ['docker', 'io.containerd.snapshotter.v1', '--push'],
    ['docker', 'overlay2', '--push'],
    ['docker-container', 'overlay2', '--set *.output=type=registry,rewrite-timestamp=true'],
    ['kubernetes', 'overlay2', '--set *.output=type=registry,rewrite-timestamp=true'],
    ['remote', 'io.containerd.snapshotter.v1', '--set *.output=type=registry,rewrite-timestamp=true'],
  ])('--push on the %s driver (%s): %s', async (driver, store, push) => {
    const r = await build(['--push', '-a', 'amd64'], { FAKE_DRIVER: driver, FAKE_STORE: store });
    expect(r.exitCode, r.stderr).toBe(0);
    const bakes = r.calls.filter((c) => c.startsWith('buildx bake -f'));
    expect(bakes).toHaveLength(1);
    expect(bakes[0]).toContain(` ${push} `);
    if (push === '--push') expect(bakes[0]).not.toContain('rewrite-timestamp');
    else expect(bakes[0]).not.toContain('--push');
  });

  it('a --set *.output of the user\'s comes after kolla-gen\'s push and wins (store=false,rewrite-timestamp=true on dockerd 28)', async () => {
    const own = '*.output=type=image,push=true,store=false,rewrite-timestamp=true';
    const r = await build(['--push', '-a', 'amd64', '--set', own]);
    expect(r.exitCode, r.stderr).toBe(0);
    const [bake] = r.calls.filter((c) => c.startsWith('buildx bake -f'));
    expect(bake).toMatch(new RegExp(` --push .*--set ${own.replace(/[*.]/g, (c) => `\\${c}`)} `));
  });

  it('without --push, builds with no warning and no imagetools', async () => {
    const r = await build([]);
    expect(r.exitCode).toBe(0);
    expect(codes(r)).toEqual([]);
    expect(r.calls.some((c) => c.startsWith('buildx imagetools'))).toBe(false);
  });

  it('names the failed image (KG804), skips the images below it, and still builds the others', async () => {
    const file = path.join(tempDir('kolla-gen-summary-'), 'summary.json');
    const r = await build(['--push', '--summary-json-file', file], { FAKE_FAIL: 'debian-service' });
    expect(r.exitCode).toBe(1);
    expect(codes(r)).toEqual(['error:KG804']);
    expect(r.json.diagnostics[0]?.message).toMatch(/^debian-service \(service\) failed to build: failed to solve: .*exit code: 1$/);
    const summary = JSON.parse(fs.readFileSync(file, 'utf8')) as { failed: { target: string }[]; skipped: { target: string; failedParent: string }[]; built: { target: string }[] };
    expect(summary).toEqual(r.json.result);
    expect(summary.failed.map((e) => e.target)).toEqual(['debian-service']);
    expect(summary.skipped.map((e) => [e.target, e.failedParent])).toEqual([['debian-worker', 'debian-service']]);
    expect(summary.built.map((e) => e.target)).toContain('debian-plugin');
    expect(r.calls.filter((c) => c.startsWith('buildx bake -f') && c.includes('debian-worker'))).toHaveLength(1); // only the first, whole bake
    expect(r.stderr).toContain('kolla-gen: bake debian-service (it failed alone: try 2)');
  });

  it('says the registry refused the push (KG803), without retrying every image', async () => {
    const r = await build(['--push'], { FAKE_PUSH_REFUSED: '1' });
    expect(r.exitCode).toBe(1);
    expect(codes(r)).toEqual(['error:KG803']);
    expect(r.json.diagnostics[0]?.message).toContain('localhost:5000/e2e/base:1');
    expect(r.json.diagnostics[0]?.message).toContain('401 Unauthorized');
    expect(r.calls.filter((c) => c.startsWith('buildx bake -f'))).toHaveLength(1);
    expect(r.stdout).not.toMatch(/\n\s+at /); // no stack trace
  });

  it.each<{ code: string; env: Record<string, string>; path?: string; args?: string[]; message: RegExp }>([
    { code: 'KG800', env: {}, path: '/nonexistent', message: /not on PATH/ },
    { code: 'KG801', env: { FAKE_NO_BUILDX: '1' }, message: /no buildx plugin.*'buildx' is not a docker command/ },
    { code: 'KG802', env: { FAKE_STORE: 'overlay2' }, message: /docker driver without the containerd image store/ },
    { code: 'KG805', env: { FAKE_NO_BUILDER: '1' }, args: ['--builder', 'k8s'], message: /no builder "k8s" found/ },
  ])('$code: a setup that cannot build is a diagnostic, not a stack trace', async ({ code, env, path: pathDir, args, message }) => {
    const r = await build(['--push', ...(args ?? [])], env, pathDir);
    expect(r.exitCode).toBe(1);
    expect(codes(r)).toEqual([`error:${code}`]);
    expect(r.json.diagnostics[0]?.message).toMatch(message);
    expect(r.json.diagnostics[0]?.hint.length).toBeGreaterThan(20);
    expect(r.calls.some((c) => c.startsWith('buildx bake -f'))).toBe(false);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  });

  it('KG820: attestations the config asks for, on the docker driver without the containerd image store', async () => {
    const config = fs.readFileSync(path.join(project, 'kolla-gen.yaml'), 'utf8');
    fs.writeFileSync(path.join(project, 'attest.yaml'), `${config}attest:\n  provenance: max\n`);
    fs.writeFileSync(path.join(project, 'no-attest.yaml'), `${config}attest:\n  provenance: false\n`);
    // one arch: the classic store builds it (no KG802), but cannot attach an attestation to it
    const refused = await build(['-c', 'attest.yaml', '-a', 'amd64', '--push'], { FAKE_STORE: 'overlay2' });
    expect(refused.exitCode, refused.stderr).toBe(1);
    expect(codes(refused).filter((c) => c.startsWith('error:'))).toEqual(['error:KG820']);
    expect(refused.json.diagnostics.find((d) => d.code === 'KG820')?.message).toContain('attest: of attest.yaml');
    expect(refused.calls.some((c) => c.startsWith('buildx bake -f'))).toBe(false);
    // no attestation asked for, or --provenance=false for this run: it builds
    for (const [file, args] of [['no-attest.yaml', []], ['attest.yaml', ['--provenance=false']]] as const) {
      const r = await build(['-c', file, '-a', 'amd64', '--push', ...args], { FAKE_STORE: 'overlay2' });
      expect(r.exitCode, `${file} ${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    // with the containerd image store, the bake file says what to attest
    const stored = await build(['-c', 'attest.yaml', '-a', 'amd64', '--push']);
    expect(stored.exitCode, stored.stderr).toBe(0);
  });

  it('KG808: a summary file that cannot be written', async () => {
    const r = await build(['--summary-json-file', 'no/such/dir/summary.json']);
    expect(r.exitCode).toBe(1);
    expect(codes(r)).toContain('error:KG808');
  });

  it('--print prints bake\'s definition and builds nothing; --list lists without docker', async () => {
    const print = await build(['--print']);
    expect(print.exitCode).toBe(0);
    expect(print.json.result).toEqual({ group: {}, target: {} });
    expect(print.calls.filter((c) => c.startsWith('buildx bake -f'))).toEqual([expect.stringMatching(/ --print debian-base /)]);
    const list = await build(['--list', 'groups'], {}, '/nonexistent');
    expect(list.exitCode).toBe(0);
    expect((list.json.result as { groups: { name: string }[] }).groups.map((g) => g.name)).toEqual(['default', 'debian']);
  });

  it('grants no read to a buildx that does not know bake --allow (0.13), and none for a tree inside the repo (0.29)', async () => {
    for (const buildx of ['0.13', '0.29']) {
      const r = await build(['--push'], { FAKE_BUILDX: buildx });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.calls.filter((c) => c.startsWith('buildx bake -f')).every((c) => !c.includes('--allow')), buildx).toBe(true);
      // known from `buildx version`: bake's help is not asked
      expect(r.calls.filter((c) => c === 'buildx bake --help')).toEqual([]);
    }
  });

  it('asks bake --help whether it knows --allow when buildx names its version otherwise (a dev build)', async () => {
    for (const buildx of ['0.13', '0.29']) {
      const r = await build(['--push'], { FAKE_BUILDX: buildx, FAKE_BUILDX_NAME: 'github.com/docker/buildx v0.0.0+unknown' });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.calls.filter((c) => c === 'buildx bake --help')).toHaveLength(1);
    }
  });

  it('starts docker three times before the bake, all at once: buildx version, buildx inspect, info', async () => {
    const r = await build(['--push']);
    expect(r.exitCode, r.stderr).toBe(0);
    const before = r.calls.slice(0, r.calls.findIndex((c) => c.startsWith('buildx bake -f')));
    expect([...before].sort()).toEqual(['buildx inspect', 'buildx version', 'info --format {{json .DriverStatus}}']);
  });

  it('bakes with BUILDX_GIT_INFO=false unless the environment sets it', async () => {
    const off = await build(['--push']);
    expect(off.exitCode, off.stderr).toBe(0);
    expect(off.calls.filter((c) => c.startsWith('BUILDX_GIT_INFO='))).toEqual(['BUILDX_GIT_INFO=false']);
    for (const value of ['true', '1', '']) {
      const own = await build(['--push'], { BUILDX_GIT_INFO: value });
      expect(own.exitCode, own.stderr).toBe(0);
      expect(own.calls.filter((c) => c.startsWith('BUILDX_GIT_INFO=')), value).toEqual([`BUILDX_GIT_INFO=${value}`]);
    }
  });

  it('bakes with OTEL_TRACES_SAMPLER=always_off unless the environment sets any OTEL_ variable', async () => {
    const off = await build(['--push']);
    expect(off.exitCode, off.stderr).toBe(0);
    expect(off.calls.filter((c) => c.startsWith('OTEL_TRACES_SAMPLER='))).toEqual(['OTEL_TRACES_SAMPLER=always_off']);
    const sampled = await build(['--push'], { OTEL_TRACES_SAMPLER: 'parentbased_always_on' });
    expect(sampled.calls.filter((c) => c.startsWith('OTEL_TRACES_SAMPLER='))).toEqual(['OTEL_TRACES_SAMPLER=parentbased_always_on']);
    // a collector of the user's: the traces it is to receive stay sampled as buildx samples them
    const collected = await build(['--push'], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' });
    expect(collected.exitCode, collected.stderr).toBe(0);
    expect(collected.calls.filter((c) => c.startsWith('OTEL_TRACES_SAMPLER='))).toEqual(['OTEL_TRACES_SAMPLER=unset']);
  });

  it('covers every build code (KG800 and up)', () => {
    const tested = ['KG800', 'KG801', 'KG802', 'KG803', 'KG804', 'KG805', 'KG808', 'KG820', 'KG821'];
    expect(Object.keys(CODES).filter((c) => c >= 'KG800' && c < 'KG900')).toEqual(tested);
  });
});

// --- read grants: a docker dir outside the repo, on buildx 0.13 and 0.29 (fake docker) -----------------------------

describe('kolla-gen build grants buildx the reads it needs (fake docker)', () => {
  let bin = '';
  let ops = '';
  beforeAll(() => {
    bin = tempDir('kolla-gen-fake-docker-');
    fs.writeFileSync(path.join(bin, 'docker'), FAKE_DOCKER, { mode: 0o755 });
    // an ops repo whose docker dir lies beside it, as upstream Kolla's does, with an overlay inside it
    const top = tempDir('kolla-gen-allow-');
    fs.cpSync(path.join(TREE, 'docker'), path.join(top, 'upstream', 'docker'), { recursive: true });
    ops = path.join(top, 'ops');
    fs.mkdirSync(path.join(ops, 'overlays', 'app'), { recursive: true });
    fs.writeFileSync(path.join(ops, 'overlays', 'app', 'ops-note.txt'), 'from the ops repo\n');
    fs.writeFileSync(path.join(ops, 'kolla-gen.yaml'), `${fs.readFileSync(path.join(TREE, 'kolla-gen.yaml'), 'utf8')}docker_dirs: [../upstream/docker, overlays]\n`);
    const generated = spawnSync(process.execPath, [CLI, 'generate'], { cwd: ops, encoding: 'utf8' });
    if (generated.status !== 0) throw new Error(generated.stderr);
  });

  async function bakes(args: string[], buildx: string): Promise<string[]> {
    const log = path.join(tempDir('kolla-gen-fake-log-'), 'calls');
    fs.writeFileSync(log, '');
    const r = await execa(process.execPath, [CLI, 'build', '--json', ...args], { cwd: ops, reject: false, extendEnv: false, env: { PATH: bin, FAKE_LOG: log, FAKE_BUILDX: buildx } });
    expect(r.exitCode, r.stderr).toBe(0);
    return fs.readFileSync(log, 'utf8').trim().split('\n').filter((c) => c.startsWith('buildx bake -f'));
  }

  it('buildx 0.29: --allow fs.read= the docker dir beside the repo, once, and nothing inside it', async () => {
    const calls = await bakes(['--push'], '0.29');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatch(/^buildx bake -f generated\/docker-bake\.json --allow fs\.read=\.\.\/upstream\/docker --push /);
    expect(calls[0]?.match(/--allow/g)).toHaveLength(1);
  });

  it('buildx 0.29, a private generation (other options): also the temp dir it is written to', async () => {
    const [call] = await bakes(['--tag', '2', '--push'], '0.29');
    const grants = [...(call ?? '').matchAll(/--allow fs\.read=(\S+)/g)].map((m) => m[1]);
    expect(grants).toHaveLength(2);
    expect(grants[0]).toMatch(/^(\.\.\/)+.*kolla-gen-build-[^/]+\/generated$/);
    expect(call).toContain(`-f ${grants[0]}/docker-bake.json`);
    expect(grants[1]).toBe('../upstream/docker');
  });

  it('buildx 0.13: no --allow, which its bake does not know (and it reads anywhere)', async () => {
    const calls = await bakes(['--push'], '0.13');
    expect(calls).toHaveLength(1);
    expect(calls[0]).not.toContain('--allow');
  });

  it('--print: the same grants', async () => {
    const calls = await bakes(['--print'], '0.29');
    expect(calls).toEqual([expect.stringMatching(/--allow fs\.read=\.\.\/upstream\/docker .*--print /)]);
  });

  it('network_mode: host: buildx 0.29 is also granted network.host; 0.13, which would ignore the files\' network, is refused (KG821)', async () => {
    fs.writeFileSync(path.join(ops, 'host.yaml'), `${fs.readFileSync(path.join(ops, 'kolla-gen.yaml'), 'utf8')}network_mode: host\n`);
    const calls = await bakes(['-c', 'host.yaml', '--push'], '0.29');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatch(/ --allow fs\.read=\.\.\/upstream\/docker --allow network\.host --push /);
    const log = path.join(tempDir('kolla-gen-fake-log-'), 'calls');
    fs.writeFileSync(log, '');
    const old = await execa(process.execPath, [CLI, 'build', '--json', '-c', 'host.yaml', '--push'], { cwd: ops, reject: false, extendEnv: false, env: { PATH: bin, FAKE_LOG: log, FAKE_BUILDX: '0.13' } });
    expect(old.exitCode, old.stderr).toBe(1);
    // KG710 beside it: host.yaml's generation is not the committed one
    const diagnostics = (JSON.parse(old.stdout) as { diagnostics: { code: string; severity: string; message: string; hint: string }[] }).diagnostics.filter((d) => d.severity === 'error');
    expect(diagnostics.map((d) => d.code)).toEqual(['KG821']);
    expect(diagnostics[0]?.message).toContain('network_mode: host of host.yaml');
    expect(diagnostics[0]?.hint).toContain('0.18');
    expect(fs.readFileSync(log, 'utf8')).not.toContain('buildx bake -f');
    // a builder whose buildkitd does not grant network.host: KG821 after one bake, not a hunt for a failing image
    fs.writeFileSync(log, '');
    const refused = await execa(process.execPath, [CLI, 'build', '--json', '-c', 'host.yaml', '--push'], { cwd: ops, reject: false, extendEnv: false, env: { PATH: bin, FAKE_LOG: log, FAKE_BUILDX: '0.29', FAKE_REFUSE_HOST: '1' } });
    expect(refused.exitCode, refused.stderr).toBe(1);
    const errors = (JSON.parse(refused.stdout) as { diagnostics: { code: string; severity: string; message: string }[] }).diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((d) => d.code)).toEqual(['KG821']);
    expect(errors[0]?.message).toContain('granting entitlement network.host is not allowed');
    expect(fs.readFileSync(log, 'utf8').split('\n').filter((c) => c.startsWith('buildx bake -f'))).toHaveLength(1);
  });
});

// --- KG904 to KG907: build with --skip-existing and --affected-since against a registry served here ----------------

describe('kolla-gen build against a registry (fake docker)', () => {
  const registries: http.Server[] = [];
  afterAll(async () => {
    await Promise.all(registries.map((s) => new Promise((resolve) => s.close(resolve))));
  });

  const INDEX = 'application/vnd.oci.image.index.v1+json';
  const IMAGE = 'application/vnd.oci.image.manifest.v1+json';
  const IMAGE_BODY = JSON.stringify({ schemaVersion: 2, mediaType: IMAGE, config: {}, layers: [] });
  const digestOf = (body: string) => `sha256:${createHash('sha256').update(body).digest('hex')}`;
  const configOf = (arch: string) => JSON.stringify({ architecture: arch, os: 'linux' });

  interface Registry {
    host: string;
    /** "repository:tag" → the manifest it holds. */
    manifests: Map<string, string>;
    /** "PUT /v2/e2e/base/manifests/1", … */
    requests: string[];
    put(ref: string, body: string): void;
    get(ref: string): string | undefined;
  }

  /** A v2 registry in memory: GET/HEAD of the manifests it holds, 404 MANIFEST_UNKNOWN else; PUT stores a tag unless refused (403 DENIED). */
  async function startRegistry(options: { refusePut?: boolean } = {}): Promise<Registry> {
    const manifests = new Map<string, string>();
    const requests: string[] = [];
    const send = (res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers });
      res.end(body);
    };
    const server = http.createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        // an image's config blob: kolla-gen reads the arch of a one-image tag from it
        const blob = /\/blobs\/(sha256:[0-9a-f]+)$/.exec(req.url ?? '')?.[1];
        const config = blob === undefined ? undefined : ['amd64', 'arm64'].map(configOf).find((c) => digestOf(c) === blob);
        if (config !== undefined) return send(res, 200, config, { 'Content-Type': 'application/octet-stream' });
        const match = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(req.url ?? '');
        if (match === null) return send(res, 404, JSON.stringify({ errors: [{ code: 'NOT_FOUND', message: 'not found' }] }));
        const key = `${match[1]}:${match[2]}`;
        if (req.method === 'PUT') {
          if (options.refusePut) return send(res, 403, JSON.stringify({ errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }] }));
          const body = Buffer.concat(chunks).toString('utf8');
          manifests.set(key, body);
          return send(res, 201, '', { 'Docker-Content-Digest': digestOf(body) });
        }
        // by digest: a list this registry holds, or an image such a list names (kolla-gen checks that a list holds every arch it needs)
        const reference = match[2] ?? '';
        const list = reference.startsWith('sha256:') ? [...manifests.values()].find((b) => digestOf(b) === reference) : undefined;
        if (reference.startsWith('sha256:') && list === undefined) return send(res, 200, IMAGE_BODY, { 'Content-Type': IMAGE, 'Docker-Content-Digest': reference });
        const body = list ?? manifests.get(key);
        if (body === undefined) return send(res, 404, JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
        send(res, 200, body, { 'Content-Type': INDEX, 'Docker-Content-Digest': digestOf(body) });
      });
    });
    // kolla-gen tries HTTPS first on a local host, then HTTP
    server.on('clientError', (_error, socket) => socket.destroy());
    registries.push(server);
    const host = await listenLocal(server);
    const key = (ref: string) => {
      expect(ref.startsWith(`${host}/`)).toBe(true);
      return ref.slice(host.length + 1);
    };
    return { host, manifests, requests, put: (ref, body) => manifests.set(key(ref), body), get: (ref) => manifests.get(key(ref)) };
  }

  /** A manifest list of amd64 and arm64 as a registry holds one; `salt` makes another image. */
  const manifest = (salt: string) =>
    JSON.stringify({
      schemaVersion: 2,
      mediaType: INDEX,
      manifests: ['amd64', 'arm64'].map((arch) => ({ mediaType: IMAGE, digest: digestOf(`${salt} ${arch}`), size: 500, platform: { os: 'linux', architecture: arch } })),
      annotations: { salt },
    });

  /** A copy of the e2e tree; with `git`, a git repo with the tree committed. */
  async function project(git = false): Promise<string> {
    const dir = tempDir('kolla-gen-build-registry-');
    fs.cpSync(TREE, dir, { recursive: true });
    if (git) {
      const commit = ['-c', 'user.email=test@example.org', '-c', 'user.name=test', '-c', 'commit.gpgsign=false', 'commit', '-q', '-m', 'tree'];
      await execa('git', ['init', '-q'], { cwd: dir });
      await execa('git', ['add', '-A'], { cwd: dir });
      await execa('git', commit, { cwd: dir });
    }
    return dir;
  }

  async function contentTagOf(dir: string, registry: Registry, target: string): Promise<string> {
    const planned = await compileProject({ registry: registry.host, contentTags: true }, { cwd: dir, env: {} });
    const tag = planned.compiled?.targets.find((t) => t.name === target)?.contentTag ?? '';
    expect(tag).toMatch(/\/e2e\/[a-z]+:kg-[0-9a-f]{32}$/);
    return tag;
  }

  let bin = '';
  beforeAll(() => {
    bin = tempDir('kolla-gen-fake-docker-');
    fs.writeFileSync(path.join(bin, 'docker'), FAKE_DOCKER, { mode: 0o755 });
  });

  /** `kolla-gen build ARGS --json` in dir, with the fake docker first on PATH (and git after it, for --affected-since). */
  async function runBuild(dir: string, args: string[]) {
    const log = path.join(tempDir('kolla-gen-fake-log-'), 'calls');
    fs.writeFileSync(log, '');
    const r = await execa(process.execPath, [CLI, 'build', ...args, '--json'], {
      cwd: dir,
      reject: false,
      extendEnv: false,
      env: { PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`, FAKE_LOG: log, HOME: dir },
    });
    const calls = fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean);
    const json = JSON.parse(r.stdout) as {
      ok: boolean;
      diagnostics: { code: string; severity: string; message: string; hint: string }[];
      result: { built: { target: string }[]; existing: { target: string; contentTag: string; retagged?: string[] }[] } | null;
    };
    // These builds bake private generations (their options are not those of a committed one): KG710, tested in ops.test.ts.
    json.diagnostics = json.diagnostics.filter((d) => d.code !== 'KG710');
    const codes = json.diagnostics.map((d) => `${d.severity}:${d.code}`);
    return { exitCode: r.exitCode, stderr: r.stderr, stdout: r.stdout, json, calls, codes };
  }

  /** base's content tag in the registry, its tag (`<host>/e2e/base:1`) absent or on another image; build --push of base alone. */
  async function buildExistingBase(options: { refusePut?: boolean; tag: 'absent' | 'another image' | 'the same image' }) {
    const registry = await startRegistry(options);
    const dir = await project();
    const contentTag = await contentTagOf(dir, registry, 'debian-base');
    const tag = `${registry.host}/e2e/base:1`;
    registry.put(contentTag, manifest('built'));
    if (options.tag !== 'absent') registry.put(tag, manifest(options.tag === 'another image' ? 'older' : 'built'));
    const r = await runBuild(dir, ['^base$', '--registry', registry.host, '--skip-existing', '--push']);
    return { ...r, registry, contentTag, tag };
  }

  it('KG904: the registry refuses to tag the image --skip-existing left out', async () => {
    const r = await buildExistingBase({ refusePut: true, tag: 'absent' });
    expect(r.exitCode).toBe(1);
    expect(r.json.ok).toBe(false);
    expect(r.codes).toEqual(['error:KG904']);
    expect(r.json.diagnostics[0]?.message).toBe(
      `cannot tag ${r.contentTag} as ${r.tag}: registry ${r.registry.host} answered 403 Forbidden to tagging e2e/base:1: requested access to the resource is denied`,
    );
    expect(r.json.diagnostics[0]?.hint).toBe(CODES.KG904.hint);
    // nothing to build: no bake; the tag is still not there
    expect(r.calls.filter((c) => c.startsWith('buildx bake -f'))).toEqual([]);
    expect(r.registry.get(r.tag)).toBeUndefined();
    expect(r.json.result?.existing).toEqual([expect.objectContaining({ target: 'debian-base', contentTag: r.contentTag })]);
    expect(r.json.result?.existing[0]?.retagged).toBeUndefined();
  });

  it('points a tag on another image at the content tag, and says so in the summary', async () => {
    const r = await buildExistingBase({ tag: 'another image' });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.diagnostics).toEqual([]);
    expect(r.registry.get(r.tag)).toBe(manifest('built'));
    expect(r.registry.requests.filter((q) => q.startsWith('PUT '))).toEqual(['PUT /v2/e2e/base/manifests/1']);
    expect(r.calls.filter((c) => c.startsWith('buildx bake -f'))).toEqual([]);
    expect(r.json.result?.built).toEqual([]);
    expect(r.json.result?.existing).toEqual([expect.objectContaining({ target: 'debian-base', contentTag: r.contentTag, retagged: [r.tag] })]);
  });

  it("leaves a tag that already names the content tag's image alone", async () => {
    const r = await buildExistingBase({ refusePut: true, tag: 'the same image' });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.registry.requests.filter((q) => q.startsWith('PUT '))).toEqual([]);
    expect(r.json.result?.existing).toEqual([expect.objectContaining({ target: 'debian-base', contentTag: r.contentTag })]);
    expect(r.json.result?.existing[0]?.retagged).toBeUndefined();
  });

  /** An image manifest as a registry holds one, for one arch. */
  const image = (arch: string) => JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { digest: digestOf(configOf(arch)) }, layers: [] });

  it('after a multi-arch push with content tags, tags each arch image kg-<its arch hash>, the tag a one-arch run pushes', async () => {
    const registry = await startRegistry();
    const dir = await project();
    const planned = await compileProject({ registry: registry.host, contentTags: true }, { cwd: dir, env: {} });
    const base = planned.compiled?.targets.find((t) => t.name === 'debian-base');
    expect(base?.variantHashes.map((v) => v.arch)).toEqual(['amd64', 'arm64']);
    // what the bake pushed under the content tag: a list of both arches' images, and an attestation
    const entries = ['amd64', 'arm64'].map((arch) => {
      registry.manifests.set(`e2e/base:${digestOf(image(arch))}`, image(arch));
      return { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digestOf(image(arch)), size: image(arch).length, platform: { os: 'linux', architecture: arch } };
    });
    const attestation = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digestOf('attestation'), size: 1, platform: { os: 'unknown', architecture: 'unknown' } };
    registry.put(base!.contentTag!, JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: [...entries, attestation] }));

    const r = await runBuild(dir, ['^base$', '--registry', registry.host, '--content-tags', '--push']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.diagnostics).toEqual([]);
    // the one-arch run's tags, each on that arch's image, byte for byte
    const oneArch = await Promise.all(
      (['amd64', 'arm64'] as const).map(async (arch) => (await compileProject({ registry: registry.host, contentTags: true, arches: [arch] }, { cwd: dir, env: {} })).compiled?.targets.find((t) => t.image === 'base')?.contentTag),
    );
    expect(oneArch.every((t) => t !== undefined && t !== base!.contentTag)).toBe(true);
    expect(registry.get(oneArch[0]!)).toBe(image('amd64'));
    expect(registry.get(oneArch[1]!)).toBe(image('arm64'));
    expect(registry.requests.filter((q) => q.startsWith('PUT ')).sort()).toEqual(oneArch.map((t) => `PUT /v2/e2e/base/manifests/${t!.split(':').pop()}`).sort());
  });

  it('KG906: a warning when the pushed list cannot be read to tag its arches; the build still succeeds', async () => {
    const registry = await startRegistry();
    const dir = await project();
    const r = await runBuild(dir, ['^base$', '--registry', registry.host, '--content-tags', '--push']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.codes).toEqual(['warning:KG906']);
    expect(r.json.diagnostics[0]?.message).toMatch(/^cannot tag the arches of \S+\/e2e\/base:kg-[0-9a-f]{32}: \S+ is not in the registry$/);
    expect(r.json.diagnostics[0]?.hint).toBe(CODES.KG906.hint);
    expect(r.json.result?.built).toEqual([expect.objectContaining({ target: 'debian-base' })]);
  });

  /** base with every arch's image under its per-arch content tag (as two one-arch runs push them), and no list. */
  async function perArchBase() {
    const registry = await startRegistry();
    const dir = await project();
    const oneArch = async (arch: 'amd64' | 'arm64') =>
      (await compileProject({ registry: registry.host, contentTags: true, arches: [arch] }, { cwd: dir, env: {} })).compiled?.targets.find((t) => t.image === 'base')?.contentTag ?? '';
    const tags = { amd64: await oneArch('amd64'), arm64: await oneArch('arm64') };
    registry.put(tags.amd64, image('amd64'));
    registry.put(tags.arm64, image('arm64'));
    return { registry, dir, tags, listTag: await contentTagOf(dir, registry, 'debian-base') };
  }

  it('--skip-existing --push makes the list of the per-arch images one-arch runs pushed, and points the tags at it: no bake', async () => {
    const { registry, dir, tags, listTag } = await perArchBase();
    // explain says where the images are and what build --push does
    const why = await execa(process.execPath, [CLI, 'explain', 'base', '--registry', registry.host, '--skip-existing'], { cwd: dir, reject: false });
    expect(why.stdout).toContain(`the registry holds its image of each arch (${tags.amd64}, ${tags.arm64}): not built; build --push makes their list ${listTag}`);
    const r = await runBuild(dir, ['^base$', '--registry', registry.host, '--skip-existing', '--push']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.diagnostics).toEqual([]);
    expect(r.calls.filter((c) => c.startsWith('buildx bake -f'))).toEqual([]);
    const list = JSON.parse(registry.get(listTag) ?? '{}') as { mediaType?: string; manifests?: { digest: string; size: number; platform: { os: string; architecture: string } }[] };
    expect(list.mediaType).toBe(INDEX);
    expect(list.manifests).toEqual(
      (['amd64', 'arm64'] as const).map((arch) => expect.objectContaining({ digest: digestOf(registry.get(tags[arch])!), size: image(arch).length, platform: { architecture: arch, os: 'linux' } })),
    );
    const tag = `${registry.host}/e2e/base:1`;
    expect(registry.get(tag)).toBe(registry.get(listTag));
    expect(r.json.result?.existing).toEqual([expect.objectContaining({ target: 'debian-base', contentTag: listTag, retagged: [tag] })]);
    // and then, the list there, explain says so
    const after = await execa(process.execPath, [CLI, 'explain', 'base', '--registry', registry.host, '--skip-existing'], { cwd: dir, reject: false });
    expect(after.stdout).toContain(`the registry already holds ${listTag}: not built (--skip-existing)`);
  });

  it("--skip-existing --push: a runner's push with attestations (an index of its image and their manifest) lists both, each runner's attestations kept", async () => {
    const registry = await startRegistry();
    const dir = await project();
    const oneArch = async (arch: 'amd64' | 'arm64') =>
      (await compileProject({ registry: registry.host, contentTags: true, arches: [arch] }, { cwd: dir, env: {} })).compiled?.targets.find((t) => t.image === 'base')?.contentTag ?? '';
    const attestationOf = (arch: string) => ({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: digestOf(`attestation ${arch}`),
      size: 7,
      platform: { os: 'unknown', architecture: 'unknown' },
      annotations: { 'vnd.docker.reference.digest': digestOf(image(arch)), 'vnd.docker.reference.type': 'attestation-manifest' },
    });
    for (const arch of ['amd64', 'arm64'] as const) {
      registry.manifests.set(`e2e/base:${digestOf(image(arch))}`, image(arch));
      const own = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digestOf(image(arch)), size: image(arch).length, platform: { os: 'linux', architecture: arch } };
      // an attestation about another image is no part of it
      const stray = { ...attestationOf('other'), annotations: { ...attestationOf('other').annotations, 'vnd.docker.reference.digest': digestOf('other') } };
      registry.put(await oneArch(arch), JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: [own, attestationOf(arch), stray] }));
    }
    const listTag = await contentTagOf(dir, registry, 'debian-base');
    const r = await runBuild(dir, ['^base$', '--registry', registry.host, '--skip-existing', '--push']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.calls.filter((c) => c.startsWith('buildx bake -f'))).toEqual([]);
    const list = JSON.parse(registry.get(listTag) ?? '{}') as { manifests?: unknown[] };
    expect(list.manifests).toEqual([
      ...(['amd64', 'arm64'] as const).map((arch) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digestOf(image(arch)), size: image(arch).length, platform: { architecture: arch, os: 'linux' } })),
      ...(['amd64', 'arm64'] as const).map((arch) => ({ ...attestationOf(arch), platform: { architecture: 'unknown', os: 'unknown' } })),
    ]);
  });

  it('KG907: without --push, says the lists are made by a build with --push, and pushes nothing', async () => {
    const { registry, dir, listTag } = await perArchBase();
    const r = await runBuild(dir, ['^base$', '--registry', registry.host, '--skip-existing']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.codes).toEqual(['warning:KG907']);
    expect(r.json.diagnostics[0]?.message).toBe(`1 image is in the registry per arch only, e.g. ${listTag}: their lists are made by a build with --push`);
    expect(r.json.diagnostics[0]?.hint).toBe(CODES.KG907.hint);
    expect(registry.requests.filter((q) => q.startsWith('PUT '))).toEqual([]);
  });

  it('KG905: with --affected-since and content tags, an unaffected parent whose content tag the registry lacks', async () => {
    const registry = await startRegistry();
    const dir = await project(true);
    const baseTag = await contentTagOf(dir, registry, 'debian-base');
    fs.appendFileSync(path.join(dir, 'docker', 'runtime', 'Dockerfile.j2'), 'RUN echo changed\n');
    const args = ['--registry', registry.host, '--affected-since', 'HEAD', '--content-tags', '--push'];

    const missing = await runBuild(dir, args);
    expect(missing.exitCode).toBe(1);
    expect(missing.codes).toEqual(['error:KG905']);
    expect(missing.json.diagnostics[0]?.message).toBe(`1 unaffected parent is not in the registry, e.g. base (${baseTag}): the images built on it would fail`);
    expect(missing.json.diagnostics[0]?.hint).toBe(CODES.KG905.hint);
    expect(missing.calls.filter((c) => c.startsWith('buildx bake -f'))).toEqual([]);

    registry.put(baseTag, manifest('base'));
    // Committed with these options, so that build bakes it (and the bake file can be read here).
    const generated = await execa(process.execPath, [CLI, 'generate', ...args.filter((a) => a !== '--push')], { cwd: dir, reject: false });
    expect(generated.exitCode, generated.stderr).toBe(0);
    const present = await runBuild(dir, args);
    expect(present.exitCode, present.stderr).toBe(0);
    // the fake docker pushes nothing, so the built images' lists cannot be read to tag their arches (KG906, tested above)
    expect(present.codes.filter((c) => c !== 'warning:KG906')).toEqual([]);
    const bakes = present.calls.filter((c) => c.startsWith('buildx bake -f'));
    expect(bakes).toHaveLength(1);
    expect(bakes[0]?.split(' ')).toContain('debian-runtime');
    expect(bakes[0]?.split(' ')).not.toContain('debian-base');
    const bake = JSON.parse(fs.readFileSync(path.join(dir, 'generated', 'docker-bake.json'), 'utf8')) as { target: Record<string, { contexts?: Record<string, string> }> };
    expect(Object.values(bake.target['debian-runtime']?.contexts ?? {})).toEqual([`docker-image://${baseTag}`]);
  });
});
