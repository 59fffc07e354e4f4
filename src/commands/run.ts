// What every command shares: load the project and compile it, or stop with the diagnostics.
import type { CliOptions } from '../config/resolve.js';
import { hasErrors, type Diagnostic } from '../diagnostics.js';
import { loadProject, type LoadOptions } from '../load.js';
import { compile, type Compiled } from '../pipeline.js';
import { renderParallel } from '../render-parallel.js';

export interface CommandResult {
  exitCode: 0 | 1;
  diagnostics: Diagnostic[];
  /** What the command prints on stdout for people. */
  text?: string;
  /** What it prints with --json. */
  json?: unknown;
  /** The text is the answer asked for (list, deps): printed even with --quiet. */
  listing?: boolean;
}

export async function compileProject(cli: CliOptions, options: LoadOptions): Promise<{ compiled?: Compiled; diagnostics: Diagnostic[] }> {
  const loaded = loadProject(cli, options);
  if (!loaded.project) return { diagnostics: loaded.diagnostics };
  const result = compile(loaded.project, await renderParallel(loaded.project));
  const diagnostics = [...loaded.diagnostics, ...result.diagnostics];
  if (!('bake' in result) || hasErrors(diagnostics)) return { diagnostics };
  return { compiled: result, diagnostics };
}

export function failed(diagnostics: Diagnostic[]): CommandResult {
  return { exitCode: 1, diagnostics };
}

export function summarize(compiled: Compiled): { targets: number; folded: number; split: number; variants: number } {
  const folded = compiled.targets.filter((t) => t.arch === undefined).length;
  return {
    targets: compiled.targets.length,
    folded,
    split: compiled.targets.length - folded,
    variants: compiled.families.length * compiled.config.arches.length,
  };
}
