// kolla-gen help KG402: a code's long explanation, as rustc --explain prints it.
import { CODES, error, type DiagnosticCode } from '../core/diagnostics.js';
import { EXPLANATIONS } from '../core/explanations.js';
import type { CommandResult } from './run.js';

export const isCodeTopic = (topic: string): boolean => /^kg\d+$/i.test(topic);

export function codeExplanation(code: DiagnosticCode): string {
  const { title, hint } = CODES[code];
  const long = EXPLANATIONS[code];
  return [`${code}: ${title}`, '', ...(long ? [long, ''] : []), `hint: ${hint}`].join('\n');
}

export function helpCode(topic: string): CommandResult {
  const code = topic.toUpperCase();
  if (!(code in CODES)) {
    return { exitCode: 1, diagnostics: [error('KG150', `kolla-gen has no diagnostic code ${topic}`)] };
  }
  const known = code as DiagnosticCode;
  return { exitCode: 0, diagnostics: [], text: codeExplanation(known), json: { code: known, ...CODES[known], explanation: EXPLANATIONS[known] ?? null }, listing: true };
}
