// Issue 28, item 5: kolla-gen.yaml is the whole truth. Every command run with no flags uses the config's options and
// nothing else; a flag is a one-off, whose output fails a plain check that names the kolla-gen.yaml lines that would
// make it pass; list flags extend the config's as kolla-build's do; and the options manifest.json records are never
// input: a pull request that edits them reaches no file outside the repo, no environment variable and no registry.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyFixture, run, temps, write } from './support/cli.js';
import { listenLocal } from './support/net.js';
import { chainedHashes, hashKey } from './support/hashes.js';

/** A fake `docker` that answers the setup probes and keeps the bake file it is given (`<log>.bakefile`). */
const FAKE_DOCKER = `#!/bin/sh
echo "$*" >> "$FAKE_LOG"
case "$1 $2" in
  "buildx version") echo "github.com/docker/buildx v0.13.1" ;;
  "buildx inspect") printf 'Name: default\\nDriver: docker-container\\n' ;;
  "version --format") echo "26.1.5" ;;
  "buildx bake")
    for a in "$@"; do case "$prev" in -f) cp "$a" "$FAKE_LOG.bakefile" ;; esac; prev=$a; done
    exit 0 ;;
  *) exit 0 ;;
esac
`;

/** The environment of every run: a fake docker first on PATH, a HOME of its own, and what the test adds. */
function environment(dir: string, extra: Record<string, string> = {}): { env: Record<string, string>; bakefile: () => string; bakes: () => string[] } {
  const bin = path.join(dir, '.fake-bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, 'docker'), FAKE_DOCKER, { mode: 0o755 });
  const log = path.join(bin, 'calls');
  fs.writeFileSync(log, '');
  return {
    env: { PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`, FAKE_LOG: log, HOME: bin, ...extra },
    bakefile: () => fs.readFileSync(`${log}.bakefile`, 'utf8'),
    bakes: () => fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('buildx bake')),
  };
}

const manifestOf = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'generated', 'manifest.json'), 'utf8')) as {
  options: Record<string, unknown>;
  images: { image: string; base: string; type?: string; arch: string }[];
};
/** The image's amd64 hash on the first variant, from list --json with the options that made the output. */
const hashOf = async (dir: string, image: string, args: string[], env: Record<string, string>) => {
  const first = manifestOf(dir).images.find((i) => i.image === image && i.arch === 'amd64');
  return first && (await chainedHashes(dir, args, env)).get(hashKey(first));
};
const explainedHash = (stdout: string) => /hash amd64: (sha256:[0-9a-f]+)/.exec(stdout)?.[1];

describe('a flag is a one-off; kolla-gen.yaml is what every command uses', () => {
  it('output made with --template-override and --kolla-config fails a plain check naming the yaml lines; with them in kolla-gen.yaml, generate, check, build, list and explain agree', async () => {
    const dir = copyFixture('overlay');
    const { env, bakefile, bakes } = environment(dir);
    write(dir, 'k.conf', '[DEFAULT]\nregistry = localhost:5999\n');
    const made = await run(dir, ['generate', '--template-override', 'overrides/site.j2', '--kolla-config', 'k.conf'], env);
    expect(made.exitCode, made.stderr).toBe(0);
    const hash = await hashOf(dir, 'app', ['--template-override', 'overrides/site.j2', '--kolla-config', 'k.conf'], env);
    expect(hash).toMatch(/^sha256:/);

    // Before: check passed (it took the options from manifest.json). Now: the config does not hold them.
    const checked = await run(dir, ['check'], env);
    expect(checked.exitCode).toBe(1);
    expect(checked.stderr).toContain('error[KG713]: generated was made with options kolla-gen.yaml does not hold\n  --> kolla-gen.yaml:1:1');
    expect(checked.stderr).toContain('hint: to make it pass, set in kolla-gen.yaml:\n            kolla_config: "k.conf"\n            template_override: ["overrides/site.j2"]');
    // build and explain with no flags use the config too: a private generation, another hash
    const built = await run(dir, ['build'], env);
    expect(built.exitCode, built.stderr).toBe(0);
    expect(built.stderr).toContain('warning[KG710]');
    expect(explainedHash((await run(dir, ['explain', 'app', '--quiet'], env)).stdout)).not.toBe(hash);

    // The lines the check named (a single file may be written without a list), and nothing else.
    fs.appendFileSync(path.join(dir, 'kolla-gen.yaml'), 'kolla_config: k.conf\ntemplate_override: overrides/site.j2\n');
    const passes = await run(dir, ['check'], env);
    expect(passes.exitCode, passes.stderr).toBe(0);
    expect(passes.stdout).toMatch(/^generated: up to date/);
    const regenerated = await run(dir, ['generate'], env);
    expect(regenerated.stdout).toMatch(/files, up to date$/);
    const again = await run(dir, ['build'], env);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).not.toContain('KG710');
    expect(bakes().at(-1)).toContain('-f generated/docker-bake.json');
    expect(bakefile()).toContain('"localhost:5999/kolla/app:');
    expect(explainedHash((await run(dir, ['explain', 'app', '--quiet'], env)).stdout)).toBe(hash);
    const listed = await run(dir, ['list', '--json'], env);
    expect(listed.exitCode, listed.stderr).toBe(0);
  });

  it('output made with another registry, namespace, build arg, cache ref and docker dir does not pass a plain check', async () => {
    const dir = copyFixture('basic');
    const { env } = environment(dir);
    fs.cpSync(path.join(dir, 'docker'), path.join(dir, 'other'), { recursive: true });
    expect((await run(dir, ['generate'], env)).exitCode).toBe(0);
    const args = ['--registry', 'registry.invalid:5000', '-n', 'evil', '--build-arg', 'A=b', '--cache-ref', 'registry.invalid:5000/cache', '-D', 'other'];
    expect((await run(dir, ['generate', ...args], env)).exitCode).toBe(0);
    const checked = await run(dir, ['check'], env);
    expect(checked.exitCode).toBe(1);
    for (const line of ['docker_dirs: ["other"]', 'namespace: "evil"', 'registry: "registry.invalid:5000"', 'build_args: {"A":"b","PIP_INDEX":"${PIP_INDEX}"}', 'cache: {"ref":"registry.invalid:5000/cache"}']) {
      expect(checked.stderr).toContain(`            ${line}\n`);
    }
    // the same options, from the config: it passes
    fs.appendFileSync(path.join(dir, 'kolla-gen.yaml'), 'docker_dirs: [other]\nregistry: registry.invalid:5000\ncache: { ref: registry.invalid:5000/cache }\n');
    const yaml = fs.readFileSync(path.join(dir, 'kolla-gen.yaml'), 'utf8').replace('namespace: acme', 'namespace: evil').replace('build_args:\n', 'build_args:\n  A: b\n');
    fs.writeFileSync(path.join(dir, 'kolla-gen.yaml'), yaml);
    const passes = await run(dir, ['check'], env);
    expect(passes.exitCode, passes.stderr).toBe(0);
  });

  it('a plain generate replaces output made with flags by the config\'s, and says so (KG713 warning), never silently', async () => {
    const dir = copyFixture('overlay');
    const { env } = environment(dir);
    expect((await run(dir, ['generate', '--template-override', 'overrides/site.j2'], env)).exitCode).toBe(0);
    const plain = await run(dir, ['generate'], env);
    expect(plain.exitCode, plain.stderr).toBe(0);
    expect(plain.stderr).toContain("warning[KG713]: generated was made with options kolla-gen.yaml does not hold: it now holds kolla-gen.yaml's");
    expect(plain.stderr).toContain('hint: to keep those options, set in kolla-gen.yaml:\n            template_override: ["overrides/site.j2"]\n        then run `kolla-gen generate` again');
    expect((await run(dir, ['check'], env)).exitCode).toBe(0);
    expect((await run(dir, ['generate'], env)).stderr).not.toContain('KG713');
  });

  it('a config holding every option: the plain commands use it, manifest.json records it, and a flag\'s override applies after the config\'s', async () => {
    const dir = copyFixture('overlay');
    const { env, bakefile } = environment(dir, { KG_TEST_VAR: 'from-env' });
    write(dir, 'k.conf', '[DEFAULT]\nmaintainer = Ops\n');
    fs.appendFileSync(path.join(dir, 'docker', 'app', 'Dockerfile.j2'), 'LABEL maintainer="{{ maintainer }}" env="{{ env.KG_TEST_VAR }}"\n');
    write(dir, 'overrides/extra.j2', '{% extends parent_template %}\n{% block base_footer %}LABEL extra="{{ env.KG_TEST_VAR }}"\n{% endblock %}\n');
    fs.appendFileSync(
      path.join(dir, 'kolla-gen.yaml'),
      [
        'kolla_config: k.conf',
        'template_override: [overrides/site.j2]',
        'vars_files: overrides/vars.yaml',
        'pass_env: [KG_TEST_VAR]',
        'profiles: { web: [app] }',
        'profile: [web]',
        'skip_parents: true',
        'enable_unbuildable: true',
        'namespace: ops',
        'registry: localhost:5999',
        'image_name_prefix: ""',
        'tag: "1.0"',
        'build_args: { FOO: "1" }',
        'content_tags: true',
        'cache: { ref: localhost:5999/cache, export: false }',
        '',
      ].join('\n'),
    );
    expect((await run(dir, ['generate'], env)).exitCode).toBe(0);
    expect(manifestOf(dir).options).toEqual({
      config: 'kolla-gen.yaml',
      docker_dirs: ['docker', 'site'],
      kolla_config: 'k.conf',
      template_override: ['overrides/site.j2'],
      vars_files: ['overrides/vars.yaml'],
      pass_env: ['KG_TEST_VAR'],
      bases: ['ubuntu'],
      arches: ['amd64'],
      profile: ['web'],
      skip_parents: true,
      enable_unbuildable: true,
      namespace: 'ops',
      registry: 'localhost:5999',
      image_name_prefix: '',
      tag: '1.0',
      build_args: { FOO: '1' },
      content_tags: true,
      cache: { ref: 'localhost:5999/cache', export: false },
    });
    const app = fs.readFileSync(path.join(dir, 'generated', 'ubuntu', 'app', 'Dockerfile'), 'utf8');
    expect(app).toContain('LABEL site="yes"'); // the config's override
    expect(app).toContain('LABEL maintainer="Ops" env="from-env"'); // kolla_config's maintainer, pass_env's variable
    expect(app).toContain('RUN echo "hi from ops team"'); // vars_files
    expect(fs.existsSync(path.join(dir, 'generated', 'ubuntu', 'base', 'Dockerfile'))).toBe(false); // skip_parents
    expect((await run(dir, ['check'], env)).exitCode).toBe(0);
    const built = await run(dir, ['build'], env);
    expect(built.exitCode, built.stderr).toBe(0);
    expect(built.stderr).not.toContain('KG710');
    const bake = bakefile();
    expect(bake).toContain('"localhost:5999/ops/app:1.0"');
    expect(bake).toContain('"FOO": "1"');
    expect(bake).toContain('localhost:5999/cache');
    const listed = JSON.parse((await run(dir, ['list', '--json'], env)).stdout) as { result: { variants: { images: string[]; skipped: string[] }[] } };
    expect(listed.result.variants[0]).toMatchObject({ images: ['app'], skipped: ['base'] });

    // kolla-build's rule: a --template-override is applied after the config's, not instead of it.
    const both = await run(dir, ['generate', '--template-override', 'overrides/extra.j2'], env);
    expect(both.exitCode, both.stderr).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'generated', 'ubuntu', 'app', 'Dockerfile'), 'utf8')).toContain('LABEL site="yes"');
    expect(manifestOf(dir).options.template_override).toEqual(['overrides/site.j2', 'overrides/extra.j2']);
    const checked = await run(dir, ['check'], env);
    expect(checked.exitCode).toBe(1);
    expect(checked.stderr).toContain('template_override: ["overrides/site.j2","overrides/extra.j2"]');
  });
});

describe('the files kolla-gen.yaml names', () => {
  it('are relative to its folder; one it cannot read is KG106 at its key', async () => {
    const dir = copyFixture('basic');
    write(dir, 'ops/k.yaml', 'docker_dirs: [../docker]\nbases: [ubuntu]\ntemplate_override:\n  - site.j2\nvars_files: v.yaml\n');
    write(dir, 'ops/v.yaml', 'x: 1\n');
    const r = await run(dir, ['list', '-c', 'ops/k.yaml', '--json']);
    expect(r.exitCode).toBe(1);
    const [d] = (JSON.parse(r.stdout) as { diagnostics: { code: string; message: string; location: unknown; hint: string }[] }).diagnostics;
    expect(d).toMatchObject({
      code: 'KG106',
      message: 'cannot read site.j2 (template_override of k.yaml)',
      location: { file: 'k.yaml', line: 4, column: 5 },
      hint: 'check the path of template_override: it is relative to the folder of k.yaml',
    });
    write(dir, 'ops/site.j2', '{% extends parent_template %}\n');
    expect((await run(dir, ['list', '-c', 'ops/k.yaml'])).exitCode).toBe(0);
  });
});

describe('manifest.json records options for people, and is never input', () => {
  const servers: http.Server[] = [];
  afterAll(async () => {
    for (const s of servers) s.closeAllConnections();
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });

  // Each way an edited record once reached a command, in both shapes a record ever had: the flags kolla-gen read back
  // before, and today's keys. `outside` is a dir outside the repo, `host` a registry that logs each request.
  const VECTORS: [string, (outside: string, host: string) => Record<string, unknown>][] = [
    ['a kolla-build.conf outside the repo (a docker config.json)', (outside) => ({ kollaConfig: path.join(outside, 'config.json'), kolla_config: path.join(outside, 'config.json') })],
    ['a pass-env secret', () => ({ flags: { 'pass-env': ['KG_SECRET'] }, pass_env: ['KG_SECRET'] })],
    ['a registry that records requests', (_outside, host) => ({ flags: { registry: host, 'insecure-registry': [host], 'skip-existing': true }, registry: host, skip_existing: 'error' })],
    ['a docker dir outside the repo', (outside) => ({ flags: { 'docker-dir': [path.join(outside, 'docker')] }, docker_dirs: [path.join(outside, 'docker')] })],
    ['a template override outside the repo', (outside) => ({ flags: { 'template-override': [path.join(outside, 'o.j2')] }, template_override: [path.join(outside, 'o.j2')] })],
  ];

  it.each(VECTORS)('an edited record naming %s is read by no command: nothing read or printed from outside the repo, no secret, no request', async (_what, edit) => {
    const dir = copyFixture('basic');
    // A template a pull request may hold: it prints env.KG_SECRET into an error, were the variable ever passed.
    fs.appendFileSync(path.join(dir, 'docker', 'db', 'Dockerfile.j2'), '{% if env.KG_SECRET is defined %}FROM Leak-{{ env.KG_SECRET }}\n{% endif %}\n');
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-outside-'));
    temps.push(outside);
    write(outside, 'config.json', 'outside-line-one {"auths":{}}\noutside-line-two\n');
    write(outside, 'docker/evil/Dockerfile.j2', 'FROM OUTSIDE-MARKER\n');
    write(outside, 'o.j2', '{% extends parent_template %}\nOUTSIDE-OVERRIDE {% if %}\n');
    const requests: string[] = [];
    const server = http.createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.writeHead(404);
      res.end();
    });
    servers.push(server);
    const host = await listenLocal(server);
    const secret = 'kg-secret-4242';
    const { env, bakefile } = environment(dir, { KG_SECRET: secret });

    expect((await run(dir, ['generate'], env)).exitCode).toBe(0);
    const file = path.join(dir, 'generated', 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    manifest.options = { ...(manifest.options as Record<string, unknown>), regexes: [], flags: {}, ...edit(outside, host) };
    fs.writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);

    for (const args of [['check'], ['list'], ['explain', 'db'], ['build'], ['generate']]) {
      const r = await run(dir, args, env);
      const said = `${r.stdout}\n${r.stderr}`;
      expect(said, args.join(' ')).not.toContain(secret);
      expect(said, args.join(' ')).not.toMatch(/outside-line|OUTSIDE-MARKER|OUTSIDE-OVERRIDE/);
      expect(requests, args.join(' ')).toEqual([]);
      // The verdict is the config's: the edited manifest is stale (KG713 shows its record, quoted), the rest agrees.
      expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(args[0] === 'check' ? 1 : 0);
      if (args[0] === 'check') expect(r.stderr).toContain('error[KG713]');
      if (args[0] === 'build') expect(bakefile()).toContain('"acme/db:1.0-ubuntu"');
    }
    // generate rewrote the record from the config: the edit is gone, and check passes
    expect(JSON.stringify(manifestOf(dir).options)).not.toContain(outside);
    expect((await run(dir, ['check'], env)).exitCode).toBe(0);
  });
});
