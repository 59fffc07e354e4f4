// The FROM lines of a rendered Dockerfile, read as BuildKit's Dockerfile frontend reads them: parser directives,
// comments, line continuations, heredocs, global ARGs, variable expansion, stage aliases.
import type { Arch } from '../core/types.js';
import { parseRef } from '../core/ref.js';

export interface FromLine {
  /** Line and column (1-based) of the FROM keyword in the rendered text (for a continued instruction, where it starts). */
  line: number;
  column: number;
  /** The reference as written, and after ARG expansion ("" when it could not be read or expanded: see problems). */
  raw: string;
  ref: string;
  /** The --platform= value, after expansion. */
  platform?: string;
  /** The AS name, lowercased as BuildKit does. */
  alias?: string;
  /** Index (in froms) of the earlier stage whose alias this FROM names, or undefined when it names an image. */
  stage?: number;
  /** true for FROM scratch. */
  scratch: boolean;
}

export interface ParseOptions {
  /** Build args (kolla-gen passes config build_args): they override the platform args and the defaults of global ARGs. */
  buildArgs?: Record<string, string>;
  /** BuildKit's automatic platform args, in scope for every FROM without an ARG (see platformArgs()); unset when absent. */
  platformArgs?: Record<string, string>;
}

export interface Problem {
  line: number;
  column: number;
  message: string;
}

export type ParseResult = { froms: FromLine[]; problems: Problem[] };

/**
 * BuildKit's automatic platform args for a build of `target` on a builder of platform `build`.
 * The builder's platform is unknown when kolla-gen renders, so `build` defaults to `target` (a native
 * builder); it only shows in FROMs that use BUILDPLATFORM, BUILDARCH and the like. TARGETSTAGE is not
 * here: parseFroms computes it from the Dockerfile (its last stage), as BuildKit does.
 */
export function platformArgs(target: Arch, build: Arch = target): Record<string, string> {
  return {
    BUILDPLATFORM: `linux/${build}`,
    BUILDOS: 'linux',
    BUILDOSVERSION: '',
    BUILDARCH: build,
    BUILDVARIANT: '',
    TARGETPLATFORM: `linux/${target}`,
    TARGETOS: 'linux',
    TARGETOSVERSION: '',
    TARGETARCH: target,
    TARGETVARIANT: '',
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Characters

/** Go's unicode.IsSpace, which BuildKit uses to trim lines and split words. */
function isSpace(ch: string | undefined): boolean {
  if (ch === undefined) return false;
  switch (ch) {
    case ' ': case '\t': case '\n': case '\v': case '\f': case '\r': case '\u0085': case '\u00a0':
    case '\u1680': case '\u2028': case '\u2029': case '\u202f': case '\u205f': case '\u3000':
      return true;
    default:
      return ch >= '\u2000' && ch <= '\u200a';
  }
}

/** The separators of BuildKit's reWhitespace, which splits an instruction and the words of FROM. */
const isWordSpace = (ch: string | undefined): boolean => ch === ' ' || ch === '\t' || ch === '\v' || ch === '\f' || ch === '\r';

function leadingSpaces(s: string): number {
  let i = 0;
  while (i < s.length && isSpace(s[i])) i++;
  return i;
}

function trailingEnd(s: string, from = 0): number {
  let end = s.length;
  while (end > from && isSpace(s[end - 1])) end--;
  return end;
}

// Lines are split on "\n", so a "\r" is the only line break one can end with.
const trimNewline = (s: string): string => (s.charCodeAt(s.length - 1) === 13 ? s.replace(/[\r\n]+$/, '') : s);
const isComment = (s: string): boolean => s[leadingSpaces(s)] === '#';

// ---------------------------------------------------------------------------------------------------------------
// Variable expansion: BuildKit's shell lexer (quotes, escapes, $VAR and the ${VAR...} forms)

export class LexError extends Error {}

interface LexOptions {
  escape: string;
  /** Keep quotes in the result (heredoc detection needs to know a word was quoted). */
  rawQuotes?: boolean;
  rawEscapes?: boolean;
  /** Leave unset variables as written instead of expanding them to "". */
  skipUnset?: boolean;
}

/** Collects the words of an expanded string: spaces split them, except where quoted, escaped or expanded raw. */
class Words {
  private buf = '';
  private inWord = false;
  readonly words: string[] = [];

  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.buf !== '') {
        this.words.push(this.buf);
        this.buf = '';
        this.inWord = false;
      }
    } else {
      this.addRaw(ch);
    }
  }

  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }

  addRaw(s: string): void {
    this.buf += s;
    this.inWord = true;
  }

  finish(): string[] {
    if (this.buf !== '') this.words.push(this.buf);
    this.buf = '';
    return this.words;
  }
}

class Lexer {
  private readonly chars: string[];
  private pos = 0;
  private rawEscapes: boolean;

  constructor(
    source: string,
    private readonly env: ReadonlyMap<string, string>,
    private readonly opts: LexOptions,
  ) {
    this.chars = Array.from(source);
    this.rawEscapes = opts.rawEscapes ?? false;
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private next(): string | undefined {
    const ch = this.chars[this.pos];
    if (ch !== undefined) this.pos++;
    return ch;
  }

  process(): { result: string; words: string[] } {
    return this.processStopOn(undefined, this.rawEscapes);
  }

  private processStopOn(stop: string | undefined, rawEscapes: boolean): { result: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let result = '';
      const words = new Words();
      for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
        if (stop !== undefined && ch === stop) {
          this.next();
          return { result, words: words.finish() };
        }
        if (ch === '$') {
          const value = this.processDollar();
          result += value;
          words.addString(value);
        } else if (ch === '<' || ch === "'" || ch === '"') {
          const value = ch === '<' ? this.processPossibleHeredoc() : ch === "'" ? this.processSingleQuote() : this.processDoubleQuote();
          result += value;
          words.addRaw(value);
        } else {
          this.next();
          if (ch === this.opts.escape) {
            if (this.rawEscapes) {
              words.addRaw(ch);
              result += ch;
            }
            const escaped = this.next();
            // An escape at the very end is dropped.
            if (escaped === undefined) break;
            words.addRaw(escaped);
            result += escaped;
          } else {
            words.addChar(ch);
            result += ch;
          }
        }
      }
      if (stop !== undefined) throw new LexError(`unexpected end of statement while looking for matching ${stop}`);
      return { result, words: words.finish() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private processSingleQuote(): string {
    const open = this.next() as string;
    let result = this.opts.rawQuotes ? open : '';
    for (;;) {
      const ch = this.next();
      if (ch === undefined) throw new LexError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return this.opts.rawQuotes ? result + ch : result;
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    const open = this.next() as string;
    let result = this.opts.rawQuotes ? open : '';
    for (;;) {
      const peeked = this.peek();
      if (peeked === undefined) throw new LexError('unexpected end of statement while looking for matching double-quote');
      if (peeked === '"') {
        this.next();
        return this.opts.rawQuotes ? result + peeked : result;
      }
      if (peeked === '$') {
        result += this.processDollar();
        continue;
      }
      let ch = this.next() as string;
      if (ch === this.opts.escape) {
        if (this.rawEscapes) result += ch;
        const after = this.peek();
        if (after === undefined) continue;
        // Inside double quotes only ", $ and the escape itself can be escaped.
        if (after === '"' || after === '$' || after === this.opts.escape) ch = this.next() as string;
      }
      result += ch;
    }
  }

  private processPossibleHeredoc(): string {
    this.next();
    if (this.peek() !== '<') return '<';
    this.next();
    let result = '<<';
    for (let ch = this.peek(); ch === ' ' || ch === '\t' || ch === '\r'; ch = this.peek()) result += this.next();
    return result;
  }

  private processName(): string {
    let name = '';
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (name === '' && /^\p{Nd}$/u.test(ch)) {
        // $1, $12: positional parameters are all digits.
        while (this.peek() !== undefined && /^\p{Nd}$/u.test(this.peek() as string)) name += this.next();
        return name;
      }
      if (name === '' && '@*#?-$!0'.includes(ch)) return this.next() as string;
      if (!/^[\p{L}\p{Nd}_]$/u.test(ch)) break;
      name += this.next();
    }
    return name;
  }

  private getEnv(name: string): string | undefined {
    return this.env.get(name);
  }

  private processDollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const value = this.getEnv(name);
      if (value === undefined && this.opts.skipUnset) return `$${name}`;
      return value ?? '';
    }
    this.next();
    const first = this.peek();
    if (first === undefined) throw new LexError("missing '}' after '${'");
    if (first === '{' || first === '}' || first === ':') throw new LexError('bad substitution');
    const name = this.processName();
    let ch = this.next();
    if (ch === undefined) throw new LexError(`missing '}' after '\${${name}'`);
    let modifier = ch;
    let nullIsUnset = false;
    if (ch === '}') {
      const value = this.getEnv(name);
      if (value === undefined && this.opts.skipUnset) return `\${${name}}`;
      return value ?? '';
    }
    if (ch === ':') {
      nullIsUnset = true;
      ch = this.next();
      modifier += ch ?? '';
    }
    if (ch === '/' && !nullIsUnset) return this.processReplace(name);
    if (!nullIsUnset && !['+', '-', '?', '#', '%'].includes(ch ?? '')) throw new LexError(`unsupported modifier (${modifier}) in substitution`);

    const trims = ch === '#' || ch === '%';
    if (nullIsUnset && trims) throw new LexError(`unsupported modifier (${modifier}) in substitution`);
    const word = this.wordUntil('}', trims, `missing '}' in '\${${name}${modifier}'`);
    const value = this.getEnv(name);
    if (value === undefined && this.opts.skipUnset) return `\${${name}${modifier}${word}}`;
    const unset = value === undefined || (nullIsUnset && value === '');
    switch (ch) {
      case '-':
        return unset ? word : (value as string);
      case '+':
        return unset ? '' : word;
      case '?':
        if (value === undefined) throw new LexError(`${name}: ${word || 'is not allowed to be unset'}`);
        if (unset) throw new LexError(`${name}: ${word || 'is not allowed to be empty'}`);
        return value;
      case '#':
      case '%': {
        const greedy = word.startsWith(ch);
        const pattern = greedy ? word.slice(1) : word;
        return ch === '#' ? trimPrefix(pattern, value ?? '', greedy) : trimSuffix(pattern, value ?? '', greedy);
      }
      default:
        throw new LexError(`unsupported modifier (${modifier}) in substitution`);
    }
  }

  private processReplace(name: string): string {
    const all = this.peek() === '/';
    if (all) this.next();
    const pattern = this.wordUntil('/', true, `missing '/' in '\${${name}/'`);
    const replacement = this.wordUntil('}', true, `missing '}' in '\${${name}/'`);
    const value = this.getEnv(name);
    if (value === undefined && this.opts.skipUnset) return `\${${name}/${pattern}/${replacement}}`;
    const re = shellPatternToRegex(pattern, true, false, all);
    return (value ?? '').replace(re, () => replacement);
  }

  private wordUntil(stop: string, rawEscapes: boolean, missing: string): string {
    try {
      return this.processStopOn(stop, rawEscapes).result;
    } catch (e) {
      if (e instanceof LexError && this.peek() === undefined) throw new LexError(missing);
      throw e;
    }
  }
}

/** A shell pattern (`*`, `?`, `\` escapes) as a RegExp, as BuildKit converts it for ${VAR#…}, ${VAR%…} and ${VAR/…}. */
function shellPatternToRegex(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  const chars = Array.from(pattern);
  let out = anchored ? '^' : '';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (ch === '*') out += greedy ? '[^\\n]*' : '[^\\n]*?';
    else if (ch === '?') out += '[^\\n]';
    else if (ch === '\\') {
      const after = chars[i + 1];
      // "\}" and "\/" only protect the delimiters of ${…}; the pattern gets the plain character.
      if (after === '}' || after === '/') continue;
      if (after !== '*' && after !== '?' && after !== '\\') throw new LexError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${after ?? ''}'`);
      out += `\\${after}`;
      i++;
    } else out += ch.replace(/[[\]{}.+()|^$]/, '\\$&');
  }
  return new RegExp(out, global ? 'gu' : 'u');
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const match = shellPatternToRegex(pattern, greedy, true).exec(value);
  return match ? value.slice(match[0].length) : value;
}

/** Shortest (or longest) suffix: reverse the value and the pattern (keeping escapes before what they escape). */
function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  const chars = Array.from(pattern);
  const reversed: string[] = [];
  for (let i = 0; i < chars.length; ) {
    if (chars[i] === '\\' && i + 1 < chars.length) {
      reversed.unshift('\\', chars[i + 1] as string);
      i += 2;
    } else {
      reversed.unshift(chars[i] as string);
      i++;
    }
  }
  const reverse = (s: string) => Array.from(s).reverse().join('');
  return reverse(trimPrefix(reversed.join(''), reverse(value), greedy));
}

export function expand(word: string, env: ReadonlyMap<string, string>, escape: string): string {
  return new Lexer(word, env, { escape }).process().result;
}

// ---------------------------------------------------------------------------------------------------------------
// Instructions: physical lines joined into logical ones, with a map back to line and column

/** A piece of a logical instruction: the text from `offset` on was taken from `line`, starting at `column`. */
export interface Piece {
  offset: number;
  line: number;
  column: number;
}

export interface Instruction {
  text: string;
  pieces: Piece[];
  /** Where the keyword starts in text. */
  start: number;
  keyword: string;
  flags: { text: string; offset: number }[];
  /** Where the arguments (after the flags, trimmed) start and end in text. */
  argsStart: number;
  argsEnd: number;
}

export function positionAt(pieces: Piece[], offset: number): { line: number; column: number } {
  let found = pieces[0] as Piece;
  for (const p of pieces) if (p.offset <= offset) found = p;
  return { line: found.line, column: found.column + offset - found.offset };
}

/** BuildKit's extractBuilderFlags: the leading --flag words (quotes and escapes removed), then where the arguments start. */
function extractFlags(text: string, from: number, escape: string): { flags: { text: string; offset: number }[]; rest: number } {
  const flags: { text: string; offset: number }[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let wordStart = from;
  let quote = '';
  let blankOk = false;
  for (let pos = from; pos <= text.length; pos++) {
    let ch = text[pos] as string;
    if (phase === 'spaces') {
      if (pos === text.length) break;
      if (isSpace(ch)) continue;
      if (ch !== '-' || text[pos + 1] !== '-') return { flags, rest: pos };
      phase = 'word';
      wordStart = pos;
    }
    if (pos === text.length) {
      if (word !== '--' && (blankOk || word !== '')) flags.push({ text: word, offset: wordStart });
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        if (word === '--') return { flags, rest: pos };
        if (blankOk || word !== '') flags.push({ text: word, offset: wordStart });
        phase = 'spaces';
        word = '';
        blankOk = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
        phase = 'quote';
        continue;
      }
      if (ch === escape) {
        if (pos + 1 === text.length) continue;
        ch = text[++pos] as string;
      }
      word += ch;
      continue;
    }
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    if (ch === escape) {
      if (pos + 1 === text.length) {
        phase = 'word';
        continue;
      }
      ch = text[++pos] as string;
    }
    word += ch;
  }
  return { flags, rest: text.length };
}

export function splitInstruction(text: string, pieces: Piece[], escape: string): Instruction {
  const start = leadingSpaces(text);
  const end = trailingEnd(text, start);
  let keywordEnd = start;
  while (keywordEnd < end && !isWordSpace(text[keywordEnd])) keywordEnd++;
  const keyword = text.slice(start, keywordEnd);
  let argsStart = end;
  let flags: Instruction['flags'] = [];
  if (keywordEnd < end) {
    let afterSpace = keywordEnd;
    while (afterSpace < end && isWordSpace(text[afterSpace])) afterSpace++;
    const extracted = extractFlags(text.slice(0, end), afterSpace, escape);
    flags = extracted.flags;
    argsStart = Math.min(extracted.rest + leadingSpaces(text.slice(extracted.rest, end)), end);
  }
  return { text, pieces, start, keyword, flags, argsStart, argsEnd: end };
}

/** BuildKit's parseWords: the words of ARG (and ENV, LABEL), quotes and escapes kept for the later expansion. */
export function parseWords(rest: string, escape: string): { text: string; offset: number }[] {
  const words: { text: string; offset: number }[] = [];
  const chars = Array.from(rest);
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let quote = '';
  let blankOk = false;
  let word = '';
  let wordStart = 0;
  let offset = 0; // UTF-16 offset of chars[pos]
  const offsets = chars.map((c) => ((offset += c.length), offset - c.length));
  for (let pos = 0; pos <= chars.length; pos++) {
    let ch = chars[pos] as string;
    if (phase === 'spaces') {
      if (pos === chars.length) break;
      if (isSpace(ch)) continue;
      phase = 'word';
      wordStart = offsets[pos] as number;
    }
    if (pos === chars.length) {
      if (blankOk || word !== '') words.push({ text: word, offset: wordStart });
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (blankOk || word !== '') words.push({ text: word, offset: wordStart });
        word = '';
        blankOk = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
        phase = 'quote';
      }
      if (ch === escape) {
        if (pos + 1 === chars.length) continue;
        // Unquoted, the escape and what it escapes are both kept: the expansion removes the escape.
        word += ch;
        ch = chars[++pos] as string;
      }
      word += ch;
      continue;
    }
    if (ch === quote) phase = 'word';
    if (ch === escape && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      word += ch;
      ch = chars[++pos] as string;
    }
    word += ch;
  }
  return words;
}

// ---------------------------------------------------------------------------------------------------------------
// Heredocs

interface Heredoc {
  name: string;
  chomp: boolean;
}

const HEREDOC_RE = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/;

/** Whether the arguments are a JSON array of strings (the exec form), which takes no heredoc. */
export function isJsonForm(args: string): boolean {
  const trimmed = args.slice(leadingSpaces(args));
  if (!trimmed.startsWith('[')) return false;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    return Array.isArray(parsed) && parsed.every((v) => typeof v === 'string');
  } catch {
    return false;
  }
}

/** RUN, COPY and ADD (also as an ONBUILD trigger) take heredocs, unless written in JSON form. */
function canContainHeredoc(ins: Instruction, escape: string): boolean {
  let keyword = ins.keyword.toLowerCase();
  let args = ins.text.slice(ins.argsStart, ins.argsEnd);
  if (keyword === 'onbuild') {
    const sub = splitInstruction(args, [{ offset: 0, line: 0, column: 0 }], escape);
    keyword = sub.keyword.toLowerCase();
    args = sub.text.slice(sub.argsStart, sub.argsEnd);
  }
  return (keyword === 'run' || keyword === 'copy' || keyword === 'add') && !isJsonForm(args);
}

/** Every `<<WORD` of an instruction, in order; throws LexError for a malformed heredoc word. */
function heredocsOf(text: string): Heredoc[] {
  let words: string[];
  try {
    words = new Lexer(text, new Map(), { escape: '\\', rawQuotes: true, rawEscapes: true, skipUnset: true }).process().words;
  } catch (e) {
    if (e instanceof LexError) return [];
    throw e;
  }
  const docs: Heredoc[] = [];
  for (const word of words) {
    const match = HEREDOC_RE.exec(word);
    const rest = match?.[3];
    if (!match || !rest) continue;
    // The delimiter is the word with its quotes removed ("EOF", 'EOF' and EOF all end at a line EOF).
    const names = new Lexer(rest, new Map(), { escape: '\\', skipUnset: true }).process().words;
    if (names.length !== 1) continue;
    docs.push({ name: names[0] as string, chomp: match[2] === '-' });
  }
  return docs;
}

// ---------------------------------------------------------------------------------------------------------------
// The parse

interface RawFrom {
  line: number;
  column: number;
  ins: Instruction;
  words: { text: string; offset: number }[];
  /** The first problem BuildKit's instruction parser would stop at, if any. */
  problem?: Problem;
  alias?: string;
  platform?: { text: string; offset: number };
}

interface GlobalArg {
  key: string;
  /** The default as written (quotes, escapes and $ still there). */
  value?: string;
  at: { line: number; column: number };
}

const STAGE_NAME_RE = /^[a-z][a-z0-9_.-]*$/;
const FROM_FLAGS = new Set(['platform']);
const FROM_USAGE = 'write FROM [--platform=<platform>] <image> [AS <name>]';

function readFrom(ins: Instruction): RawFrom {
  const at = positionAt(ins.pieces, ins.start);
  const args = ins.text.slice(ins.argsStart, ins.argsEnd);
  const words: RawFrom['words'] = [];
  for (const m of args.matchAll(/[^\t\v\f\r ]+/g)) words.push({ text: m[0], offset: ins.argsStart + m.index });
  const from: RawFrom = { ...at, ins, words };
  const problem = (offset: number, message: string) => {
    from.problem ??= { ...positionAt(ins.pieces, offset), message };
  };

  // Flags first: a --platform without "=" also leaves its value among the words.
  const seen = new Set<string>();
  for (const flag of ins.flags) {
    const eq = flag.text.indexOf('=');
    const flagName = eq < 0 ? flag.text : flag.text.slice(0, eq);
    const key = flagName.slice(2);
    if (!FROM_FLAGS.has(key)) problem(flag.offset, `unknown flag ${flagName}: FROM takes only --platform`);
    else if (seen.has(key)) problem(flag.offset, `${flagName} is given twice`);
    else if (eq < 0) problem(flag.offset, `${flagName} needs a value: write ${flagName}=<platform>`);
    // BuildKit reads an empty --platform= as no --platform at all.
    else if (eq + 1 < flag.text.length) from.platform = { text: flag.text.slice(eq + 1), offset: flag.offset };
    seen.add(key);
  }

  const [, as, name, stray] = words;
  if (words.length === 0) problem(ins.argsEnd, `FROM names no image: ${FROM_USAGE}`);
  else if (as && as.text.toLowerCase() !== 'as') problem(as.offset, `expected AS after the image, found "${as.text}": ${FROM_USAGE}`);
  else if (stray) problem(stray.offset, `unexpected "${stray.text}" after the stage name: ${FROM_USAGE}`);
  else if (as && !name) problem(as.offset, `AS needs a stage name: ${FROM_USAGE}`);
  else if (name) {
    const alias = name.text.toLowerCase();
    if (STAGE_NAME_RE.test(alias)) from.alias = alias;
    else problem(name.offset, `invalid stage name "${name.text}": it must start with a letter and hold only letters, digits, "-", "_" and "."`);
  }
  return from;
}

function readArgs(ins: Instruction, escape: string, problems: Problem[]): GlobalArg[] {
  const args = ins.text.slice(ins.argsStart, ins.argsEnd);
  const words = parseWords(args, escape);
  if (words.length === 0) {
    problems.push({ ...positionAt(ins.pieces, ins.start), message: 'ARG needs at least one name' });
    return [];
  }
  const out: GlobalArg[] = [];
  for (const word of words) {
    const at = positionAt(ins.pieces, ins.argsStart + word.offset);
    const eq = word.text.indexOf('=');
    if (eq === 0) {
      problems.push({ ...at, message: `ARG "${word.text}" has no name` });
      continue;
    }
    out.push(eq < 0 ? { key: word.text, at } : { key: word.text.slice(0, eq), value: word.text.slice(eq + 1), at });
  }
  return out;
}

/** Splits text into lines as BuildKit's scanner does: on "\n", with no empty line after a final newline. */
function physicalLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

const DIRECTIVE_RE = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/;
const DIRECTIVES = new Set(['syntax', 'escape', 'check']);

/**
 * The FROMs of a rendered Dockerfile, with ARGs expanded as BuildKit expands them. Problems (a malformed FROM,
 * a bad expansion, an unterminated heredoc, a bad parser directive) come back as data, never thrown; a FROM with
 * a problem is still listed, so that froms[i] is BuildKit's stage i.
 */
export function parseFroms(text: string, options: ParseOptions = {}): ParseResult {
  return resolveScan(scanDockerfile(text), options);
}

/**
 * What the lines of a Dockerfile say before any ARG is expanded: the same for every arch, so that a text rendered
 * once for several arches is read once (scanDockerfile), and its FROMs expanded per arch (resolveScan).
 */
export interface Scan {
  rawFroms: RawFrom[];
  globalArgs: GlobalArg[];
  escape: string;
  problems: Problem[];
}

export function resolveScan(scan: Scan, options: ParseOptions): ParseResult {
  const problems = [...scan.problems];
  const froms = resolveFroms(scan.rawFroms, scan.globalArgs, options, scan.escape, problems);
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  return { froms, problems };
}

export function scanDockerfile(text: string): Scan {
  return scanLines(text);
}

/**
 * The Dockerfile as BuildKit's parser reads it, as text: its parser directives (`#key=value`, as read at the top),
 * then each instruction once its continuation lines are joined (comment and blank lines inside it left out, as
 * BuildKit leaves them out), each followed by the lines of its heredocs, verbatim (a comment there is content).
 * Comment lines and blank lines are not in it: they change nothing BuildKit builds, so they change no content hash.
 * Everything else is kept as written (case, spacing inside an instruction), so that a change that could reach the
 * build always shows.
 */
export function buildkitView(text: string): string {
  const view: string[] = [];
  scanLines(text, view);
  return view.map((line) => `${line}\n`).join('');
}

/**
 * Every instruction of a Dockerfile (continuation lines joined, heredoc bodies left out), in order, with the Scan:
 * what the BuildKit policy (buildkit-features.ts) reads.
 */
export function dockerfileInstructions(text: string): { scan: Scan; instructions: Instruction[] } {
  const instructions: Instruction[] = [];
  const scan = scanLines(text, undefined, instructions);
  return { scan, instructions };
}

/** `view`: where buildkitView collects what BuildKit reads, line by line; `collect`: where instructions go. */
function scanLines(text: string, view?: string[], collect?: Instruction[]): Scan {
  const problems: Problem[] = [];
  const lines = physicalLines(text);
  let escape = '\\';
  let continuation = /([^\\])\\[ \t]*$|^\\[ \t]*$/;
  let directivesDone = false;
  const seenDirectives = new Set<string>();

  const rawFroms: RawFrom[] = [];
  const globalArgs: GlobalArg[] = [];

  const readDirective = (token: string, line: number, column: number) => {
    if (directivesDone) return;
    const body = token.slice(1);
    const match = token.startsWith('#') ? DIRECTIVE_RE.exec(body.slice(leadingSpaces(body))) : null;
    const key = match?.[1]?.toLowerCase();
    if (!match || key === undefined || !DIRECTIVES.has(key)) {
      directivesDone = true;
      return;
    }
    const value = match[2] as string;
    view?.push(`#${key}=${value}`);
    if (seenDirectives.has(key)) {
      problems.push({ line, column, message: `only one ${key} parser directive can be used` });
      return;
    }
    seenDirectives.add(key);
    if (key !== 'escape') return;
    if (value === '`') {
      escape = '`';
      continuation = /([^`])`[ \t]*$|^`[ \t]*$/;
    } else if (value !== '\\') {
      problems.push({ line, column, message: `invalid escape token "${value}": use \\ or \`` });
    }
  };

  const trimContinuation = (s: string): { piece: string; continued: boolean } => {
    // Only a line whose last character but spaces and tabs is the escape can continue: the rest skip the regex.
    let end = s.length;
    while (end > 0 && (s.charCodeAt(end - 1) === 32 || s.charCodeAt(end - 1) === 9)) end--;
    if (end === 0 || s[end - 1] !== escape) return { piece: s, continued: false };
    const match = continuation.exec(s);
    if (!match) return { piece: s, continued: false };
    return { piece: s.slice(0, match.index) + (match[1] ?? ''), continued: true };
  };

  let next = 0;
  while (next < lines.length) {
    const lineNo = next + 1;
    let raw = lines[next++] as string;
    let bom = 0;
    if (lineNo === 1 && raw.startsWith('\ufeff')) {
      raw = raw.slice(1);
      bom = 1;
    }
    const trimmed = trimNewline(raw);
    const lead = leadingSpaces(trimmed);
    const token = trimmed.slice(lead);
    readDirective(token, lineNo, lead + bom + 1);
    if (token.startsWith('#')) continue;

    let { piece, continued } = trimContinuation(token);
    if (!continued && piece === '') continue;
    const pieces: Piece[] = [{ offset: 0, line: lineNo, column: lead + bom + 1 }];
    let logical = piece;
    while (continued && next < lines.length) {
      const contNo = next + 1;
      const contLine = trimNewline(lines[next++] as string);
      // Comments and blank lines inside a continued instruction are skipped.
      if (isComment(contLine) || leadingSpaces(contLine) === contLine.length) continue;
      ({ piece, continued } = trimContinuation(contLine));
      pieces.push({ offset: logical.length, line: contNo, column: 1 });
      logical += piece;
    }

    // BuildKit trims the instruction (Go's unicode.IsSpace) before it splits it: trailing spaces are not part of it.
    view?.push(logical.slice(0, trailingEnd(logical)));
    const ins = splitInstruction(logical, pieces, escape);
    collect?.push(ins);
    const keyword = ins.keyword.toLowerCase();
    if (keyword === 'from') rawFroms.push(readFrom(ins));
    else if (keyword === 'arg' && rawFroms.length === 0) globalArgs.push(...readArgs(ins, escape, problems));

    if (logical.includes('<<') && canContainHeredoc(ins, escape)) {
      let docs: Heredoc[];
      try {
        docs = heredocsOf(logical);
      } catch (e) {
        if (!(e instanceof LexError)) throw e;
        problems.push({ ...positionAt(pieces, ins.start), message: `malformed heredoc: ${e.message}` });
        docs = [];
      }
      for (const doc of docs) {
        let terminated = false;
        while (next < lines.length) {
          let body = trimNewline(lines[next++] as string);
          view?.push(body);
          if (doc.chomp) body = body.replace(/^\t+/, '');
          if (body === doc.name) {
            terminated = true;
            break;
          }
        }
        if (!terminated) {
          problems.push({ ...positionAt(pieces, ins.start), message: `unterminated heredoc: no line after it holds only "${doc.name}"` });
          break;
        }
      }
    }
  }

  return { rawFroms, globalArgs, escape, problems };
}

/** The scope of every FROM: automatic args, then global ARGs in order, build args overriding both. */
export function globalScope(rawFroms: RawFrom[], globalArgs: GlobalArg[], options: ParseOptions, escape: string, problems: Problem[]): Map<string, string> {
  const buildArgs = options.buildArgs ?? {};
  const has = (key: string) => Object.prototype.hasOwnProperty.call(buildArgs, key);
  const automatic: Record<string, string> = { ...options.platformArgs };
  if (!Object.prototype.hasOwnProperty.call(automatic, 'TARGETSTAGE')) automatic.TARGETSTAGE = rawFroms[rawFroms.length - 1]?.alias ?? 'default';
  const scope = new Map<string, string>();
  for (const [key, value] of Object.entries(automatic)) scope.set(key, has(key) ? (buildArgs[key] as string) : value);

  for (const arg of globalArgs) {
    if (has(arg.key)) {
      scope.set(arg.key, buildArgs[arg.key] as string);
      continue;
    }
    // An ARG without a default and without a build arg stays unset (so ${A-x} gives x).
    if (arg.value === undefined) continue;
    try {
      scope.set(arg.key, expand(arg.value, scope, escape));
    } catch (e) {
      if (!(e instanceof LexError)) throw e;
      problems.push({ ...arg.at, message: `ARG ${arg.key}: ${e.message}` });
    }
  }
  return scope;
}

function resolveFroms(rawFroms: RawFrom[], globalArgs: GlobalArg[], options: ParseOptions, escape: string, problems: Problem[]): FromLine[] {
  const scope = globalScope(rawFroms, globalArgs, options, escape, problems);
  const stages = new Map<string, number>();
  const froms: FromLine[] = [];
  for (const raw of rawFroms) {
    const { ins } = raw;
    let problem = raw.problem;
    const report = (offset: number, message: string) => {
      problem ??= { ...positionAt(ins.pieces, offset), message };
    };
    const image = raw.words[0];
    let ref = '';
    if (image) {
      try {
        ref = expand(image.text, scope, escape);
        if (ref === '') report(image.offset, `the image of FROM ${image.text} is empty once its ARGs are expanded`);
      } catch (e) {
        if (!(e instanceof LexError)) throw e;
        report(image.offset, `cannot expand ${image.text}: ${e.message}`);
      }
    }
    let platform: string | undefined;
    if (raw.platform) {
      try {
        platform = expand(raw.platform.text, scope, escape);
        if (platform === '') report(raw.platform.offset, `--platform=${raw.platform.text} is empty once its ARGs are expanded`);
      } catch (e) {
        if (!(e instanceof LexError)) throw e;
        report(raw.platform.offset, `cannot expand --platform=${raw.platform.text}: ${e.message}`);
      }
    }
    // An exact match: BuildKit does not lowercase the FROM side, and aliases are already lowercase.
    const stage = ref === '' ? undefined : stages.get(ref);
    const scratch = stage === undefined && ref === 'scratch';
    if (image && ref !== '' && stage === undefined && !scratch && parseRef(ref) === undefined) {
      const lower = ref.toLowerCase();
      const hint = stages.has(lower)
        ? `; stage names are matched as written, so write FROM ${lower} to build on the stage ${lower}`
        : parseRef(lower) !== undefined
          ? ': a repository name must be lowercase'
          : '';
      report(image.offset, `"${ref}" is not a valid image reference${hint}`);
    }
    if (problem) problems.push(problem);
    froms.push({
      line: raw.line,
      column: raw.column,
      raw: image?.text ?? '',
      ref,
      ...(platform === undefined ? {} : { platform }),
      ...(raw.alias === undefined ? {} : { alias: raw.alias }),
      ...(stage === undefined ? {} : { stage }),
      scratch,
    });
    // Registered after the lookup: a FROM never names its own stage.
    if (raw.alias !== undefined) stages.set(raw.alias, froms.length - 1);
  }
  return froms;
}
