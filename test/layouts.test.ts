// Item 1 of issue 10: whatever the layout (docker dir in the repo, beside it, above it, absolute, through a symlink,
// a git submodule; output anywhere; run from a subdir with -c), real buildx resolves every target's context to the
// image's folder and its dockerfile to the Dockerfile kolla-gen rendered.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { run, snapshot, temps, write } from './support/cli.js';
import { bakePrint, findBuildx, resolveAsBuildx } from './support/buildx.js';
import { bakeDockerfile } from '../src/emit/bake/assemble.js';

const buildx = findBuildx();
if (!buildx) console.warn('layouts.test.ts: no docker-buildx found (run test/e2e/engine/provision.sh, or set KOLLA_GEN_BUILDX): skipped');

/** A two-image tree (base, and app FROM base) with a file each image COPYs. */
function writeTree(dir: string): void {
  write(dir, 'base/Dockerfile.j2', 'FROM {{ base_image }}:{{ base_distro_tag }}\nCOPY base.txt /base.txt\n');
  write(dir, 'base/base.txt', 'base\n');
  write(dir, 'app/Dockerfile.j2', 'FROM {{ namespace }}/base:{{ tag }}\nCOPY app.txt /app.txt\n');
  write(dir, 'app/app.txt', 'app\n');
}

function workspace(): string {
  const ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-layout-')));
  temps.push(ws);
  return ws;
}

const CONFIG = (dockerDirs: string[], output?: string) =>
  `bases: [debian]\narches: [amd64]\ndocker_dirs: [${dockerDirs.map((d) => JSON.stringify(d)).join(', ')}]\n${output ? `output: ${JSON.stringify(output)}\n` : ''}`;

interface Layout {
  name: string;
  /** Makes the layout; returns the repo root, where kolla-gen and bake run, the args, and each image's real folder. */
  make(ws: string): Promise<{ root: string; cwd?: string; args: string[]; output: string; folders: Record<string, string> }>;
  /** The dirs buildx >= 0.20 must be granted to read (`--allow fs.read=`), as generate says them ("WS" = the workspace). */
  allow: string[];
}

const LAYOUTS: Layout[] = [
  {
    name: 'docker dir inside the repo',
    allow: [],
    async make(ws) {
      const root = path.join(ws, 'ops');
      writeTree(path.join(root, 'docker'));
      write(root, 'kolla-gen.yaml', CONFIG(['docker']));
      return { root, args: [], output: 'generated', folders: { base: path.join(root, 'docker/base'), app: path.join(root, 'docker/app') } };
    },
  },
  {
    name: 'docker dir beside the repo (../kolla/docker)',
    allow: ['../kolla/docker'],
    async make(ws) {
      const root = path.join(ws, 'ops');
      writeTree(path.join(ws, 'kolla/docker'));
      write(root, 'kolla-gen.yaml', CONFIG(['../kolla/docker']));
      return { root, args: [], output: 'generated', folders: { base: path.join(ws, 'kolla/docker/base'), app: path.join(ws, 'kolla/docker/app') } };
    },
  },
  {
    name: 'docker dir two levels above the repo, output outside it too',
    allow: ['../../../kolla/docker', '../out'],
    async make(ws) {
      const root = path.join(ws, 'deploy/site/ops');
      writeTree(path.join(ws, 'kolla/docker'));
      write(root, 'kolla-gen.yaml', CONFIG(['../../../kolla/docker'], '../out'));
      return { root, args: [], output: '../out', folders: { base: path.join(ws, 'kolla/docker/base'), app: path.join(ws, 'kolla/docker/app') } };
    },
  },
  {
    name: 'docker dir given as an absolute path on the command line',
    allow: ['../abs/docker'],
    async make(ws) {
      const root = path.join(ws, 'ops');
      writeTree(path.join(ws, 'abs/docker'));
      fs.mkdirSync(root, { recursive: true });
      return { root, args: ['-b', 'debian', '-a', 'amd64', '-D', path.join(ws, 'abs/docker')], output: 'generated', folders: { base: path.join(ws, 'abs/docker/base'), app: path.join(ws, 'abs/docker/app') } };
    },
  },
  // A docker dir named inside the repo that a link takes out of it is refused (KG216, test/hostile-commits.test.ts):
  // a checkout kept elsewhere is named by its own path (the beside layouts above).
  {
    name: 'docker dir in a git submodule',
    allow: [],
    async make(ws) {
      const upstream = path.join(ws, 'kolla');
      writeTree(path.join(upstream, 'docker'));
      const git = (cwd: string, args: string[]) =>
        execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'protocol.file.allow=always', ...args], { cwd });
      await git(upstream, ['init', '-q']);
      await git(upstream, ['add', '.']);
      await git(upstream, ['commit', '-qm', 'tree']);
      const root = path.join(ws, 'ops');
      fs.mkdirSync(root);
      await git(root, ['init', '-q']);
      await git(root, ['submodule', 'add', '-q', upstream, 'kolla']);
      write(root, 'kolla-gen.yaml', CONFIG(['kolla/docker']));
      return { root, args: [], output: 'generated', folders: { base: path.join(root, 'kolla/docker/base'), app: path.join(root, 'kolla/docker/app') } };
    },
  },
  {
    name: 'run from a subdir of the repo with -c ../kolla-gen.yaml',
    allow: ['../kolla/docker'],
    async make(ws) {
      const root = path.join(ws, 'ops');
      writeTree(path.join(ws, 'kolla/docker'));
      write(root, 'kolla-gen.yaml', CONFIG(['../kolla/docker']));
      fs.mkdirSync(path.join(root, 'ci/scripts'), { recursive: true });
      return { root, cwd: path.join(root, 'ci/scripts'), args: ['-c', '../../kolla-gen.yaml'], output: 'generated', folders: { base: path.join(ws, 'kolla/docker/base'), app: path.join(ws, 'kolla/docker/app') } };
    },
  },
  {
    name: 'overlay of two docker dirs outside the repo (merged contexts under the output dir)',
    allow: ['../kolla/docker'] /* app's context is merged under generated/: only base reads ../kolla/docker */,
    async make(ws) {
      const root = path.join(ws, 'ops');
      writeTree(path.join(ws, 'kolla/docker'));
      write(ws, 'site/docker/app/app.txt', 'site app\n');
      write(root, 'kolla-gen.yaml', CONFIG(['../kolla/docker', '../site/docker']));
      return { root, args: [], output: 'generated', folders: { base: path.join(ws, 'kolla/docker/base'), app: path.join(root, 'generated/contexts/app') } };
    },
  },
];

describe('bakeDockerfile: the path from a context to the rendered Dockerfile', () => {
  it.each([
    ['docker/app', 'generated/debian/app/Dockerfile', undefined, '../../generated/debian/app/Dockerfile'],
    ['docker/./x/../app', 'generated/d/app/Dockerfile', undefined, '../../generated/d/app/Dockerfile'],
    ['generated/contexts/app', 'generated/d/app/Dockerfile', undefined, '../../d/app/Dockerfile'],
    ['../kolla/docker/app', 'generated/d/app/Dockerfile', '/w/ops', 'cwd://generated/d/app/Dockerfile'],
    ['../kolla/docker/app', '../out/d/app/Dockerfile', '/w/ops', '../../../out/d/app/Dockerfile'],
    ['../../../kolla/docker/app', '../out/d/app/Dockerfile', '/w/deploy/site/ops', '../../../deploy/site/out/d/app/Dockerfile'],
    ['../../../kolla/docker/app', '../out/d/app/Dockerfile', undefined, 'cwd://../out/d/app/Dockerfile'],
  ])('%s -> %s (root %s)', (context, file, root, expected) => {
    expect(bakeDockerfile(context, file, root)).toBe(expected);
  });
});

describe.skipIf(!buildx)('bake paths, as real buildx resolves them', () => {
  for (const layout of LAYOUTS) {
    it(layout.name, async () => {
      const ws = workspace();
      const { root, cwd, args, output, folders } = await layout.make(ws);
      const generated = await run(cwd ?? root, ['generate', ...args]);
      const lines = generated.stderr.split('\n');
      // the config line only where the config is not in the working directory
      if (/^kolla-gen: config kolla-gen.yaml in \S+; paths are from there$/.test(lines[0] ?? '')) lines.shift();
      const [bakeLine, ...rest] = lines;
      // the plain bake command: exactly the reads outside the repo this layout's contexts need
      const file = `${output === 'generated' ? 'generated' : output}/docker-bake.hcl`;
      expect(bakeLine).toBe(`kolla-gen: bake it with: docker buildx bake -f ${file}${layout.allow.map((d) => ` --allow fs.read=${d}`).join('')}`);
      expect(rest).toEqual([]);
      expect(generated.exitCode).toBe(0);
      const manifest = JSON.parse(fs.readFileSync(path.join(root, output, 'manifest.json'), 'utf8')) as {
        images: { image: string; target?: string; dockerfile?: string }[];
      };
      for (const file of ['docker-bake.json', 'docker-bake.hcl']) {
        const targets = await bakePrint(buildx as string, root, path.join(output, file));
        const selected = manifest.images.filter((e) => e.target !== undefined);
        expect(Object.keys(targets).sort()).toEqual(selected.map((e) => e.target).sort());
        for (const entry of selected) {
          const resolved = resolveAsBuildx(root, targets[entry.target as string] as { context: string; dockerfile: string });
          expect(fs.realpathSync(resolved.context), `${file} ${entry.target} context`).toBe(fs.realpathSync(folders[entry.image] as string));
          expect(resolved.dockerfile, `${file} ${entry.target} dockerfile`).toBe(path.resolve(root, entry.dockerfile as string));
          expect(fs.readFileSync(resolved.dockerfile, 'utf8')).toMatch(/^FROM /);
        }
      }
      // Nothing in the committed files names where this machine keeps the workspace.
      for (const file of ['docker-bake.json', 'docker-bake.hcl', 'manifest.json']) {
        expect(fs.readFileSync(path.join(root, output, file), 'utf8')).not.toContain(ws);
      }
    });
  }

  it('gives the same output from the repo root and from a subdir with -c', async () => {
    const ws = workspace();
    writeTree(path.join(ws, 'kolla/docker'));
    const root = path.join(ws, 'ops');
    write(root, 'kolla-gen.yaml', CONFIG(['../kolla/docker']));
    fs.mkdirSync(path.join(root, 'sub'));
    expect((await run(root, ['generate'])).exitCode).toBe(0);
    const before = snapshot(path.join(root, 'generated'));
    const fromSub = await run(path.join(root, 'sub'), ['check', '-c', '../kolla-gen.yaml']);
    expect(fromSub.exitCode).toBe(0);
    expect((await run(path.join(root, 'sub'), ['generate', '-c', '../kolla-gen.yaml'])).stdout).toMatch(/up to date$/);
    expect(snapshot(path.join(root, 'generated'))).toEqual(before);
    expect(fs.existsSync(path.join(root, 'sub', 'generated'))).toBe(false);
  });
});
