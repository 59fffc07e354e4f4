// A real buildx binary for tests that only resolve bake files (bake --print needs no daemon): the one the e2e
// provisioning unpacked (test/e2e/engine/provision.sh; .ci/run provisions it before the tests), else the usual plugin dirs.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { temps } from './cli.js';

function fromPathsEnv(): string | undefined {
  const cache = process.env.KOLLA_GEN_E2E_CACHE ?? '/var/cache/kolla-gen-e2e';
  try {
    const line = fs.readFileSync(path.join(cache, 'paths.env'), 'utf8').split('\n').find((l) => l.startsWith('DOCKER_BUILDX='));
    return line?.slice('DOCKER_BUILDX='.length);
  } catch {
    return undefined;
  }
}

/** The path of a docker-buildx binary, or undefined (the caller skips, saying so). */
export function findBuildx(): string | undefined {
  const candidates = [
    process.env.KOLLA_GEN_BUILDX,
    fromPathsEnv(),
    path.join(os.homedir(), '.docker', 'cli-plugins', 'docker-buildx'),
    '/usr/libexec/docker/cli-plugins/docker-buildx',
    '/usr/local/lib/docker/cli-plugins/docker-buildx',
    '/usr/lib/docker/cli-plugins/docker-buildx',
  ];
  return candidates.find((c): c is string => c !== undefined && c !== '' && fs.existsSync(c));
}

export interface PrintedTarget {
  context: string;
  dockerfile: string;
  contexts?: Record<string, string>;
}

/** `docker buildx bake -f FILE --print` in cwd: bake's own reading of the file. */
export async function bakePrint(buildx: string, cwd: string, file: string, targets: string[] = []): Promise<Record<string, PrintedTarget>> {
  // buildx keeps its state under DOCKER_CONFIG: a private one, not the user's.
  const config = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-buildx-'));
  temps.push(config);
  const result = await execa(buildx, ['bake', '-f', file, '--print', ...targets], { cwd, reject: false, env: { DOCKER_CONFIG: config, PATH: process.env.PATH ?? '' }, extendEnv: false });
  if (result.exitCode !== 0) throw new Error(`bake --print failed: ${result.stderr}`);
  return (JSON.parse(result.stdout) as { target: Record<string, PrintedTarget> }).target;
}

/** Where buildx takes a target's context folder and Dockerfile from, as it resolves them: lexically, from cwd. */
export function resolveAsBuildx(cwd: string, t: PrintedTarget): { context: string; dockerfile: string } {
  const context = path.resolve(cwd, t.context);
  const dockerfile = t.dockerfile.startsWith('cwd://')
    ? path.resolve(cwd, t.dockerfile.slice('cwd://'.length))
    : path.isAbsolute(t.dockerfile)
      ? t.dockerfile
      : path.resolve(cwd, path.posix.join(t.context, t.dockerfile));
  return { context, dockerfile };
}

/**
 * The buildx binaries of both ends of the supported range, as the e2e provisioning unpacked them (trixie's 0.13 and
 * forky's 0.29): for tests that check both read a bake file alike. Those missing are left out (the caller says so).
 */
export function engineBuildxes(): { suite: 'trixie' | 'forky'; path: string }[] {
  const cache = process.env.KOLLA_GEN_E2E_CACHE ?? '/var/cache/kolla-gen-e2e';
  return (['trixie', 'forky'] as const)
    .map((suite) => ({ suite, path: path.join(cache, suite, 'usr', 'libexec', 'docker', 'cli-plugins', 'docker-buildx') }))
    .filter((b) => fs.existsSync(b.path));
}

/** `docker buildx bake -f FILE --print` in cwd, every attribute of each target as bake resolved it. */
export async function bakePrintRaw(buildx: string, cwd: string, file: string, args: string[] = []): Promise<Record<string, Record<string, unknown>>> {
  const config = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-buildx-'));
  temps.push(config);
  const result = await execa(buildx, ['bake', '-f', file, '--print', ...args], { cwd, reject: false, env: { DOCKER_CONFIG: config, PATH: process.env.PATH ?? '' }, extendEnv: false });
  if (result.exitCode !== 0) throw new Error(`bake --print failed: ${result.stderr}`);
  return (JSON.parse(result.stdout) as { target: Record<string, Record<string, unknown>> }).target;
}
