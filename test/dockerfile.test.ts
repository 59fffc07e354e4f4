import { describe, expect, it } from 'vitest';
import { buildkitView, parseFroms, platformArgs, type FromLine, type ParseOptions, type Problem } from '../src/render/dockerfile.js';

/** A FROM as parseFroms gives it; raw defaults to ref (nothing to expand). */
function from(line: number, column: number, ref: string, extra: Partial<FromLine> = {}): FromLine {
  return { line, column, raw: ref, ref, scratch: false, ...extra };
}

const problem = (line: number, column: number, message: string | RegExp): Problem =>
  ({ line, column, message: typeof message === 'string' ? message : expect.stringMatching(message) }) as Problem;

interface Case {
  name: string;
  text: string;
  options?: ParseOptions;
  froms: FromLine[];
  problems?: Problem[];
}

const SHA = 'sha256:7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa';

const cases: Case[] = [
  // instructions, comments, blank lines
  { name: 'one FROM', text: 'FROM ubuntu:24.04\n', froms: [from(1, 1, 'ubuntu:24.04')] },
  { name: 'no trailing newline, digest', text: `FROM ubuntu@${SHA}`, froms: [from(1, 1, `ubuntu@${SHA}`)] },
  {
    name: 'keyword and AS in any case; alias lowercased',
    text: 'from ubuntu as Builder\nFrOm debian As RUNTIME',
    froms: [from(1, 1, 'ubuntu', { alias: 'builder' }), from(2, 1, 'debian', { alias: 'runtime' })],
  },
  {
    name: 'comments, blank lines and indentation',
    text: '\n# a comment FROM nothing\n\n   FROM alpine:3.20 \t\n  # FROM indented comment\n',
    froms: [from(4, 4, 'alpine:3.20')],
  },
  { name: 'FROM scratch', text: 'FROM scratch AS empty', froms: [from(1, 1, 'scratch', { scratch: true, alias: 'empty' })] },
  { name: 'BOM before the first line', text: '\ufeffFROM alpine', froms: [from(1, 2, 'alpine')] },
  { name: 'CRLF line endings', text: 'FROM alpine \\\r\n  AS base\r\nFROM base\r\n', froms: [from(1, 1, 'alpine', { alias: 'base' }), from(3, 1, 'base', { stage: 0 })] },

  // stages
  {
    name: 'a FROM naming an earlier alias is that stage',
    text: 'FROM golang:1.22 AS build\nRUN make\nFROM build AS test\nFROM debian:bookworm\nCOPY --from=build /out /out\n',
    froms: [from(1, 1, 'golang:1.22', { alias: 'build' }), from(3, 1, 'build', { alias: 'test', stage: 0 }), from(4, 1, 'debian:bookworm')],
  },
  {
    name: 'a FROM naming a later alias is an image',
    text: 'FROM base\nFROM alpine AS base',
    froms: [from(1, 1, 'base'), from(2, 1, 'alpine', { alias: 'base' })],
  },
  { name: 'a FROM never names its own stage', text: 'FROM base AS base', froms: [from(1, 1, 'base', { alias: 'base' })] },
  {
    name: 'a repeated alias names its latest stage',
    text: 'FROM a AS x\nFROM b AS x\nFROM x',
    froms: [from(1, 1, 'a', { alias: 'x' }), from(2, 1, 'b', { alias: 'x' }), from(3, 1, 'x', { stage: 1 })],
  },
  {
    name: 'an alias named through an ARG',
    text: 'ARG STAGE=build\nFROM alpine AS build\nFROM ${STAGE}',
    froms: [from(2, 1, 'alpine', { alias: 'build' }), from(3, 1, 'build', { raw: '${STAGE}', stage: 0 })],
  },
  {
    name: 'stage names are matched as written (BuildKit lowercases the alias, not the FROM)',
    text: 'FROM alpine AS Builder\nFROM Builder',
    froms: [from(1, 1, 'alpine', { alias: 'builder' }), from(2, 1, 'Builder')],
    problems: [problem(2, 6, /"Builder" is not a valid image reference; .*FROM builder/)],
  },

  // line continuations
  {
    name: 'a continued FROM is located where it starts',
    text: 'RUN true\n  FROM \\\n    kolla/base:2026.1 \\\n    AS base\n',
    froms: [from(2, 3, 'kolla/base:2026.1', { alias: 'base' })],
  },
  {
    name: 'whitespace after the continuation character',
    text: 'FROM ubuntu \\  \t\nAS base',
    froms: [from(1, 1, 'ubuntu', { alias: 'base' })],
  },
  {
    name: 'comment and blank lines inside a continued instruction',
    text: 'FROM \\\n# the base\n\n   \n  ubuntu \\\n  # the alias\n  AS base\nFROM base',
    froms: [from(1, 1, 'ubuntu', { alias: 'base' }), from(8, 1, 'base', { stage: 0 })],
  },
  {
    name: 'a FROM-like line continuing another instruction is not a FROM',
    text: 'RUN echo \\\nFROM evil\nFROM good',
    froms: [from(3, 1, 'good')],
  },
  {
    name: 'an escaped escape at the end does not continue the line',
    text: 'RUN echo c:\\\\\nFROM alpine',
    froms: [from(2, 1, 'alpine')],
  },
  {
    name: 'a problem on a continuation line points there',
    text: 'FROM \\\n  ubuntu \\\n  AS 1st',
    froms: [from(1, 1, 'ubuntu')],
    problems: [problem(3, 6, /invalid stage name "1st"/)],
  },

  // parser directives
  {
    name: '# escape=` makes the backtick continue lines',
    text: '# syntax=docker/dockerfile:1\n# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022 `\n  AS base\nRUN dir c:\\\nFROM base',
    froms: [from(3, 1, 'mcr.microsoft.com/windows/servercore:ltsc2022', { alias: 'base' }), from(6, 1, 'base', { stage: 0 })],
  },
  {
    name: '# escape after another comment is no directive',
    text: '# hello\n# escape=`\nFROM ubuntu `\nAS base',
    froms: [from(3, 1, 'ubuntu')],
    problems: [problem(3, 13, /expected AS after the image, found "`"/)],
  },
  {
    name: '# escape after a blank line is no directive',
    text: '\n# escape=`\nFROM ubuntu `\nAS base',
    froms: [from(3, 1, 'ubuntu')],
    problems: [problem(3, 13, /expected AS/)],
  },
  {
    name: 'a repeated directive',
    text: '#escape=`\n# ESCAPE = \\\nFROM alpine',
    froms: [from(3, 1, 'alpine')],
    problems: [problem(2, 1, 'only one escape parser directive can be used')],
  },

  // heredocs
  {
    name: 'a heredoc body is not read as instructions',
    text: 'FROM a\nRUN <<EOF\nFROM evil\nEOF\nFROM b',
    froms: [from(1, 1, 'a'), from(5, 1, 'b')],
  },
  {
    name: '<<- strips leading tabs from the terminator',
    text: 'FROM a\nRUN <<-EOT bash\n\tFROM evil\n\tEOT\nFROM b',
    froms: [from(1, 1, 'a'), from(5, 1, 'b')],
  },
  {
    name: 'quoted delimiters, and a space after <<',
    text: 'FROM a\nRUN << "EOF"\nFROM evil\nEOF\nCOPY <<\'END\' /x\nFROM evil\nEND\nFROM b',
    froms: [from(1, 1, 'a'), from(8, 1, 'b')],
  },
  {
    name: 'several heredocs on one line, read in order',
    text: 'FROM a\nCOPY <<A <<B /dst/\nFROM x\nA\nFROM y\nB\nFROM c',
    froms: [from(1, 1, 'a'), from(7, 1, 'c')],
  },
  {
    name: 'a heredoc of an ONBUILD trigger',
    text: 'FROM a\nONBUILD RUN <<EOF\nFROM evil\nEOF\nFROM b',
    froms: [from(1, 1, 'a'), from(5, 1, 'b')],
  },
  {
    name: 'no heredoc in JSON form, in quotes, or in other instructions',
    text: 'FROM a\nRUN ["sh", "-c", "cat <<EOF"]\nFROM b\nRUN echo "<<EOF"\nFROM c\nLABEL x=<<EOF\nFROM d',
    froms: [from(1, 1, 'a'), from(3, 1, 'b'), from(5, 1, 'c'), from(7, 1, 'd')],
  },
  {
    name: 'an unterminated heredoc',
    text: 'FROM a\n  RUN <<EOF\necho\nFROM b',
    froms: [from(1, 1, 'a')],
    problems: [problem(2, 3, /unterminated heredoc.*"EOF"/)],
  },

  // global ARGs and expansion
  {
    name: 'ARGs before FROM, $VAR and ${VAR}',
    text: 'ARG BASE=ubuntu\nARG TAG=24.04\nFROM ${BASE}:$TAG',
    froms: [from(3, 1, 'ubuntu:24.04', { raw: '${BASE}:$TAG' })],
  },
  {
    name: 'several ARGs on one line, quoted values',
    text: 'ARG IMG="kolla/base" TAG=\'2026.1\' EMPTY=""\nFROM $IMG:$TAG$EMPTY',
    froms: [from(2, 1, 'kolla/base:2026.1', { raw: '$IMG:$TAG$EMPTY' })],
  },
  {
    name: 'an ARG default uses earlier ARGs',
    text: 'ARG REGISTRY=quay.io\nARG IMAGE=${REGISTRY}/openstack.kolla/base\nFROM $IMAGE',
    froms: [from(3, 1, 'quay.io/openstack.kolla/base', { raw: '$IMAGE' })],
  },
  {
    name: 'a build arg overrides an ARG default, and is not expanded',
    text: 'ARG TAG=1\nFROM kolla/base:$TAG',
    options: { buildArgs: { TAG: '2026.1' } },
    froms: [from(2, 1, 'kolla/base:2026.1', { raw: 'kolla/base:$TAG' })],
  },
  {
    name: 'a build arg without an ARG does not reach FROM',
    text: 'FROM kolla/base:${TAG:-master}',
    options: { buildArgs: { TAG: '2026.1' } },
    froms: [from(1, 1, 'kolla/base:master', { raw: 'kolla/base:${TAG:-master}' })],
  },
  {
    name: 'an ARG without default takes the build arg',
    text: 'ARG TAG\nFROM kolla/base:$TAG',
    options: { buildArgs: { TAG: '2026.1' } },
    froms: [from(2, 1, 'kolla/base:2026.1', { raw: 'kolla/base:$TAG' })],
  },
  {
    name: 'an ARG without default or build arg stays unset',
    text: 'ARG TAG\nFROM kolla/base:${TAG-unset}${TAG:-x}',
    froms: [from(2, 1, 'kolla/base:unsetx', { raw: 'kolla/base:${TAG-unset}${TAG:-x}' })],
  },
  {
    name: 'an ARG inside a stage does not reach later FROMs',
    text: 'ARG V=1\nFROM a:$V\nARG V=2\nFROM b:$V',
    froms: [from(2, 1, 'a:1', { raw: 'a:$V' }), from(4, 1, 'b:1', { raw: 'b:$V' })],
  },
  {
    name: '${VAR:-word} and ${VAR-word} on an empty value',
    text: 'ARG E=\nFROM a:x${E:-1}${E-2}',
    froms: [from(2, 1, 'a:x1', { raw: 'a:x${E:-1}${E-2}' })],
  },
  {
    name: '${VAR:+word} and ${VAR+word}',
    text: 'ARG E=\nARG S=s\nFROM a:x${E:+-e}${E+-set}${S:+-s}${U+-u}',
    froms: [from(3, 1, 'a:x-set-s', { raw: 'a:x${E:+-e}${E+-set}${S:+-s}${U+-u}' })],
  },
  {
    name: '${VAR%pattern}, ${VAR#pattern} and ${VAR/a/b}',
    text: 'ARG V=2026.1.0\nARG D=rocky-9\nFROM a:${V%.*}-${D#*-}-${D/rocky/alma}',
    froms: [from(3, 1, 'a:2026.1-9-alma-9', { raw: 'a:${V%.*}-${D#*-}-${D/rocky/alma}' })],
  },
  {
    name: 'an escaped $ is not expanded',
    text: 'ARG TAG=1\nFROM a:\\$TAG',
    froms: [from(2, 1, 'a:$TAG', { raw: 'a:\\$TAG' })],
    problems: [problem(2, 6, /"a:\$TAG" is not a valid image reference/)],
  },
  {
    name: 'quotes in FROM are removed',
    text: 'ARG TAG=1\nFROM "kolla/base":\'v\'$TAG',
    froms: [from(2, 1, 'kolla/base:v1', { raw: '"kolla/base":\'v\'$TAG' })],
  },

  // automatic platform args
  {
    name: 'TARGETARCH in FROM without an ARG',
    text: 'FROM kolla/base:2026.1-$TARGETARCH',
    options: { platformArgs: platformArgs('arm64') },
    froms: [from(1, 1, 'kolla/base:2026.1-arm64', { raw: 'kolla/base:2026.1-$TARGETARCH' })],
  },
  {
    name: '--platform=$BUILDPLATFORM',
    text: 'FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nFROM --platform=${TARGETOS}/${TARGETARCH} alpine',
    options: { platformArgs: platformArgs('arm64', 'amd64') },
    froms: [from(1, 1, 'golang:1.22', { alias: 'build', platform: 'linux/amd64' }), from(2, 1, 'alpine', { platform: 'linux/arm64' })],
  },
  {
    name: 'a quoted --platform value',
    text: 'FROM --platform="linux/arm64" alpine',
    froms: [from(1, 1, 'alpine', { platform: 'linux/arm64' })],
  },
  {
    name: 'a build arg overrides a platform arg',
    text: 'FROM a:$TARGETARCH',
    options: { platformArgs: platformArgs('amd64'), buildArgs: { TARGETARCH: 'riscv64' } },
    froms: [from(1, 1, 'a:riscv64', { raw: 'a:$TARGETARCH' })],
  },
  {
    name: 'ARG TARGETARCH without default keeps the automatic value',
    text: 'ARG TARGETARCH\nFROM a:$TARGETARCH',
    options: { platformArgs: platformArgs('arm64') },
    froms: [from(2, 1, 'a:arm64', { raw: 'a:$TARGETARCH' })],
  },
  {
    name: 'without platform args, TARGETARCH is empty',
    text: 'FROM a:x$TARGETARCH',
    froms: [from(1, 1, 'a:x', { raw: 'a:x$TARGETARCH' })],
  },
  {
    name: 'TARGETSTAGE is the last stage, or "default"',
    text: 'FROM a:$TARGETSTAGE AS x\nFROM b AS final\nFROM c\nFROM d:${TARGETSTAGE}',
    froms: [
      from(1, 1, 'a:default', { raw: 'a:$TARGETSTAGE', alias: 'x' }),
      from(2, 1, 'b', { alias: 'final' }),
      from(3, 1, 'c'),
      from(4, 1, 'd:default', { raw: 'd:${TARGETSTAGE}' }),
    ],
  },

  {
    name: 'an empty --platform= is no platform, as in BuildKit; tabs separate words',
    text: 'FROM\t--platform= \talpine\tAS\tbase',
    froms: [from(1, 1, 'alpine', { alias: 'base' })],
  },

  // malformed FROMs
  { name: 'FROM alone', text: 'FROM', froms: [from(1, 1, '')], problems: [problem(1, 5, /FROM names no image/)] },
  {
    name: 'FROM with only a flag',
    text: 'FROM --platform=linux/amd64 ',
    froms: [from(1, 1, '', { platform: 'linux/amd64' })],
    problems: [problem(1, 28, /FROM names no image/)],
  },
  {
    name: 'an unknown flag',
    text: 'FROM --plat=linux/amd64 ubuntu',
    froms: [from(1, 1, 'ubuntu')],
    problems: [problem(1, 6, /unknown flag --plat/)],
  },
  {
    name: '--platform without =',
    text: 'FROM --platform linux/amd64 ubuntu',
    froms: [from(1, 1, 'linux/amd64')],
    problems: [problem(1, 6, /--platform needs a value/)],
  },
  {
    name: '--platform twice',
    text: 'FROM --platform=linux/amd64 --platform=linux/arm64 ubuntu',
    froms: [from(1, 1, 'ubuntu', { platform: 'linux/amd64' })],
    problems: [problem(1, 29, /--platform is given twice/)],
  },
  {
    name: 'a stray word after the alias',
    text: 'FROM ubuntu AS base extra',
    froms: [from(1, 1, 'ubuntu')],
    problems: [problem(1, 21, /unexpected "extra"/)],
  },
  {
    name: 'a second word that is not AS',
    text: 'FROM ubuntu base',
    froms: [from(1, 1, 'ubuntu')],
    problems: [problem(1, 13, /expected AS after the image, found "base"/)],
  },
  { name: 'AS without a name', text: 'FROM ubuntu AS', froms: [from(1, 1, 'ubuntu')], problems: [problem(1, 13, /AS needs a stage name/)] },
  {
    name: 'an unterminated ${',
    text: 'ARG B=ubuntu\nFROM ${B',
    froms: [from(2, 1, '', { raw: '${B' })],
    problems: [problem(2, 6, /cannot expand \$\{B: missing '}'/)],
  },
  {
    name: 'a bad substitution',
    text: 'FROM a:${}',
    froms: [from(1, 1, '', { raw: 'a:${}' })],
    problems: [problem(1, 6, /bad substitution/)],
  },
  {
    name: 'an unterminated quote in an ARG default',
    text: 'ARG B="ubuntu\nFROM b',
    froms: [from(2, 1, 'b')],
    problems: [problem(1, 5, /ARG B: .*double-quote/)],
  },
  {
    name: '${VAR:?message} on an unset ARG',
    text: 'ARG TAG\nFROM kolla/base:${TAG:?required}',
    froms: [from(2, 1, '', { raw: 'kolla/base:${TAG:?required}' })],
    problems: [problem(2, 6, /TAG: required/)],
  },
  {
    name: 'an ARG without a name',
    text: 'ARG A=1 =2\nFROM a:$A',
    froms: [from(2, 1, 'a:1', { raw: 'a:$A' })],
    problems: [problem(1, 9, 'ARG "=2" has no name')],
  },
  {
    name: 'an invalid escape directive',
    text: '# escape=/\nFROM alpine',
    froms: [from(2, 1, 'alpine')],
    problems: [problem(1, 1, /invalid escape token "\/"/)],
  },
  {
    name: 'an image that expands to nothing',
    text: 'ARG BASE\nFROM $BASE',
    froms: [from(2, 1, '', { raw: '$BASE' })],
    problems: [problem(2, 6, /empty once its ARGs are expanded/)],
  },
  {
    name: 'an uppercase repository',
    text: 'FROM Kolla-Base:1',
    froms: [from(1, 1, 'Kolla-Base:1')],
    problems: [problem(1, 6, /not a valid image reference: a repository name must be lowercase/)],
  },
];

describe('parseFroms', () => {
  it.each(cases)('$name', ({ text, options, froms, problems }) => {
    const result = parseFroms(text, options);
    expect(result.froms).toEqual(froms);
    expect(result.problems).toEqual(problems ?? []);
  });

  it('never throws on arbitrary text', () => {
    const pieces = ['FROM ', 'ARG ', 'RUN <<EOF', 'EOF', '${', '$', '"', "'", '\\', '`', '\n', ' ', 'a', '=', '--platform', 'AS ', '#', ':-', '}'];
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let i = 0; i < 2000; i++) {
      let text = '';
      for (let j = rand(30); j > 0; j--) text += pieces[rand(pieces.length)];
      expect(() => parseFroms(text, { platformArgs: platformArgs('amd64') })).not.toThrow();
    }
  });
});

describe('platformArgs', () => {
  it('describes a native build unless the builder platform is given', () => {
    expect(platformArgs('arm64')).toMatchObject({ TARGETPLATFORM: 'linux/arm64', BUILDPLATFORM: 'linux/arm64', TARGETARCH: 'arm64', TARGETOS: 'linux', TARGETVARIANT: '' });
    expect(platformArgs('arm64', 'amd64')).toMatchObject({ TARGETPLATFORM: 'linux/arm64', BUILDPLATFORM: 'linux/amd64', BUILDARCH: 'amd64' });
  });
});

// --- the Dockerfile as BuildKit reads it (what the content hash covers) ---------------------------------------------

describe('buildkitView', () => {
  // [what, the rendered Dockerfile, what BuildKit reads of it]
  it.each<[string, string, string]>([
    ['comment and blank lines are left out', 'FROM a\n\n# a note\n   # an indented one\nRUN x\n', 'FROM a\nRUN x\n'],
    ['indentation before an instruction and spaces after it are left out', '  FROM a\n\tRUN x   \n', 'FROM a\nRUN x\n'],
    ['CRLF line ends are line ends', 'FROM a\r\n# c\r\nRUN x\r\n', 'FROM a\nRUN x\n'],
    ['a continued instruction is one line: the escape goes, the spaces stay', 'RUN a \\\n    && b\n', 'RUN a     && b\n'],
    ['an escape followed by spaces still continues', 'RUN a \\  \n  b\n', 'RUN a   b\n'],
    ['a comment line inside a continued instruction is left out', 'RUN a \\\n    # why b\n    && b\n', 'RUN a     && b\n'],
    ['so is a blank line inside one', 'RUN a \\\n\n    && b\n', 'RUN a     && b\n'],
    ['a # inside an instruction is not a comment', 'RUN echo a # b\n', 'RUN echo a # b\n'],
    ['parser directives at the top are kept, as key=value', '# syntax = docker/dockerfile:1\n#check=skip=all\nFROM a\n', '#syntax=docker/dockerfile:1\n#check=skip=all\nFROM a\n'],
    ['a directive after a comment is a comment', '# hello\n# syntax=docker/dockerfile:1\nFROM a\n', 'FROM a\n'],
    ['a directive after a blank line is a comment', '\n# syntax=docker/dockerfile:1\nFROM a\n', 'FROM a\n'],
    ['a directive after an instruction is a comment', 'FROM a\n# syntax=docker/dockerfile:1\n', 'FROM a\n'],
    ['an unknown directive is a comment, and ends the directives', '# foo=bar\n# syntax=x\nFROM a\n', 'FROM a\n'],
    ['escape=` continues with a backtick', '# escape=`\nRUN a `\n  b\n', '#escape=`\nRUN a   b\n'],
    ['escape=` makes a backslash at the end a character', '# escape=`\nRUN dir c:\\\nFROM a\n', '#escape=`\nRUN dir c:\\\nFROM a\n'],
    ['a heredoc is kept verbatim: comments and blank lines in it are content', 'RUN <<EOF\n# in the script\n\necho hi\nEOF\n# after\n', 'RUN <<EOF\n# in the script\n\necho hi\nEOF\n'],
    ['<<-EOF: the tabs stay in the view, the tab-indented terminator ends it', 'RUN <<-EOF\n\t# tabbed\n\techo hi\n\tEOF\n# after\n', 'RUN <<-EOF\n\t# tabbed\n\techo hi\n\tEOF\n'],
    ['a quoted heredoc', "COPY <<'EOF' /etc/motd\n# hello\nEOF\n", "COPY <<'EOF' /etc/motd\n# hello\nEOF\n"],
    ['two heredocs of one instruction', 'RUN <<A cat - <<B\n# a\nA\n# b\nB\n# c\n', 'RUN <<A cat - <<B\n# a\nA\n# b\nB\n'],
    ['a heredoc after a continued instruction', 'RUN \\\n  <<EOF\n# a\nEOF\n', 'RUN   <<EOF\n# a\nEOF\n'],
    ['the JSON form takes no heredoc', 'RUN ["sh", "-c", "cat <<EOF"]\n# c\n', 'RUN ["sh", "-c", "cat <<EOF"]\n'],
    ['a byte order mark is not part of the first line', '\ufeff# syntax=x\nFROM a\n', '#syntax=x\nFROM a\n'],
  ])('%s', (_what, text, view) => {
    expect(buildkitView(text)).toBe(view);
  });

  // Edits BuildKit sees: each pair must read differently.
  it.each<[string, string, string]>([
    ['an instruction', 'FROM a\nRUN x\n', 'FROM a\nRUN y\n'],
    ['a line in a heredoc', 'RUN <<EOF\necho\nEOF\n', 'RUN <<EOF\n# note\necho\nEOF\n'],
    ['a directive', '# syntax=docker/dockerfile:1\nFROM a\n', 'FROM a\n'],
    ["a directive's value", '# check=skip=all\nFROM a\n', '# check=error=true\nFROM a\n'],
    ['a comment that turns a directive into a comment', '# syntax=x\nFROM a\n', '# note\n# syntax=x\nFROM a\n'],
    ['the escape character', '# escape=`\nRUN a \\\nRUN b\n', 'RUN a \\\nRUN b\n'],
    ['spaces inside a continued instruction (RUN runs them)', 'RUN a \\\n b\n', 'RUN a \\\n  b\n'],
    ['a line that continues or does not', 'RUN a \\\nb\n', 'RUN a\nb\n'],
  ])('sees a change of %s', (_what, a, b) => {
    expect(buildkitView(a)).not.toBe(buildkitView(b));
  });
});
