// --affected-since through the real pipeline, on random trees committed to real git repos: for random DAGs of images
// and random edits of random images, the affected set is exactly the images whose build input changed (what BuildKit
// would be sent) plus their descendants. test/content-hash.test.ts checks the same on hash inputs in memory; this file
// checks that the loader, the renderer and the revision's checkout feed those hashes what the build really sees.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { compileProject } from '../src/commands/run.js';
import { renderKey } from '../src/render/images.js';
import { run } from './support/cli.js';
import type { Arch } from '../src/core/types.js';

const ARCHES: Arch[] = ['amd64', 'arm64'];
const FAMILY = { base: 'debian' as const };
const CONFIG = 'namespace: prop\ntag: "1.0"\nbases: [debian]\narches: [amd64, arm64]\n';
/** The rules every folder with a .dockerignore has, and a file of each kind it excludes, committed. */
const DOCKERIGNORE = '*.log\nscratch/\n';
const IGNORED_AT_START = ['debug.log', 'scratch/notes.txt'];
const FILE_POOL = ['start.sh', 'conf/app.conf', 'data/seed.txt'];

interface ImageSpec {
  name: string;
  /**
   * Under docker/: the image's folder (some in a group folder, as kolla's docker/nova/nova-api; some inside another
   * image's folder, whose build then sees this folder's files too, but not its template).
   */
  dir: string;
  /** Indexes of earlier images: a FROM line each (the last one the final stage). */
  parents: number[];
  /** Context files (relative to the folder), at least one. */
  files: string[];
  dockerignore: boolean;
}

type EditKind =
  | 'render'
  | 'comment'
  | 'jinja-comment-line'
  | 'dockerfile-comment'
  | 'blank'
  | 'comment-in-continuation'
  | 'heredoc-comment'
  | 'directive'
  | 'file-change'
  | 'file-add'
  | 'ignored-change'
  | 'ignored-add'
  | 'unignored-add'
  | 'mode'
  | 'outside';
const EDIT_KINDS: EditKind[] = [
  'render',
  'comment',
  'jinja-comment-line',
  'dockerfile-comment',
  'blank',
  'comment-in-continuation',
  'heredoc-comment',
  'directive',
  'file-change',
  'file-add',
  'ignored-change',
  'ignored-add',
  'unignored-add',
  'mode',
  'outside',
];

interface Edit {
  kind: EditKind;
  /** Any number: taken modulo the count of images, and of the image's files. */
  image: number;
  file: number;
}

interface Case {
  images: ImageSpec[];
  edits: Edit[];
}

const imageSpecs: fc.Arbitrary<ImageSpec[]> = fc.integer({ min: 2, max: 7 }).chain((n) =>
  fc.tuple(
    ...Array.from({ length: n }, (_, i) =>
      fc.record({
        parents: i === 0 ? fc.constant<number[]>([]) : fc.uniqueArray(fc.nat(i - 1), { minLength: 0, maxLength: 2 }),
        // 0: docker/<name>, 1-2: in a group folder docker/g<k>/<name>, 3: inside an earlier image's folder
        place: fc.nat(3),
        outer: fc.nat(Math.max(0, i - 1)),
        files: fc.subarray(FILE_POOL, { minLength: 1 }),
        dockerignore: fc.boolean(),
      }),
    ),
  ).map((specs) => {
    const out: ImageSpec[] = [];
    specs.forEach((s, i) => {
      const name = `img${i}`;
      const outer = i > 0 && s.place === 3 ? out[s.outer] : undefined;
      const dir = outer ? `${outer.dir}/${name}` : s.place === 0 || s.place === 3 ? name : `g${s.place}/${name}`;
      out.push({ name, dir, parents: s.parents, files: s.files, dockerignore: s.dockerignore });
    });
    return out;
  }),
);

const cases: fc.Arbitrary<Case> = fc.record({
  images: imageSpecs,
  edits: fc.array(fc.record({ kind: fc.constantFrom(...EDIT_KINDS), image: fc.nat(), file: fc.nat() }), { minLength: 1, maxLength: 3 }),
});

function template(images: ImageSpec[], spec: ImageSpec): string {
  const lines: string[] = [];
  if (spec.parents.length === 0) lines.push('FROM {{ base_image }}:{{ base_distro_tag }}');
  spec.parents.forEach((p, k) => {
    const from = `FROM {{ namespace }}/{{ image_prefix }}${images[p]?.name}:{{ tag }}`;
    lines.push(k < spec.parents.length - 1 ? `${from} AS stage${k}` : from);
  });
  spec.parents.slice(0, -1).forEach((_, k) => lines.push(`COPY --from=stage${k} /etc/role /etc/role-${k}`));
  // a continued instruction and a heredoc: a comment inside the one is nothing to BuildKit, inside the other content
  lines.push(`RUN echo ${spec.name} \\`, '    > /etc/role', 'RUN <<EOF', `echo ${spec.name} from a heredoc`, 'EOF', 'COPY . /opt/context/');
  return `${lines.join('\n')}\n`;
}

const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
});

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'kolla-gen test',
  GIT_AUTHOR_EMAIL: 'test@example.org',
  GIT_COMMITTER_NAME: 'kolla-gen test',
  GIT_COMMITTER_EMAIL: 'test@example.org',
};

function put(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text, { mode: 0o644 });
  fs.chmodSync(file, 0o644);
}

/** The tree of the case, committed in a git repo of its own. */
async function commitTree(images: ImageSpec[]): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-affected-props-'));
  temps.push(dir);
  put(path.join(dir, 'kolla-gen.yaml'), CONFIG);
  for (const spec of images) {
    const folder = path.join(dir, 'docker', spec.dir);
    put(path.join(folder, 'Dockerfile.j2'), template(images, spec));
    for (const f of spec.files) put(path.join(folder, f), `${spec.name} ${f}\n`);
    if (spec.dockerignore) {
      put(path.join(folder, '.dockerignore'), DOCKERIGNORE);
      for (const f of IGNORED_AT_START) put(path.join(folder, f), 'noise\n');
    }
  }
  const git = (args: string[]) => execa('git', ['-c', 'commit.gpgsign=false', ...args], { cwd: dir, env: GIT_ENV });
  await git(['init', '-q']);
  await git(['add', '-A']);
  await git(['commit', '-q', '-m', 'tree']);
  return dir;
}

/** Whether the folder's .dockerignore (as BuildKit reads it: patterns anchored at the context's root) excludes rel. */
function ignoredBy(spec: ImageSpec, rel: string): boolean {
  return rel.endsWith('.j2') || (spec.dockerignore && (/^[^/]*\.log$/.test(rel) || rel.startsWith('scratch/')));
}

/** The images whose build sees the file docker/<rel>: its folder's image and every image whose folder holds that one. */
function seenBy(images: ImageSpec[], rel: string): string[] {
  return images.filter((s) => rel.startsWith(`${s.dir}/`) && !ignoredBy(s, rel.slice(s.dir.length + 1))).map((s) => s.name);
}

/**
 * Makes the edits in the work tree; returns the images whose build input (what BuildKit is sent: the rendered
 * Dockerfile, and the context's files, contents and mode, without the templates and what the .dockerignore excludes)
 * changed.
 */
function applyEdits(dir: string, images: ImageSpec[], edits: Edit[]): { changed: Set<string>; outer: boolean } {
  const changed = new Set<string>();
  /** Whether an edit reached the build of an image whose folder holds the edited one. */
  let outer = false;
  const toggles = new Map<string, number>();
  const docker = path.join(dir, 'docker');
  edits.forEach((edit, n) => {
    const spec = images[edit.image % images.length] as ImageSpec;
    const at = (name: string) => `${spec.dir}/${name}`;
    /** A file of the image's folder written (a new one) or appended to: a change wherever a build sees it. */
    const touch = (name: string, append: boolean) => {
      const file = path.join(docker, at(name));
      if (append) fs.appendFileSync(file, `edit ${n}\n`);
      else put(file, `edit ${n}\n`);
      for (const image of seenBy(images, at(name))) {
        changed.add(image);
        if (image !== spec.name) outer = true;
      }
    };
    const file = spec.files[edit.file % spec.files.length] as string;
    const templateFile = path.join(docker, at('Dockerfile.j2'));
    /** Inserts a line after the first line that `after` matches (after the first line when none is given). */
    const insert = (text: string, after?: (line: string) => boolean) => {
      const lines = fs.readFileSync(templateFile, 'utf8').split('\n');
      const at = after ? lines.findIndex(after) : 0;
      lines.splice(at + 1, 0, text);
      fs.writeFileSync(templateFile, lines.join('\n'));
    };
    switch (edit.kind) {
      case 'render':
        fs.appendFileSync(templateFile, `RUN echo edit-${n}\n`);
        changed.add(spec.name);
        break;
      case 'comment':
        // no rendered byte changes: the comment sits before the first line, with no newline of its own
        fs.writeFileSync(templateFile, `{# edit ${n}: a note for reviewers #}${fs.readFileSync(templateFile, 'utf8')}`);
        break;
      case 'jinja-comment-line':
        // a Jinja comment on a line of its own renders a blank line
        insert(`{# edit ${n}: a note for reviewers #}`);
        break;
      case 'dockerfile-comment':
        insert(`# edit ${n}: a note for reviewers`);
        break;
      case 'blank':
        insert('');
        break;
      case 'comment-in-continuation':
        // BuildKit leaves a comment line out of the instruction it sits in
        insert(`    # edit ${n}: why the role file`, (line) => line.endsWith('\\'));
        break;
      case 'heredoc-comment':
        // a heredoc's lines are the script RUN runs, comments included
        insert(`# edit ${n}: in the script`, (line) => line === 'RUN <<EOF');
        changed.add(spec.name);
        break;
      case 'directive': {
        // a parser directive at the very top (after Jinja comments, which render nothing), a new value each time
        const text = fs.readFileSync(templateFile, 'utf8').replace(/^((?:\{#[^#]*#\})*)(# syntax=[^\n]*\n)?/, (_m, jinja: string) => `${jinja}# syntax=docker/dockerfile:1.${n}\n`);
        fs.writeFileSync(templateFile, text);
        changed.add(spec.name);
        break;
      }
      case 'file-change':
        touch(file, true);
        break;
      case 'file-add':
        touch(`added/edit-${n}.txt`, false);
        break;
      case 'ignored-change':
        // a file the folder's .dockerignore excludes; without one it is a context file like any other
        if (spec.dockerignore) touch(IGNORED_AT_START[edit.file % IGNORED_AT_START.length] as string, true);
        else touch(`edit-${n}.log`, false);
        break;
      case 'ignored-add':
        touch(edit.file % 2 === 0 ? `edit-${n}.log` : `scratch/edit-${n}.txt`, false);
        break;
      case 'unignored-add':
        // next to the ignored ones, but matching no rule: the build sees it
        touch(`edit-${n}.log.txt`, false);
        break;
      case 'outside':
        // a file in a group folder, in no image's folder: no build sees it
        put(path.join(docker, `g${1 + (edit.file % 2)}`, `notes-${n}.txt`), `edit ${n}\n`);
        break;
      case 'mode': {
        const abs = path.join(docker, at(file));
        fs.chmodSync(abs, fs.statSync(abs).mode & 0o100 ? 0o644 : 0o755);
        toggles.set(at(file), (toggles.get(at(file)) ?? 0) + 1);
        break;
      }
    }
  });
  // a file made executable and back again is as it was
  for (const [rel, count] of toggles) if (count % 2 === 1) for (const image of seenBy(images, rel)) changed.add(image);
  return { changed, outer };
}

/** The changed images and everything below them (parents come before their children in the case). */
function withDescendants(images: ImageSpec[], changed: Set<string>): Set<string> {
  const out = new Set(changed);
  for (const spec of images) if (spec.parents.some((p) => out.has(images[p]?.name as string))) out.add(spec.name);
  return out;
}

const describeCase = (c: Case) =>
  [
    ...c.images.map((s) => `${s.dir} <- [${s.parents.map((p) => `img${p}`).join(',')}] files=${s.files.join(',')}${s.dockerignore ? ' +.dockerignore' : ''}`),
    ...c.edits.map((e) => `${e.kind} img${e.image % c.images.length} file#${e.file}`),
  ].join('\n');

describe('--affected-since on random trees in git (real pipeline)', () => {
  it('selects exactly the images whose build input changed, plus their descendants, on every arch', { timeout: 120_000 }, async () => {
    const seen = new Set<EditKind>();
    let reachedOuter = false;
    let nothing = 0;
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const dir = await commitTree(c.images);
        const { changed: own, outer } = applyEdits(dir, c.images, c.edits);
        if (outer) reachedOuter = true;
        const expected = withDescendants(c.images, own);
        const { compiled, diagnostics } = await compileProject({ affectedSince: 'HEAD' }, { cwd: dir, env: {} });
        const context = `${describeCase(c)}\n${JSON.stringify(diagnostics.map((d) => `${d.code} ${d.message}`))}`;
        expect(compiled, context).toBeDefined();
        if (!compiled) return;
        const [result] = compiled.families;
        for (const arch of ARCHES) {
          const statuses = result?.statuses.get(arch);
          const selected = c.images.filter((s) => statuses?.get(s.name) === 'selected').map((s) => s.name);
          expect(selected, `${arch}\n${context}`).toEqual(c.images.filter((s) => expected.has(s.name)).map((s) => s.name));
          for (const s of c.images) if (!expected.has(s.name)) expect(statuses?.get(s.name), `${arch} ${s.name}\n${context}`).toBe('unaffected');
          // why: an image whose own input changed is `changed`; one below it names an ancestor whose own input changed
          for (const name of expected) {
            const why = compiled.affected?.get(renderKey(name, FAMILY, arch));
            if (own.has(name)) expect(why?.kind, `${arch} ${name}\n${context}`).toBe('changed');
            else {
              expect(why?.kind, `${arch} ${name}\n${context}`).toBe('ancestor');
              if (why?.kind === 'ancestor') expect(own.has(why.ancestor), `${arch} ${name}\n${context}`).toBe(true);
            }
          }
        }
        // nothing selected: said once, as a warning (KG602), and nothing else is said
        expect(diagnostics.map((d) => `${d.severity}:${d.code}`), context).toEqual(expected.size === 0 ? ['warning:KG602'] : []);
        for (const e of c.edits) seen.add(e.kind);
        if (expected.size === 0) nothing++;
        fs.rmSync(dir, { recursive: true, force: true });
      }),
      { numRuns: 40, seed: 20261130 },
    );
    // every kind of edit was drawn
    expect([...seen].sort()).toEqual([...EDIT_KINDS].sort());
    // and the runs include edits that select nothing, and edits in a nested image's folder that reach the outer image
    expect(nothing).toBeGreaterThan(0);
    expect(reachedOuter).toBe(true);
  });
});

// One tree, one edit at a time, through the built CLI (`list --affected-since HEAD --json`): what each kind of edit
// selects, as a user sees it. base (with a .dockerignore) ← mid (docker/g1/mid) ← leaf (inside mid's folder), base ← other.
const FIXED: ImageSpec[] = [
  { name: 'img0', dir: 'img0', parents: [], files: ['start.sh'], dockerignore: true },
  { name: 'img1', dir: 'g1/img1', parents: [0], files: ['conf/app.conf'], dockerignore: false },
  { name: 'img2', dir: 'g1/img1/img2', parents: [1], files: ['data/seed.txt'], dockerignore: true },
  { name: 'img3', dir: 'img3', parents: [0], files: ['start.sh'], dockerignore: false },
];

describe('--affected-since, one edit of each kind (built CLI)', () => {
  it.each<[EditKind, string, string[]]>([
    ['render', 'img0', ['img0', 'img1', 'img2', 'img3']],
    ['comment', 'img0', []],
    ['comment', 'img2', []],
    // what BuildKit does not read: a Jinja comment line (a blank line once rendered), a comment, a blank line, a
    // comment line inside a continued instruction
    ['jinja-comment-line', 'img0', []],
    ['dockerfile-comment', 'img0', []],
    ['blank', 'img0', []],
    ['comment-in-continuation', 'img0', []],
    // what it does: a heredoc's lines, a parser directive
    ['heredoc-comment', 'img0', ['img0', 'img1', 'img2', 'img3']],
    ['directive', 'img1', ['img1', 'img2']],
    ['file-change', 'img1', ['img1', 'img2']],
    // a file of the nested image's folder is in the outer image's context too
    ['file-add', 'img2', ['img1', 'img2']],
    ['ignored-change', 'img0', []],
    ['ignored-add', 'img0', []],
    // img2's .dockerignore excludes its debug.log; img1's build, whose context holds img2's folder, is sent it
    ['ignored-change', 'img2', ['img1', 'img2']],
    ['unignored-add', 'img0', ['img0', 'img1', 'img2', 'img3']],
    ['mode', 'img3', ['img3']],
    ['outside', 'img1', []],
  ])('%s of %s selects %j', { timeout: 30_000 }, async (kind, image, expected) => {
    const dir = await commitTree(FIXED);
    const index = FIXED.findIndex((s) => s.name === image);
    applyEdits(dir, FIXED, [{ kind, image: index, file: 0 }]);
    const r = await run(dir, ['list', '--affected-since', 'HEAD', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { diagnostics: { code: string }[]; result: { variants: { arch: string; images: string[]; unaffected: string[] }[] } };
    // (listed parents first, by generation)
    expect(out.result.variants.map((v) => [v.arch, [...v.images].sort()])).toEqual(ARCHES.map((arch) => [arch, expected]));
    expect(out.diagnostics.map((d) => d.code)).toEqual(expected.length === 0 ? ['KG602'] : []);
  });
});
