// The one error a template's evaluation throws: render() turns it, with the line it happened at, into a Diagnostic.
import type { DiagnosticCode } from '../core/diagnostics.js';

export type RenderErrorKind = 'runtime' | 'security' | 'syntax' | 'raised' | 'notfound' | 'value-limit' | 'output-limit' | 'work-limit' | 'strict' | 'unsupported';

/** Each kind's diagnostic code. */
export const CODE_OF: Record<RenderErrorKind, DiagnosticCode> = {
  runtime: 'KG301',
  security: 'KG302',
  syntax: 'KG300',
  notfound: 'KG303',
  raised: 'KG304',
  'value-limit': 'KG310',
  'output-limit': 'KG311',
  'work-limit': 'KG312',
  strict: 'KG313',
  unsupported: 'KG314',
};

export class RenderError extends Error {
  constructor(
    message: string,
    readonly kind: RenderErrorKind = 'runtime',
  ) {
    super(message);
    this.name = 'RenderError';
  }
}
