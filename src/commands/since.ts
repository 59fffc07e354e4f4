// --affected-since REF: the content hash of every (image, variant) as the tree was at a git revision. The revision's
// files are exported into a temp dir and compiled there with the same command line, then the dir is removed.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import type { ContentHash } from '../content-hash.js';
import type { CliOptions } from '../config/resolve.js';
import { error, hasErrors, warning, type Diagnostic } from '../diagnostics.js';
import { loadProject, type LoadOptions } from '../load.js';
import { compile, type Compiled } from '../pipeline.js';
import { renderParallel } from '../render-parallel.js';

export interface SinceHashes {
  revision: string;
  /** By renderKey; empty when the tree at the revision does not compile (then everything is affected). */
  hashes: Map<string, ContentHash>;
}

async function git(args: string[], cwd: string): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  const run = await execa('git', args, { cwd, reject: false, stdin: 'ignore' });
  return { ok: run.exitCode === 0, stdout: String(run.stdout).trim(), stderr: String(run.stderr).trim() };
}

/** An absolute path inside the checkout names the same file at the revision. */
function atRevision(p: string | undefined, top: string, tmp: string): string | undefined {
  if (p === undefined || !path.isAbsolute(p)) return p;
  const rel = path.relative(top, p);
  return rel.startsWith('..') || path.isAbsolute(rel) ? p : path.join(tmp, rel);
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
    const archive = await execa('git', ['archive', '--format=tar', commit.stdout], { cwd: top.stdout, reject: false, stdin: 'ignore' }).pipe('tar', ['-x', '-C', tmp], {
      reject: false,
    });
    if (archive.exitCode !== 0) {
      return { diagnostics: [error('KG900', `--affected-since ${revision}: cannot export the revision (${String(archive.stderr).trim().split('\n')[0]})`)] };
    }
    const map = (p: string | undefined) => atRevision(p, top.stdout, tmp);
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
      cwd: path.join(tmp, prefix),
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
