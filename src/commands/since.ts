// --affected-since REF: the content hash of every (image, variant) as the tree was at a git revision. The revision's
// files are exported into a temp dir and compiled there with the same command line, then the dir is removed.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import type { ContentHash } from '../changes/content-hash.js';
import type { CliOptions } from '../load/config/resolve.js';
import { error, hasErrors, warning, type Diagnostic } from '../core/diagnostics.js';
import { loadProject, type LoadOptions } from '../load/load.js';
import { compileHashes } from '../pipeline.js';
import { isWithin } from '../load/root.js';
import { renderParallel } from '../render/parallel.js';
import type { RenderOutcome } from '../render/images.js';
import type { RenderReuse } from '../render/reuse.js';

export interface SinceHashes {
  revision: string;
  /** By renderKey; empty when the tree at the revision does not compile (then everything is affected). */
  hashes: Map<string, ContentHash>;
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
  | { ok: true; revision: string; tmp: string; tree: string; top: string; prefix: string; shortSha: string }
  | { ok: false; tmp?: string; diagnostics: Diagnostic[] };

/**
 * Starts checking the revision out into a temp dir. Its git steps go on while the caller renders the current tree
 * (which hands the event loop back between slices of renders); `removeExport` takes the dir away again.
 */
export async function exportRevision(revision: string, options: LoadOptions, skip?: string): Promise<Exported> {
  const top = await git(['rev-parse', '--show-toplevel'], options.cwd);
  if (!top.ok) return { ok: false, diagnostics: [error('KG900', `--affected-since ${revision}: ${options.cwd} is not in a git checkout (${top.stderr.split('\n')[0]})`)] };
  const commit = await git(['rev-parse', '--verify', '--quiet', `${revision}^{commit}`], options.cwd);
  if (!commit.ok) return { ok: false, diagnostics: [error('KG900', `--affected-since ${revision}: git knows no such revision`)] };
  const prefix = (await git(['rev-parse', '--show-prefix'], options.cwd)).stdout;
  const shortSha = (await git(['log', '-n1', '--pretty=format:%h', commit.stdout], options.cwd)).stdout;

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-since-'));
  try {
    return await checkOut(revision, { tmp, top: top.stdout, commit: commit.stdout, prefix, shortSha, skip });
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

async function checkOut(revision: string, at: { tmp: string; top: string; commit: string; prefix: string; shortSha: string; skip?: string }): Promise<Exported> {
  const { tmp, top, commit, prefix, shortSha } = at;
  // The revision's files as a checkout writes them (filters and eol as in the work tree; git archive would apply
  // export-ignore and export-subst), through an index of our own: the repo's index and work tree are not touched.
  const tree = path.join(tmp, 'tree');
  const env = { ...process.env, GIT_INDEX_FILE: path.join(tmp, 'index') };
  const read = await run(['read-tree', commit], top, env);
  // All of it but the output dir (`skip`), which the revision's compile never reads: an ops repo commits its
  // generation, often as many files as the tree it is made from.
  const realTop = fs.realpathSync(top);
  const inside = at.skip !== undefined && at.skip !== realTop && isWithin(realTop, at.skip);
  const skipped = inside ? path.relative(realTop, at.skip as string).split(path.sep).join('/') : undefined;
  const listed = read.ok && inside ? await run(['ls-files', '-z'], top, env) : undefined;
  const files = listed?.ok ? listed.raw.split('\0').filter((f) => f !== '' && !f.startsWith(`${skipped}/`)) : undefined;
  const checkout = !read.ok
    ? read
    : files === undefined
      ? await run(['checkout-index', '--all', '--force', `--prefix=${tree}${path.sep}`], top, env)
      : await run(['checkout-index', '--force', '-z', '--stdin', `--prefix=${tree}${path.sep}`], top, env, files.map((f) => `${f}\0`).join(''));
  if (!checkout.ok) {
    return { ok: false, tmp, diagnostics: [error('KG900', `--affected-since ${revision}: cannot check the revision out (${checkout.stderr.split('\n')[0]})`)] };
  }
  return { ok: true, revision, tmp, tree, top, prefix, shortSha };
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
  const { revision, tree, top, prefix, shortSha } = exported;
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
    exported: { shortSha, tree, cwd },
  };
  const loaded = loadProject(then, load);
  // Only the hashes: past them, compile adds warnings only, so the revision compiles exactly when this succeeds.
  const result = loaded.project ? compileHashes(loaded.project, await renderParallel(loaded.project, undefined, now)) : undefined;
  const problems = [...loaded.diagnostics, ...(result?.diagnostics ?? [])];
  if (!result?.hashes || hasErrors(problems)) {
    const first = problems.find((d) => d.severity === 'error');
    const why = first ? `${first.code} ${first.message}` : 'it did not compile';
    return {
      since: { revision, hashes: new Map() },
      diagnostics: [warning('KG901', `the tree at ${revision} (${shortSha}) does not compile with these options (${why}): every image counts as affected`)],
    };
  }
  return { since: { revision, hashes: result.hashes }, diagnostics: [] };
}
