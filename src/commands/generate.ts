import type { CliOptions } from '../load/config/resolve.js';
import type { LoadOptions } from '../load/load.js';
import { outputFiles } from '../write/output.js';
import { drift, foreignWarning, isClean, outputDirProblem, recoverOutput, writeOutput } from '../write/write.js';
import { hasErrors } from '../core/diagnostics.js';
import { compileProject, failed, summarize, type CommandResult } from './run.js';

export async function generate(cli: CliOptions, options: LoadOptions): Promise<CommandResult> {
  const { compiled, diagnostics } = await compileProject(cli, options);
  if (!compiled) return failed(diagnostics);
  const files = outputFiles(compiled);
  const out = compiled.config.output;
  // Before anything under the output dir is listed: -o / must not walk the file system.
  diagnostics.push(...recoverOutput(out, options.cwd));
  const owned = outputDirProblem(out, options.cwd);
  if (owned) return failed([...diagnostics, owned]);
  const before = drift(out, files, options.cwd);
  diagnostics.push(...foreignWarning(out, before));
  if (!isClean(before)) {
    const problems = writeOutput(out, files, options.cwd, before);
    if (hasErrors(problems)) return failed([...diagnostics, ...problems]);
  }
  const s = summarize(compiled);
  const changes = isClean(before)
    ? 'up to date'
    : `${before.stale.length} changed, ${before.missing.length} added, ${before.extra.length} removed`;
  return {
    exitCode: 0,
    diagnostics,
    text: `${out}: ${s.targets} image targets (${s.joins} of them joins of ${s.perArch} per-arch targets) from ${compiled.tree.images.length} images x ${s.variants} variants; ${files.size} files, ${changes}`,
    json: { output: out, ...s, files: files.size, changed: before.stale, added: before.missing, removed: before.extra },
  };
}
