// Reading a docker dir, which is untrusted: links are followed only while every hop stays inside the dir, special
// files are refused, and every read is bounded. Nothing behind a refused link is read.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { error, type Diagnostic } from '../core/diagnostics.js';
import { isWithin } from './root.js';

/** The largest template (any .j2 file, .dockerignore) kolla-gen reads: far above any real template. */
export const MAX_TEMPLATE_BYTES = 64 * 1024 * 1024;
/** The largest context file kolla-gen hashes or copies (2 GiB). */
export const MAX_CONTEXT_FILE_BYTES = 2 * 1024 * 1024 * 1024;
/** Hops through links before a chain counts as a loop (the kernel's own limit is 40). */
const MAX_HOPS = 40;

export interface DockerDirScan {
  /** Every file, relative to the docker dir, "/"-separated, sorted; a link to a file is a file. */
  files: string[];
  /** A file reached through a link (its own or a linked folder) → the file it is, relative to the docker dir. */
  links: Map<string, string>;
  diagnostics: Diagnostic[];
}

function toRel(root: string, abs: string): string {
  return path.relative(root, abs).split(path.sep).join('/');
}

type Refusal = 'outside' | 'dangling' | 'loop' | 'special';
type Resolved = { kind: 'file'; real: string } | { kind: 'dir'; real: string } | { kind: Refusal; detail: string };

/**
 * Where a link inside realRoot leads, resolved one component at a time as the kernel would, refusing as soon as a hop
 * leaves realRoot: only lstat and readlink are called, so nothing outside the dir is ever opened.
 */
function resolveLink(realRoot: string, roots: string[], link: string): Resolved {
  let current = path.dirname(link);
  let pending = [path.basename(link)];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (current === realRoot) return { kind: 'outside', detail: 'it leads above the docker dir' };
      current = path.dirname(current);
      continue;
    }
    const next = path.join(current, part);
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(next);
    } catch {
      return { kind: 'dangling', detail: `${toRel(realRoot, next)} does not exist` };
    }
    if (stat.isSymbolicLink()) {
      if (++hops > MAX_HOPS) return { kind: 'loop', detail: `more than ${MAX_HOPS} links in a row` };
      const target = fs.readlinkSync(next);
      if (path.isAbsolute(target)) {
        const root = roots.find((r) => target === r || target.startsWith(r + path.sep));
        if (root === undefined) return { kind: 'outside', detail: `it points to ${target}` };
        current = realRoot;
        pending = [...path.relative(root, target).split(path.sep), ...pending];
      } else {
        pending = [...target.split(/[\\/]/), ...pending];
      }
      continue;
    }
    if (pending.length > 0 && !stat.isDirectory()) return { kind: 'dangling', detail: `${toRel(realRoot, next)} is not a folder` };
    current = next;
  }
  const stat = fs.lstatSync(current);
  if (stat.isFile()) return { kind: 'file', real: current };
  if (stat.isDirectory()) return { kind: 'dir', real: current };
  return { kind: 'special', detail: `${toRel(realRoot, current)} is not a regular file` };
}

const LINK_CODES = { outside: 'KG210', dangling: 'KG211', loop: 'KG212', special: 'KG213' } as const;
const LINK_WHAT = {
  outside: 'leaves its docker dir',
  dangling: 'is dangling',
  loop: 'is a link loop',
  special: 'is not a regular file or folder',
} as const;

/** Lists a docker dir (dir: as the output names it; abs: on disk), resolving its links by the trust model's rule. */
export function scanDockerDir(dir: string, abs: string): DockerDirScan {
  const realRoot = fs.realpathSync(abs);
  const roots = [...new Set([realRoot, path.resolve(abs)])];
  const files: string[] = [];
  const links = new Map<string, string>();
  const diagnostics: Diagnostic[] = [];
  const refuse = (rel: string, kind: keyof typeof LINK_CODES, detail: string, isLink: boolean) => {
    const file = dir === '.' ? rel : `${dir}/${rel}`;
    const what = isLink ? LINK_WHAT[kind] : 'is not a regular file, folder or link';
    diagnostics.push(error(LINK_CODES[kind], `${file} ${what}: ${detail}; kolla-gen reads nothing behind it`, { location: { file, line: 1, column: 1 } }));
  };

  // rel: the folder's path in the tree; real: where it is; linked: reached through a link; chain: the real folders
  // above it (a linked folder that is one of them is a loop).
  const walk = (rel: string, real: string, linked: boolean, chain: Set<string>) => {
    // Sorted: diagnostics come out in the same order on every file system.
    const entries = fs.readdirSync(real, { withFileTypes: true }).sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name === '.git') continue;
      const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
      const childReal = path.join(real, entry.name);
      if (entry.isDirectory()) {
        walk(childRel, childReal, linked, new Set([...chain, childReal]));
      } else if (entry.isFile()) {
        files.push(childRel);
        if (linked) links.set(childRel, toRel(realRoot, childReal));
      } else if (entry.isSymbolicLink()) {
        const to = resolveLink(realRoot, roots, childReal);
        if (to.kind === 'file') {
          files.push(childRel);
          links.set(childRel, toRel(realRoot, to.real));
        } else if (to.kind === 'dir') {
          if (chain.has(to.real)) refuse(childRel, 'loop', `it points to ${toRel(realRoot, to.real) || 'the docker dir'}, which holds it`, true);
          else walk(childRel, to.real, true, new Set([...chain, to.real]));
        } else if ('detail' in to) {
          refuse(childRel, to.kind, to.detail, true);
        }
      } else {
        refuse(childRel, 'special', 'FIFOs, sockets and devices cannot be read safely', false);
      }
    }
  };
  walk('', realRoot, false, new Set([realRoot]));
  files.sort();
  return { files, links, diagnostics };
}

/** A regular file opened without following a link, or why not. */
function openRegular(abs: string): { fd: number; size: number } | { problem: string } {
  let fd: number;
  try {
    fd = fs.openSync(abs, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { problem: code === 'ELOOP' ? 'it is a link' : code === 'ENOENT' ? 'it does not exist' : `it cannot be opened (${code ?? 'error'})` };
  }
  const stat = fs.fstatSync(fd);
  if (!stat.isFile()) {
    fs.closeSync(fd);
    return { problem: 'it is not a regular file' };
  }
  return { fd, size: stat.size };
}

/** Reads a regular file of at most max bytes, never through a link; else says why not. */
export function readBounded(abs: string, max: number): { bytes: Buffer } | { problem: string; size?: number } {
  const opened = openRegular(abs);
  if ('problem' in opened) return opened;
  try {
    if (opened.size > max) return { problem: `it has ${opened.size} bytes, over the limit of ${max}`, size: opened.size };
    const bytes = Buffer.alloc(opened.size);
    let done = 0;
    while (done < opened.size) {
      const n = fs.readSync(opened.fd, bytes, done, opened.size - done, done);
      if (n === 0) break;
      done += n;
    }
    return { bytes: bytes.subarray(0, done) };
  } finally {
    fs.closeSync(opened.fd);
  }
}

/** digestBounded's read buffer: one for every file (it reads synchronously), not 1 MiB zeroed for each. */
let chunk: Buffer | undefined;

/** The sha256 and mode of a regular file of at most max bytes, read in chunks; else why not. */
export function digestBounded(abs: string, max: number): { sha256: string; executable: boolean } | { problem: string } {
  const opened = openRegular(abs);
  if ('problem' in opened) return opened;
  try {
    if (opened.size > max) return { problem: `it has ${opened.size} bytes, over the limit of ${max}` };
    const hash = createHash('sha256');
    chunk ??= Buffer.allocUnsafe(1024 * 1024);
    for (let pos = 0; ; ) {
      const n = fs.readSync(opened.fd, chunk, 0, chunk.length, pos);
      if (n === 0) break;
      hash.update(chunk.subarray(0, n));
      pos += n;
      if (pos > max) return { problem: `it grew over the limit of ${max} bytes while read` };
    }
    return { sha256: hash.digest('hex'), executable: (fs.fstatSync(opened.fd).mode & 0o111) !== 0 };
  } finally {
    fs.closeSync(opened.fd);
  }
}

/** The first bytes that are not UTF-8 (offset to end, inclusive), and why, in the words of Python's codec; undefined when valid. */
export function firstInvalidUtf8(bytes: Uint8Array): { offset: number; end: number; reason: string } | undefined {
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f; // no surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return { offset: i, end: i, reason: 'invalid start byte' };
    for (let k = 1; k <= need; k++) {
      if (i + k >= bytes.length) return { offset: i, end: bytes.length - 1, reason: 'unexpected end of data' };
      const c = bytes[i + k] as number;
      if (c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return { offset: i, end: i, reason: 'invalid continuation byte' };
    }
    i += need + 1;
  }
  return undefined;
}

/**
 * The nearest folder from `cwd` upward that holds the config file `name` (kolla-gen.yaml). The search stops at the top of the git work tree
 * (a folder holding `.git`, a dir or a submodule's or worktree's file) or the file system root: a config above the
 * repo (in a home dir) belongs to no command run inside it.
 */
export function findConfigDir(cwd: string, name: string): string | undefined {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, name))) return dir;
    if (fs.existsSync(path.join(dir, '.git')) || path.dirname(dir) === dir) return undefined;
  }
}

/**
 * For a path inside the repo root (lexically): the first link on the way to it that resolves out of the root (a
 * commit can add one), as a "/"-path from the root with its target; undefined when every part it reaches is inside. A
 * dangling link counts as leaving (where it would lead cannot be known). Parts that do not exist end the walk.
 */
export function linkOutOfRoot(root: string, p: string): { link: string; target: string } | undefined {
  if (!isWithin(root, p)) return undefined;
  let realRoot: string;
  try {
    realRoot = fs.realpathSync(root);
  } catch {
    return undefined;
  }
  const parts = path.relative(root, p).split(path.sep).filter((part) => part !== '');
  for (let i = 1; i <= parts.length; i++) {
    const at = path.join(root, ...parts.slice(0, i));
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(at);
    } catch {
      return undefined;
    }
    if (!stat.isSymbolicLink()) continue;
    let real: string | undefined;
    try {
      real = fs.realpathSync(at);
    } catch {
      real = undefined;
    }
    if (real === undefined || !isWithin(realRoot, real)) return { link: parts.slice(0, i).join('/'), target: fs.readlinkSync(at) };
  }
  return undefined;
}
