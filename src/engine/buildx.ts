// The only place that runs docker (through execa): the setup checks, bake with its progress shown live.
import { execa } from 'execa';
import { error, type Diagnostic } from '../core/diagnostics.js';
import { bakeKnowsAllow } from '../emit/bake/allow.js';

export interface DockerEnv {
  cwd: string;
  env: Record<string, string | undefined>;
}

export interface DockerRun {
  /** undefined when docker could not be started at all. */
  exitCode?: number;
  /** 'ENOENT' when there is no docker on PATH. */
  spawnError?: string;
  stdout: string;
  /** The end of stderr and every error line of it (a whole kolla build's log would not fit in memory well). */
  lines: string[];
}

export interface RunOptions {
  /** Each chunk of stderr (and stdout, unless captured) as it comes: buildx's progress, live. */
  onOutput?: (chunk: string) => void;
  /** Keep stdout as the result (bake --print); otherwise it is shown as output. */
  captureStdout?: boolean;
  /** Hand the terminal to buildx (`--progress tty`): nothing is captured. */
  inherit?: boolean;
}

const KEEP_TAIL = 200;
const KEEP_ERRORS = 200;
const IS_ERROR = /\bERROR\b|error:|failed to push|denied|unauthorized/i;

export async function runDocker(args: string[], where: DockerEnv, options: RunOptions = {}): Promise<DockerRun> {
  const tail: string[] = [];
  const errors: string[] = [];
  let partial = '';
  const take = (chunk: string) => {
    const text = partial + chunk;
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      tail.push(line);
      if (tail.length > KEEP_TAIL) tail.shift();
      if (IS_ERROR.test(line) && errors.length < KEEP_ERRORS) errors.push(line);
    }
  };
  const child = execa('docker', args, {
    cwd: where.cwd,
    env: where.env,
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    stdout: options.inherit && !options.captureStdout ? 'inherit' : 'pipe',
    stderr: options.inherit ? 'inherit' : 'pipe',
    buffer: { stdout: options.captureStdout === true, stderr: false },
    encoding: 'utf8',
  });
  child.stderr?.on('data', (data: Buffer | string) => {
    const chunk = String(data);
    take(chunk);
    options.onOutput?.(chunk);
  });
  if (!options.captureStdout) {
    child.stdout?.on('data', (data: Buffer | string) => {
      const chunk = String(data);
      take(chunk);
      options.onOutput?.(chunk);
    });
  }
  const result = await child;
  if (partial) take('\n');
  const lines = [...errors.filter((l) => !tail.includes(l)), ...tail];
  const stdout = typeof result.stdout === 'string' ? result.stdout : '';
  if (result.exitCode === undefined) return { spawnError: result.code ?? 'spawn failed', stdout, lines: [result.shortMessage ?? ''] };
  return { exitCode: result.exitCode, stdout, lines };
}

export interface BuilderInfo {
  name: string;
  driver: string;
  platforms: string[];
  /** The docker driver's image store is containerd's: it can build several platforms and push manifest lists. */
  containerdStore?: boolean;
}

export interface ProbeOptions {
  builder?: string;
  /** Only the CLI and the plugin: enough for `--print`. */
  cliOnly?: boolean;
}

const firstLine = (run: DockerRun) => run.lines.map((l) => l.trim()).filter(Boolean).join(' ').slice(0, 500);

/**
 * The buildx version's numbers ("0.29.1" of `github.com/docker/buildx v0.29.1 …` or Debian's `0.29.1+ds1 …`), or
 * undefined when it names its version otherwise (dev builds: `v0.0.0+unknown`).
 */
export function buildxVersion(text: string): [number, number] | undefined {
  const match = /\bbuildx\s+v?(\d+)\.(\d+)\.\d+/.exec(text);
  if (match === null) return undefined;
  const version: [number, number] = [Number(match[1]), Number(match[2])];
  return version[0] === 0 && version[1] === 0 ? undefined : version;
}

/** The docker CLI, the buildx plugin and the builder, checked before a build, each with its own diagnostic. */
export async function probeDocker(
  where: DockerEnv,
  options: ProbeOptions = {},
): Promise<{ builder?: BuilderInfo; bakeAllow?: boolean; diagnostics: Diagnostic[] }> {
  // Each docker CLI start costs about a tenth of a second of CPU (more with its plugin scan): three at once, read in
  // order, each failure with its own code. `buildx version` also tells whether docker is there at all.
  const [buildx, inspect, info] = await Promise.all([
    runDocker(['buildx', 'version'], where),
    options.cliOnly ? undefined : runDocker(['buildx', 'inspect', ...(options.builder !== undefined ? [options.builder] : [])], where),
    options.cliOnly ? undefined : runDocker(['info', '--format', '{{json .DriverStatus}}'], where, { captureStdout: true }),
  ]);
  if (buildx.spawnError !== undefined) {
    return {
      diagnostics: [
        error('KG800', buildx.spawnError === 'ENOENT' ? 'the docker CLI is not on PATH' : `cannot run docker: ${buildx.spawnError} ${firstLine(buildx)}`),
      ],
    };
  }
  if (buildx.exitCode !== 0) return { diagnostics: [error('KG801', `docker has no buildx plugin (docker buildx version: ${firstLine(buildx)})`)] };
  // buildx 0.20 and later refuse reads outside the working dir without `bake --allow fs.read=…`, which 0.18 brought and
  // 0.13 fails on. Known from the version; a version named otherwise is asked of bake's help.
  const version = buildxVersion(buildx.lines.join('\n'));
  const bakeAllow =
    version !== undefined
      ? version[0] > 0 || version[1] >= 18
      : bakeKnowsAllow((await runDocker(['buildx', 'bake', '--help'], where, { captureStdout: true })).stdout);
  if (inspect === undefined || info === undefined) return { bakeAllow, diagnostics: [] };

  if (inspect.exitCode !== 0) {
    return { diagnostics: [error('KG805', `cannot use the builder${options.builder !== undefined ? ` ${options.builder}` : ''}: ${firstLine(inspect)}`)] };
  }
  const builder = parseInspect(inspect.lines.join('\n'));
  if (builder.driver === 'docker') {
    if (info.exitCode !== 0) return { diagnostics: [error('KG805', `the docker daemon is not reachable: ${firstLine(info)}`)] };
    builder.containerdStore = info.stdout.includes('io.containerd.snapshotter');
  }
  return { builder, bakeAllow, diagnostics: [] };
}

/** `docker buildx inspect`: its name, driver and the platforms of its nodes. */
export function parseInspect(text: string): BuilderInfo {
  const field = (name: string) =>
    text
      .split('\n')
      .filter((l) => l.startsWith(`${name}:`))
      .map((l) => l.slice(name.length + 1).trim());
  const platforms = field('Platforms').flatMap((p) => p.split(',').map((s) => s.trim().replace(/\*$/, '')).filter(Boolean));
  return { name: field('Name')[0] ?? 'default', driver: field('Driver')[0] ?? 'unknown', platforms: [...new Set(platforms)] };
}
