// nunjucks ships no types for its parser and lexer modules; these are the parts the render stage uses.

declare module 'nunjucks/src/lexer.js' {
  export interface Token {
    type: string;
    value: string;
    lineno: number;
    colno: number;
  }
  export interface Tokenizer {
    str: string;
    index: number;
    in_code: boolean;
    lineno: number;
    colno: number;
    nextToken(): Token | null;
    current(): string;
    forward(): void;
    isFinished(): boolean;
  }
  const lexer: {
    lex(src: string, opts?: object): Tokenizer;
    [token: `TOKEN_${string}`]: string;
  };
  export default lexer;
}

declare module 'nunjucks/src/parser.js' {
  const parser: { Parser: new (tokens: unknown) => object };
  export default parser;
}

declare module 'nunjucks/src/nodes.js' {
  const nodes: Record<string, new (...args: unknown[]) => object>;
  export default nodes;
}
