// Issue 10, items 3 to 5: only `generate` writes the output dir (build, build --print, build --list leave it byte for
// byte); manifest.json records the options that made it (for people: check never reads them; KG701 names the command);
// the config that was loaded is said (stderr, --json), and --no-config ignores it. And --affected-since in an ops repo
// whose kolla checkout lies beside it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { copyFixture, run, snapshot, temps, write } from './support/cli.js';

/** A fake `docker` that logs its arguments, answers the setup probes, and prints a bake definition for --print. */
const FAKE_DOCKER = `#!/bin/sh
echo "$*" >> "$FAKE_LOG"
case "$1 $2" in
  "buildx version") echo "github.com/docker/buildx v0.13.1" ;;
  "buildx inspect") printf 'Name: default\\nDriver: docker-container\\n' ;;
  "version --format") echo "26.1.5" ;;
  "buildx bake")
    for a in "$@"; do case "$a" in --print) echo '{"target":{}}'; exit 0 ;; esac; done
    for a in "$@"; do case "$prev" in -f) cp "$a" "$FAKE_LOG.bakefile" ;; esac; prev=$a; done
    exit 0 ;;
  *) exit 0 ;;
esac
`;

function fakeDocker(dir: string): { env: Record<string, string>; calls: () => string[]; bakefile: string } {
  const bin = path.join(dir, '.fake-bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'docker'), FAKE_DOCKER, { mode: 0o755 });
  const log = path.join(bin, 'calls');
  fs.writeFileSync(log, '');
  return {
    env: { PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`, FAKE_LOG: log, HOME: bin },
    calls: () => fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean),
    bakefile: `${log}.bakefile`,
  };
}

// the bakes, not the probe of bake's flags (`buildx bake --help`)
const bakes = (calls: string[]) => calls.filter((c) => c.startsWith('buildx bake -f'));

describe('only generate writes the output dir', () => {
  it('build, build REGEX, build --print and build --list leave a committed, up-to-date generation byte for byte', async () => {
    const dir = copyFixture('basic');
    const docker = fakeDocker(dir);
    expect((await run(dir, ['generate'])).exitCode).toBe(0);
    const before = snapshot(path.join(dir, 'generated'));
    for (const args of [['build'], ['build', 'tools-api'], ['build', '--print', 'tools-api'], ['build', '--list'], ['build', '--list', 'groups', 'tools-api']]) {
      const r = await run(dir, args, docker.env);
      expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stderr, args.join(' ')).not.toContain('KG710');
      expect(snapshot(path.join(dir, 'generated')), args.join(' ')).toEqual(before);
    }
    // build REGEX bakes the committed file, naming only the selected targets.
    const calls = bakes(docker.calls());
    expect(calls.some((c) => c.startsWith('buildx bake -f generated/docker-bake.json') && c.includes('ubuntu-tools-api') && !c.includes('ubuntu-db'))).toBe(true);
    expect(calls.every((c) => c.includes('-f generated/docker-bake.json'))).toBe(true);
  });

  it('when generated/ is stale or was made with other options, build says so (KG710), bakes a private generation and removes it', async () => {
    const dir = copyFixture('basic');
    const docker = fakeDocker(dir);
    expect((await run(dir, ['generate'])).exitCode).toBe(0);
    const before = snapshot(path.join(dir, 'generated'));
    for (const args of [['build', '--tag', 'other'], ['build', '--print', '-b', 'ubuntu']]) {
      const r = await run(dir, args, docker.env);
      expect(r.exitCode, r.stderr).toBe(0);
      // generated/ is kolla-gen.yaml's generation: regenerating with the flags would fail a plain check (KG713)
      expect(r.stderr).toMatch(/warning\[KG710\]: generated holds kolla-gen.yaml's generation, which (--tag|--base) of this run changes/);
      expect(r.stderr).toContain('hint: expected for one-off flags');
      expect(r.stderr).not.toMatch(/run `kolla-gen generate --/);
      expect(snapshot(path.join(dir, 'generated'))).toEqual(before);
    }
    // a stale generated/: regenerate with kolla-gen.yaml's options, and commit
    fs.appendFileSync(path.join(dir, 'docker', 'base', 'Dockerfile.j2'), 'RUN echo stale\n');
    const stale = await run(dir, ['build', '--print'], docker.env);
    expect(stale.stderr).toContain("warning[KG710]: generated is stale or was made with other options than kolla-gen.yaml's");
    expect(stale.stderr).toContain('hint: to build the committed generation, run `kolla-gen generate` and commit, then build');
    fs.writeFileSync(path.join(dir, 'docker', 'base', 'Dockerfile.j2'), fs.readFileSync(path.join(dir, 'docker', 'base', 'Dockerfile.j2'), 'utf8').replace('RUN echo stale\n', ''));
    const last = bakes(docker.calls()).find((c) => !c.includes('--print')) ?? '';
    const file = /-f (\S+)/.exec(last)?.[1] ?? '';
    expect(file).not.toMatch(/^generated\//);
    expect(fs.existsSync(path.resolve(dir, file))).toBe(false); // removed after the build
    // the private generation it baked: the --tag of the build, not the committed tag
    expect(fs.readFileSync(docker.bakefile, 'utf8')).toContain(':other"');
  });

  it('with no generated/ at all, build writes none', async () => {
    const dir = copyFixture('basic');
    const docker = fakeDocker(dir);
    const r = await run(dir, ['build', 'tools-api'], docker.env);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain('KG710');
    expect(fs.existsSync(path.join(dir, 'generated'))).toBe(false);
  });
});

describe('the output knows what made it', () => {
  it('manifest.json records the options as kolla-gen.yaml keys (no absolute path); check never takes them from it, and KG701 names the command', async () => {
    const dir = copyFixture('basic');
    fs.renameSync(path.join(dir, 'kolla-gen.yaml'), path.join(dir, 'site.yaml'));
    const made = await run(dir, ['generate', '-c', 'site.yaml', '-b', 'ubuntu,rocky', '--tag', 'x1', '-D', path.join(dir, 'docker'), 'tools']);
    expect(made.exitCode, made.stderr).toBe(0);
    const text = fs.readFileSync(path.join(dir, 'generated', 'manifest.json'), 'utf8');
    expect(text).not.toContain(dir);
    expect(JSON.parse(text).options).toEqual({
      config: 'site.yaml',
      docker_dirs: ['docker'],
      bases: ['ubuntu', 'rocky'],
      arches: ['amd64', 'arm64'],
      regex: ['tools'],
      namespace: 'acme',
      tag: 'x1',
      build_args: { PIP_INDEX: '${PIP_INDEX}' },
    });
    // with no flags: the config's options, which did not make it (KG713 names the lines that would)
    const checked = await run(dir, ['check', '-c', 'site.yaml']);
    expect(checked.exitCode).toBe(1);
    expect(checked.stderr).toContain('error[KG713]: generated was made with options site.yaml does not hold');
    expect(checked.stderr).toContain('set in site.yaml:\n            docker_dirs: ["docker"]\n            regex: ["tools"]\n            tag: "x1"');
    // flags given: those, and the hint is the exact command that regenerates
    const other = await run(dir, ['check', '-c', 'site.yaml', '--tag', 'x2']);
    expect(other.exitCode).toBe(1);
    expect(other.stderr).toContain('stale   generated/docker-bake.hcl');
    expect(other.stderr).toContain('hint: run `kolla-gen generate -c site.yaml --tag x2` and commit the result');
    expect(other.stderr).not.toContain('KG713'); // flags given: the check asked for other options itself
  });

  it('a manifest that records no options is checked with the config and defaults like any other (KG711 is no longer reported)', async () => {
    const dir = copyFixture('basic');
    expect((await run(dir, ['generate'])).exitCode).toBe(0);
    const file = path.join(dir, 'generated', 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    delete manifest.options;
    fs.writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
    const r = await run(dir, ['check']);
    expect(r.stderr).not.toContain('KG711');
    expect(r.stderr).not.toContain('KG713');
    expect(r.exitCode).toBe(1); // the manifest without them is stale, and only it
    expect(r.stderr).toContain('stale   generated/manifest.json\nerror[KG701]: generated is out of date: 1 file differs from what generate writes (1 stale)\n  hint: run `kolla-gen generate` and commit the result (kolla-gen check --diff shows what it changes)');
    expect(r.stderr.match(/KG701/g)).toHaveLength(1);
  });
});

describe('which config was loaded', () => {
  it('says it in --json (on stderr only when it is not in the working directory), and --no-config ignores it', async () => {
    const dir = copyFixture('basic');
    const said = await run(dir, ['list']);
    expect(said.stderr).toBe('');
    fs.mkdirSync(path.join(dir, 'sub'));
    expect((await run(path.join(dir, 'sub'), ['list'])).stderr).toBe('kolla-gen: config kolla-gen.yaml in ..; paths are from there');
    expect((await run(path.join(dir, 'sub'), ['list', '--quiet'])).stderr).toBe('');
    const json = JSON.parse((await run(dir, ['list', '--json'])).stdout) as { config: string | null };
    expect(json.config).toBe('kolla-gen.yaml');
    const none = await run(dir, ['list', '--no-config', '--json']);
    expect((JSON.parse(none.stdout) as { config: string | null }).config).toBeNull();
    const plain = await run(dir, ['generate', '--no-config', '-o', 'plain']);
    expect(plain.stderr).not.toContain('config');
    // the fixture's config renders ubuntu and rocky; without it, every base
    expect(fs.readdirSync(path.join(dir, 'plain'))).toEqual(expect.arrayContaining(['centos', 'debian', 'rocky', 'ubuntu']));
  });

  it('a config given with -c from a subdir: paths in it resolve from its folder', async () => {
    const dir = copyFixture('basic');
    fs.mkdirSync(path.join(dir, 'sub'));
    const r = await run(path.join(dir, 'sub'), ['generate', '-c', '../kolla-gen.yaml']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr.split('\n')[0]).toBe('kolla-gen: config kolla-gen.yaml in ..; paths are from there');
    expect(fs.existsSync(path.join(dir, 'generated', 'manifest.json'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'sub', 'generated'))).toBe(false);
  });
});

describe('kolla-gen init', () => {
  it('writes a commented config, a workflow and .gitattributes, prints the next commands, and never overwrites', async () => {
    const dir = copyFixture('basic');
    fs.rmSync(path.join(dir, 'kolla-gen.yaml'));
    fs.mkdirSync(path.join(dir, '.github'));
    const r = await run(dir, ['init', '--registry', 'registry.example']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('wrote kolla-gen.yaml');
    expect(r.stdout).toContain('kolla-gen generate');
    const config = fs.readFileSync(path.join(dir, 'kolla-gen.yaml'), 'utf8');
    expect(config).toMatch(/^# kolla-gen.yaml/);
    expect(config).toContain('  - docker\n');
    expect(config).toContain('registry: registry.example\n');
    const workflow = fs.readFileSync(path.join(dir, '.github/workflows/images.yml'), 'utf8');
    expect(workflow).toContain('kolla-gen check');
    // each arch's runner builds its own arch with kolla-gen build -a (init.test.ts checks the rest of the workflow)
    const jobs = (parseYaml(workflow) as { jobs: Record<string, { env?: Record<string, string>; steps: { uses?: string; run?: string; with?: Record<string, unknown> }[] }> }).jobs;
    expect(jobs.build?.env).toEqual({ ARCH: '${{ matrix.arch }}' });
    expect(jobs.build?.steps.some((s) => s.run?.startsWith('kolla-gen build -a "$ARCH" --content-tags=only --skip-existing --push'))).toBe(true);
    expect(jobs.lists?.steps.some((s) => s.run?.startsWith('kolla-gen build --skip-existing --push'))).toBe(true);
    // the check job restores kolla-gen's cache (the default dir) before it runs kolla-gen
    const checkSteps = jobs.check?.steps ?? [];
    const cacheAt = checkSteps.findIndex((s) => s.uses?.startsWith('actions/cache@'));
    expect(checkSteps[cacheAt]?.with).toEqual({ path: '~/.cache/kolla-gen', key: 'kolla-gen-${{ github.sha }}', 'restore-keys': 'kolla-gen-' });
    expect(cacheAt).toBeLessThan(checkSteps.findIndex((s) => s.run === 'kolla-gen check --diff'));
    // a pull request: what it changes, in the job summary
    const summary = checkSteps.find((s) => s.run?.includes('kolla-gen summary'));
    expect(summary?.run).toBe('kolla-gen summary --affected-since "origin/$BASE_REF" >> "$GITHUB_STEP_SUMMARY"');
    expect((summary as { if?: string } | undefined)?.if).toBe("github.event_name == 'pull_request'");
    expect(cacheAt).toBeGreaterThan(-1);
    expect(fs.readFileSync(path.join(dir, '.gitattributes'), 'utf8')).toContain('generated/** linguist-generated=true');
    // the config it wrote is one kolla-gen reads
    const listed = await run(dir, ['list']);
    expect(listed.exitCode, listed.stderr).toBe(0);
    // a second run keeps every file, and says which
    fs.writeFileSync(path.join(dir, '.gitattributes'), 'mine\n');
    const again = await run(dir, ['init']);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain('kept .gitattributes (it exists; init never overwrites a file)');
    expect(again.stdout).toContain('kept kolla-gen.yaml');
    expect(fs.readFileSync(path.join(dir, '.gitattributes'), 'utf8')).toBe('mine\n');
  });

  it('a docker dir inside the repo: every build step of the workflow runs kolla-gen build, which grants buildx no read there', async () => {
    const dir = copyFixture('basic');
    fs.rmSync(path.join(dir, 'kolla-gen.yaml'));
    expect((await run(dir, ['init'])).exitCode).toBe(0);
    const workflow = fs.readFileSync(path.join(dir, '.github/workflows/images.yml'), 'utf8');
    const jobs = (parseYaml(workflow) as { jobs: Record<string, { steps: { uses?: string; run?: string; with?: Record<string, unknown> }[] }> }).jobs;
    const steps = Object.values(jobs).flatMap((job) => job.steps);
    // no plain bake step that would need its own allow: input; kolla-gen build computes the grants (none here)
    expect(steps.filter((s) => s.uses?.startsWith('docker/bake-action'))).toEqual([]);
    expect(steps.filter((s) => s.run?.includes('kolla-gen build')).length).toBeGreaterThanOrEqual(2);
    expect(workflow).not.toMatch(/^\s*allow:/m);
  });

  it('KG712: a file init cannot write is an error naming it (exit 1); the others are still written', async () => {
    const dir = copyFixture('basic');
    fs.writeFileSync(path.join(dir, '.github'), 'a file where init needs a folder\n');
    const r = await run(dir, ['init']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('error[KG712]: cannot write .github/workflows/images.yml');
    expect(fs.existsSync(path.join(dir, '.gitattributes'))).toBe(true);
  });

  it('bake_formats: [hcl] writes the HCL file alone, and build bakes it', async () => {
    const dir = copyFixture('basic');
    fs.appendFileSync(path.join(dir, 'kolla-gen.yaml'), 'bake_formats: [hcl]\n');
    expect((await run(dir, ['generate'])).exitCode).toBe(0);
    expect(fs.existsSync(path.join(dir, 'generated', 'docker-bake.hcl'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'generated', 'docker-bake.json'))).toBe(false);
    const docker = fakeDocker(dir);
    const r = await run(dir, ['build', 'db'], docker.env);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(bakes(docker.calls())[0]).toMatch(/^buildx bake -f generated\/docker-bake.hcl /);
  });
});

describe('--affected-since with the kolla checkout beside the ops repo', () => {
  const gitIn = (dir: string, args: string[]) => execa('git', args, { cwd: dir });
  const commitAll = async (dir: string, message: string) => {
    await gitIn(dir, ['init', '-q']);
    await gitIn(dir, ['add', '-A']);
    await gitIn(dir, ['-c', 'user.email=test@example.org', '-c', 'user.name=test', '-c', 'commit.gpgsign=false', 'commit', '-q', '-m', message]);
  };
  /** A committed kolla checkout (kolla/common/users.py marks it) in a temp dir: base reads kolla_version, keystone has the line given. */
  const kollaCheckout = async (prefix: string, keystone: string) => {
    const top = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    temps.push(top);
    const kolla = path.join(top, 'kolla');
    write(kolla, 'kolla/common/users.py', "USERS = {\n    'kolla-user': {'uid': 42400, 'gid': 42400},\n}\n");
    write(kolla, 'kolla/docker/base/Dockerfile.j2', 'FROM {{ base_image }}:{{ base_distro_tag }}\nLABEL kolla_version="{{ kolla_version }}"\n');
    write(kolla, 'kolla/docker/keystone/Dockerfile.j2', `FROM {{ namespace }}/{{ image_prefix }}base:{{ tag }}\n${keystone}\n`);
    await commitAll(kolla, 'kolla');
    return { top, kolla };
  };

  it("finds the checkout where the config's relative docker dir leads, and reads kolla_version from its own git, not from the ops repo's revision: nothing changed, nothing affected", async () => {
    // a kolla checkout with kolla_version in every image
    const { top, kolla } = await kollaCheckout('kolla-gen-ops-kolla-', 'LABEL kolla_version="{{ kolla_version }}"');
    const ops = path.join(top, 'ops');
    write(ops, 'kolla-gen.yaml', 'preset: kolla\ndocker_dirs: [../kolla/kolla/docker]\nbases: [ubuntu]\narches: [amd64, arm64]\n');
    expect((await run(ops, ['generate', '--quiet'])).exitCode).toBe(0);
    await commitAll(ops, 'ops');
    const kollaSha = (await gitIn(kolla, ['log', '-n1', '--pretty=format:%h'])).stdout;
    expect(fs.readFileSync(path.join(ops, 'generated/ubuntu/keystone/Dockerfile'), 'utf8')).toContain(`kolla_version="${kollaSha}"`);
    const listed = await run(ops, ['list', '--affected-since', 'HEAD', '--json']);
    expect(listed.exitCode, listed.stderr).toBe(0);
    const variants = (JSON.parse(listed.stdout) as { result: { variants: { images: string[] }[] } }).result.variants;
    expect(variants.flatMap((v) => v.images)).toEqual([]);
    // and a change in the ops repo's own inputs is still seen: a build arg for every image
    write(ops, 'kolla-gen.yaml', 'preset: kolla\ndocker_dirs: [../kolla/kolla/docker]\nbases: [ubuntu]\narches: [amd64, arm64]\nbuild_args: { PIP_INDEX_URL: "http://mirror" }\n');
    const changed = await run(ops, ['list', '--affected-since', 'HEAD', '--json']);
    expect((JSON.parse(changed.stdout) as { result: { variants: { images: string[] }[] } }).result.variants.flatMap((v) => v.images).sort()).toEqual(['base', 'base', 'keystone', 'keystone']);
  });
  it('checks a kolla submodule out at the commit the revision records, or links to it where it is that commit and clean', async () => {
    const { top } = await kollaCheckout('kolla-gen-ops-submodule-', 'RUN echo keystone');
    const ops = path.join(top, 'ops');
    write(ops, 'kolla-gen.yaml', 'preset: kolla\ndocker_dirs: [kolla/kolla/docker]\nbases: [ubuntu]\narches: [amd64, arm64]\n');
    await gitIn(ops, ['init', '-q']);
    await gitIn(ops, ['-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', '../kolla', 'kolla']);
    const sub = path.join(ops, 'kolla');
    expect((await run(ops, ['generate', '--quiet'])).exitCode).toBe(0);
    await commitAll(ops, 'ops');
    const commit = (dir: string) => gitIn(dir, ['-c', 'user.email=test@example.org', '-c', 'user.name=test', '-c', 'commit.gpgsign=false', 'commit', '-q', '-am', 'change']);
    const trace = path.join(top, 'trace.txt');
    const since = async (rev = 'HEAD') => {
      fs.writeFileSync(trace, '');
      const r = await run(ops, ['list', '--affected-since', rev, '--json'], { ...(process.env as Record<string, string>), GIT_TRACE: trace });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).not.toContain('KG901');
      const images = (JSON.parse(r.stdout) as { result: { variants: { images: string[] }[] } }).result.variants.flatMap((v) => v.images).sort();
      return { images, checkedOut: fs.readFileSync(trace, 'utf8').split('\n').filter((l) => /built-in: git read-tree/.test(l)).length };
    };
    const every = ['base', 'base', 'keystone', 'keystone'];

    // the submodule at the recorded commit and clean: linked (only the ops repo's tree is read), nothing affected
    expect(await since()).toEqual({ images: [], checkedOut: 1 });
    expect(fs.readFileSync(path.join(sub, 'kolla/docker/keystone/Dockerfile.j2'), 'utf8')).toContain('keystone');
    // a template changed in the submodule: the recorded commit is checked out, and only its image is affected
    write(sub, 'kolla/docker/keystone/Dockerfile.j2', 'FROM {{ namespace }}/{{ image_prefix }}base:{{ tag }}\nRUN echo keystone 2\n');
    expect(await since()).toEqual({ images: ['keystone', 'keystone'], checkedOut: 2 });
    // committed there: kolla_version differs from the recorded commit's, which every image shows
    await commit(sub);
    expect((await since()).images).toEqual(every);
    // the ops repo records the new commit: nothing since HEAD, everything since the commit before
    await commit(ops);
    expect(await since()).toEqual({ images: [], checkedOut: 1 });
    expect((await since('HEAD~1')).images).toEqual(every);

    // the recorded commit gone from the submodule's repo: a clear error
    write(sub, 'kolla/docker/keystone/Dockerfile.j2', 'FROM {{ namespace }}/{{ image_prefix }}base:{{ tag }}\nRUN echo keystone 3\n');
    await commit(sub);
    await commit(ops);
    await gitIn(sub, ['reset', '-q', '--hard', 'HEAD~1']);
    await gitIn(sub, ['reflog', 'expire', '--expire=now', '--all']);
    await gitIn(sub, ['gc', '-q', '--prune=now']);
    const lost = await run(ops, ['list', '--affected-since', 'HEAD']);
    expect(lost.exitCode).toBe(1);
    expect(lost.stderr).toMatch(/KG900.*the submodule kolla has not got the commit [0-9a-f]{40} the revision records for it/);
  });
});
