import type { CliOptions } from '../load/config/resolve.js';
import type { LoadOptions } from '../load/load.js';
import { outputFiles } from '../write/output.js';
import { drift, driftDiagnostics, isClean } from '../write/write.js';
import { compileProject, failed, type CommandResult } from './run.js';

export async function check(cli: CliOptions, options: LoadOptions): Promise<CommandResult> {
  const { compiled, diagnostics } = await compileProject(cli, options);
  if (!compiled) return failed(diagnostics);
  const out = compiled.config.output;
  const files = outputFiles(compiled);
  const d = drift(out, files, options.cwd);
  if (!isClean(d)) return { ...failed([...diagnostics, ...driftDiagnostics(out, d)]), json: { output: out, ...d } };
  return { exitCode: 0, diagnostics, text: `${out}: up to date (${files.size} files)`, json: { output: out, ...d } };
}
