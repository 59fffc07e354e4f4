// The base image lock: kolla-gen.lock.json beside kolla-gen.yaml, written by `kolla-gen lock`. Each external base
// (a FROM that is neither an image of the tree nor a stage) → the digest its tag pointed to when it was locked. Opt-in:
// without the file every command runs as it did; once it exists, builds use its digests and miss none.
import * as path from 'node:path';
import { error, type Diagnostic } from '../core/diagnostics.js';
import { familiarRef, parseRef } from '../core/ref.js';

export const LOCK_NAME = 'kolla-gen.lock.json';
export const LOCK_VERSION = 1;
const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
/** A lock of thousands of bases is still small; a larger file is not one kolla-gen wrote. */
export const MAX_LOCK_BYTES = 4 * 1024 * 1024;

export interface BaseLock {
  /** Relative to the repo root: beside the config file, or in the root when there is none. */
  path: string;
  /** Familiar ref ("ubuntu:24.04") → digest ("sha256:…"); undefined when the file does not exist (no lock). */
  entries?: Map<string, string>;
}

/** Where the lock is: beside the config file (`configPath` relative to the repo root), else in the root. */
export function lockPath(configPath: string | undefined): string {
  return configPath === undefined ? LOCK_NAME : path.posix.join(path.posix.dirname(configPath.split(path.sep).join('/')), LOCK_NAME);
}

/** The line of the first occurrence of `needle` in text (1-based), for a diagnostic's place. */
function lineOf(text: string, needle: string): number {
  const at = text.indexOf(needle);
  return at < 0 ? 1 : text.slice(0, at).split('\n').length;
}

/** The lock's entries, or the problems that make it unusable. */
export function parseLock(file: string, text: string): { entries?: Map<string, string>; diagnostics: Diagnostic[] } {
  const fail = (message: string, line = 1) => ({ diagnostics: [error('KG480', `${file}: ${message}`, { location: { file, line, column: 1 }, source: text })] });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return fail(`not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return fail('not a JSON object');
  const { version, bases } = json as { version?: unknown; bases?: unknown };
  if (version !== LOCK_VERSION) return fail(`"version" is ${JSON.stringify(version)}, not ${LOCK_VERSION} (written by a newer kolla-gen?)`, lineOf(text, '"version"'));
  if (typeof bases !== 'object' || bases === null || Array.isArray(bases)) return fail('"bases" is not an object of ref → {"digest": …}', lineOf(text, '"bases"'));
  const entries = new Map<string, string>();
  for (const [ref, entry] of Object.entries(bases)) {
    const line = lineOf(text, JSON.stringify(ref));
    const parsed = parseRef(ref);
    if (parsed === undefined || familiarRef(ref) !== ref || parsed.digest !== undefined) {
      return fail(`${JSON.stringify(ref)} is not an image reference in docker's familiar form without a digest (ubuntu:24.04, quay.io/org/name:tag)`, line);
    }
    const digest = (entry as { digest?: unknown } | null)?.digest;
    if (typeof digest !== 'string' || !DIGEST_RE.test(digest)) return fail(`the entry of ${ref} has no "digest": "sha256:<64 hex>"`, line);
    entries.set(ref, digest);
  }
  return { entries, diagnostics: [] };
}

/** The lock file's text: sorted by ref, two-space JSON, a final newline (the same entries, the same bytes). */
export function formatLock(entries: Map<string, string>): string {
  const bases = Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([ref, digest]) => [ref, { digest }]));
  return `${JSON.stringify({ version: LOCK_VERSION, bases }, null, 2)}\n`;
}
