// --affected-since REF: the content hash of every (image, variant) as the tree was at a git revision. The revision's
// files are exported into a temp dir and compiled there with the same command line, then the dir is removed.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import type { ContentHash } from '../changes/content-hash.js';
import type { CliOptions } from '../load/config/resolve.js';
import { error, hasErrors, warning, type Diagnostic } from '../core/diagnostics.js';
import { loadProject, type LoadOptions } from '../load/load.js';
import { compileHashes } from '../pipeline.js';
import { isWithin } from '../load/root.js';
import { readBounded } from '../load/files.js';
import { renderParallel } from '../render/parallel.js';
import type { RenderOutcome } from '../render/images.js';
import type { RenderReuse } from '../render/reuse.js';
import type { Project } from '../load/project.js';

export interface SinceHashes {
  revision: string;
  /**
   * By renderKey; empty when the tree at the revision does not compile (then everything is affected); 'current' when
   * the project at the revision is the current one (its hashes are those the current compile makes).
   */
  hashes: Map<string, ContentHash> | 'current';
  /**
   * The revision's rendered Dockerfiles, by renderKey (what `summary` compares with now's); absent with 'current' (the
   * same as now's) and where the tree at the revision does not compile.
   */
  texts?: Map<string, string>;
}

/**
 * The project at the revision loads as the current one but for where its checkout is (and the options only the
 * current run has): every input of its hashes is the same (a hash holds no path above the tree), so its hashes are
 * too, and neither its renders nor its hashes need be made. Else it compiles.
 */
function sameProject(then: Project, now: Project): boolean {
  const placeless = (p: Project) => ({ ...p, config: { ...p.config, root: '', affectedSince: undefined, skipExisting: undefined } });
  return isDeepStrictEqual(placeless(then), placeless(now));
}

/** git, with `input` on its stdin if given; never rejects on a failing exit (node's own spawn: execa costs more to load than git takes here). */
function run(args: string[], cwd: string, env?: Record<string, string | undefined>, input?: string): Promise<{ ok: boolean; stdout: string; raw: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('git', args, { cwd, env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
    const done = (ok: boolean, stderr: string) => {
      const raw = Buffer.concat(out).toString('utf8');
      resolve({ ok, stdout: raw.trim(), raw, stderr: stderr.trim() });
    };
    child.once('error', (e) => done(false, e.message));
    child.once('close', (code) => done(code === 0, Buffer.concat(err).toString('utf8')));
    if (input !== undefined) {
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(input);
    }
  });
}

const git = (args: string[], cwd: string) => run(args, cwd);

/** A path inside the checkout names the same file at the revision; one outside it stays what it is (made absolute). */
function atRevision(p: string | undefined, cwd: string, top: string, tmp: string): string | undefined {
  if (p === undefined) return undefined;
  const abs = path.resolve(cwd, p);
  return isWithin(top, abs) ? path.join(tmp, path.relative(top, abs)) : abs;
}

/** The revision's files, checked out into a temp dir; or why not. */
export type Exported =
  | { ok: true; revision: string; tmp: string; tree: string; top: string; prefix: string; shortSha: string; checkouts: RevisionCheckout[]; links: string[] }
  | { ok: false; tmp?: string; diagnostics: Diagnostic[] };

/** A git checkout in the export (the repo at `tree`, a submodule below it) and its short HEAD at the revision. */
export interface RevisionCheckout {
  dir: string;
  shortSha: string;
  /** Its full commit id. */
  commit: string;
}

/**
 * Starts checking the revision out into a temp dir. Its git steps go on while the caller renders the current tree
 * (which hands the event loop back between slices of renders); `removeExport` takes the dir away again. `skip`: the
 * output dir, left out; `inputs`: the docker dirs (real paths), each linked to instead of checked out where it is the
 * same at the revision.
 */
export async function exportRevision(revision: string, options: LoadOptions, skip?: string, inputs: readonly string[] = []): Promise<Exported> {
  const top = await git(['rev-parse', '--show-toplevel'], options.cwd);
  if (!top.ok) return { ok: false, diagnostics: [error('KG900', `--affected-since ${revision}: ${options.cwd} is not in a git checkout (${top.stderr.split('\n')[0]})`)] };
  // Any revision git's rev-parse names a commit by (`origin/main`, `HEAD~3`, `:/fix typo`), never one read as an option;
  // `^{commit}` is added to what it resolved to, not to the text (where `:/text` would take it into its regex).
  if (revision.startsWith('-')) return { ok: false, diagnostics: [error('KG900', `--affected-since ${revision}: a revision does not start with "-"`)] };
  const named = await git(['rev-parse', '--verify', '--quiet', '--end-of-options', revision], options.cwd);
  const commit = named.ok && /^[0-9a-f]{40,64}$/.test(named.stdout) ? await git(['rev-parse', '--verify', '--quiet', `${named.stdout}^{commit}`], options.cwd) : named;
  if (!commit.ok || !/^[0-9a-f]{40,64}$/.test(commit.stdout)) return { ok: false, diagnostics: [error('KG900', `--affected-since ${revision}: git knows no such revision`)] };
  const prefix = (await git(['rev-parse', '--show-prefix'], options.cwd)).stdout;
  const shortSha = (await git(['log', '-n1', '--pretty=format:%h', commit.stdout], options.cwd)).stdout;

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-since-'));
  const tree = path.join(tmp, 'tree');
  try {
    const checkouts: RevisionCheckout[] = [];
    const links: string[] = [];
    const failed = await checkOut({ repo: fs.realpathSync(top.stdout), name: 'the revision', commit: commit.stdout, shortSha, tree, tmp, skip, inputs, checkouts, links, depth: 0, top: fs.realpathSync(top.stdout) });
    if (failed) return { ok: false, tmp, diagnostics: [error('KG900', `--affected-since ${revision}: ${failed}`)] };
    return { ok: true, revision, tmp, tree, top: top.stdout, prefix, shortSha, checkouts, links };
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Submodules in submodules, this deep. */
const MAX_DEPTH = 8;

interface CheckOut {
  /** The repo's top (its real path) and the commit of it to write out at `tree`; `name`: the repo in messages. */
  repo: string;
  name: string;
  commit: string;
  shortSha: string;
  tree: string;
  tmp: string;
  skip?: string;
  inputs: readonly string[];
  checkouts: RevisionCheckout[];
  /** The links to the work tree the export makes (its own, not the revision's). */
  links: string[];
  depth: number;
  /** The top repo (its real path), which messages name paths from. */
  top: string;
}

/**
 * Writes a repo's files at a commit under `at.tree` (filters and eol as in the work tree; git archive would apply
 * export-ignore and export-subst), through an index of our own: the repo's index and work tree are not touched. Left
 * out: the output dir, which the revision's compile never reads (an ops repo commits its generation, often as many
 * files as the tree it is made from). A docker dir that is the same at the commit as in the work tree, with nothing
 * untracked or ignored in it, is a link to the work tree's (the compile reads through it the bytes the checkout would
 * write). A submodule with a docker dir in it is written at the commit the revision records for it, or linked to
 * where it is that commit and clean. Returns why it could not, or undefined.
 */
async function checkOut(at: CheckOut): Promise<string | undefined> {
  const { repo, commit, tree, inputs } = at;
  at.checkouts.push({ dir: tree, shortSha: at.shortSha, commit });
  const env = { ...process.env, GIT_INDEX_FILE: path.join(at.tmp, `index-${at.checkouts.length}`) };
  const read = await run(['read-tree', commit], repo, env);
  const listed = read.ok ? await run(['ls-files', '-s', '-z'], repo, env) : read;
  if (!listed.ok) return `cannot check ${at.name} out (${listed.stderr.split('\n')[0]})`;
  const entries = listed.raw.split('\0').flatMap((line) => {
    const m = /^(\d+) ([0-9a-f]+) \d+\t(.*)$/s.exec(line);
    return m ? [{ mode: m[1] as string, sha: m[2] as string, file: m[3] as string }] : [];
  });
  const rel = (p: string) => path.relative(repo, p).split(path.sep).join('/');
  const under = (dir: string, file: string) => file === dir || file.startsWith(`${dir}/`);
  const inside = (p: string | undefined) => p !== undefined && p !== repo && isWithin(repo, p);

  const linked: string[] = [];
  for (const input of [...inputs].sort()) {
    if (!inside(input) || linked.some((l) => isWithin(l, input)) || entries.some((e) => e.mode === '160000' && isWithin(path.join(repo, e.file), input))) continue;
    if (await sameAsCommit(repo, commit, rel(input), [rel(input)])) linked.push(input);
  }
  const skipped = inside(at.skip) ? rel(at.skip as string) : undefined;
  const files = entries.filter((e) => e.mode !== '160000' && !(skipped !== undefined && under(skipped, e.file)) && !linked.some((l) => under(rel(l), e.file)));
  const checkout = await writeBlobs(repo, tree, files);
  if (checkout !== undefined) return `cannot check ${at.name} out (${checkout})`;
  for (const dir of linked) {
    const link = path.join(tree, path.relative(repo, dir));
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(dir, link, 'dir');
    at.links.push(link);
  }

  for (const sub of entries.filter((e) => e.mode === '160000')) {
    const dir = path.join(repo, sub.file);
    const within = inputs.filter((input) => isWithin(dir, input));
    if (within.length === 0 || !fs.existsSync(path.join(dir, '.git'))) continue;
    const name = `the submodule ${path.relative(at.top, dir).split(path.sep).join('/')}`;
    if (at.depth >= MAX_DEPTH) return `${name} lies more than ${MAX_DEPTH} submodules deep`;
    const real = fs.realpathSync(dir);
    const known = await run(['cat-file', '-e', `${sub.sha}^{commit}`], real);
    if (!known.ok) return `${name} has not got the commit ${sub.sha} the revision records for it (git submodule update fetches it)`;
    const shortSha = (await run(['log', '-n1', '--pretty=format:%h', sub.sha], real)).stdout;
    const target = path.join(tree, sub.file);
    const head = await run(['rev-parse', 'HEAD'], real);
    if (head.stdout === sub.sha && (await sameAsCommit(real, sub.sha, '.', within.map((d) => path.relative(dir, d).split(path.sep).join('/') || '.')))) {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.symlinkSync(real, target, 'dir');
      at.links.push(target);
      at.checkouts.push({ dir: target, shortSha, commit: sub.sha });
      continue;
    }
    fs.mkdirSync(target, { recursive: true });
    const failed = await checkOut({ ...at, repo: real, name, commit: sub.sha, shortSha, tree: target, skip: undefined, inputs: within.map((d) => path.join(real, path.relative(dir, d))), depth: at.depth + 1 });
    if (failed) return failed;
  }
  return undefined;
}

/**
 * Writes the blobs of a commit's files under `tree`, as git stores them: read with `git cat-file --batch`, which runs no
 * filter. A checkout (checkout-index, git show) would run the smudge filters, textconv and eol conversions that the
 * tree's own `.gitattributes` picks among the drivers the runner has configured (git-lfs's, any other): a pull request
 * would choose what runs. Links are made last, so no file is written through one. Returns why it could not, or undefined.
 */
function writeBlobs(repo: string, tree: string, files: { mode: string; sha: string; file: string }[]): Promise<string | undefined> {
  const made = new Set<string>();
  const links: { file: string; target: string }[] = [];
  const place = (entry: { mode: string; file: string }, bytes: Buffer) => {
    if (entry.mode === '120000') {
      links.push({ file: entry.file, target: bytes.toString('utf8') });
      return;
    }
    const dest = path.join(tree, entry.file);
    const dir = path.dirname(dest);
    if (!made.has(dir)) {
      fs.mkdirSync(dir, { recursive: true });
      made.add(dir);
    }
    fs.writeFileSync(dest, bytes, { flag: 'wx', mode: entry.mode === '100755' ? 0o777 : 0o666 });
  };
  return new Promise((resolve) => {
    const child = spawn('git', ['cat-file', '--batch'], { cwd: repo, stdio: ['pipe', 'pipe', 'pipe'] });
    let chunks: Buffer[] = [];
    let have = 0;
    let next = 0;
    let body: number | undefined;
    let failed: string | undefined;
    const err: Buffer[] = [];
    const take = (n: number): Buffer => {
      const all = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, have);
      chunks = n < all.length ? [all.subarray(n)] : [];
      have = all.length - n;
      return all.subarray(0, n);
    };
    child.stdout.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      have += chunk.length;
      try {
        while (failed === undefined) {
          if (body === undefined) {
            const joined = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, have);
            chunks = [joined];
            const eol = joined.indexOf(10);
            if (eol < 0) break;
            const header = take(eol + 1).toString('utf8').trim();
            const m = /^[0-9a-f]+ blob (\d+)$/.exec(header);
            if (!m) failed = `git cat-file: ${header}`;
            else body = Number(m[1]);
          } else {
            if (have < body + 1) break;
            const bytes = Buffer.from(take(body + 1).subarray(0, body));
            body = undefined;
            place(files[next++] as (typeof files)[number], bytes);
          }
        }
      } catch (e) {
        failed = (e as Error).message;
      }
      if (failed !== undefined) child.kill();
    });
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.once('error', (e) => resolve(e.message));
    child.once('close', (code) => {
      if (failed === undefined && (code !== 0 || next !== files.length)) failed = Buffer.concat(err).toString('utf8').split('\n')[0] || 'git cat-file ended early';
      if (failed === undefined) {
        try {
          for (const link of links) {
            if (links.some((other) => link.file.startsWith(`${other.file}/`))) throw new Error(`${link.file} lies below the link ${links.find((o) => link.file.startsWith(`${o.file}/`))?.file}`);
            fs.mkdirSync(path.dirname(path.join(tree, link.file)), { recursive: true });
            fs.symlinkSync(link.target, path.join(tree, link.file));
          }
        } catch (e) {
          failed = (e as Error).message;
        }
      }
      resolve(failed);
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(files.map((e) => `${e.sha}\n`).join(''));
  });
}

/**
 * Whether `dir` of the work tree holds what `commit` holds there (tracked files, their modes and submodules, whatever
 * git's config says to ignore), with no untracked file in it and no ignored file in the `clean` dirs.
 */
async function sameAsCommit(repo: string, commit: string, dir: string, clean: string[]): Promise<boolean> {
  // git diff would run on the work tree's files the clean filters its .gitattributes pick: where any picks a filter,
  // the dir is written out instead (writeBlobs runs none).
  const attributes = await run(['ls-files', '-z', '--', ':(glob)**/.gitattributes', '.gitattributes'], repo);
  if (!attributes.ok || attributes.raw.split('\0').some((f) => f !== '' && /\b(filter|diff|working-tree-encoding)\b/.test(readSmall(path.join(repo, f))))) return false;
  const diff = await run(['diff', '--quiet', '--ignore-submodules=none', '--no-ext-diff', '--no-textconv', commit, '--', dir], repo);
  if (!diff.ok) return false;
  const untracked = await run(['ls-files', '-z', '--others', '--exclude-standard', '--directory', '--', dir], repo);
  if (!untracked.ok || untracked.raw !== '') return false;
  const ignored = await run(['ls-files', '-z', '--others', '--directory', '--', ...clean], repo);
  return ignored.ok && ignored.raw === '';
}

/** A small file's text, never through a link; a larger or unreadable one reads as a word that stops the shortcut. */
function readSmall(abs: string): string {
  const read = readBounded(abs, 1024 * 1024);
  return 'bytes' in read ? read.bytes.toString('utf8') : 'filter';
}

/** Removes the export's temp dir (in the background of what the caller does next: await it before exiting). */
export async function removeExport(exported: Exported): Promise<void> {
  if (exported.tmp !== undefined) await fsp.rm(exported.tmp, { recursive: true, force: true });
}

/** `now`: the current tree and its renderings, which the revision's renders take where they are the same. */
export async function hashesSince(
  exported: Exported,
  cli: CliOptions,
  options: LoadOptions,
  now?: RenderReuse<RenderOutcome>,
): Promise<{ since?: SinceHashes; diagnostics: Diagnostic[] }> {
  if (!exported.ok) return { diagnostics: exported.diagnostics };
  const { revision, tree, top, prefix, shortSha, checkouts, links } = exported;
  // git names the top by its real path: so must cwd, for the paths under it to map.
  const cwd = fs.realpathSync(options.cwd);
  const map = (p: string | undefined) => atRevision(p, cwd, fs.realpathSync(top), tree);
  const then: CliOptions = {
    ...cli,
    affectedSince: undefined,
    skipExisting: undefined,
    dockerDirs: cli.dockerDirs?.map((d) => map(d) as string),
    output: map(cli.output),
    varsFiles: cli.varsFiles?.map((f) => map(f) as string),
    templateOverrides: cli.templateOverrides?.map((f) => map(f) as string),
  };
  const load: LoadOptions = {
    ...options,
    cwd: path.join(tree, prefix),
    configFile: map(options.configFile),
    kollaConfigFile: map(options.kollaConfigFile),
    exported: { tree, cwd, checkouts, links },
  };
  const loaded = loadProject(then, load);
  if (now && loaded.project && !hasErrors(loaded.diagnostics) && sameProject(loaded.project, now.project)) return { since: { revision, hashes: 'current' }, diagnostics: [] };
  // Only the hashes: past them, compile adds warnings only, so the revision compiles exactly when this succeeds.
  const rendered = loaded.project ? await renderParallel(loaded.project, undefined, now) : undefined;
  const result = loaded.project ? compileHashes(loaded.project, rendered) : undefined;
  const problems = [...loaded.diagnostics, ...(result?.diagnostics ?? [])];
  if (!result?.hashes || hasErrors(problems)) {
    const first = problems.find((d) => d.severity === 'error');
    const why = first ? `${first.code} ${first.message}` : 'it did not compile';
    return {
      since: { revision, hashes: new Map() },
      diagnostics: [warning('KG901', `the tree at ${revision} (${shortSha}) does not compile with these options (${why}): every image counts as affected`)],
    };
  }
  const texts = new Map((rendered ?? []).flatMap((o) => (o.rendering ? [[o.key, o.rendering.text] as const] : [])));
  return { since: { revision, hashes: result.hashes, texts }, diagnostics: [] };
}
