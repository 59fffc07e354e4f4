// KG713: output made with options the config does not hold. kolla-gen.yaml is the whole truth of a generation; the
// options manifest.json records are only shown here, quoted, never followed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { optionsDiff, type OptionsDiff } from '../load/config/made-with.js';
import { error, warning, type Diagnostic } from '../core/diagnostics.js';
import { recordedOptionsOf } from '../write/write.js';
import type { CompiledOutput } from './run.js';

/**
 * KG713: the output records other options than the config's: an error of `check`, a warning of the `generate` that
 * replaces it. Only the record's words are shown; the options the run used are kolla-gen.yaml's, always.
 */
export function otherOptions(compiled: CompiledOutput, diff: OptionsDiff, at: { regenerate: string; cwd: string; replaced?: boolean }): Diagnostic {
  const { regenerate, cwd } = at;
  const file = compiled.configPath ?? 'kolla-gen.yaml';
  const lines = [
    ...(diff.set.length > 0 ? [`set in ${file}:`, ...diff.set.map((l) => `    ${l}`)] : []),
    ...(diff.remove.length > 0 ? [`remove from ${file}: ${diff.remove.join(', ')}`] : []),
    ...(diff.runOnly.length > 0 ? [`it was made with ${diff.runOnly.join(' ')}, a one-off of one run that ${file} cannot hold`] : []),
    ...(diff.config !== undefined ? [`it records the config ${diff.config}`] : []),
  ];
  const location = { file, line: keyLine(path.resolve(cwd, file), [...diff.set.map((l) => l.slice(0, l.indexOf(':'))), ...diff.remove]), column: 1 };
  const lead = diff.set.length + diff.remove.length > 0 ? (at.replaced ? 'to keep those options, ' : 'to make it pass, ') : '';
  const hint = (last: string) => [`${lead}${lines[0] ?? ''}`, ...lines.slice(1).map((l) => `        ${l}`), `        ${last}`].join('\n');
  if (at.replaced) {
    // generate: the output is now the config's; the lines keep the options it was made with, were they meant.
    return warning('KG713', `${compiled.output} was made with options ${file} does not hold: it now holds ${file}'s`, { location, hint: hint(`then run \`${regenerate}\` again`) });
  }
  return error('KG713', `${compiled.output} was made with options ${file} does not hold`, { location, hint: hint(`or run \`${regenerate}\` to make it with these options, and commit`) });
}

/**
 * How the options the output dir's manifest.json records differ from this run's, for a run with the config's options
 * alone (no regex, no flag that changes the output); a run with flags asked for other options itself.
 */
export function recordedDiff(compiled: CompiledOutput, cwd: string): OptionsDiff | undefined {
  return isPlain(compiled) ? optionsDiff(recordedOptionsOf(compiled.output, cwd), compiled.recorded) : undefined;
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
