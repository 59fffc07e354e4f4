// What --skip-existing learned of registry content by digest, where it reads manifests (a tag that is not a content tag,
// or every tag with verify_existing: registry.ts), kept on disk for the next run: a manifest list's
// bytes once its entries were all found in the registry, an image manifest's and its config's bytes once read. Each
// file is named by the digest of its bytes and is used only when its bytes still hash to that name, so a file put
// there by anything else is not believed (it is ignored); only regular files up to a size are read. What a list's
// file also stands for, that its entries were there when it was written, cannot be checked so: see
// docs/changes.md ("What --skip-existing asks") for that trade-off. Nothing here can fail a run.
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, readCacheFile } from './cache-dir.js';

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
 * `<cache>/registry` (cache-dir.ts: the same dir as the template cache); none with KOLLA_GEN_CACHE=off.
 */
export function openDigestStore(env: Record<string, string | undefined>): DigestStore | undefined {
  const root = cacheDir(env);
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
      const body = readCacheFile(at, MAX_BYTES);
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

