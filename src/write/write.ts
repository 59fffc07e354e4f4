// The output dir on disk: the drift check, and the atomic replace that leaves it untouched when anything fails.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { error, type Diagnostic } from '../core/diagnostics.js';
import { MANIFEST_VERSION } from '../emit/manifest.js';
import type { OutputFile } from './output.js';

export interface Drift {
  stale: string[];
  missing: string[];
  extra: string[];
}

function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() || e.isSymbolicLink())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

function bytesOf(file: OutputFile, cwd: string): Buffer {
  return 'text' in file ? Buffer.from(file.text, 'utf8') : fs.readFileSync(path.resolve(cwd, file.copyFrom));
}

/** What differs between the files kolla-gen would write and those in the output dir. */
export function drift(outDir: string, files: Map<string, OutputFile>, cwd: string): Drift {
  const abs = path.resolve(cwd, outDir);
  const present = new Set(listFiles(abs));
  const result: Drift = { stale: [], missing: [], extra: [] };
  for (const [rel, file] of files) {
    if (!present.has(rel)) {
      result.missing.push(rel);
      continue;
    }
    present.delete(rel);
    if (!bytesOf(file, cwd).equals(fs.readFileSync(path.join(abs, rel)))) result.stale.push(rel);
  }
  result.extra = [...present].sort();
  return result;
}

export function isClean(d: Drift): boolean {
  return d.stale.length === 0 && d.missing.length === 0 && d.extra.length === 0;
}

export function driftDiagnostics(outDir: string, d: Drift): Diagnostic[] {
  const say = (what: string, rel: string) => error('KG701', `${what}: ${outDir}/${rel}`);
  return [...d.stale.map((r) => say('stale', r)), ...d.missing.map((r) => say('missing', r)), ...d.extra.map((r) => say('extra', r))];
}

/** kolla-gen replaces its output dir whole, so it refuses a dir that holds anything but its own output. */
function ownedProblem(outDir: string, abs: string): Diagnostic | undefined {
  if (!fs.existsSync(abs)) return undefined;
  if (!fs.statSync(abs).isDirectory()) return error('KG700', `${outDir} exists and is not a directory`);
  if (fs.readdirSync(abs).length === 0) return undefined;
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(abs, 'manifest.json'), 'utf8')) as { version?: unknown; images?: unknown };
    if (manifest.version === MANIFEST_VERSION && Array.isArray(manifest.images)) return undefined;
  } catch {
    // fall through: not ours
  }
  return error('KG700', `${outDir} holds files kolla-gen did not write (no kolla-gen manifest.json), so it will not replace it`);
}

async function inParallel<T>(items: T[], work: (item: T) => Promise<unknown>, limit = 32): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Writes the whole set into a sibling temp dir, then swaps it in: a failure leaves the old dir byte for byte. */
export async function writeOutput(outDir: string, files: Map<string, OutputFile>, cwd: string): Promise<Diagnostic[]> {
  const abs = path.resolve(cwd, outDir);
  const owned = ownedProblem(outDir, abs);
  if (owned) return [owned];
  const tmp = `${abs}.kolla-gen-${process.pid}.tmp`;
  const old = `${abs}.kolla-gen-${process.pid}.old`;
  const cleanUp = () => {
    try {
      fs.rmSync(tmp, { recursive: true, force: true });
    } catch {
      // nothing was made there
    }
  };
  try {
    cleanUp();
    fs.mkdirSync(tmp, { recursive: true });
    // Many small files: make the dirs first, then write with several writes in flight.
    const dirs = new Set([...files.keys()].map((rel) => path.dirname(path.join(tmp, rel))));
    await inParallel([...dirs], (dir) => fsp.mkdir(dir, { recursive: true }));
    await inParallel([...files], ([rel, file]) => {
      const dest = path.join(tmp, rel);
      return 'text' in file ? fsp.writeFile(dest, file.text) : fsp.copyFile(path.resolve(cwd, file.copyFrom), dest);
    });
  } catch (e) {
    cleanUp();
    return [error('KG703', `cannot write ${outDir}: ${(e as Error).message}`)];
  }
  try {
    if (fs.existsSync(abs)) {
      fs.renameSync(abs, old);
      try {
        fs.renameSync(tmp, abs);
      } catch (e) {
        fs.renameSync(old, abs);
        throw e;
      }
      fs.rmSync(old, { recursive: true, force: true });
    } else {
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      fs.renameSync(tmp, abs);
    }
  } catch (e) {
    cleanUp();
    return [error('KG703', `cannot replace ${outDir}: ${(e as Error).message}`)];
  }
  return [];
}
