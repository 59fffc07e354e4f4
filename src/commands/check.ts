import type { CliOptions } from '../load/config/resolve.js';
import type { LoadOptions } from '../load/load.js';
import { commandLine } from '../load/config/made-with.js';
import { drift, driftDiagnostics, foreignWarning, isClean, outputDirProblem, recoverableOutput } from '../write/write.js';
import { compileOutput, failed, type CommandResult } from './run.js';
import { otherOptions, recordedDiff } from './other-options.js';

export async function check(cli: CliOptions, options: LoadOptions): Promise<CommandResult> {
  const { output: compiled, diagnostics } = await compileOutput(cli, options);
  if (!compiled) return failed(diagnostics);
  const { files, output: out } = compiled;
  // Before anything under the output dir is listed: -o / must not walk the file system.
  const owned = outputDirProblem(out, options.cwd);
  if (owned) return failed([...diagnostics, owned]);
  diagnostics.push(...recoverableOutput(out, options.cwd));
  const d = drift(out, files, options.cwd);
  diagnostics.push(...foreignWarning(out, d));
  const config = compiled.configPath ?? null;
  if (!isClean(d)) {
    const regenerate = commandLine('generate', compiled.madeWith, out);
    const hint = `run \`${regenerate}\` and commit the result`;
    const diff = recordedDiff(compiled, options.cwd);
    const other = diff ? [otherOptions(compiled, diff, { regenerate, cwd: options.cwd })] : [];
    return {
      ...failed([...diagnostics, ...other, ...driftDiagnostics(out, d).map((x) => ({ ...x, hint }))]),
      json: { output: out, regenerate, ...(diff ? { options: diff } : {}), ...d },
      config,
    };
  }
  return { exitCode: 0, diagnostics, text: `${out}: up to date (${files.size} files)`, json: { output: out, ...d }, config };
}
