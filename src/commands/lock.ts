// kolla-gen lock [REF...]: resolve the tree's external bases to the digests their tags point to now, and write them to
// the lock file (kolla-gen.lock.json beside kolla-gen.yaml). Without refs every base is resolved again; with refs only
// those (and any base the lock lacks). --check writes nothing and fails when the lock would change.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CliOptions } from '../load/config/resolve.js';
import { error, hasErrors, type Diagnostic } from '../core/diagnostics.js';
import { familiarRef } from '../core/ref.js';
import { loadProject, readLock, type LoadOptions } from '../load/load.js';
import { formatLock } from '../load/lock.js';
import { compileHashes } from '../pipeline.js';
import { renderParallel } from '../render/parallel.js';
import { failed, type CommandResult } from './run.js';

export interface LockOptions {
  /** Refs to resolve again (as a FROM names them); empty: every base. */
  refs: string[];
  /** Write nothing; exit 1 when the lock would change. */
  check?: boolean;
}

/** One line of what changed: a base added, moved to another digest, or no longer used. */
interface Change {
  ref: string;
  before?: string;
  after?: string;
}

const short = (digest: string | undefined) => (digest === undefined ? '-' : digest.slice(0, 19));

function describe(change: Change): string {
  if (change.before === undefined) return `added    ${change.ref} ${change.after}`;
  if (change.after === undefined) return `removed  ${change.ref} (no FROM names it)`;
  return `updated  ${change.ref} ${short(change.before)}… → ${change.after}`;
}

export async function lock(cli: CliOptions, options: LoadOptions, lockOptions: LockOptions): Promise<CommandResult> {
  // The lock itself is not read by the load: a broken one is what this command repairs.
  const loaded = loadProject(cli, { ...options, ignoreLock: true });
  if (!loaded.project) return failed(loaded.diagnostics);
  const { project } = loaded;
  const diagnostics: Diagnostic[] = [...loaded.diagnostics];
  const current = readLock(options.cwd, project.config.configPath);
  const file = current.lock.path;
  if (hasErrors(current.diagnostics)) {
    diagnostics.push(...current.diagnostics.map((d) => ({ ...d, severity: 'warning' as const, hint: `kolla-gen lock rewrites ${file} from the registry` })));
  }
  const before = current.lock.entries ?? new Map<string, string>();

  const hashed = compileHashes(project, await renderParallel(project));
  diagnostics.push(...hashed.diagnostics);
  if (!hashed.bases || hasErrors(diagnostics)) return failed(diagnostics);
  const used = [...new Set([...hashed.bases.values()].flat().flatMap((use) => (use.digested ? [] : [use.familiar])))].sort();

  const asked: string[] = [];
  for (const raw of lockOptions.refs) {
    const ref = familiarRef(raw);
    if (ref === undefined || !used.includes(ref)) {
      diagnostics.push(
        error('KG484', `${raw} is no external base of the tree${used.length > 0 ? ` (its bases: ${used.join(', ')})` : ' (it has none)'}`),
      );
    } else asked.push(ref);
  }
  if (hasErrors(diagnostics)) return failed(diagnostics);
  const resolve = lockOptions.refs.length > 0 ? used.filter((ref) => asked.includes(ref) || !before.has(ref)) : used;

  const after = new Map<string, string>();
  if (resolve.length > 0) {
    const { probeTags } = await import('../engine/registry.js');
    const probes = await probeTags(resolve, { env: options.env, insecure: project.config.insecureRegistries });
    for (const ref of resolve) {
      const probe = probes.get(ref);
      if (probe?.status === 'present') after.set(ref, probe.digest);
      else diagnostics.push(error('KG482', `cannot resolve ${ref}: ${probe?.status === 'error' ? probe.message : 'the registry has no such tag'}`));
    }
  }
  if (hasErrors(diagnostics)) return failed(diagnostics);
  for (const ref of used) if (!after.has(ref)) after.set(ref, before.get(ref) as string);

  const changes: Change[] = [];
  for (const ref of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    if (before.get(ref) !== after.get(ref)) changes.push({ ref, before: before.get(ref), after: after.get(ref) });
  }
  const text = formatLock(after);
  const abs = path.resolve(options.cwd, file);
  let onDisk: string | undefined;
  try {
    onDisk = fs.readFileSync(abs, 'utf8');
  } catch {
    onDisk = undefined;
  }
  const json = { file, bases: Object.fromEntries([...after]), changes, resolved: resolve, written: false };
  const lines = changes.map(describe);
  const stale = onDisk !== text;
  if (lockOptions.check) {
    if (!stale) return { exitCode: 0, diagnostics, text: `${file} is up to date (${after.size} base${after.size === 1 ? '' : 's'})`, json };
    const why = changes.length > 0 ? `${changes.length} base${changes.length === 1 ? '' : 's'} would change` : onDisk === undefined ? 'it does not exist' : 'it is not as kolla-gen lock writes it';
    return { exitCode: 1, lines, diagnostics: [...diagnostics, error('KG483', `${file} is out of date: ${why}`)], json };
  }
  if (!stale) return { exitCode: 0, diagnostics, text: `${file} is up to date (${after.size} base${after.size === 1 ? '' : 's'})`, json };
  // Atomic: a reader sees the old lock or the new one, never half of one.
  const tmp = `${abs}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, abs);
  return {
    exitCode: 0,
    diagnostics,
    lines,
    text: `wrote ${file} (${after.size} base${after.size === 1 ? '' : 's'}, ${changes.length} changed)`,
    json: { ...json, written: true },
  };
}
