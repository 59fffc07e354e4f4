// kolla-gen init: reads the checkout -D names (the edge that runs git). Finds its root and the docker dir of its
// release (kolla/docker on master, docker on stable and unmaintained branches), its commit, branch and origin, whether
// it lies inside the repo (a submodule) or beside it, and the names of its own profiles.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { error, warning, type Diagnostic } from '../core/diagnostics.js';
import { parseKollaConfigPy } from '../load/kolla/preset.js';
import type { InitCheckout } from './init-files.js';

const posix = (p: string) => p.split(path.sep).join('/');

/** A path relative to the repo root, "/"-separated; "." for the root itself. */
function fromRepo(cwd: string, abs: string): string {
  return posix(path.relative(cwd, abs)) || '.';
}

function git(dir: string, args: string[]): string | undefined {
  try {
    return execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The branch of a checkout: its current branch, or (detached, as kolla-releases.sh leaves worktrees) the remote one at HEAD. */
function branchOf(dir: string): string | undefined {
  const current = git(dir, ['symbolic-ref', '--short', '-q', 'HEAD']);
  if (current) return current;
  const remote = git(dir, ['for-each-ref', '--points-at', 'HEAD', '--format=%(refname:short)', 'refs/remotes/origin']);
  return remote?.split('\n').map((r) => r.replace(/^origin\//, '')).find((r) => r !== 'HEAD' && r !== 'origin');
}

function isWithin(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * The kolla checkout around -D: the folder that holds kolla/common/config.py, found from -D itself (the checkout),
 * its parent (`<checkout>/docker`, `<checkout>/kolla`) or grandparent (`<checkout>/kolla/docker`), whether or not
 * -D exists, so that a -D of the other release's layout is named as such.
 */
export function readKollaCheckoutForInit(cwd: string, dockerDir: string): { checkout?: InitCheckout; diagnostics: Diagnostic[] } {
  const abs = path.resolve(cwd, dockerDir);
  const root = [abs, path.dirname(abs), path.dirname(path.dirname(abs))].find((d) => fs.existsSync(path.join(d, 'kolla', 'common', 'config.py')));
  if (!root) {
    return {
      diagnostics: [
        error('KG740', `no kolla checkout at ${dockerDir} (no kolla/common/config.py there or above it)`, {
          hint: 'get upstream first, then run init again: as a submodule (recommended: pinned by git) `git submodule add https://opendev.org/openstack/kolla kolla` then `kolla-gen init --preset kolla -D kolla`; or beside the repo `git clone https://opendev.org/openstack/kolla ../kolla` then `kolla-gen init --preset kolla -D ../kolla`',
        }),
      ],
    };
  }
  const release = [path.join(root, 'kolla', 'docker'), path.join(root, 'docker')].find((d) => fs.existsSync(d) && fs.statSync(d).isDirectory());
  const rootRel = fromRepo(cwd, root);
  const branch = branchOf(root);
  const on = branch ? ` (${branch})` : '';
  if (!release) {
    return { diagnostics: [error('KG740', `the kolla checkout ${rootRel}${on} has neither kolla/docker nor docker`, { hint: 'check out a kolla branch (master, stable/…) there' })] };
  }
  if (abs !== root && abs !== release) {
    const dockerRel = fromRepo(cwd, release);
    return {
      diagnostics: [
        error('KG741', `-D ${dockerDir} is not the docker dir of the kolla checkout ${rootRel}${on}: its templates are in ${dockerRel}`, {
          hint: `pass -D ${dockerRel}, or the checkout itself (-D ${rootRel}): master keeps them in kolla/docker, stable and unmaintained branches in docker`,
        }),
      ],
    };
  }
  const diagnostics: Diagnostic[] = [];
  let profiles: string[] = [];
  const configPy = path.join(root, 'kolla', 'common', 'config.py');
  try {
    profiles = Object.keys(parseKollaConfigPy(fs.readFileSync(configPy, 'utf8')).profiles ?? {});
  } catch {
    // unreadable: the preset says so when it reads the checkout
  }
  const checkout: InitCheckout = {
    root: rootRel,
    dockerDir: fromRepo(cwd, release),
    layout: 'submodule',
    profiles,
    configPy: fromRepo(cwd, configPy),
    ...(branch ? { branch } : {}),
  };
  return withLayout(cwd, root, checkout, diagnostics);
}

/** A docker dir that is not kolla's: beside the repo, the git checkout it lies in is pinned as kolla's is. */
export function readCheckoutForInit(cwd: string, dockerDir: string): { checkout?: InitCheckout; diagnostics: Diagnostic[] } {
  const abs = path.resolve(cwd, dockerDir);
  if (isWithin(cwd, abs)) return { diagnostics: [] };
  const top = fs.existsSync(abs) ? git(abs, ['rev-parse', '--show-toplevel']) : undefined;
  const root = top ?? abs;
  const branch = top ? branchOf(top) : undefined;
  const checkout: InitCheckout = { root: fromRepo(cwd, root), dockerDir, layout: 'beside', profiles: [], ...(branch ? { branch } : {}) };
  return withLayout(cwd, root, checkout, []);
}

/** Inside the repo, git pins the checkout (a submodule); beside it, kolla-gen.yaml records its origin and commit. */
function withLayout(cwd: string, root: string, checkout: InitCheckout, diagnostics: Diagnostic[]): { checkout?: InitCheckout; diagnostics: Diagnostic[] } {
  const rootRel = checkout.root;
  if (isWithin(cwd, root)) {
    const staged = git(cwd, ['ls-files', '--stage', '--', rootRel]);
    if (rootRel !== '.' && !staged?.startsWith('160000 ')) {
      diagnostics.push(
        warning('KG743', `${rootRel} lies inside this repo but is not a submodule of it: CI sees only what the repo commits`, {
          hint: `add upstream as a submodule (git submodule add https://opendev.org/openstack/kolla ${rootRel}), which pins its commit; or commit the tree`,
        }),
      );
    }
    return { checkout: { ...checkout, layout: 'submodule' }, diagnostics };
  }
  // The checkout's own git: not that of a repo it happens to lie in.
  const top = git(root, ['rev-parse', '--show-toplevel']);
  const own = top !== undefined && fs.realpathSync(top) === fs.realpathSync(root);
  const commit = own ? git(root, ['rev-parse', 'HEAD']) : undefined;
  if (!commit || !/^[0-9a-f]{40}$/.test(commit)) {
    diagnostics.push(
      error('KG742', `cannot read the git commit of ${rootRel}: it lies outside this repo, and CI must check out the commit generated/ is made from`, {
        hint: 'make it a git checkout (git clone URL), or a submodule of this repo (git submodule add URL DIR, then -D DIR)',
      }),
    );
    return { diagnostics };
  }
  // A URL as git prints it may hold credentials (https://user:token@host/...): never write them down.
  const url = git(root, ['remote', 'get-url', 'origin'])?.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1');
  if (!url || url.startsWith('-') || /\s/.test(url)) {
    diagnostics.push(
      warning('KG742', `the checkout ${rootRel} has no usable remote origin: upstream.url in kolla-gen.yaml is left for you to fill in`, {
        hint: `git -C ${rootRel} remote add origin URL, then run init again in a new dir; or write upstream.url in kolla-gen.yaml`,
      }),
    );
  }
  const branch = checkout.branch;
  const upstream = { commit, ...(url && !url.startsWith('-') && !/\s/.test(url) ? { url } : {}), ...(branch ? { branch } : {}) };
  return { checkout: { ...checkout, layout: 'beside', upstream }, diagnostics };
}

/** The commit and branch of the git checkout a docker dir lies in, for init --bump. */
export function checkoutHead(cwd: string, dockerDir: string): { root: string; commit: string; branch?: string } | undefined {
  const abs = path.resolve(cwd, dockerDir);
  const top = fs.existsSync(abs) ? git(abs, ['rev-parse', '--show-toplevel']) : undefined;
  const commit = top ? git(top, ['rev-parse', 'HEAD']) : undefined;
  if (!top || !commit || !/^[0-9a-f]{40}$/.test(commit)) return undefined;
  const branch = branchOf(top);
  return { root: fromRepo(cwd, top), commit, ...(branch ? { branch } : {}) };
}
