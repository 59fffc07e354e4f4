// `check --diff`: the unified diff of what generate would change in the output dir, git-style, in path order, bounded.
// Pure: write/write.ts reads the two sides of each file (driftSides).
import { createTwoFilesPatch } from 'diff';

/** What `check --diff` prints at most, in lines, and of one line, in characters: a CI log stays readable. */
export const DIFF_MAX_LINES = 2000;
export const DIFF_MAX_LINE_CHARS = 400;
/** A file larger than this is said to differ, not diffed (the diff library holds both sides and their edit graph). */
export const DIFF_MAX_FILE_BYTES = 4 * 1024 * 1024;

export interface DriftDiff {
  /** The unified diff, rendered Dockerfiles first, each file under `--- a/<path>` and `+++ b/<path>` (/dev/null for a missing or extra file). */
  text: string;
  /** Files and lines of the diff left out by the bound (0 when nothing was). */
  cutFiles: number;
  cutLines: number;
}

/** One side of a file's diff: its text, or why it is not diffed; undefined where the file is not (missing, extra). */
export type Side = { text: string } | { binary: true } | { tooLarge: number } | undefined;

/** The bytes of one side as the diff takes them. */
export function sideOf(bytes: Buffer | undefined): Side {
  if (bytes === undefined) return undefined;
  if (bytes.length > DIFF_MAX_FILE_BYTES) return { tooLarge: bytes.length };
  if (bytes.includes(0)) return { binary: true };
  return { text: bytes.toString('utf8') };
}

/** One file's diff lines: `a` as on disk, `b` as generate would write it; `name` is the path from the repo root. */
export function fileDiff(name: string, a: Side, b: Side): string[] {
  const from = a === undefined ? '/dev/null' : `a/${name}`;
  const to = b === undefined ? '/dev/null' : `b/${name}`;
  // No `diff --git` line: without git's mode lines after it, git apply could not create or delete a file; the plain
  // form, /dev/null for the side that is not there, it applies as patch(1) does.
  const head: string[] = [];
  if ((a && !('text' in a)) || (b && !('text' in b))) {
    const large = [a, b].find((s): s is { tooLarge: number } => s !== undefined && 'tooLarge' in s);
    return [...head, large ? `File ${name} differs (larger than ${DIFF_MAX_FILE_BYTES} bytes: not diffed)` : `Binary files ${from} and ${to} differ`];
  }
  const patch = createTwoFilesPatch(from, to, a?.text ?? '', b?.text ?? '', undefined, undefined, { context: 3 });
  // The library writes an Index line and a ==== rule first, and tab-separated empty headers: git's form is without.
  const lines = patch.split('\n');
  const start = lines.findIndex((l) => l.startsWith('--- '));
  const body = lines.slice(start).map((l) => (l.startsWith('--- ') || l.startsWith('+++ ') ? l.replace(/\t$/, '') : l));
  while (body.length > 0 && body[body.length - 1] === '') body.pop();
  return [...head, ...body];
}

/** A file that differs: its path from the repo root, as on disk (a) and as generate would write it (b). */
export interface DiffEntry {
  name: string;
  a: Side;
  b: Side;
}

/**
 * The diff of every entry, rendered Dockerfiles first, each group in path order, cut after `maxLines` lines (inside a file where need be) with what was cut
 * counted. Deterministic: nothing but the entries is read.
 */
export function unifiedDiff(entries: readonly DiffEntry[], maxLines = DIFF_MAX_LINES): DriftDiff {
  const out: string[] = [];
  let cutFiles = 0;
  let cutLines = 0;
  // The rendered Dockerfiles first (what a reviewer reads), then the bake files and manifest.json; each in path order.
  const rank = (name: string) => (/(^|\/)Dockerfile[^/]*$/.test(name) ? 0 : 1);
  const order = (x: DiffEntry, y: DiffEntry) => rank(x.name) - rank(y.name) || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0);
  for (const { name, a, b } of [...entries].sort(order)) {
    const lines = fileDiff(name, a, b).map((l) =>
      l.length > DIFF_MAX_LINE_CHARS ? `${l.slice(0, DIFF_MAX_LINE_CHARS)}… (${l.length - DIFF_MAX_LINE_CHARS} more characters)` : l,
    );
    const room = maxLines - out.length;
    if (room <= 0 || cutFiles > 0) {
      cutFiles++;
      cutLines += lines.length;
      continue;
    }
    if (lines.length <= room) {
      out.push(...lines);
      continue;
    }
    out.push(...lines.slice(0, room));
    cutLines += lines.length - room;
    cutFiles++;
  }
  return { text: out.length > 0 ? `${out.join('\n')}\n` : '', cutFiles, cutLines };
}
