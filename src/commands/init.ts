// kolla-gen init: start an ops repo (kolla-gen.yaml, a CI workflow, .gitattributes). Never overwrites a file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { error, type Diagnostic } from '../core/diagnostics.js';
import { initFiles } from './init-files.js';
import type { CommandResult } from './run.js';

export interface InitOptions {
  cwd: string;
  dockerDir?: string;
  preset?: string;
  output?: string;
}

export function init(options: InitOptions): CommandResult {
  const diagnostics: Diagnostic[] = [];
  if (options.preset !== undefined && options.preset !== 'kolla') {
    return { exitCode: 1, diagnostics: [error('KG110', `unknown preset "${options.preset}" (expected one of: kolla)`)] };
  }
  const preset = options.preset === 'kolla' ? 'kolla' : undefined;
  const dockerDir = options.dockerDir ?? (preset ? '../kolla/kolla/docker' : 'docker');
  const written: string[] = [];
  const kept: string[] = [];
  for (const [rel, text] of initFiles({ dockerDir, ...(preset ? { preset } : {}) })) {
    const file = path.join(options.cwd, rel);
    if (fs.existsSync(file)) {
      kept.push(rel);
      continue;
    }
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text, { flag: 'wx' });
      written.push(rel);
    } catch (e) {
      diagnostics.push(error('KG712', `cannot write ${rel}: ${(e as Error).message}`));
    }
  }
  const lines = [
    ...written.map((rel) => `wrote ${rel}`),
    ...kept.map((rel) => `kept ${rel} (it exists; init never overwrites a file)`),
    '',
    'next:',
    ...(fs.existsSync(path.resolve(options.cwd, dockerDir)) ? [] : [`  put the docker dir at ${dockerDir} (or edit docker_dirs in kolla-gen.yaml)`]),
    '  kolla-gen generate                 # render into generated/',
    '  kolla-gen list                     # the images it selected',
    '  git add -A && git commit -m "kolla-gen: generated/"',
    '  docker buildx bake -f generated/docker-bake.hcl --print   # what bake will build',
    '  kolla-gen build REGEX              # build some images locally',
  ];
  return { exitCode: diagnostics.length > 0 ? 1 : 0, diagnostics, text: lines.join('\n'), json: { written, kept, dockerDir } };
}
