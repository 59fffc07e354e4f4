import { describe, expect, it } from 'vitest';
import { buildkitFeatures, detectSyntax, type BuildkitFeature } from '../src/render/buildkit-features.js';
import { platformArgs } from '../src/render/dockerfile.js';

/** kind@line:column=value for each feature, in order: what a reviewer is told, and where. */
const seen = (text: string, buildArgs: Record<string, string> = {}): string[] =>
  buildkitFeatures(text, { buildArgs, platformArgs: platformArgs('amd64') }).map(
    (f: BuildkitFeature) => `${f.kind}@${f.line}:${f.column}=${f.value}${f.onbuild ? ' (onbuild)' : ''}${f.unresolved ? ` (unresolved ${f.unresolved.join(',')})` : ''}`,
  );

describe('# syntax, as BuildKit detects it', () => {
  const cases: [string, string, string[]][] = [
    ['plain', '# syntax=evil/frontend:1\nFROM a\n', ['syntax@1:1=evil/frontend:1']],
    ['key in any case, spaces around =, arguments after the ref', '#SYNTAX = evil/f:1 --opt\nFROM a\n', ['syntax@1:1=evil/f:1']],
    ['after another directive', '# escape=`\n# syntax=evil/f\nFROM a\n', ['syntax@2:1=evil/f']],
    ['after a shebang and a byte-order mark', '\ufeff#!/usr/bin/env buildctl\n# syntax=evil/f\nFROM a\n', ['syntax@2:1=evil/f']],
    ['C-style comment', '//syntax=evil/f\nFROM a\n', ['syntax@1:1=evil/f']],
    ['a JSON file', '{"syntax": "evil/f"}', ['syntax@1:1=evil/f']],
    ['a JSON key in another case (BuildKit 0.13)', '{"Syntax": "evil/f"}', ['syntax@1:1=evil/f']],
    ['CRLF line ends', '# syntax=evil/f\r\nFROM a\r\n', ['syntax@1:1=evil/f']],
    // What BuildKit does not read as a directive selects nothing.
    ['after an instruction', 'FROM a\n# syntax=evil/f\n', []],
    ['after a blank line', '\n# syntax=evil/f\nFROM a\n', []],
    ['after an ordinary comment', '# hello\n# syntax=evil/f\nFROM a\n', []],
    ['indented', '  # syntax=evil/f\nFROM a\n', []],
    ['an unknown directive first', '# foo=bar\n# syntax=evil/f\nFROM a\n', []],
  ];
  it.each(cases)('%s', (_name, text, expected) => {
    expect(seen(text)).toEqual(expected);
  });

  it('returns the frontend and the whole value', () => {
    expect(detectSyntax('# syntax=docker/dockerfile:1.7 --x=y\n')).toEqual([{ ref: 'docker/dockerfile:1.7', cmdline: 'docker/dockerfile:1.7 --x=y', line: 1 }]);
  });
});

describe('RUN flags', () => {
  const cases: [string, string, string[]][] = [
    ['insecure and host network, in any order', 'FROM a\nRUN --network=host --security=insecure x\nrun --security=insecure --network=host y\n', [
      'host-network@2:5=--network=host',
      'insecure@2:20=--security=insecure',
      'insecure@3:5=--security=insecure',
      'host-network@3:25=--network=host',
    ]],
    ['what is not host or insecure', 'FROM a\nRUN --network=none --network=default --security=sandbox x\n', []],
    // BuildKit refuses a flag without "=": nothing of it runs.
    ['a value after a space', 'FROM a\nRUN --network host x\n', []],
    ['flags are case-sensitive', 'FROM a\nRUN --Network=host x\n', []],
    ['secret and ssh mounts, on continuation lines', 'FROM a\nRUN --mount=type=cache,target=/c \\\n    --mount=type=secret,id=tok \\\n  --mount=TYPE=SSH x\n', [
      'secret-mount@3:5=--mount=type=secret,id=tok',
      'ssh-mount@4:3=--mount=TYPE=SSH',
    ]],
    ['a flag with quotes in it', 'FROM a\nRUN --mount="type=secret,id=x" y\n', ['secret-mount@2:5=--mount=type=secret,id=x']],
    // BuildKit reads flags only where a word starts with "--": a quoted word is the command's.
    ['a quoted word is no flag', 'FROM a\nRUN "--mount=type=secret,id=x" y\n', []],
    ['a device', 'FROM a\nRUN --device=vendor.com/gpu=all x\n', ['device@2:5=--device=vendor.com/gpu=all']],
    ['JSON form', 'FROM a\nRUN --network=host ["sh", "-c", "x"]\n', ['host-network@2:5=--network=host']],
    ['the escape directive changes the continuation', '# escape=`\nFROM a\nRUN echo `\n  --network=host\nRUN --security=insecure `\n  x\n', ['insecure@5:5=--security=insecure']],
    ['heredoc content is no instruction', 'FROM a\nRUN <<EOF\nRUN --network=host x\nEOF\nRUN --security=insecure y\n', ['insecure@5:5=--security=insecure']],
    ['mount type from a stage ARG', 'FROM a\nARG T=secret\nRUN --mount=type=$T,id=x y\n', ['secret-mount@3:5=--mount=type=$T,id=x']],
    ['mount type from a build arg', 'FROM a\nARG T=cache\nRUN --mount=type=$T,target=/x y\n', ['ssh-mount@3:5=--mount=type=$T,target=/x'], ],
    ['mount type from the image environment', 'FROM a\nRUN --mount=type=$T,id=x y\n', [
      'secret-mount@2:5=--mount=type=$T,id=x (unresolved T)',
      'ssh-mount@2:5=--mount=type=$T,id=x (unresolved T)',
    ]],
    ['ONBUILD triggers', 'FROM a\nONBUILD RUN --network=host x\n', ['host-network@2:13=--network=host (onbuild)']],
  ];
  it.each(cases)('%s', (name, text, expected) => {
    expect(seen(text, name === 'mount type from a build arg' ? { T: 'ssh' } : {})).toEqual(expected);
  });
});

describe('ADD of a URL or a git repository', () => {
  const cases: [string, string, string[]][] = [
    ['https, http, git, ssh, scp-like; not local files', 'FROM a\nADD https://x/a.tgz http://y/b git://h/r.git ssh://git@h/r git@github.com:o/r.git local ./l /dst/\n', [
      'remote-add@2:5=https://x/a.tgz',
      'remote-add@2:21=http://y/b',
      'remote-add@2:32=git://h/r.git',
      'remote-add@2:46=ssh://git@h/r',
      'remote-add@2:60=git@github.com:o/r.git',
    ]],
    ['a scheme in any case', 'FROM a\nADD HTTPS://x/a /d\n', ['remote-add@2:5=HTTPS://x/a']],
    ['the destination is no source', 'FROM a\nADD local https://x/\n', []],
    ['JSON form', 'FROM a\nADD ["https://x/a", "/d"]\n', ['remote-add@2:5=https://x/a']],
    ['flags before the sources', 'FROM a\nADD --chmod=644 --checksum=sha256:00 https://x/a /d\n', ['remote-add@2:38=https://x/a']],
    ['a URL from a stage ARG and ENV', 'FROM a\nARG U=https://x/a\nENV G git@h:o/r.git\nADD $U /d\nADD ${G} /e\n', ['remote-add@4:5=https://x/a', 'remote-add@5:5=git@h:o/r.git']],
    ['a URL from a build arg', 'FROM a\nARG U\nADD $U /d\n', ['remote-add@3:5=https://x/a']],
    ['a redeclared global ARG', 'ARG U=https://x/a\nFROM a\nARG U\nADD $U /d\n', ['remote-add@4:5=https://x/a']],
    ['a global ARG not redeclared is empty in the stage', 'ARG U=https://x/a\nFROM scratch\nADD ${U}local /d\n', []],
    ['a stage inherits its parent stage variables', 'FROM scratch AS one\nENV U=https://x/a\nFROM one\nADD $U /d\n', ['remote-add@4:5=https://x/a']],
    ['a variable only the image can set', 'FROM a\nADD $U /d\nADD ${S}//h/x /e\nADD ./$U /f\n', ['remote-add@2:5=$U (unresolved U)', 'remote-add@3:5=${S}//h/x (unresolved S)']],
    ['COPY takes no URL (BuildKit refuses it)', 'FROM a\nCOPY https://x/a /d\n', []],
    ['heredoc sources are content', 'FROM a\nADD <<EOF /d\nhttps://x/a\nEOF\n', []],
  ];
  it.each(cases)('%s', (name, text, expected) => {
    expect(seen(text, name === 'a URL from a build arg' ? { U: 'https://x/a' } : {})).toEqual(expected);
  });
});

describe('COPY --from and RUN --mount from= naming an image', () => {
  const cases: [string, string, string[]][] = [
    ['stages by name (any case) and index are not images', 'FROM a AS build\nFROM b\nCOPY --from=build /x /y\nCOPY --from=BUILD /x /y\nCOPY --from=0 /x /y\nRUN --mount=from=build,target=/b x\n', []],
    ['a later stage is a stage too', 'FROM a\nCOPY --from=later /x /y\nFROM b AS later\n', []],
    ['images', 'FROM a AS build\nCOPY --chown=1 --from=alpine:3 /x /y\nRUN --mount=type=bind,from=docker.io/library/busybox,target=/b x\n', [
      'external-from@2:16=alpine:3',
      'external-from@3:5=docker.io/library/busybox',
    ]],
    ['an ONBUILD trigger names the stages of the image built on it', 'FROM a AS build\nONBUILD COPY --from=build /x /y\n', ['external-from@2:14=build (onbuild)']],
  ];
  it.each(cases)('%s', (_name, text, expected) => {
    expect(seen(text)).toEqual(expected);
  });
});
