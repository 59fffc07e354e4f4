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

/** The docker CLI, the buildx plugin and the builder, checked before a build, each with its own diagnostic. */
export async function probeDocker(
  where: DockerEnv,
  options: ProbeOptions = {},
): Promise<{ builder?: BuilderInfo; bakeAllow?: boolean; diagnostics: Diagnostic[] }> {
  // Five CLI starts of about half a second each: asked all at once, and read in order, each failure with its own code.
  const [cli, buildx, help, inspect, info] = await Promise.all([
    runDocker(['--version'], where),
    runDocker(['buildx', 'version'], where),
    runDocker(['buildx', 'bake', '--help'], where, { captureStdout: true }),
    options.cliOnly ? undefined : runDocker(['buildx', 'inspect', ...(options.builder !== undefined ? [options.builder] : [])], where),
    options.cliOnly ? undefined : runDocker(['info', '--format', '{{json .DriverStatus}}'], where, { captureStdout: true }),
  ]);
  if (cli.spawnError !== undefined) {
    return {
      diagnostics: [
        error('KG800', cli.spawnError === 'ENOENT' ? 'the docker CLI is not on PATH' : `cannot run docker: ${cli.spawnError} ${firstLine(cli)}`),
      ],
    };
  }
  if (buildx.exitCode !== 0) return { diagnostics: [error('KG801', `docker has no buildx plugin (docker buildx version: ${firstLine(buildx)})`)] };
  // buildx 0.20 and later refuse reads outside the working dir without `bake --allow fs.read=…`, which 0.13 does not know
  const bakeAllow = bakeKnowsAllow(help.stdout);
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
