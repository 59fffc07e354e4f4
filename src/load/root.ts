// The repo root: the folder of the config file (-c), else the directory kolla-gen runs in. Every path kolla-gen writes
// (bake contexts, dockerfiles, the manifest) is relative to it, so the output is the same from any working directory.
import * as path from 'node:path';

export function repoRoot(cwd: string, configFile: string | undefined): string {
  return configFile === undefined ? cwd : path.dirname(path.resolve(cwd, configFile));
}

/** Whether `p` is `dir` or lies below it (lexically: links are not followed). */
export function isWithin(dir: string, p: string): boolean {
  const rel = path.relative(dir, p);
  return rel === '' || !(rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel));
}

/** A path the user typed (relative to cwd) as a path relative to the root, "/"-separated. */
export function fromRoot(cwd: string, root: string, p: string): string {
  if (root === cwd && !path.isAbsolute(p)) return p;
  const rel = path.relative(root, path.resolve(cwd, p)).split(path.sep).join('/');
  return rel === '' ? '.' : rel;
}
