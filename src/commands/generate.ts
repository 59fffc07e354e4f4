import type { CliOptions } from '../load/config/resolve.js';
import type { LoadOptions } from '../load/load.js';
import { drift, foreignWarning, isClean, outputDirProblem, recoverOutput, writeOutputInterruptible, type Interrupt } from '../write/write.js';
import { hasErrors } from '../core/diagnostics.js';
import { bakeCommand } from '../emit/bake/allow.js';
import { compileOutput, failed, type CommandResult } from './run.js';
import { otherOptions, recordedDiff } from './other-options.js';

/** `interrupt`: a signal that gives the write up at its next pause (the temp dir removed, the output dir as it was). */
export async function generate(cli: CliOptions, options: LoadOptions, interrupt?: Interrupt): Promise<CommandResult> {
  const { output: compiled, diagnostics } = await compileOutput(cli, options);
  if (!compiled) return failed(diagnostics);
  const { files, output: out } = compiled;
  // Before anything under the output dir is listed: -o / must not walk the file system.
  diagnostics.push(...recoverOutput(out, options.cwd));
  if (hasErrors(diagnostics)) return failed(diagnostics);
  const owned = outputDirProblem(out, options.cwd);
  if (owned) return failed([...diagnostics, owned]);
  const before = drift(out, files, options.cwd);
  diagnostics.push(...foreignWarning(out, before));
  if (!isClean(before)) {
    // Before the write: the record read is the one replaced.
    const diff = recordedDiff(compiled, options.cwd);
    if (diff) diagnostics.push(otherOptions(compiled, diff, { regenerate: 'kolla-gen generate', cwd: options.cwd, replaced: true }));
    const problems = await writeOutputInterruptible(out, files, options.cwd, before, interrupt);
    if (hasErrors(problems)) return failed([...diagnostics, ...problems]);
  }
  const { images, reads: allow, entitlements, ...s } = compiled.summary;
  const bakeFile = `${out}/${files.has('docker-bake.hcl') ? 'docker-bake.hcl' : 'docker-bake.json'}`;
  const command = bakeCommand(bakeFile, allow, entitlements);
  const changes = isClean(before)
    ? 'up to date'
    : `${before.stale.length} changed, ${before.missing.length} added, ${before.extra.length} removed`;
  return {
    exitCode: 0,
    diagnostics,
    text: `${out}: ${s.targets} image targets (${s.joins} of them joins of ${s.perArch} per-arch targets) from ${images} images x ${s.variants} variants; ${files.size} files, ${changes}`,
    json: { output: out, ...s, files: files.size, changed: before.stale, added: before.missing, removed: before.extra, bake: { file: bakeFile, allow, ...(entitlements.length > 0 ? { entitlements } : {}), command } },
    notes: [`bake it with: ${command}`],
  };
}
