// kolla-gen.yaml's buildkit: policy, through the built CLI: generate and check refuse what a rendered Dockerfile asks
// of BuildKit and the policy does not allow, at the rendered file's line; generate then leaves the output as it was.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, snapshot, temps, write } from './support/cli.js';

const CONFIG = 'bases: [ubuntu, debian]\narches: [amd64]\n';

/** A tree of one image, `app`, with the template given, in a temp dir. */
function tree(template: string, config = CONFIG): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-buildkit-'));
  temps.push(dir);
  write(dir, 'kolla-gen.yaml', config);
  write(dir, 'docker/app/Dockerfile.j2', template);
  return dir;
}

interface JsonDiagnostic {
  code: string;
  location?: { file: string; line: number; column: number };
  variants?: string[];
  related?: { message: string; location?: { file: string; line: number; column: number } }[];
}

async function errors(dir: string, command: 'generate' | 'check' = 'generate'): Promise<{ exitCode: number; found: string[]; diagnostics: JsonDiagnostic[] }> {
  const result = await run(dir, [command, '--json']);
  const diagnostics = (JSON.parse(result.stdout) as { diagnostics: JsonDiagnostic[] }).diagnostics.filter((d) => /^KG45/.test(d.code));
  const found = diagnostics.map((d) => `${d.code} ${d.location?.file}:${d.location?.line}:${d.location?.column}`);
  return { exitCode: result.exitCode ?? -1, found, diagnostics };
}

// Each feature, where it is refused by default, and the switch that allows it.
const FEATURES: [string, string, string, string][] = [
  ['# syntax=evil.example/frontend:1\nFROM ubuntu\n', 'KG450 generated/ubuntu/app/Dockerfile:1:1', 'buildkit:\n  syntax: [evil.example/frontend]\n', 'syntax'],
  ['FROM ubuntu\nRUN --security=insecure true\n', 'KG451 generated/ubuntu/app/Dockerfile:2:5', 'buildkit:\n  insecure: true\n', 'insecure'],
  ['FROM ubuntu\nRUN true && \\\n  true\nRUN --network=host true\n', 'KG452 generated/ubuntu/app/Dockerfile:4:5', 'buildkit:\n  host_network: true\n', 'host network'],
  ['FROM ubuntu\nRUN --mount=type=secret,id=t true\n', 'KG453 generated/ubuntu/app/Dockerfile:2:5', 'buildkit:\n  secret_mounts: true\n', 'secret mount'],
  ['FROM ubuntu\nRUN --mount=type=ssh true\n', 'KG454 generated/ubuntu/app/Dockerfile:2:5', 'buildkit:\n  ssh_mounts: true\n', 'ssh mount'],
  ['FROM ubuntu\nRUN --device=vendor.example/gpu=all true\n', 'KG455 generated/ubuntu/app/Dockerfile:2:5', 'buildkit:\n  devices: true\n', 'device'],
  ['FROM ubuntu\nADD https://example.com/a.tgz /a\n', 'KG456 generated/ubuntu/app/Dockerfile:2:5', 'buildkit:\n  remote_add: true\n', 'remote ADD'],
  ['FROM ubuntu\nADD git@github.com:o/r.git /r\n', 'KG456 generated/ubuntu/app/Dockerfile:2:5', 'buildkit:\n  remote_add: true\n', 'git ADD'],
  ['FROM ubuntu\nCOPY --from=alpine:3 /etc/os-release /a\n', 'KG457 generated/ubuntu/app/Dockerfile:2:6', 'buildkit:\n  external_from: [alpine]\n', 'external COPY --from (a list)'],
  ['FROM ubuntu\nRUN --mount=from=busybox,target=/b true\n', 'KG457 generated/ubuntu/app/Dockerfile:2:5', 'buildkit:\n  external_from: true\n', 'external mount from='],
];

describe('buildkit: policy', () => {
  it.each(FEATURES.map(([template, where, allow, name]) => [name, template, where, allow]))('%s: refused at the rendered line, allowed by its switch', async (_name, template, where, allow) => {
    const dir = tree(template);
    const refused = await errors(dir);
    expect(refused.exitCode).toBe(1);
    // Both bases render it: one error at the first variant's rendered file, naming both variants.
    expect(refused.found).toEqual([where]);
    expect(refused.diagnostics[0]?.variants).toEqual(['ubuntu-amd64', 'debian-amd64']);
    expect(fs.existsSync(path.join(dir, 'generated'))).toBe(false);

    write(dir, 'kolla-gen.yaml', CONFIG + allow);
    const allowed = await run(dir, ['generate']);
    expect(allowed.stderr).not.toMatch(/KG45/);
    expect(allowed.exitCode).toBe(0);
  });

  it('the default allows Docker\'s own frontend, in any spelling, tag or digest, and a stage by name or index', async () => {
    const dir = tree(
      '# syntax=docker.io/docker/dockerfile:1.7@sha256:' + 'a'.repeat(64) + '\nFROM ubuntu AS build\nFROM debian\nCOPY --from=BUILD /a /b\nCOPY --from=0 /a /b\nRUN --mount=type=cache,target=/c true\n',
    );
    const result = await run(dir, ['generate']);
    expect(result.stderr).not.toMatch(/KG45/);
    expect(result.exitCode).toBe(0);
  });

  it('catches a # syntax line the template assembles from pieces, and names the template', async () => {
    const dir = tree("{% set key = 'syn' ~ 'tax' %}{% set at = ['evil', 'example'] | join('.') %}# {{ key }}={{ at }}/frontend\nFROM ubuntu\n");
    const refused = await errors(dir);
    expect(refused.found).toEqual(['KG450 generated/ubuntu/app/Dockerfile:1:1']);
    expect(refused.diagnostics[0]?.related?.[0]?.location?.file).toBe('docker/app/Dockerfile.j2');
    const text = (await run(dir, ['generate'])).stderr;
    // The code frame shows the line as BuildKit reads it.
    expect(text).toContain('> 1 | # syntax=evil.example/frontend');
  });

  it('names the template line where the template writes the rendered line as is', async () => {
    const dir = tree('FROM ubuntu\n{% if base_distro == "debian" %}\nRUN --network=host true\n{% endif %}\n');
    const refused = await errors(dir);
    expect(refused.found).toEqual(['KG452 generated/debian/app/Dockerfile:3:5']);
    expect(refused.diagnostics[0]?.related?.[0]?.location).toEqual({ file: 'docker/app/Dockerfile.j2', line: 3, column: 5 });
  });

  it('generate leaves the output byte for byte as it was, and check fails too', async () => {
    const dir = tree('FROM ubuntu\nRUN true\n');
    expect((await run(dir, ['generate'])).exitCode).toBe(0);
    const before = snapshot(path.join(dir, 'generated'));
    write(dir, 'docker/app/Dockerfile.j2', 'FROM ubuntu\nRUN --security=insecure true\n');
    const refused = await errors(dir, 'generate');
    expect(refused.found).toEqual(['KG451 generated/ubuntu/app/Dockerfile:2:5']);
    expect(snapshot(path.join(dir, 'generated'))).toEqual(before);
    const checked = await errors(dir, 'check');
    expect(checked.exitCode).toBe(1);
    expect(checked.found).toEqual(['KG451 generated/ubuntu/app/Dockerfile:2:5']);
  });

  it('refuses a buildkit.syntax entry that is not a repository', async () => {
    const dir = tree('FROM ubuntu\n', `${CONFIG}buildkit:\n  syntax: ["docker/dockerfile:1"]\n`);
    const result = await run(dir, ['generate']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/KG102[\s\S]*buildkit\.syntax: "docker\/dockerfile:1" is not an image repository[\s\S]*kolla-gen\.yaml:4:/);
  });

  it('explain lists the frontend and each feature with its line, in --json too', async () => {
    const dir = tree('# syntax=evil.example/f\nFROM ubuntu\nADD https://example.com/a /a\n', `${CONFIG}buildkit:\n  remote_add: true\n`);
    const text = await run(dir, ['explain', 'app']);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toContain('asks BuildKit (line 1): its # syntax line makes BuildKit pull and run the frontend evil.example/f: REFUSED, buildkit.syntax does not allow it');
    expect(text.stdout).toContain('asks BuildKit (line 3): ADD fetches https://example.com/a at build time');
    expect(text.stdout).toContain('allowed by buildkit.remote_add');
    const json = JSON.parse((await run(dir, ['explain', 'app', '--json'])).stdout) as {
      result: { explanations: { frontend: string | null; buildkit: { kind: string; line: number; allowed: boolean }[] }[] };
    };
    const first = json.result.explanations[0];
    expect(first?.frontend).toBe('evil.example/f');
    expect(first?.buildkit.map((f) => [f.kind, f.line, f.allowed])).toEqual([
      ['syntax', 1, false],
      ['remote-add', 3, true],
    ]);
  });
});
