// network_mode on a real engine (test/e2e/engine): an image whose RUN writes down the network interfaces it sees,
// generated and built with `kolla-gen build --push` under each mode. On buildx 0.18 and later the RUN sees the
// engine's bridge under host (the build host's network), its own eth0 under default, loopback alone under none; on
// buildx 0.13, which ignores a bake file's network, build refuses host and none (KG821) and builds the default.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedTree, startEngine, type Engine } from './engine/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli.js');
const TREE = join(ROOT, 'test', 'e2e', 'fixtures', 'tree');

const NETINFO = `{% import "macros.j2" as macros with context %}
{{ macros.from_parent("base") }}
RUN awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' /proc/net/dev | sort > /net-interfaces
`;

interface JsonOut {
  diagnostics: { code: string; severity: string; message: string }[];
}

describe('network_mode: the network every RUN of a build runs in', () => {
  let engine: Engine | undefined;
  let work = '';
  let modern = false;

  const kg = (args: string[]) => execa(process.execPath, [CLI, ...args], { cwd: work, env: engine!.env, extendEnv: false, reject: false });

  /** kolla-gen.yaml with this mode (none: not written), generated, then built and pushed: the build's result. */
  async function buildWith(mode: 'default' | 'host' | 'none' | undefined) {
    const config = readFileSync(join(TREE, 'kolla-gen.yaml'), 'utf8').replace(/^arches: .*$/m, 'arches: [amd64]');
    const tag = `net-${mode ?? 'unset'}`;
    writeFileSync(
      join(work, 'kolla-gen.yaml'),
      `${config.replace(/^tag: .*$/m, `tag: ${tag}`)}registry: ${engine!.registry}\nregex: ["^netinfo$"]\n${mode !== undefined ? `network_mode: ${mode}\n` : ''}`,
    );
    const generated = await kg(['generate', '-q']);
    expect(generated.exitCode, generated.stderr).toBe(0);
    const built = await kg(['build', '--push', '--json']);
    return { built, ref: `${engine!.registry}/e2e/netinfo:${tag}` };
  }

  /** buildx 0.13 would build in the default network: build exits 1 with KG821 alone. */
  const refused = (built: { exitCode?: number; stdout: string; stderr: string }) => {
    expect(built.exitCode, built.stderr).toBe(1);
    expect((JSON.parse(built.stdout) as JsonOut).diagnostics.filter((d) => d.severity === 'error').map((d) => d.code)).toEqual(['KG821']);
  };

  const interfaces = async (ref: string): Promise<string[]> =>
    String((await engine!.docker(['run', '--rm', '--platform', 'linux/amd64', ref, 'cat', '/net-interfaces'])).stdout).trim().split('\n');

  beforeAll(async () => {
    engine = await startEngine();
    modern = engine.name === 'today';
    work = mkdtempSync(join(tmpdir(), 'kolla-gen-e2e-network-'));
    seedTree(engine, TREE, work);
    mkdirSync(join(work, 'docker', 'netinfo'));
    writeFileSync(join(work, 'docker', 'netinfo', 'Dockerfile.j2'), NETINFO);
  });

  afterAll(async () => {
    try {
      await engine?.stop();
    } finally {
      if (work) rmSync(work, { recursive: true, force: true });
    }
  });

  it('not written: BuildKit\'s default, a network of its own per RUN (loopback and its eth0)', async () => {
    const { built, ref } = await buildWith(undefined);
    expect(built.exitCode, built.stderr).toBe(0);
    expect(await interfaces(ref)).toEqual(['eth0', 'lo']);
  });

  it('host: the build host\'s network, with the engine\'s bridge in it; refused on buildx 0.13 (KG821)', async () => {
    const { built, ref } = await buildWith('host');
    if (!modern) return refused(built);
    expect(built.exitCode, built.stderr).toBe(0);
    const seen = await interfaces(ref);
    expect(seen).toContain(engine!.bridge);
    expect(seen).toContain('lo');
  });

  it('none: loopback alone; refused on buildx 0.13 (KG821)', async () => {
    const { built, ref } = await buildWith('none');
    if (!modern) return refused(built);
    expect(built.exitCode, built.stderr).toBe(0);
    expect(await interfaces(ref)).toEqual(['lo']);
  });

  it('the bake command generate prints builds it as kolla-gen build does (host: with its grant; buildx 0.18 and later)', async (ctx) => {
    if (!modern) ctx.skip();
    const { built } = await buildWith('host');
    expect(built.exitCode, built.stderr).toBe(0);
    const printed = await kg(['generate', '--json']);
    const command = (JSON.parse(printed.stdout) as { result: { bake: { command: string } } }).result.bake.command;
    expect(command).toMatch(/ --allow network\.host$/);
    const [docker, ...args] = command.split(' ');
    expect(docker).toBe('docker');
    // without the grant, buildx stops before it builds
    const ungranted = await engine!.docker([...args.slice(0, -2), '--push'], { cwd: work, reject: false });
    expect(ungranted.exitCode).not.toBe(0);
    expect(String(ungranted.stderr)).toContain('network.host');
    const plain = await engine!.docker([...args, '--push'], { cwd: work, reject: false });
    expect(plain.exitCode, String(plain.stderr)).toBe(0);
  });
});
