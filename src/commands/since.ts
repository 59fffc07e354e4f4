// --affected-since REF: the content hash of every (image, variant) as the tree was at a git revision. The revision's
// files are exported into a temp dir and compiled there with the same command line, then the dir is removed.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import type { ContentHash } from '../changes/content-hash.js';
import type { CliOptions } from '../load/config/resolve.js';
import { error, hasErrors, warning, type Diagnostic } from '../core/diagnostics.js';
import { loadProject, type LoadOptions } from '../load/load.js';
import { compile, type Compiled } from '../pipeline.js';
import { renderParallel } from '../render/parallel.js';

export interface SinceHashes {
  revision: string;
  /** By renderKey; empty when the tree at the revision does not compile (then everything is affected). */
  hashes: Map<string, ContentHash>;
}

/** git with no stdin; never rejects on a failing exit (node's own spawn: execa costs more to load than git takes here). */
function run(args: string[], cwd: string, env?: Record<string, string | undefined>): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('git', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const done = (ok: boolean, stderr: string) => resolve({ ok, stdout: Buffer.concat(out).toString('utf8').trim(), stderr: stderr.trim() });
    child.once('error', (e) => done(false, e.message));
    child.once('close', (code) => done(code === 0, Buffer.concat(err).toString('utf8')));
  });
}

const git = (args: string[], cwd: string) => run(args, cwd);

/** A path inside the checkout names the same file at the revision; one outside it stays what it is (made absolute). */
function atRevision(p: string | undefined, cwd: string, top: string, tmp: string): string | undefined {
  if (p === undefined) return undefined;
  const abs = path.resolve(cwd, p);
  const rel = path.relative(top, abs);
  return rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel) ? abs : path.join(tmp, rel);
}

export async function hashesSince(revision: string, cli: CliOptions, options: LoadOptions): Promise<{ since?: SinceHashes; diagnostics: Diagnostic[] }> {
  const top = await git(['rev-parse', '--show-toplevel'], options.cwd);
  if (!top.ok) return { diagnostics: [error('KG900', `--affected-since ${revision}: ${options.cwd} is not in a git checkout (${top.stderr.split('\n')[0]})`)] };
  const commit = await git(['rev-parse', '--verify', '--quiet', `${revision}^{commit}`], options.cwd);
  if (!commit.ok) return { diagnostics: [error('KG900', `--affected-since ${revision}: git knows no such revision`)] };
  const prefix = (await git(['rev-parse', '--show-prefix'], options.cwd)).stdout;
  const shortSha = (await git(['log', '-n1', '--pretty=format:%h', commit.stdout], options.cwd)).stdout;

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-since-'));
  try {
    // The revision's files as a checkout writes them (filters and eol as in the work tree; git archive would apply
    // export-ignore and export-subst), through an index of our own: the repo's index and work tree are not touched.
    const tree = path.join(tmp, 'tree');
    const env = { ...process.env, GIT_INDEX_FILE: path.join(tmp, 'index') };
    const read = await run(['read-tree', commit.stdout], top.stdout, env);
    const checkout = read.ok ? await run(['checkout-index', '--all', '--force', `--prefix=${tree}${path.sep}`], top.stdout, env) : read;
    if (!checkout.ok) {
      return { diagnostics: [error('KG900', `--affected-since ${revision}: cannot check the revision out (${checkout.stderr.split('\n')[0]})`)] };
    }
    // git names the top by its real path: so must cwd, for the paths under it to map.
    const cwd = fs.realpathSync(options.cwd);
    const map = (p: string | undefined) => atRevision(p, cwd, fs.realpathSync(top.stdout), tree);
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
      gitShortSha: shortSha,
    };
    const loaded = loadProject(then, load);
    const result = loaded.project ? compile(loaded.project, { rendered: await renderParallel(loaded.project) }) : undefined;
    const problems = [...loaded.diagnostics, ...(result?.diagnostics ?? [])];
    const compiled = result && 'bake' in result ? (result as Compiled) : undefined;
    if (!compiled || hasErrors(problems)) {
      const first = problems.find((d) => d.severity === 'error');
      const why = first ? `${first.code} ${first.message}` : 'it did not compile';
      return {
        since: { revision, hashes: new Map() },
        diagnostics: [warning('KG901', `the tree at ${revision} (${shortSha}) does not compile with these options (${why}): every image counts as affected`)],
      };
    }
    return { since: { revision, hashes: compiled.hashes }, diagnostics: [] };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
