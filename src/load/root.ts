// The repo root: the folder of the config file (-c), else the nearest folder holding kolla-gen.yaml from the directory
// kolla-gen runs in upward (as git and eslint search), no higher than the git top-level; else the directory kolla-gen
// runs in. Every path kolla-gen writes (bake contexts, dockerfiles, the manifest) is relative to it, so the output is
// the same from any working directory.
import * as path from 'node:path';

/** The default config file's name. */
export const CONFIG_NAME = 'kolla-gen.yaml';

/** `found`: with no -c (and no --no-config), the folder of the kolla-gen.yaml found upward (findConfigDir), if any. */
export function repoRoot(cwd: string, configFile: string | undefined, found?: string): string {
  if (configFile !== undefined) return path.dirname(path.resolve(cwd, configFile));
  return found ?? cwd;
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
