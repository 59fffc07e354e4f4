// A .dockerignore read exactly as BuildKit reads it, and its files matched exactly as BuildKit's context send matches
// them (kolla-gen's own code, written from the behaviour of moby/patternmatcher and tonistiigi/fsutil). Pure.
//
// BuildKit reads the file line by line (`\n`; one trailing `\r` dropped; a UTF-8 BOM stripped on the first line only),
// skips lines that start with `#`, trims Go's white space (not U+FEFF, which JavaScript's trim() also strips), takes a
// leading `!` as a re-include, cleans the path (`./a//b/` is `a/b`, `/a` is `a`), then turns each pattern into a Go
// regular expression. kolla-gen refuses what BuildKit refuses, and also the few patterns that BuildKit reads as
// regular-expression syntax (`\d`, `^` in a wildcard pattern, `[[:alpha:]]`), whose meaning no reader expects.

/** One pattern as BuildKit holds it. */
export interface IgnorePattern {
  /** A re-include (`!`). */
  exclusion: boolean;
  /** The pattern BuildKit matches, without its `!`. */
  body: string;
  /** Its line in the generated ignore file: one that BuildKit's reader turns back into exactly this pattern. */
  written: string;
  /** Line of the ignore file it came from (1-based). */
  line: number;
  match: (path: string) => boolean;
}

export interface IgnoreProblem {
  /** KG220: BuildKit rejects it; KG221: BuildKit reads it as regular-expression syntax, which kolla-gen refuses. */
  code: 'KG220' | 'KG221';
  message: string;
  line: number;
  column: number;
}

/** Go's unicode.IsSpace: the White_Space property. U+FEFF is not one; U+0085 is (JavaScript's trim() says the opposite). */
const GO_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/u;
const isGoSpace = (ch: string): boolean => GO_SPACE.test(ch);

/** Go's strings.TrimSpace. */
export function goTrimSpace(s: string): string {
  const chars = [...s];
  let start = 0;
  let end = chars.length;
  while (start < end && isGoSpace(chars[start] as string)) start++;
  while (end > start && isGoSpace(chars[end - 1] as string)) end--;
  return chars.slice(start, end).join('');
}

/** Go's path/filepath.Clean on a "/"-separated path. */
export function goClean(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

/** A line longer than this stops BuildKit's line reader (Go's bufio.Scanner holds 64 KiB with the newline). */
const MAX_LINE_BYTES = 64 * 1024 - 2;

interface ReadPattern {
  exclusion: boolean;
  body: string;
  line: number;
  /** Characters into the line where the pattern's text starts (after a BOM, white space and `!`). */
  column: number;
}

/** Go's bufio line scanner: `\n` ends a line, one `\r` before it is dropped, a last line needs no `\n`. */
function scanLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

function leadingSpace(chars: string[], from: number): number {
  let i = from;
  while (i < chars.length && isGoSpace(chars[i] as string)) i++;
  return i;
}

/** BuildKit's reading of one line (undefined: a comment or blank), before any check of the pattern itself. */
function readLine(scanned: string, line: number): ReadPattern | IgnoreProblem | undefined {
  const chars = [...scanned];
  const bom = line === 1 && chars[0] === '\ufeff' ? 1 : 0;
  if (chars[bom] === '#') return undefined;
  let pattern = goTrimSpace(chars.slice(bom).join(''));
  if (pattern === '') return undefined;
  const start = leadingSpace(chars, bom);
  let column = start;
  const invert = pattern.startsWith('!');
  if (invert) {
    pattern = goTrimSpace(pattern.slice(1));
    column = leadingSpace(chars, column + 1);
  }
  if (pattern !== '') {
    pattern = goClean(pattern);
    if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
  }
  // The reader hands `!` and the path to the matcher as one string, which trims and cleans it again (`./ a` was ` a`
  // to the reader, and is `a` to the matcher), then splits it at a first `!`.
  const whole = goClean(goTrimSpace(`${invert ? '!' : ''}${pattern}`));
  if (whole === '!') {
    return { code: 'KG220', message: `"${goTrimSpace(scanned)}" re-includes nothing: BuildKit rejects it ("illegal exclusion pattern")`, line, column: start + 1 };
  }
  const exclusion = whole.startsWith('!');
  return { exclusion, body: exclusion ? whole.slice(1) : whole, line, column: column + 1 };
}

/** The patterns of an ignore file's text, in order, and what BuildKit (or kolla-gen) refuses in it. */
export function readIgnoreFile(text: string): { patterns: IgnorePattern[]; problems: IgnoreProblem[] } {
  const patterns: IgnorePattern[] = [];
  const problems: IgnoreProblem[] = [];
  scanLines(text).forEach((scanned, index) => {
    const line = index + 1;
    if (Buffer.byteLength(scanned, 'utf8') >= MAX_LINE_BYTES) {
      problems.push({ code: 'KG220', message: `line ${line} is longer than 64 KiB: BuildKit cannot read the file`, line, column: 1 });
      return;
    }
    const read = readLine(scanned, line);
    if (read === undefined) return;
    if ('code' in read) {
      problems.push(read);
      return;
    }
    const compiled = compilePattern(read.body);
    if ('problem' in compiled) {
      const plain = [...scanned].slice(read.column - 1).join('').startsWith(read.body);
      problems.push({ code: compiled.problem.code, message: compiled.problem.message, line, column: read.column + (plain ? compiled.problem.offset : 0) });
      return;
    }
    const written = patternLine(read.exclusion, read.body);
    const back = readLine(written, 2);
    if (back === undefined || 'code' in back || back.exclusion !== read.exclusion || back.body !== read.body) {
      problems.push({
        code: 'KG221',
        message: `BuildKit reads this line as the pattern ${JSON.stringify((read.exclusion ? '!' : '') + read.body)}, which kolla-gen cannot write back to the generated ignore file: write that pattern plainly`,
        line,
        column: read.column,
      });
      return;
    }
    patterns.push({ exclusion: read.exclusion, body: read.body, written, line, match: compiled.match });
  });
  return { patterns, problems };
}

interface CompileProblem {
  code: 'KG220' | 'KG221';
  message: string;
  /** Characters into the pattern. */
  offset: number;
}

/** Checks a pattern as Go's filepath.Match does before BuildKit uses it: escapes complete, classes closed and well formed. */
function matchSyntaxError(chars: string[]): CompileProblem | undefined {
  const bad = (offset: number, why: string): CompileProblem => ({ code: 'KG220', message: `BuildKit rejects the pattern: ${why} ("syntax error in pattern")`, offset });
  // One character of a class, or undefined when BuildKit rejects it there; returns the index after it.
  const classChar = (i: number): number | undefined => {
    const c = chars[i];
    if (c === undefined || c === '-' || c === ']') return undefined;
    if (c === '\\') return chars[i + 1] === undefined ? undefined : i + 2;
    return i + 1;
  };
  let i = 0;
  while (i < chars.length) {
    const c = chars[i] as string;
    if (c === '\\') {
      if (chars[i + 1] === undefined) return bad(i, 'it ends with a lone "\\"');
      i += 2;
    } else if (c === '[') {
      const open = i;
      i++;
      if (chars[i] === '^') i++;
      let ranges = 0;
      for (;;) {
        if (chars[i] === ']' && ranges > 0) {
          i++;
          break;
        }
        const lo = classChar(i);
        if (lo === undefined) return bad(chars[i] === undefined ? open : i, chars[i] === undefined ? 'a "[" is never closed' : `"${chars[i]}" cannot stand there in a [...] class (escape it: "\\${chars[i]}")`);
        i = lo;
        if (chars[i] === '-') {
          const hi = classChar(i + 1);
          if (hi === undefined) return bad(i + 1, 'a range in a [...] class has no end');
          i = hi;
        }
        ranges++;
      }
    } else {
      i++;
    }
  }
  return undefined;
}

/** Characters BuildKit escapes when it turns a pattern into a regular expression (they mean nothing in a pattern). */
const REGEX_PUNCT = new Set(['.', '+', '(', ')', '|', '{', '}', '$']);

const literal = (ch: string): string => `\\u{${(ch.codePointAt(0) as number).toString(16)}}`;

/** What `\` + ch means in the Go regular expression BuildKit makes: a literal, syntax kolla-gen refuses, or an error. */
function escapeMeaning(ch: string, next: string | undefined, inClass: boolean): 'literal' | 'KG220' | 'KG221' {
  const code = ch.codePointAt(0) as number;
  if (code < 0x80 && !/[0-9A-Za-z]/.test(ch)) return 'literal';
  if (/[1-7]/.test(ch)) return next !== undefined && /[0-7]/.test(next) ? 'KG221' : 'KG220';
  if (/[0afnrtvdDsSwW]/.test(ch)) return 'KG221';
  if (ch === 'x') return next !== undefined && /[0-9A-Fa-f]/.test(next) ? 'KG221' : 'KG220';
  if (ch === 'p' || ch === 'P') return next !== undefined && /[CLMNPSZ]/.test(next) ? 'KG221' : 'KG220';
  if (/[bBAzQ]/.test(ch)) return inClass ? 'KG220' : 'KG221';
  return 'KG220';
}

/** The matcher of one cleaned pattern (no `!`), as BuildKit's pattern matcher compiles it, or why kolla-gen cannot. */
export function compilePattern(pattern: string): { match: (path: string) => boolean } | { problem: CompileProblem } {
  const chars = [...pattern];
  const syntax = matchSyntaxError(chars);
  if (syntax) return { problem: syntax };
  const refuse = (offset: number, why: string): { problem: CompileProblem } => ({
    problem: { code: 'KG221', message: `BuildKit reads ${why} as regular-expression syntax, not as a pattern: kolla-gen refuses it`, offset },
  });
  let type: 'exact' | 'prefix' | 'suffix' | 'regexp' = 'exact';
  let source = '^';
  let inClass = false;
  let classStart = false;
  let caretAt: number | undefined;
  // BuildKit's scanner skips a BOM that starts the pattern (in its regular expression only).
  let i = chars[0] === '\ufeff' ? 1 : 0;
  for (let step = 0; i < chars.length; step++) {
    const start = i;
    const ch = chars[i++] as string;
    const generated = (piece: string, what: string): { problem: CompileProblem } | undefined => {
      if (inClass) return refuse(start, `"${what}" inside a [...] class`);
      source += piece;
      return undefined;
    };
    if (ch === '*') {
      if (chars[i] === '*') {
        i++;
        if (chars[i] === '/') i++;
        if (i >= chars.length) {
          if (type === 'exact') type = 'prefix';
          else {
            const p = generated('[^\\n]*', '**');
            if (p) return p;
            type = 'regexp';
          }
        } else {
          const p = generated('(?:[^\\n]*/)?', '**');
          if (p) return p;
          type = 'regexp';
        }
        if (step === 0) type = 'suffix';
      } else {
        const p = generated('[^/]*', '*');
        if (p) return p;
        type = 'regexp';
      }
    } else if (ch === '?') {
      const p = generated('[^/]', '?');
      if (p) return p;
      type = 'regexp';
    } else if (REGEX_PUNCT.has(ch)) {
      source += literal(ch);
    } else if (ch === '\\') {
      const next = chars[i] as string;
      i++;
      const meaning = escapeMeaning(next, chars[i], inClass);
      if (meaning === 'KG220') return { problem: { code: 'KG220', message: `BuildKit rejects the escape "\\${next}" ("syntax error in pattern"): write "${next}" without "\\"`, offset: start } };
      if (meaning === 'KG221') return refuse(start, `"\\${next}"`);
      source += literal(next);
      type = 'regexp';
    } else if (ch === '[') {
      if (inClass) return refuse(start, '"[" inside a [...] class');
      inClass = true;
      classStart = true;
      source += '[';
      if (chars[i] === '^') {
        source += '^';
        i++;
      }
      type = 'regexp';
      continue;
    } else if (ch === ']') {
      source += inClass ? ']' : '\\]';
      inClass = false;
      type = 'regexp';
    } else if (ch === '-' && inClass && !classStart && chars[i] !== ']') {
      source += '-';
    } else {
      if (ch === '^' && !inClass) caretAt ??= start;
      source += literal(ch);
    }
    classStart = false;
  }
  if (type === 'exact') return { match: (p) => p === pattern };
  if (type === 'prefix') {
    const prefix = pattern.slice(0, -2);
    return { match: (p) => p.startsWith(prefix) };
  }
  if (type === 'suffix') {
    // BuildKit cuts two bytes, so a pattern that starts with a BOM keeps half of it and matches no UTF-8 name.
    if (chars[0] === '\ufeff') return { match: () => false };
    const suffix = pattern.slice(2);
    return { match: (p) => p.endsWith(suffix) || (suffix.startsWith('/') && p === suffix.slice(1)) };
  }
  if (caretAt !== undefined) return refuse(caretAt, '"^" in a pattern with wildcards (it means "start of the name" there)');
  let re: RegExp;
  try {
    re = new RegExp(`${source}$`, 'u');
  } catch {
    // A range written backwards ([z-a]) is the one mistake left that Go's regular expressions reject.
    return { problem: { code: 'KG220', message: 'BuildKit rejects the pattern: a range in a [...] class runs backwards ("syntax error in pattern")', offset: 0 } };
  }
  return { match: (p) => re.test(p) };
}

interface MatchState {
  matched: boolean;
  /** Per pattern: whether this path (or, through it, a parent) matched it. */
  info: boolean[];
}

/** One path against the patterns as fsutil's walk does it, given its parent folder's state (undefined at the top). */
function matchPath(patterns: IgnorePattern[], path: string, parent: MatchState | undefined): MatchState {
  let matched = false;
  const info = patterns.map(() => false);
  patterns.forEach((pattern, i) => {
    let match = parent?.info[i] ?? false;
    if (!match) {
      // An include is not tried once something matched, nor a re-include before.
      if (pattern.exclusion !== matched) return;
      match = pattern.match(path);
    }
    info[i] = match;
    if (match) matched = !pattern.exclusion;
  });
  return { matched, info };
}

/** The pattern with a trailing `/**` or `/*` cut, as fsutil's walk compares it with a folder. */
function withoutTrailingGlob(text: string): string {
  return text.replace(/\/\*\*$/u, '').replace(/\/\*$/u, '');
}

/**
 * The files of a context (relative "/"-separated names) that BuildKit sends: each folder and file matched against the
 * patterns with its parent folder's results, and an excluded folder not entered when no re-include could reach into it.
 */
export function sentFiles(patterns: IgnorePattern[], names: readonly string[]): string[] {
  const hasExclusions = patterns.some((p) => p.exclusion);
  const onlyPlainExclusions = patterns.every((p) => !p.exclusion || !/[*[\]?^\\]/u.test(withoutTrailingGlob(p.body)));
  const folders = new Map<string, { state: MatchState; entered: boolean }>();
  const folder = (dir: string): { state: MatchState; entered: boolean } => {
    const known = folders.get(dir);
    if (known) return known;
    const cut = dir.lastIndexOf('/');
    const parent = cut < 0 ? undefined : folder(dir.slice(0, cut));
    let result: { state: MatchState; entered: boolean };
    if (parent && !parent.entered) result = { state: parent.state, entered: false };
    else {
      const state = matchPath(patterns, dir, parent?.state);
      let entered = true;
      if (state.matched && onlyPlainExclusions) {
        entered = hasExclusions && patterns.some((p) => p.exclusion && `${withoutTrailingGlob(p.body)}/`.startsWith(`${dir}/`));
      }
      result = { state, entered };
    }
    folders.set(dir, result);
    return result;
  };
  return names.filter((name) => {
    const cut = name.lastIndexOf('/');
    const parent = cut < 0 ? undefined : folder(name.slice(0, cut));
    if (parent && !parent.entered) return false;
    return !matchPath(patterns, name, parent?.state).matched;
  });
}

/** A character no context name may hold: C0 and C1 controls and DEL (a newline in a name would add ignore-file lines). */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/u;

/**
 * A line that BuildKit's reader turns back into this pattern: `./` before one that would read as a comment or lose
 * leading white space, `/` after one that would lose trailing white space (the reader's cleaning takes both away).
 */
function patternLine(exclusion: boolean, body: string): string {
  const chars = [...body];
  const first = chars[0] ?? '';
  const last = chars[chars.length - 1] ?? '';
  const lead = isGoSpace(first) || (!exclusion && first === '#') ? './' : '';
  const trail = isGoSpace(last) ? '/' : '';
  return `${exclusion ? '!' : ''}${lead}${body}${trail}`;
}
