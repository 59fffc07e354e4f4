// kolla-gen's cache dir, and how a file of it is read: as something a restored CI cache, or anything else that can
// write the dir, may have put there (docs/security.md "The cache").
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/**
 * $KOLLA_GEN_CACHE_DIR, else $XDG_CACHE_HOME/kolla-gen, else ~/.cache/kolla-gen; a relative path in any of them is
 * ignored, as the XDG spec says (it would put the cache in whatever dir a run starts in, an image's context for
 * one). Undefined with KOLLA_GEN_CACHE=off, or with no absolute dir to keep it in.
 */
export function cacheDir(env: Record<string, string | undefined>): string | undefined {
  if (/^(off|0|false|no)$/i.test(env.KOLLA_GEN_CACHE ?? '')) return undefined;
  const absolute = (p: string | undefined) => (p && isAbsolute(p) ? p : undefined);
  const xdg = absolute(env.XDG_CACHE_HOME);
  const home = absolute(homedir());
  return absolute(env.KOLLA_GEN_CACHE_DIR) ?? (xdg ? join(xdg, 'kolla-gen') : home ? join(home, '.cache', 'kolla-gen') : undefined);
}

/**
 * The bytes of a cache file, or undefined where it is not one kolla-gen can have written: missing, a link (never
 * followed), not a regular file (a FIFO is opened without blocking and never read), another user's or writable by
 * others, or larger than max bytes. Reads at most the size it had when opened.
 */
export function readCacheFile(file: string, max: number): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const stat = fstatSync(fd);
    const uid = process.getuid?.();
    if (!stat.isFile() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o022) !== 0 || stat.size > max) return undefined;
    const bytes = Buffer.allocUnsafe(stat.size);
    for (let at = 0; at < bytes.length; ) {
      const n = readSync(fd, bytes, at, bytes.length - at, at);
      // Shorter than it said: a file being cut; a miss.
      if (n === 0) return undefined;
      at += n;
    }
    return bytes;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
