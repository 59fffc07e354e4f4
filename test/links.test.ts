// Files and links of a docker dir (docs/security.md "Files and links"): a link that stays inside its docker dir is the
// file or folder it points to, and reaches the build as a file; any other link, a special file, a template that is
// not UTF-8 or a file over its size limit is a KG error naming it, with nothing behind it read and generated/ untouched.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { copyFixture, run, snapshot, write } from './support/cli.js';
import { CODES } from '../src/core/diagnostics.js';
import { firstInvalidUtf8 } from '../src/load/files.js';

interface JsonDiagnostic {
  code: string;
  severity: string;
  message: string;
  location?: { file: string; line: number; column: number };
  hint: string;
}

/** The basic fixture, generated once, then changed by setup. */
async function prepared(setup: (dir: string) => void): Promise<{ dir: string; before: Record<string, string> }> {
  const dir = copyFixture('basic');
  expect((await run(dir, ['generate', '--quiet'])).exitCode).toBe(0);
  setup(dir);
  return { dir, before: snapshot(path.join(dir, 'generated')) };
}

function link(dir: string, rel: string, target: string): void {
  fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  fs.symlinkSync(target, path.join(dir, rel));
}

/** Runs a command that must fail on code at file:1:1 (or at), and checks the output dir and what was printed. */
async function expectRefused(
  dir: string,
  before: Record<string, string>,
  c: { code: string; at: string; args?: string[]; env?: Record<string, string>; secret?: string },
): Promise<JsonDiagnostic> {
  let first: JsonDiagnostic | undefined;
  for (const command of ['generate', 'check']) {
    const result = await run(dir, [command, ...(c.args ?? []), '--json'], c.env);
    expect(result.exitCode, result.stderr).toBe(1);
    const out = JSON.parse(result.stdout) as { ok: boolean; diagnostics: JsonDiagnostic[] };
    const found = out.diagnostics.find((d) => d.code === c.code);
    expect(found, JSON.stringify(out.diagnostics, null, 2)).toBeDefined();
    expect(`${found?.location?.file}:${found?.location?.line}:${found?.location?.column}`).toBe(c.at);
    expect(found?.hint).toBe(CODES[c.code as keyof typeof CODES].hint);
    if (c.secret !== undefined) expect(result.stdout + result.stderr).not.toContain(c.secret);
    expect(snapshot(path.join(dir, 'generated'))).toEqual(before);
    first ??= found;
  }
  const text = await run(dir, ['generate', ...(c.args ?? [])], c.env);
  expect(text.exitCode).toBe(1);
  expect(text.stderr).toContain(`error[${c.code}]`);
  expect(text.stderr).toContain(`--> ${c.at}`);
  if (c.secret !== undefined) expect(text.stdout + text.stderr).not.toContain(c.secret);
  return first as JsonDiagnostic;
}

const SECRET = 'kolla-gen-test-secret-4711';

describe('links that leave the docker dir, dangle or loop are refused, and nothing behind them is read', () => {
  it('KG210: an include of a link to /proc/self/environ renders nothing of the environment', { timeout: 60_000 }, async () => {
    const { dir, before } = await prepared((d) => {
      link(d, 'docker/evil/env.j2', '/proc/self/environ');
      write(d, 'docker/db/Dockerfile.j2', 'FROM {{ namespace }}/{{ image_prefix }}base:{{ tag }}\nRUN echo {% include "evil/env.j2" %}\n');
    });
    const d = await expectRefused(dir, before, { code: 'KG210', at: 'docker/evil/env.j2:1:1', env: { PATH: process.env.PATH ?? '', SECRET }, secret: SECRET });
    expect(d.message).toMatch(/docker\/evil\/env\.j2 leaves its docker dir: it points to \/proc\/self\/environ/);
  });

  it('KG210: a Dockerfile.j2 linked to /proc/self/environ shows no code frame of it, even to check', { timeout: 60_000 }, async () => {
    const { dir, before } = await prepared((d) => {
      fs.rmSync(path.join(d, 'docker/db/Dockerfile.j2'));
      link(d, 'docker/db/Dockerfile.j2', '/proc/self/environ');
    });
    await expectRefused(dir, before, { code: 'KG210', at: 'docker/db/Dockerfile.j2:1:1', env: { PATH: process.env.PATH ?? '', SECRET }, secret: SECRET });
  });

  it('KG210: a relative link climbing out of the docker dir, to a file of the repo', { timeout: 60_000 }, async () => {
    const { dir, before } = await prepared((d) => {
      write(d, 'private.txt', `${SECRET}\n`);
      link(d, 'docker/db/conf.txt', '../../private.txt');
    });
    const d = await expectRefused(dir, before, { code: 'KG210', at: 'docker/db/conf.txt:1:1', secret: SECRET });
    expect(d.message).toContain('it leads above the docker dir');
  });

  it('KG210: a link that leaves through another link (every hop must stay inside)', { timeout: 60_000 }, async () => {
    const { dir, before } = await prepared((d) => {
      link(d, 'docker/base/etc', '/etc');
      link(d, 'docker/db/passwd', '../base/etc/passwd');
    });
    await expectRefused(dir, before, { code: 'KG210', at: 'docker/base/etc:1:1' });
    const result = await run(dir, ['generate']);
    expect(result.stderr).toContain('error[KG210]: docker/db/passwd leaves its docker dir: it points to /etc; kolla-gen reads nothing behind it');
  });

  it('KG210: overlays never copy a context file linked outside into generated/contexts/', { timeout: 60_000 }, async () => {
    const { dir, before } = await prepared((d) => {
      write(d, 'overlay/db/extra.conf', 'x = 1\n');
      link(d, 'overlay/db/shadow', '/etc/hostname');
    });
    await expectRefused(dir, before, { code: 'KG210', at: 'overlay/db/shadow:1:1', args: ['-D', 'docker', '-D', 'overlay'] });
    expect(fs.existsSync(path.join(dir, 'generated', 'contexts'))).toBe(false);
  });

  it('KG211: a dangling link', { timeout: 60_000 }, async () => {
    const { dir, before } = await prepared((d) => link(d, 'docker/db/gone.sh', '../base/gone.sh'));
    const d = await expectRefused(dir, before, { code: 'KG211', at: 'docker/db/gone.sh:1:1' });
    expect(d.message).toContain('base/gone.sh does not exist');
  });

  it('KG212: a link to itself, and a folder linked into itself', { timeout: 60_000 }, async () => {
    const { dir, before } = await prepared((d) => link(d, 'docker/db/self', 'self'));
    const d = await expectRefused(dir, before, { code: 'KG212', at: 'docker/db/self:1:1' });
    expect(d.message).toContain('more than 40 links in a row');
    fs.rmSync(path.join(dir, 'docker/db/self'));
    link(dir, 'docker/db/again', '..');
    const e = await expectRefused(dir, before, { code: 'KG212', at: 'docker/db/again:1:1' });
    expect(e.message).toContain('it points to the docker dir, which holds it');
  });

  it('KG213: a FIFO is never opened (reading it would wait forever)', { timeout: 60_000 }, async () => {
    const { dir, before } = await prepared((d) => {
      expect(spawnSync('mkfifo', [path.join(d, 'docker/db/pipe')]).status).toBe(0);
    });
    await expectRefused(dir, before, { code: 'KG213', at: 'docker/db/pipe:1:1' });
  });
});

describe('links that stay inside the docker dir are the file or folder they point to', () => {
  it('builds an image whose context holds them from a merged context with the files in their place', { timeout: 60_000 }, async () => {
    const dir = copyFixture('basic');
    write(dir, 'docker/shared/conf/a.conf', 'a = 1\n');
    fs.chmodSync(path.join(dir, 'docker/base/start.sh'), 0o755);
    link(dir, 'docker/db/start.sh', '../base/start.sh'); // as kolla-toolbox links rabbitmq's files
    link(dir, 'docker/db/conf', '../shared/conf'); // a linked folder
    link(dir, 'docker/db/hop', 'start.sh'); // a link to a link
    link(dir, 'docker/macros-link.j2', 'macros.j2'); // a template through a link
    write(dir, 'docker/db/Dockerfile.j2', '{% import "macros-link.j2" as m %}FROM {{ namespace }}/{{ image_prefix }}base:{{ tag }}\nCOPY start.sh hop conf/ /\n');
    const result = await run(dir, ['generate']);
    expect(result.exitCode, result.stderr).toBe(0);
    const ctx = path.join(dir, 'generated', 'contexts', 'db');
    for (const rel of ['start.sh', 'hop', 'conf/a.conf', 'Dockerfile.j2']) expect(fs.lstatSync(path.join(ctx, rel)).isFile(), rel).toBe(true);
    expect(fs.readFileSync(path.join(ctx, 'hop'), 'utf8')).toBe(fs.readFileSync(path.join(dir, 'docker/base/start.sh'), 'utf8'));
    expect(fs.statSync(path.join(ctx, 'start.sh')).mode & 0o111).not.toBe(0);
    const bake = JSON.parse(fs.readFileSync(path.join(dir, 'generated', 'docker-bake.json'), 'utf8')) as { target: Record<string, { context: string }> };
    expect(bake.target['ubuntu-db']?.context).toBe('generated/contexts/db');
    // an image without links keeps building from its folder
    expect(bake.target['ubuntu-base']?.context).toBe('docker/base');
    expect((await run(dir, ['check'])).exitCode).toBe(0);
    // the linked file's bytes are in the content hash: a change behind the link is seen
    fs.appendFileSync(path.join(dir, 'docker/base/start.sh'), 'echo more\n');
    const stale = await run(dir, ['check']);
    expect(stale.exitCode).toBe(1);
    expect(stale.stderr).toContain('stale   generated/contexts/db/start.sh');
    expect(stale.stderr).toContain('stale   generated/contexts/db/hop');
  });

  it('follows a docker dir that is itself reached through a link, with absolute links into it', { timeout: 60_000 }, async () => {
    const dir = copyFixture('basic');
    fs.renameSync(path.join(dir, 'docker'), path.join(dir, 'real-docker'));
    fs.symlinkSync('real-docker', path.join(dir, 'docker'));
    link(dir, 'real-docker/db/start.sh', path.join(dir, 'docker', 'base', 'start.sh'));
    const result = await run(dir, ['generate']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(fs.lstatSync(path.join(dir, 'generated/contexts/db/start.sh')).isFile()).toBe(true);
  });
});

describe('templates are UTF-8, as Jinja2 reads them', () => {
  it('KG214: names the first byte that is not, at its line and column, in the words of Python', { timeout: 60_000 }, async () => {
    const { dir, before } = await prepared((d) =>
      fs.writeFileSync(path.join(d, 'docker/db/Dockerfile.j2'), Buffer.concat([Buffer.from('FROM scratch\nRUN echo caf'), Buffer.from([0xe9]), Buffer.from('\n')])),
    );
    const d = await expectRefused(dir, before, { code: 'KG214', at: 'docker/db/Dockerfile.j2:2:13' });
    expect(d.message).toBe("docker/db/Dockerfile.j2 is not UTF-8: 'utf-8' codec can't decode byte 0xe9 in position 25: invalid continuation byte");
    const text = await run(dir, ['generate']);
    expect(text.stderr).toMatch(/> 2 \| RUN echo caf/);
    expect(snapshot(path.join(dir, 'generated'))).toEqual(before);
  });

  it.each([
    // what Python 3's bytes.decode('utf-8') says of each
    ['caf\xe9\n', { offset: 3, end: 3, reason: 'invalid continuation byte' }],
    ['ab\xff', { offset: 2, end: 2, reason: 'invalid start byte' }],
    ['\xed\xa0\x80', { offset: 0, end: 0, reason: 'invalid continuation byte' }], // a surrogate
    ['x\xe2\x82', { offset: 1, end: 2, reason: 'unexpected end of data' }],
    ['\xc0\xaf', { offset: 0, end: 0, reason: 'invalid start byte' }], // overlong
    ['\xf4\x90\x80\x80', { offset: 0, end: 0, reason: 'invalid continuation byte' }], // over U+10FFFF
    ['\xef\xbb\xbfok \xe2\x82\xac \xf0\x9f\x90\xb3', undefined],
  ])('finds %j as Python does', (latin1, expected) => {
    expect(firstInvalidUtf8(Buffer.from(latin1, 'latin1'))).toEqual(expected);
  });
});

describe('files over their size limit', () => {
  it('KG215: a context file over 2 GiB is refused without reading it', { timeout: 60_000 }, async () => {
    const { dir, before } = await prepared((d) => {
      const fd = fs.openSync(path.join(d, 'docker/db/huge.bin'), 'w');
      fs.ftruncateSync(fd, 2 * 1024 * 1024 * 1024 + 1); // sparse: no disk used
      fs.closeSync(fd);
    });
    const d = await expectRefused(dir, before, { code: 'KG215', at: 'docker/db/huge.bin:1:1' });
    expect(d.message).toBe('cannot read docker/db/huge.bin: it has 2147483649 bytes, over the limit of 2147483648');
  });

  it('KG215: a template over 64 MiB', { timeout: 60_000 }, async () => {
    const { dir, before } = await prepared((d) => {
      const fd = fs.openSync(path.join(d, 'docker/db/big.j2'), 'w');
      fs.ftruncateSync(fd, 64 * 1024 * 1024 + 1);
      fs.closeSync(fd);
    });
    await expectRefused(dir, before, { code: 'KG215', at: 'docker/db/big.j2:1:1' });
  });
});

it('tests every code of KG210-KG229 here', () => {
  const mine = Object.keys(CODES).filter((code) => code >= 'KG210' && code <= 'KG229');
  // Those a pull request's commit reaches are tested with the other hostile commits, the ignore files' (KG220-KG223)
  // with the context's ignore files.
  const others = ['hostile-commits.test.ts', 'context-ignore.test.ts'].map((f) => fs.readFileSync(path.join(import.meta.dirname, f), 'utf8')).join('');
  const source = fs.readFileSync(import.meta.filename, 'utf8');
  expect(mine.filter((code) => !source.includes(`code: '${code}'`) && !others.includes(code))).toEqual([]);
});
