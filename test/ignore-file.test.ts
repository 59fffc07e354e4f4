// kolla-gen's reading of ignore files and its matching of context names, as BuildKit reads and matches them: tables of
// tricky lines, patterns and names (test/e2e/ignore-corpus.test.ts checks the same against BuildKit itself).
import { describe, expect, it } from 'vitest';
import { compilePattern, goClean, goTrimSpace, readIgnoreFile, sentFiles } from '../src/load/ignore-file.js';
import { contextIgnoreText, TEMPLATE_PATTERNS } from '../src/load/context-ignore.js';

/** The patterns BuildKit's reader makes of a file's text: "!body" for a re-include. */
const patternsOf = (text: string) => {
  const { patterns, problems } = readIgnoreFile(text);
  expect(problems).toEqual([]);
  return patterns.map((p) => `${p.exclusion ? '!' : ''}${p.body}`);
};

describe('reading an ignore file as BuildKit reads it', () => {
  it.each<[string, string, string[]]>([
    ['a BOM on the first line is stripped', '\ufeffsecret.txt\n', ['secret.txt']],
    ['a BOM on a later line is kept', 'a\n\ufeffsecret.txt\n', ['a', '\ufeffsecret.txt']],
    ['a BOM before "#" on the first line: a comment', '\ufeff# note\n', []],
    ['U+FEFF at a line\'s end is kept (JavaScript\'s trim() strips it)', 'config.sh\ufeff\n', ['config.sh\ufeff']],
    ['U+00A0, U+2028, U+3000, U+0085 and tabs at the ends are trimmed', '\tnb\u00a0\nls\u2028\n\u3000wide\u3000\nnel\u0085\n', ['nb', 'ls', 'wide', 'nel']],
    ['U+200B (zero width space) is not Go white space', 'zw\u200b\n', ['zw\u200b']],
    ['\\r\\n ends a line; a lone \\r inside one does not', 'a\r\nb\rc\n', ['a', 'b\rc']],
    ['a last line needs no newline', 'a\nb', ['a', 'b']],
    ['"#" starts a comment only as the first character', '# c\n #x\n\\#y\n', ['#x', '\\#y']],
    ['empty and blank lines are nothing', '\n  \n\t\na\n', ['a']],
    ['"!" re-includes, white space after it is trimmed', '!keep\n!  kept \n', ['!keep', '!kept']],
    ['paths are cleaned: ./ // trailing / and a leading /', './a//b/\n/c\n/d/../e\n', ['a/b', 'c', 'e']],
    ['".." stays where it cannot be cleaned away', '..\n../x\na/../../y\n', ['..', '../x', '../y']],
    ['"/" and "." stay themselves', '/\n.\n./\n', ['/', '.', '.']],
    ['"./ x": the matcher trims again what the cleaning uncovered', './ x\n', ['x']],
    ['"./!x" is a re-include: the matcher looks for "!" after cleaning', './!x\n', ['!x']],
  ])('%s', (_, text, expected) => {
    expect(patternsOf(text)).toEqual(expected);
  });

  it('Go\'s TrimSpace and Clean, on their own', () => {
    expect(goTrimSpace('\u0085 a \u2029')).toBe('a');
    expect(goTrimSpace('\ufeffa\ufeff')).toBe('\ufeffa\ufeff');
    expect(['', 'a/', '/..', '/../a', 'a/./b/..', '../../a', '//a//'].map(goClean)).toEqual(['.', 'a', '/', '/a', 'a', '../../a', '/a']);
  });

  it.each<[string, string, 'KG220' | 'KG221', number, number]>([
    ['an escape Go\'s regexps reject', 'ok\nesc\\1.txt\n', 'KG220', 2, 4],
    ['an escape of a non-ASCII letter', 'x\\é\n', 'KG220', 1, 2],
    ['a lone "\\" at the end', '  a\\\n', 'KG220', 1, 4],
    ['a class never closed', '[a-\n', 'KG220', 1, 4],
    ['an empty class', 'a[]b\n', 'KG220', 1, 3],
    ['a class range with no end', '[a-]\n', 'KG220', 1, 4],
    ['a class range that runs backwards', '[z-a]\n', 'KG220', 1, 1],
    ['"!" alone', '\n !\n', 'KG220', 2, 2],
    ['"!/"', '!/\n', 'KG220', 1, 1],
    ['a line over 64 KiB', `${'a'.repeat(70_000)}\n`, 'KG220', 1, 1],
    ['\\d: a regexp class in BuildKit', '\\d.txt\n', 'KG221', 1, 1],
    ['\\t: a tab in BuildKit', '!a\\tb\n', 'KG221', 1, 3],
    ['"*" inside a class', '[a*]\n', 'KG221', 1, 3],
    ['a POSIX class', '[[:alpha:]]\n', 'KG221', 1, 2],
    ['"^" in a pattern with wildcards', 'a^*\n', 'KG221', 1, 2],
  ])('refuses %s at line:column', (_, text, code, line, column) => {
    const { patterns, problems } = readIgnoreFile(text);
    expect(problems.map((p) => ({ code: p.code, line: p.line, column: p.column }))).toEqual([{ code, line, column }]);
    expect(patterns.map((p) => p.line)).not.toContain(line);
  });

  it('accepts what BuildKit reads plainly: "^" without wildcards, escaped punctuation, [!x]', () => {
    expect(patternsOf('a^b\n\\[x\\]\n[!x]y\n[^a]bc\n\\ lead\n')).toEqual(['a^b', '\\[x\\]', '[!x]y', '[^a]bc', '\\ lead']);
  });
});

describe('matching names as BuildKit\'s context send does', () => {
  const names = [
    'a.txt', 'b.md', 'keep.md', 'x.md', 'config.sh', '#hash', '!y', 'xy', 'zy', 'abc', 'xbc', 'a^b', ' lead', 'é.txt',
    'dir/in.txt', 'dir/out.txt', 'dir/deep/z.txt', 'deep/a/b/c.txt', 'deep/a/keep.txt', 'sub/y.j2', 'y.j2', 'foobar',
    'foo/bar', '[br].txt', 'star*.txt', 'q?.txt', 'back\\slash.txt', 'line\u2028sep', '\ufeffstart.md',
  ];
  const sent = (text: string) => sentFiles(readIgnoreFile(text).patterns, names);
  const left = (text: string) => names.filter((n) => !sent(text).includes(n));

  it.each<[string, string, string[]]>([
    ['nothing: everything is sent', '# only a comment\n', []],
    ['a name at the top only', 'a.txt\n', ['a.txt']],
    ['U+FEFF after a name names nothing', 'config.sh\ufeff\n', []],
    ['"*" stays in one folder', '*.txt\n', ['a.txt', 'é.txt', '[br].txt', 'star*.txt', 'q?.txt', 'back\\slash.txt']],
    ['"**/" reaches every depth, the top included', '**/*.txt\n', names.filter((n) => n.endsWith('.txt'))],
    ['a folder takes everything under it', 'deep\n', ['deep/a/b/c.txt', 'deep/a/keep.txt']],
    ['the last matching rule wins', '*.md\n!keep.md\n', ['b.md', 'x.md', '\ufeffstart.md']],
    ['a re-include reaches into an excluded folder', 'deep\n!deep/a/keep.txt\n', ['deep/a/b/c.txt']],
    ['a wildcard re-include too', 'dir\n!*/in.txt\n', ['dir/out.txt', 'dir/deep/z.txt']],
    ['"**" then re-includes', '**\n!a.txt\n!dir/in.txt\n', names.filter((n) => n !== 'a.txt' && n !== 'dir/in.txt')],
    ['[a-z] and [^a] classes', '[a-c]*\n[^a]bc\n', ['a.txt', 'b.md', 'config.sh', 'abc', 'xbc', 'a^b', 'back\\slash.txt']],
    ['[!x] is "!" or "x" to BuildKit, not "not x"', '[!x]y\n', ['!y', 'xy']],
    ['"?" is one character, never "/"', '?y\n?\n', ['!y', 'xy', 'zy']],
    ['escapes make *, ?, [ and \\ plain', '\\[br\\].txt\nstar\\*.txt\nq\\?.txt\nback\\\\slash.txt\n', ['[br].txt', 'star*.txt', 'q?.txt', 'back\\slash.txt']],
    ['"**" without "/" ends a name anywhere (a plain suffix)', '**bc\n', ['abc', 'xbc']],
    ['a trailing "**" is a plain prefix', 'foo**\n', ['foobar', 'foo/bar']],
    ['a leading "/" and "./" mean the top', '/a.txt\n./dir/in.txt\n', ['a.txt', 'dir/in.txt']],
    ['".." names nothing', '..\n../a.txt\n', []],
    ['a BOM that starts a later pattern: dropped from a wildcard pattern', 'x\n\ufeff*.md\n', ['b.md', 'keep.md', 'x.md', '\ufeffstart.md']],
    ['... kept in a plain one, where it is part of the name', 'x\n\ufeffstart.md\n', ['\ufeffstart.md']],
    ['U+2028 is part of a name', 'line*\n', ['line\u2028sep']],
    ['"^" without wildcards is a plain character', 'a^b\n', ['a^b']],
    ['"#" behind a space is a pattern', ' #hash\n', ['#hash']],
    ['a re-include of a folder nothing matched yet does not reach into it', 'dir/in.txt\n!dir\n', ['dir/in.txt']],
    ['... one of a folder matched before does', 'dir\n!dir\n', []],
    ['a BOM before "**" keeps half of itself in BuildKit: the pattern names nothing', 'x\n\ufeff**/z.txt\n\ufeff**bc\n', []],
  ])('%s', (_, text, expected) => {
    expect(left(text)).toEqual(names.filter((n) => expected.includes(n)));
  });

  it('every kind of pattern matches as its kind does', () => {
    const m = (pattern: string, path: string) => {
      const c = compilePattern(pattern);
      if ('problem' in c) throw new Error(c.problem.message);
      return c.match(path);
    };
    expect([m('**/foo', 'foo'), m('**/foo', 'a/foo'), m('**/foo', 'afoo'), m('**foo', 'afoo')]).toEqual([true, true, false, true]);
    expect([m('a/**', 'a'), m('a/**', 'a/b'), m('a/**/b', 'a/b'), m('a/**/b', 'a/x/y/b'), m('a**b', 'axb')]).toEqual([false, true, true, true, false]);
    expect([m('a*', 'a/b'), m('a?c', 'a/c'), m('a[/]c', 'a/c'), m('[^x]', '/')]).toEqual([false, false, true, true]);
  });
});

describe('the generated ignore file', () => {
  const corpus = [
    '\ufeffsecret.txt\r\nconfig.sh\ufeff\n',
    ' #hash\n!./ lead\n!#x\n\ufeff*.md\n/\n.\n..\n',
    'a\u00a0\n\tb\u2028\n[!x]y\n\\[a\\]\n**/c\n!d/**\n',
  ];

  it.each(corpus)('BuildKit reads back exactly the template rule and the folder\'s patterns (%#)', (own) => {
    const { patterns } = readIgnoreFile(own);
    const text = contextIgnoreText({ path: 'docker/x/.dockerignore', patterns });
    expect(patternsOf(text)).toEqual([...TEMPLATE_PATTERNS, ...patterns].map((p) => `${p.exclusion ? '!' : ''}${p.body}`));
  });

  it('a folder\'s BOM does not reach a later line, where BuildKit would keep it', () => {
    const text = contextIgnoreText({ path: 'docker/x/.dockerignore', patterns: readIgnoreFile('\ufeffsecret.txt\n').patterns });
    expect(text.split('\n').slice(4)).toEqual(['secret.txt', '']);
    expect(text).not.toContain('\ufeff');
  });

  it('a path with a newline stays one comment line', () => {
    const text = contextIgnoreText({ path: 'docker/evil\n!**/x/.dockerignore', patterns: [] });
    expect(patternsOf(text)).toEqual(['**/*.j2']);
  });
});
