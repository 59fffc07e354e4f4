import type { CliOptions } from '../load/config/resolve.js';
import type { LoadOptions } from '../load/load.js';
import { outputFiles } from '../write/output.js';
import { drift, driftDiagnostics, foreignWarning, isClean, outputDirProblem, recoverableOutput } from '../write/write.js';
import { compileProject, failed, type CommandResult } from './run.js';

export async function check(cli: CliOptions, options: LoadOptions): Promise<CommandResult> {
  const { compiled, diagnostics } = await compileProject(cli, options);
  if (!compiled) return failed(diagnostics);
  const out = compiled.config.output;
  const files = outputFiles(compiled);
  // Before anything under the output dir is listed: -o / must not walk the file system.
  const owned = outputDirProblem(out, options.cwd);
  if (owned) return failed([...diagnostics, owned]);
  diagnostics.push(...recoverableOutput(out, options.cwd));
  const d = drift(out, files, options.cwd);
  diagnostics.push(...foreignWarning(out, d));
  if (!isClean(d)) return { ...failed([...diagnostics, ...driftDiagnostics(out, d)]), json: { output: out, ...d } };
  return { exitCode: 0, diagnostics, text: `${out}: up to date (${files.size} files)`, json: { output: out, ...d } };
}
