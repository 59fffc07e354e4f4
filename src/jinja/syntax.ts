// Template text to syntax tree with Jinja2's grammar. nunjucks' tokenizer and statement parser do the work;
// this module replaces the parts where nunjucks' grammar differs from Jinja2's: string escapes, the whole
// expression grammar (precedence, tuples, slices, tests with arguments, `in` chains, literals), `for … if`,
// `set` targets, `include … with context`, `with`, and the tags Jinja2 does not have.
import lexer, { type Token, type Tokenizer } from 'nunjucks/src/lexer.js';
import parserModule from 'nunjucks/src/parser.js';
import nodes from 'nunjucks/src/nodes.js';

/** This module's file: its code (with nunjucks' parser, in the bundle) stamps the trees kept on disk. */
export const PARSER_MODULE = import.meta.url;

/** A syntax tree node. nunjucks builds the statement nodes; the expression nodes are built here. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Node = { typename: string; lineno: number; colno: number; [field: string]: any };

export class TemplateSyntaxError extends Error {
  constructor(
    message: string,
    /** 1-based, in the (normalized) source. */
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
    this.name = 'TemplateSyntaxError';
  }
}

/** Jinja2's lexer splits on any newline style, joins with "\n" and drops one trailing newline. */
export function normalizeSource(source: string): string {
  const lines = source.split(/\r\n|\r|\n/);
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines.join('\n');
}

const T = {
  STRING: lexer.TOKEN_STRING!,
  INT: lexer.TOKEN_INT!,
  FLOAT: lexer.TOKEN_FLOAT!,
  BOOLEAN: lexer.TOKEN_BOOLEAN!,
  NONE: lexer.TOKEN_NONE!,
  SYMBOL: lexer.TOKEN_SYMBOL!,
  OPERATOR: lexer.TOKEN_OPERATOR!,
  LEFT_PAREN: lexer.TOKEN_LEFT_PAREN!,
  RIGHT_PAREN: lexer.TOKEN_RIGHT_PAREN!,
  LEFT_BRACKET: lexer.TOKEN_LEFT_BRACKET!,
  RIGHT_BRACKET: lexer.TOKEN_RIGHT_BRACKET!,
  LEFT_CURLY: lexer.TOKEN_LEFT_CURLY!,
  RIGHT_CURLY: lexer.TOKEN_RIGHT_CURLY!,
  COMMA: lexer.TOKEN_COMMA!,
  COLON: lexer.TOKEN_COLON!,
  TILDE: lexer.TOKEN_TILDE!,
  PIPE: lexer.TOKEN_PIPE!,
  BLOCK_START: lexer.TOKEN_BLOCK_START!,
  BLOCK_END: lexer.TOKEN_BLOCK_END!,
  VARIABLE_START: lexer.TOKEN_VARIABLE_START!,
  VARIABLE_END: lexer.TOKEN_VARIABLE_END!,
};

const SIMPLE_ESCAPES: Record<string, string> = {
  n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '\n': '',
};

/** Python's string-literal escapes (Jinja2 decodes literals with "unicode-escape"): unknown escapes keep their backslash. */
function parsePythonString(this: Tokenizer, delimiter: string): string {
  this.forward();
  let out = '';
  while (!this.isFinished() && this.current() !== delimiter) {
    const cur = this.current();
    this.forward();
    if (cur !== '\\') {
      out += cur;
      continue;
    }
    const esc = this.current();
    const simple = SIMPLE_ESCAPES[esc];
    if (simple !== undefined) {
      out += simple;
      this.forward();
    } else if (esc === 'x' || esc === 'u' || esc === 'U') {
      const width = esc === 'x' ? 2 : esc === 'u' ? 4 : 8;
      let hex = '';
      this.forward();
      for (let i = 0; i < width && /[0-9a-fA-F]/.test(this.current()); i++) {
        hex += this.current();
        this.forward();
      }
      if (hex.length !== width) throw new Error(`truncated \\${esc} escape in string literal`);
      out += String.fromCodePoint(parseInt(hex, 16));
    } else if (/[0-7]/.test(esc)) {
      let oct = '';
      for (let i = 0; i < 3 && /[0-7]/.test(this.current()); i++) {
        oct += this.current();
        this.forward();
      }
      out += String.fromCodePoint(parseInt(oct, 8));
    } else {
      out += '\\';
    }
  }
  if (this.isFinished()) throw new Error('unexpected end of string literal');
  this.forward();
  return out;
}

function tokenize(source: string): Tokenizer {
  const tokens = lexer.lex(source, {});
  // The Tokenizer class is not exported: patch this instance.
  const baseNext = tokens.nextToken.bind(tokens);
  // nunjucks ends a tag at any `}}`; Jinja2 only at the end tag of the open tag, outside braces.
  let inBlockTag = false;
  let braces = 0;
  const next = (): Token | null => {
    if (tokens.in_code && tokens.current() === '}' && (braces > 0 || inBlockTag) && tokens.str.charAt(tokens.index + 1) === '}') {
      const tok = { type: T.RIGHT_CURLY, value: '}', lineno: tokens.lineno, colno: tokens.colno };
      tokens.forward();
      braces--;
      return tok;
    }
    const tok = readToken();
    if (tok?.type === T.BLOCK_START) [inBlockTag, braces] = [true, 0];
    else if (tok?.type === T.VARIABLE_START) [inBlockTag, braces] = [false, 0];
    else if (tok?.type === T.LEFT_CURLY) braces++;
    else if (tok?.type === T.RIGHT_CURLY) braces--;
    return tok;
  };
  Object.assign(tokens, {
    _parseString: parsePythonString,
    nextToken: next,
  });
  return tokens;

  function readToken(): Token | null {
    if (tokens.in_code && /[0-9]/.test(tokens.current())) {
      // Jinja2's numbers: 1_000, 1.5, 1e3, 2.5E-3 (nunjucks reads only digits and one dot).
      const m = /^\d[\d_]*(\.\d[\d_]*)?([eE][-+]?\d[\d_]*)?/.exec(tokens.str.slice(tokens.index, tokens.index + 64))!;
      const tok = { type: m[1] || m[2] ? T.FLOAT : T.INT, value: m[0].replace(/_/g, ''), lineno: tokens.lineno, colno: tokens.colno };
      for (let i = 0; i < m[0].length; i++) tokens.forward();
      return tok;
    }
    // nunjucks reads `r/…/` as a regex literal; Jinja2 has none, so `r` is a name there.
    if (tokens.in_code && tokens.current() === 'r' && tokens.str.charAt(tokens.index + 1) === '/') {
      const tok = { type: T.SYMBOL, value: 'r', lineno: tokens.lineno, colno: tokens.colno };
      tokens.forward();
      return tok;
    }
    return baseNext();
  }
}

interface BaseParser {
  tokens: Tokenizer;
  dropLeadingWhitespace: boolean;
  nextToken(withWhitespace?: boolean): Token | null;
  peekToken(): Token | null;
  pushToken(tok: Token): void;
  fail(msg: string, lineno?: number, colno?: number): never;
  skip(type: string): boolean;
  expect(type: string): Token;
  skipValue(type: string, value: string): boolean;
  skipSymbol(value: string): boolean;
  advanceAfterBlockEnd(name?: string): Token;
  parseUntilBlocks(...names: string[]): Node;
  parseStatement(): Node | null;
  parseWithContext(): boolean | null;
  parseAsRoot(): Node;
}

const BaseParserClass = parserModule.Parser as unknown as new (tokens: Tokenizer) => BaseParser;

function node(typename: string, at: { lineno: number; colno: number }, fields: Record<string, unknown> = {}): Node {
  return { typename, lineno: at.lineno, colno: at.colno, ...fields };
}

function nj(typename: string, ...args: unknown[]): Node {
  const Ctor = nodes[typename];
  if (!Ctor) throw new Error(`nunjucks has no node ${typename}`);
  return new Ctor(...args) as Node;
}

const COMPARE_OPS = new Set(['==', '!=', '<', '>', '<=', '>=']);
const MATH2_OPS: Record<string, string> = { '*': 'Mul', '/': 'Div', '//': 'FloorDiv', '%': 'Mod' };
const NOT_JINJA_TAGS = new Set(['verbatim', 'ifAsync', 'asyncEach', 'asyncAll', 'switch']);
const TEST_ARG_STARTS = new Set([T.SYMBOL, T.STRING, T.INT, T.FLOAT, T.BOOLEAN, T.NONE, T.LEFT_PAREN, T.LEFT_BRACKET, T.LEFT_CURLY]);

class JinjaParser extends BaseParserClass {
  private eofFail(what: string): never {
    return this.fail(`unexpected end of template, expected ${what}`);
  }

  private peek(): Token {
    return this.peekToken() ?? this.eofFail('an expression');
  }

  private isSymbol(tok: Token | null, ...values: string[]): boolean {
    return !!tok && tok.type === T.SYMBOL && values.includes(tok.value);
  }

  /** Tags being parsed, innermost last: an unexpected end of template names the one left open. */
  readonly openTags: Token[] = [];

  override parseStatement(): Node | null {
    const tok = this.peekToken();
    // Not popped when parsing throws, so that the error can name the tag left open.
    if (tok) this.openTags.push(tok);
    const result = this.parseTag(tok);
    if (tok) this.openTags.pop();
    return result;
  }

  private parseTag(tok: Token | null): Node | null {
    if (tok && tok.type === T.SYMBOL && NOT_JINJA_TAGS.has(tok.value)) this.fail(`unknown tag '${tok.value}'`, tok.lineno, tok.colno);
    if (tok && this.isSymbol(tok, 'with')) return this.parseWith();
    return super.parseStatement();
  }

  // --- statements nunjucks parses differently -------------------------------------------------------------

  parseFor(): Node {
    const forTok = this.nextToken()!;
    const target = this.parseAssignTarget(false);
    if (!this.skipSymbol('in')) this.fail("expected 'in' in for loop", forTok.lineno, forTok.colno);
    const iter = this.parseTuple({ condexpr: false, endSymbols: ['if', 'recursive'] });
    let test: Node | null = null;
    if (this.skipSymbol('if')) test = this.parseExpression();
    const recursive = this.skipSymbol('recursive');
    this.advanceAfterBlockEnd('for');
    const body = this.parseUntilBlocks('endfor', 'else');
    let else_: Node | null = null;
    if (this.skipSymbol('else')) {
      this.advanceAfterBlockEnd('else');
      else_ = this.parseUntilBlocks('endfor');
    }
    this.advanceAfterBlockEnd();
    return node('For', forTok, { target, iter, test, recursive, body, else_ });
  }

  parseSet(): Node {
    const tag = this.nextToken()!;
    const target = this.parseAssignTarget(true);
    if (this.skipValue(T.OPERATOR, '=')) {
      const value = this.parseTuple({});
      this.advanceAfterBlockEnd('set');
      return node('Set', tag, { target, value });
    }
    let filter: Node | null = null;
    if (this.peek().type === T.PIPE) filter = this.parseFilter(node('BlockValue', tag));
    this.advanceAfterBlockEnd('set');
    const body = this.parseUntilBlocks('endset');
    this.advanceAfterBlockEnd();
    return node('Set', tag, { target, body, filter });
  }

  parseInclude(): Node {
    const tag = this.nextToken()!;
    const template = this.parseExpression();
    let ignoreMissing = false;
    if (this.isSymbol(this.peekToken(), 'ignore')) {
      this.nextToken();
      if (!this.skipSymbol('missing')) this.fail("expected 'missing' after 'ignore'");
      ignoreMissing = true;
    }
    const withContext = this.parseWithContext() ?? true;
    this.advanceAfterBlockEnd('include');
    return node('Include', tag, { template, ignoreMissing, withContext });
  }

  private parseWith(): Node {
    const tag = this.nextToken()!;
    const assignments: { target: Node; value: Node }[] = [];
    while (this.peek().type !== T.BLOCK_END) {
      if (assignments.length) this.expect(T.COMMA);
      const target = this.parseAssignTarget(false);
      if (!this.skipValue(T.OPERATOR, '=')) this.fail("expected '=' in with statement");
      assignments.push({ target, value: this.parseExpression() });
    }
    this.advanceAfterBlockEnd('with');
    const body = this.parseUntilBlocks('endwith');
    this.advanceAfterBlockEnd();
    return node('With', tag, { assignments, body });
  }

  /** A name, `ns.attr` (for `set`), or a tuple of names. */
  private parseAssignTarget(withNamespace: boolean): Node {
    const first = this.peek();
    if (first.type === T.LEFT_PAREN) {
      this.nextToken();
      const t = this.parseAssignTarget(false);
      this.expect(T.RIGHT_PAREN);
      return t;
    }
    const names: Node[] = [];
    let trailingComma = false;
    for (;;) {
      const tok = this.nextToken() ?? this.eofFail('a name');
      if (tok.type !== T.SYMBOL) this.fail(`expected a name, got '${tok.value}'`, tok.lineno, tok.colno);
      if (withNamespace && names.length === 0 && this.peekToken()?.type === T.OPERATOR && this.peekToken()?.value === '.') {
        this.nextToken();
        const attr = this.expect(T.SYMBOL);
        return node('NSRef', tok, { name: tok.value, attr: attr.value });
      }
      names.push(nj('Symbol', tok.lineno, tok.colno, tok.value));
      if (this.peekToken()?.type !== T.COMMA) break;
      this.nextToken();
      trailingComma = true;
      if (this.peekToken()?.type !== T.SYMBOL || this.isSymbol(this.peekToken(), 'in')) break;
      trailingComma = false;
    }
    return names.length === 1 && !trailingComma ? names[0]! : node('Tuple', first, { children: names });
  }

  // --- expressions: Jinja2's grammar -----------------------------------------------------------------------

  parseExpression(): Node {
    return this.parseCondExpr();
  }

  parseInlineIf(): Node {
    return this.parseCondExpr();
  }

  private parseCondExpr(): Node {
    let expr = this.parseOr();
    while (this.skipSymbol('if')) {
      const cond = this.parseOr();
      const else_ = this.skipSymbol('else') ? this.parseCondExpr() : null;
      expr = node('InlineIf', expr, { cond, body: expr, else_ });
    }
    return expr;
  }

  /** Comma-separated expressions; a tuple when there is a comma (or when `(` `)` enclose nothing). */
  parseTuple(opts: { condexpr?: boolean; endSymbols?: string[]; explicitParens?: boolean }): Node {
    const start = this.peek();
    const items: Node[] = [];
    let isTuple = false;
    for (;;) {
      if (items.length) {
        if (this.peekToken()?.type !== T.COMMA) break;
        this.nextToken();
        isTuple = true;
      }
      const tok = this.peekToken();
      if (!tok || [T.BLOCK_END, T.VARIABLE_END, T.RIGHT_PAREN].includes(tok.type)) break;
      if (opts.endSymbols && this.isSymbol(tok, ...opts.endSymbols)) break;
      items.push(opts.condexpr === false ? this.parseOr() : this.parseExpression());
    }
    if (!isTuple) {
      if (items.length) return items[0]!;
      if (!opts.explicitParens) this.fail(`expected an expression, got '${start.value}'`, start.lineno, start.colno);
    }
    return node('Tuple', start, { children: items });
  }

  parseOr(): Node {
    let left = this.parseAnd();
    while (this.skipSymbol('or')) left = node('Or', left, { left, right: this.parseAnd() });
    return left;
  }

  parseAnd(): Node {
    let left = this.parseNot();
    while (this.skipSymbol('and')) left = node('And', left, { left, right: this.parseNot() });
    return left;
  }

  parseNot(): Node {
    const tok = this.peek();
    if (this.skipSymbol('not')) return node('Not', tok, { target: this.parseNot() });
    return this.parseCompare();
  }

  parseCompare(): Node {
    const expr = this.parseMath1();
    const ops: Node[] = [];
    for (;;) {
      const tok = this.peekToken();
      if (!tok) break;
      if (tok.type === T.OPERATOR && COMPARE_OPS.has(tok.value)) {
        this.nextToken();
        ops.push(node('CompareOperand', tok, { type: tok.value, expr: this.parseMath1() }));
      } else if (this.isSymbol(tok, 'in')) {
        this.nextToken();
        ops.push(node('CompareOperand', tok, { type: 'in', expr: this.parseMath1() }));
      } else if (this.isSymbol(tok, 'not')) {
        // After an operand, `not` can only start `not in`.
        this.nextToken();
        if (!this.skipSymbol('in')) this.fail("expected 'in' after 'not'", tok.lineno, tok.colno);
        ops.push(node('CompareOperand', tok, { type: 'notin', expr: this.parseMath1() }));
      } else break;
    }
    return ops.length ? node('Compare', expr, { expr, ops }) : expr;
  }

  private parseMath1(): Node {
    let left = this.parseConcat();
    for (;;) {
      const tok = this.peekToken();
      if (tok?.type !== T.OPERATOR || (tok.value !== '+' && tok.value !== '-')) return left;
      this.nextToken();
      left = node(tok.value === '+' ? 'Add' : 'Sub', tok, { left, right: this.parseConcat() });
    }
  }

  parseConcat(): Node {
    let left = this.parseMath2();
    for (;;) {
      const tok = this.peekToken();
      if (tok?.type !== T.TILDE) return left;
      this.nextToken();
      left = node('Concat', tok, { left, right: this.parseMath2() });
    }
  }

  private parseMath2(): Node {
    let left = this.parsePow();
    for (;;) {
      const tok = this.peekToken();
      const op = tok?.type === T.OPERATOR ? MATH2_OPS[tok.value] : undefined;
      if (!tok || !op) return left;
      this.nextToken();
      left = node(op, tok, { left, right: this.parsePow() });
    }
  }

  parsePow(): Node {
    let left = this.parseUnary();
    for (;;) {
      const tok = this.peekToken();
      if (tok?.type !== T.OPERATOR || tok.value !== '**') return left;
      this.nextToken();
      left = node('Pow', tok, { left, right: this.parseUnary() });
    }
  }

  parseUnary(noFilters?: boolean): Node {
    const tok = this.peek();
    let expr: Node;
    if (tok.type === T.OPERATOR && (tok.value === '-' || tok.value === '+')) {
      this.nextToken();
      expr = node(tok.value === '-' ? 'Neg' : 'Pos', tok, { target: this.parseUnary(true) });
    } else {
      expr = this.parsePrimary();
    }
    return noFilters ? expr : this.parseFilterExpr(expr);
  }

  parsePrimary(noPostfix?: boolean): Node {
    const tok = this.nextToken() ?? this.eofFail('an expression');
    let expr: Node;
    if (tok.type === T.STRING) {
      let value = tok.value;
      // Adjacent string literals are joined, as in Python.
      while (this.peekToken()?.type === T.STRING) value += this.nextToken()!.value;
      expr = node('Literal', tok, { value });
    } else if (tok.type === T.INT) {
      expr = node('Literal', tok, { value: parseInt(tok.value, 10), digits: tok.value });
    } else if (tok.type === T.FLOAT) {
      expr = node('Literal', tok, { value: parseFloat(tok.value), float: true });
    } else if (tok.type === T.BOOLEAN || tok.type === T.NONE || tok.type === T.SYMBOL) {
      switch (tok.value) {
        case 'true':
        case 'True':
          expr = node('Literal', tok, { value: true });
          break;
        case 'false':
        case 'False':
          expr = node('Literal', tok, { value: false });
          break;
        case 'none':
        case 'None':
          expr = node('Literal', tok, { value: null });
          break;
        default:
          expr = nj('Symbol', tok.lineno, tok.colno, tok.value);
      }
    } else if (tok.type === T.LEFT_PAREN) {
      expr = this.parseTuple({ explicitParens: true });
      this.expectClose(T.RIGHT_PAREN, ')', tok);
    } else if (tok.type === T.LEFT_BRACKET) {
      const children: Node[] = [];
      while (this.peek().type !== T.RIGHT_BRACKET) {
        if (children.length) this.expectComma(tok);
        if (this.peek().type === T.RIGHT_BRACKET) break;
        children.push(this.parseExpression());
      }
      this.nextToken();
      expr = node('List', tok, { children });
    } else if (tok.type === T.LEFT_CURLY) {
      const children: Node[] = [];
      while (this.peek().type !== T.RIGHT_CURLY) {
        if (children.length) this.expectComma(tok);
        if (this.peek().type === T.RIGHT_CURLY) break;
        const key = this.parseExpression();
        if (!this.skip(T.COLON)) this.fail("expected ':' after a dict key", key.lineno + 1, key.colno + 1);
        children.push(node('Pair', key, { key, value: this.parseExpression() }));
      }
      this.nextToken();
      expr = node('Dict', tok, { children });
    } else {
      return this.fail(`unexpected '${tok.value}'`, tok.lineno, tok.colno);
    }
    return noPostfix ? expr : this.parsePostfix(expr);
  }

  private expectComma(open: Token): void {
    const tok = this.peek();
    if (!this.skip(T.COMMA)) this.fail(`expected ',' or a closing bracket, got '${tok.value}'`, tok.lineno, tok.colno);
    void open;
  }

  private expectClose(type: string, text: string, open: Token): void {
    const tok = this.peekToken();
    if (!tok || tok.type !== type) {
      this.fail(`expected '${text}' to close the '${open.value}' at column ${open.colno + 1}, got '${tok?.value ?? 'end of template'}'`, tok?.lineno, tok?.colno);
    }
    this.nextToken();
  }

  parsePostfix(expr: Node): Node {
    for (;;) {
      const tok = this.peekToken();
      if (!tok) return expr;
      if (tok.type === T.OPERATOR && tok.value === '.') {
        this.nextToken();
        const attr = this.nextToken() ?? this.eofFail('an attribute name');
        if (attr.type === T.SYMBOL || attr.type === T.BOOLEAN || attr.type === T.NONE) {
          expr = node('Getattr', tok, { target: expr, name: attr.value });
        } else if (attr.type === T.INT) {
          expr = node('Getitem', tok, { target: expr, key: node('Literal', attr, { value: parseInt(attr.value, 10) }) });
        } else {
          this.fail(`expected an attribute name after '.', got '${attr.value}'`, attr.lineno, attr.colno);
        }
      } else if (tok.type === T.LEFT_BRACKET) {
        this.nextToken();
        const keys: Node[] = [];
        while (this.peek().type !== T.RIGHT_BRACKET) {
          if (keys.length) this.expectComma(tok);
          keys.push(this.parseSubscribed());
        }
        this.nextToken();
        if (!keys.length) this.fail('expected a subscript', tok.lineno, tok.colno);
        const key = keys.length === 1 ? keys[0]! : node('Tuple', tok, { children: keys });
        expr = node('Getitem', tok, { target: expr, key });
      } else if (tok.type === T.LEFT_PAREN) {
        expr = this.parseCallExpr(expr);
      } else {
        return expr;
      }
    }
  }

  private parseSubscribed(): Node {
    const tok = this.peek();
    const parts: (Node | null)[] = [];
    if (tok.type === T.COLON) {
      parts.push(null);
    } else {
      const e = this.parseExpression();
      if (this.peek().type !== T.COLON) return e;
      parts.push(e);
    }
    this.nextToken();
    const t2 = this.peek();
    parts.push(t2.type === T.COLON || t2.type === T.RIGHT_BRACKET || t2.type === T.COMMA ? null : this.parseExpression());
    if (this.peek().type === T.COLON) {
      this.nextToken();
      const t3 = this.peek();
      parts.push(t3.type === T.RIGHT_BRACKET || t3.type === T.COMMA ? null : this.parseExpression());
    } else {
      parts.push(null);
    }
    return node('Slice', tok, { start: parts[0], stop: parts[1], step: parts[2] });
  }

  /** `(args)` after a callee: a nunjucks FunCall whose args end with KeywordArgs, as nunjucks' `call` tag expects. */
  private parseCallExpr(callee: Node): Node {
    const open = this.nextToken()!;
    const args = this.parseArgs(open);
    return Object.assign(nj('FunCall', open.lineno, open.colno, callee, args.list), { starArgs: args.starArgs, starKwargs: args.starKwargs });
  }

  private parseArgs(open: Token): { list: Node; starArgs: Node | null; starKwargs: Node | null } {
    const list = nj('NodeList', open.lineno, open.colno);
    const kwargs = nj('KeywordArgs', open.lineno, open.colno);
    let starArgs: Node | null = null;
    let starKwargs: Node | null = null;
    let first = true;
    while (this.peek().type !== T.RIGHT_PAREN) {
      if (!first) {
        this.expectComma(open);
        if (this.peek().type === T.RIGHT_PAREN) break;
      }
      first = false;
      const tok = this.peek();
      if (tok.type === T.OPERATOR && tok.value === '*') {
        this.nextToken();
        starArgs = this.parseExpression();
      } else if (tok.type === T.OPERATOR && tok.value === '**') {
        this.nextToken();
        starKwargs = this.parseExpression();
      } else {
        const arg = this.parseExpression();
        const next = this.peekToken();
        if (arg.typename === 'Symbol' && next?.type === T.OPERATOR && next.value === '=') {
          this.nextToken();
          (kwargs as unknown as { addChild(n: unknown): void }).addChild(nj('Pair', arg.lineno, arg.colno, arg, this.parseExpression()));
        } else {
          (list as unknown as { addChild(n: unknown): void }).addChild(arg);
        }
      }
    }
    this.nextToken();
    if ((kwargs.children as Node[]).length) (list as unknown as { addChild(n: unknown): void }).addChild(kwargs);
    return { list, starArgs, starKwargs };
  }

  /** nunjucks' macro, call and filter tags read arguments through this. */
  parseSignature(tolerant?: boolean, noParens?: boolean): Node | null {
    const tok = this.peek();
    if (tok.type !== T.LEFT_PAREN) {
      if (tolerant) return null;
      if (!noParens) this.fail('expected arguments', tok.lineno, tok.colno);
    }
    return this.parseArgs(this.nextToken()!).list;
  }

  private parseFilterExpr(expr: Node): Node {
    for (;;) {
      const tok = this.peekToken();
      if (!tok) return expr;
      if (tok.type === T.PIPE) expr = this.parseFilter(expr);
      else if (this.isSymbol(tok, 'is')) expr = this.parseTest(expr);
      else if (tok.type === T.LEFT_PAREN) expr = this.parseCallExpr(expr);
      else return expr;
    }
  }

  parseFilter(expr: Node): Node {
    while (this.skip(T.PIPE)) {
      const name = this.parseDottedName();
      const args = this.peekToken()?.type === T.LEFT_PAREN ? this.parseArgs(this.nextToken()!) : null;
      const children = [expr, ...(args ? (args.list.children as Node[]) : [])];
      expr = Object.assign(nj('Filter', name.lineno, name.colno, name, nj('NodeList', name.lineno, name.colno, children)), {
        starArgs: args?.starArgs ?? null,
        starKwargs: args?.starKwargs ?? null,
      });
    }
    return expr;
  }

  /** `{% filter a(x) | b %}…{% endfilter %}`: a filter chain applied to the captured body. */
  parseFilterStatement(): Node {
    const tag = this.nextToken()!;
    const capture = nj('Capture', tag.lineno, tag.colno, null);
    const first = this.parseDottedName();
    const args = this.peekToken()?.type === T.LEFT_PAREN ? this.parseArgs(this.nextToken()!) : null;
    let expr: Node = Object.assign(nj('Filter', first.lineno, first.colno, first, nj('NodeList', first.lineno, first.colno, [capture, ...(args ? (args.list.children as Node[]) : [])])), {
      starArgs: args?.starArgs ?? null,
      starKwargs: args?.starKwargs ?? null,
    });
    if (this.peekToken()?.type === T.PIPE) expr = this.parseFilter(expr);
    this.advanceAfterBlockEnd('filter');
    capture.body = this.parseUntilBlocks('endfilter');
    this.advanceAfterBlockEnd();
    return nj('Output', tag.lineno, tag.colno, [expr]);
  }

  parseFilterName(): Node {
    return this.parseDottedName();
  }

  private parseDottedName(): Node {
    const tok = this.expect(T.SYMBOL);
    let name = tok.value;
    while (this.peekToken()?.type === T.OPERATOR && this.peekToken()?.value === '.') {
      this.nextToken();
      name += '.' + this.expect(T.SYMBOL).value;
    }
    return nj('Symbol', tok.lineno, tok.colno, name);
  }

  private parseTest(expr: Node): Node {
    const isTok = this.nextToken()!;
    const negated = this.skipSymbol('not');
    const nameTok = this.peek();
    const name = this.isSymbol(nameTok, 'in') || nameTok.type !== T.SYMBOL ? this.testNameToken() : this.parseDottedName().value;
    let args: Node[] = [];
    let kwargs: Node | null = null;
    const next = this.peekToken();
    if (next?.type === T.LEFT_PAREN) {
      const parsed = this.parseArgs(this.nextToken()!).list.children as Node[];
      const last = parsed[parsed.length - 1];
      if (last?.typename === 'KeywordArgs') {
        kwargs = last;
        args = parsed.slice(0, -1);
      } else args = parsed;
    } else if (next && TEST_ARG_STARTS.has(next.type) && !this.isSymbol(next, 'else', 'or', 'and', 'if', 'is', 'in', 'not')) {
      args = [this.parsePostfix(this.parsePrimary(true))];
    }
    const test = node('Test', isTok, { node: expr, name, args, kwargs });
    return negated ? node('Not', isTok, { target: test }) : test;
  }

  private testNameToken(): string {
    const tok = this.nextToken() ?? this.eofFail('a test name');
    if (tok.type === T.SYMBOL || tok.type === T.NONE || tok.type === T.BOOLEAN || tok.type === T.OPERATOR) return tok.value;
    return this.fail(`expected a test name, got '${tok.value}'`, tok.lineno, tok.colno);
  }

  parseAggregate(): Node {
    const tok = this.peek();
    return this.fail(`unexpected '${tok.value}'`, tok.lineno, tok.colno);
  }
}

interface NunjucksError {
  lineno?: number;
  colno?: number;
  message: string;
  Update?: unknown;
}

/** Parses one template's (normalized) source. Throws TemplateSyntaxError. */
export function parseTemplate(source: string): Node {
  const tokens = tokenize(source);
  const parser = new JinjaParser(tokens);
  try {
    return parser.parseAsRoot();
  } catch (e) {
    const err = e as NunjucksError;
    const open = parser.openTags[parser.openTags.length - 1];
    if (open && tokens.index >= source.length && !(typeof err.lineno === 'number' && err.lineno > 0 && err.lineno <= open.lineno + 1)) {
      throw new TemplateSyntaxError(`unexpected end of template: the '${open.value}' tag is never closed`, open.lineno + 1, open.colno + 1);
    }
    const raw = String(err.message ?? e);
    // nunjucks prefixes messages with its parse function's name ("parseFor: …").
    const message = raw.replace(/^\w+: /, '').replace(/^Cannot read properties of null.*$/, 'unexpected end of template');
    if (typeof err.lineno === 'number' && err.lineno > 0) throw new TemplateSyntaxError(message, err.lineno, err.colno ?? 1);
    const at = positionAt(source, Math.min(tokens.index, source.length));
    throw new TemplateSyntaxError(message, at.line, at.column);
  }
}

function positionAt(source: string, index: number): { line: number; column: number } {
  const before = source.slice(0, index);
  const line = before.split('\n').length;
  return { line, column: index - before.lastIndexOf('\n') };
}
