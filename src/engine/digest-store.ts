// What --skip-existing learned of registry content by digest, kept on disk for the next run: a manifest list's
// bytes once its entries were all found in the registry, an image manifest's and its config's bytes once read. Each
// file is named by the digest of its bytes and is used only when its bytes still hash to that name, so a file put
// there by anything else is not believed (it is ignored); only regular files up to a size are read. What a list's
// file also stands for, that its entries were there when it was written, cannot be checked so: see
// docs/changes.md ("What --skip-existing asks") for that trade-off. Nothing here can fail a run.
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, mkdirSync, openSync, readSync, renameSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

/** The largest file read back: no manifest or image config comes near it. */
const MAX_BYTES = 4 * 1024 * 1024;
const NAME = /^(sha256|sha512):([a-f0-9]{64}|[a-f0-9]{128})$/;

export interface DigestStore {
  /** The bytes kept under digest, only when they hash to it. */
  get(digest: string): Buffer | undefined;
  /** Keeps body under digest when it hashes to it. */
  put(digest: string, body: Buffer): void;
}

/** The sha256 or sha512 digest of body, in the algorithm digest names; undefined for another algorithm. */
export function digestOf(body: Buffer, digest: string): string | undefined {
  const algorithm = NAME.exec(digest)?.[1];
  return algorithm === undefined ? undefined : `${algorithm}:${createHash(algorithm).update(body).digest('hex')}`;
}

/**
 * `<cache>/registry`, the cache being $KOLLA_GEN_CACHE_DIR, else $XDG_CACHE_HOME/kolla-gen, else ~/.cache/kolla-gen
 * (a relative path in either variable is ignored, as the XDG spec says); none with KOLLA_GEN_CACHE=off.
 */
export function openDigestStore(env: Record<string, string | undefined>): DigestStore | undefined {
  if (/^(off|0|false|no)$/i.test(env.KOLLA_GEN_CACHE ?? '')) return undefined;
  const absolute = (p: string | undefined) => (p && isAbsolute(p) ? p : undefined);
  const xdg = absolute(env.XDG_CACHE_HOME);
  const home = absolute(env.HOME);
  const root = absolute(env.KOLLA_GEN_CACHE_DIR) ?? (xdg ? join(xdg, 'kolla-gen') : home ? join(home, '.cache', 'kolla-gen') : undefined);
  if (root === undefined) return undefined;
  const dir = join(root, 'registry');
  const file = (digest: string) => {
    const match = NAME.exec(digest);
    return match ? join(dir, `${match[1]}-${match[2]}`) : undefined;
  };
  return {
    get(digest) {
      const at = file(digest);
      if (at === undefined) return undefined;
      const body = readBounded(at);
      return body !== undefined && digestOf(body, digest) === digest ? body : undefined;
    },
    put(digest, body) {
      const at = file(digest);
      if (at === undefined || body.length > MAX_BYTES || digestOf(body, digest) !== digest) return;
      try {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        const temp = `${at}.${process.pid}.tmp`;
        writeFileSync(temp, body, { mode: 0o600 });
        renameSync(temp, at);
      } catch {
        // a cache that cannot be written is asked again next time
      }
    },
  };
}

/** A regular file's bytes (a link, a FIFO, a device or a file over MAX_BYTES: undefined). */
function readBounded(file: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size > MAX_BYTES) return undefined;
    const body = Buffer.alloc(stat.size);
    let read = 0;
    while (read < body.length) {
      const n = readSync(fd, body, read, body.length - read, read);
      if (n === 0) break;
      read += n;
    }
    return read === body.length ? body : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
