// Selection regexes (the command line, profiles) in linear time. The syntax is JavaScript's (the contract), checked
// by the JavaScript engine; the match runs in re2js, an RE2 port that never backtracks, so that '^(a+)+$' against a
// long name answers at once instead of doubling its time per character. What RE2 cannot run in linear time
// (lookaround, backreferences) is refused with a reason, never run on the backtracking engine.
import { RE2JS } from 're2js';
import { error, type Diagnostic } from './diagnostics.js';

/** A compiled selection regex: searched anywhere in an image name, as kolla-build does. */
export interface SafeRegex {
  readonly source: string;
  test(name: string): boolean;
}

export type RegexProblem =
  /** Not a JavaScript regex at all. */
  | { kind: 'syntax'; reason: string }
  /** A JavaScript regex that RE2 cannot match in linear time (or at all). */
  | { kind: 'unsupported'; reason: string };

const LOOKAROUND = /\(\?<?[=!]/;
const BACKREFERENCE = /\\(?:[1-9]|k<)/;

/** JavaScript escapes RE2 spells differently: `\uXXXX` and `\u{X…}` are RE2's `\x{X…}`; other text is kept as is. */
function toRe2Syntax(source: string): string {
  let out = '';
  for (let i = 0; i < source.length; i++) {
    const c = source[i] as string;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const rest = source.slice(i + 1);
    const braced = /^u\{([0-9a-fA-F]{1,6})\}/.exec(rest);
    const four = /^u([0-9a-fA-F]{4})/.exec(rest);
    const hex = braced ?? four;
    if (hex) {
      out += `\\x{${hex[1]}}`;
      i += hex[0].length;
    } else {
      out += c + (source[i + 1] ?? '');
      i++;
    }
  }
  return out;
}

/** The reason a feature is refused, if the source uses one RE2 has no linear-time match for. */
function unsupportedFeature(source: string): string | undefined {
  // Only outside character classes do these mean lookaround or a backreference; a rough scan is enough to explain
  // the refusal, since RE2's own parse decides what compiles.
  if (LOOKAROUND.test(source)) return 'lookaround ((?=…), (?!…), (?<=…), (?<!…))';
  if (BACKREFERENCE.test(source)) return 'backreferences (\\1, \\k<name>)';
  return undefined;
}

export function compileRegex(source: string): { regex: SafeRegex } | { problem: RegexProblem } {
  try {
    new RegExp(source);
  } catch (e) {
    return { problem: { kind: 'syntax', reason: (e as Error).message } };
  }
  let re2: RE2JS;
  try {
    re2 = RE2JS.compile(toRe2Syntax(source));
  } catch (e) {
    const feature = unsupportedFeature(source);
    const reason = feature
      ? `it uses ${feature}, which cannot be matched in linear time`
      : `RE2 cannot match it in linear time (${(e as Error).message.replace(/^error parsing regexp: /, '')})`;
    return { problem: { kind: 'unsupported', reason } };
  }
  return { regex: { source, test: (name: string) => re2.test(name) } };
}

/** A selection regex, or its KG600 (not a regex) or KG610 (no linear-time match) with `extra` (a config location). */
export function regexOrError(source: string, what: string, extra: Partial<Diagnostic> = {}): { regex?: SafeRegex; diagnostic?: Diagnostic } {
  const compiled = compileRegex(source);
  if ('regex' in compiled) return { regex: compiled.regex };
  const { kind, reason } = compiled.problem;
  return kind === 'syntax'
    ? { diagnostic: error('KG600', `${what} /${source}/ is not a valid regex: ${reason}`, extra) }
    : { diagnostic: error('KG610', `${what} /${source}/ cannot be used: ${reason}`, extra) };
}

