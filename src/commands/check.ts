import type { CliOptions } from '../load/config/resolve.js';
import type { LoadOptions } from '../load/load.js';
import { commandLine } from '../load/config/made-with.js';
import { drift, driftDiagnostics, driftFiles, driftLines, driftSides, foreignWarning, isClean, outputDirProblem, recoverableOutput } from '../write/write.js';
import { compileOutput, failed, type CommandResult } from './run.js';
import { otherOptions, recordedDiff } from './other-options.js';

export interface CheckOptions {
  /** --diff: the unified diff of what generate would change, on stdout (bounded). */
  diff?: boolean;
}

export async function check(cli: CliOptions, options: LoadOptions, checkOptions: CheckOptions = {}): Promise<CommandResult> {
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
    const hint = `run \`${regenerate}\` and commit the result${checkOptions.diff ? '' : ' (kolla-gen check --diff shows what it changes)'}`;
    const diff = recordedDiff(compiled, options.cwd);
    const other = diff ? [otherOptions(compiled, diff, { regenerate, cwd: options.cwd })] : [];
    // Loaded only when asked for: the diff library is no part of a plain check.
    const differ = checkOptions.diff ? await import('../write/diff.js') : undefined;
    const patch = differ?.unifiedDiff(driftSides(out, files, d, options.cwd, differ.DIFF_MAX_FILE_BYTES).map((s) => ({ name: s.name, a: differ.sideOf(s.a), b: differ.sideOf(s.b) })));
    const cut = patch && patch.cutFiles > 0 ? `diff cut at ${patch.text.split('\n').length - 1} lines: ${patch.cutLines} more lines of ${patch.cutFiles} file${patch.cutFiles === 1 ? '' : 's'} left out (run \`${regenerate}\`, then git diff, for all of it)` : undefined;
    return {
      ...failed([...diagnostics, ...other, ...driftDiagnostics(out, d).map((x) => ({ ...x, hint }))]),
      lines: driftLines(out, d),
      ...(patch ? { text: `${patch.text}${cut ? `# ${cut}\n` : ''}`.replace(/\n$/, ''), listing: true } : {}),
      json: {
        output: out,
        regenerate,
        ...(diff ? { options: diff } : {}),
        ...d,
        files: driftFiles(out, d),
        ...(patch ? { diff: patch.text, ...(cut ? { diffCut: { files: patch.cutFiles, lines: patch.cutLines } } : {}) } : {}),
      },
      config,
    };
  }
  return { exitCode: 0, diagnostics, text: `${out}: up to date (${files.size} files)`, json: { output: out, ...d, files: [] }, config };
}
