import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CliOptions } from '../load/config/resolve.js';
import type { LoadOptions } from '../load/load.js';
import { commandLine, optionsDiff, type OptionsDiff } from '../load/config/made-with.js';
import { error, type Diagnostic } from '../core/diagnostics.js';
import { drift, driftDiagnostics, foreignWarning, isClean, outputDirProblem, recordedOptionsOf, recoverableOutput } from '../write/write.js';
import { compileOutput, failed, type CommandResult, type CompiledOutput } from './run.js';

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
    // A plain check names the config lines that would make it pass; a check with flags asked for other options itself.
    const diff = isPlain(compiled) ? optionsDiff(recordedOptionsOf(out, options.cwd), compiled.recorded) : undefined;
    const other = diff ? [otherOptions(compiled, diff, regenerate, options.cwd)] : [];
    return {
      ...failed([...diagnostics, ...other, ...driftDiagnostics(out, d).map((x) => ({ ...x, hint }))]),
      json: { output: out, regenerate, ...(diff ? { options: diff } : {}), ...d },
      config,
    };
  }
  return { exitCode: 0, diagnostics, text: `${out}: up to date (${files.size} files)`, json: { output: out, ...d }, config };
}

/**
 * KG713: the output records other options than this check's. Only the record's words are shown; the options the check
 * used are kolla-gen.yaml's and its flags', always: the config is the whole truth, a flag a one-off.
 */
function otherOptions(compiled: CompiledOutput, diff: OptionsDiff, regenerate: string, cwd: string): Diagnostic {
  const file = compiled.configPath ?? 'kolla-gen.yaml';
  const lines = [
    ...(diff.set.length > 0 ? [`set in ${file}:`, ...diff.set.map((l) => `    ${l}`)] : []),
    ...(diff.remove.length > 0 ? [`remove from ${file}: ${diff.remove.join(', ')}`] : []),
    ...(diff.runOnly.length > 0 ? [`it was made with ${diff.runOnly.join(' ')}, a one-off of one run that ${file} cannot hold`] : []),
    ...(diff.config !== undefined ? [`it records the config ${diff.config}`] : []),
  ];
  return error('KG713', `${compiled.output} was made with options ${file} does not hold`, {
    location: { file, line: keyLine(path.resolve(cwd, file), [...diff.set.map((l) => l.slice(0, l.indexOf(':'))), ...diff.remove]), column: 1 },
    hint: [`to make it pass, ${lines[0]}`, ...lines.slice(1).map((l) => `        ${l}`), `        or run \`${regenerate}\` to make it with these options, and commit`].join('\n'),
  });
}

/** Whether the check runs with the config's options alone: no regex, no flag that changes the output. */
function isPlain(compiled: CompiledOutput): boolean {
  const made = compiled.madeWith;
  return made.regexes.length === 0 && Object.keys(made.flags).length === 0 && made.kollaConfig === undefined;
}

/** The line of the first of `keys` written in the config, else 1 (where a key is added). */
function keyLine(file: string, keys: string[]): number {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return 1;
  }
  const lines = text.split('\n');
  for (const key of keys) {
    const at = lines.findIndex((l) => l.startsWith(`${key}:`));
    if (at >= 0) return at + 1;
  }
  return 1;
}
