import type { CliOptions } from '../load/config/resolve.js';
import type { LoadOptions } from '../load/load.js';
import { commandLine } from '../load/config/made-with.js';
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
  const config = compiled.config.configPath ?? null;
  if (!isClean(d)) {
    const regenerate = compiled.madeWith ? commandLine('generate', compiled.madeWith, out) : 'kolla-gen generate';
    const hint = `run \`${regenerate}\` and commit the result`;
    return { ...failed([...diagnostics, ...driftDiagnostics(out, d).map((x) => ({ ...x, hint }))]), json: { output: out, regenerate, ...d }, config };
  }
  return { exitCode: 0, diagnostics, text: `${out}: up to date (${files.size} files)`, json: { output: out, ...d }, config };
}
