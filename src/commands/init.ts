// kolla-gen init: start an ops repo (kolla-gen.yaml, two CI workflows, .gitattributes). Never overwrites a file.
// Under --preset kolla it reads the checkout -D names (init-checkout.ts): the docker dir of its release, its branch,
// its profiles and, beside the repo, the commit CI must check out.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { error, hasErrors, warning, type Diagnostic } from '../core/diagnostics.js';
import { isRegistry } from '../core/ref.js';
import { parse as parseYaml } from 'yaml';
import { checkoutHead, readCheckoutForInit, readKollaCheckoutForInit } from './init-checkout.js';
import { bumpedConfigText, initFiles, type InitCheckout } from './init-files.js';
import type { CommandResult } from './run.js';

export interface InitOptions {
  cwd: string;
  dockerDir?: string;
  preset?: string;
  registry?: string;
  output?: string;
  /** --bump: move upstream.commit of kolla-gen.yaml to the checkout's HEAD (the one edit init makes to a file). */
  bump?: boolean;
}

/** Where --preset kolla looks with no -D: a submodule `kolla`, else a checkout beside the repo. */
function defaultKollaDir(cwd: string): string {
  return fs.existsSync(path.join(cwd, 'kolla', 'kolla', 'common', 'config.py')) ? 'kolla' : '../kolla';
}

export function init(options: InitOptions): CommandResult {
  if (options.bump) return bump(options.cwd);
  const diagnostics: Diagnostic[] = [];
  if (options.preset !== undefined && options.preset !== 'kolla') {
    return { exitCode: 1, diagnostics: [error('KG110', `unknown preset "${options.preset}" (expected one of: kolla)`)] };
  }
  if (options.registry !== undefined && !isRegistry(options.registry)) {
    return {
      exitCode: 1,
      diagnostics: [error('KG133', `--registry: ${JSON.stringify(options.registry)} is not a valid image registry`, { hint: 'a registry is a host name or IP, with an optional port: registry.example.com, localhost:5000' })],
    };
  }
  const preset = options.preset === 'kolla' ? 'kolla' : undefined;
  const given = options.dockerDir ?? (preset ? defaultKollaDir(options.cwd) : 'docker');
  const read = preset ? readKollaCheckoutForInit(options.cwd, given) : readCheckoutForInit(options.cwd, given);
  diagnostics.push(...read.diagnostics);
  if (hasErrors(diagnostics)) return { exitCode: 1, diagnostics };
  const checkout: InitCheckout | undefined = read.checkout;
  const dockerDir = preset && checkout ? checkout.dockerDir : given;
  if (preset && options.registry === undefined) {
    diagnostics.push(
      warning('KG744', 'no --registry: the images are named kolla/<image>, which a push sends to Docker Hub\'s "kolla" namespace (upstream\'s)', {
        hint: 'set registry: in kolla-gen.yaml (and REGISTRY in .github/workflows/images.yml and refresh-bases.yml) to the registry you push to, or run init with --registry HOST in a new dir',
      }),
    );
  }
  // Each is written into kolla-gen.yaml or the workflow: a newline would start a key of its own.
  const values = [dockerDir, checkout?.root, checkout?.branch, checkout?.configPy, checkout?.upstream?.url, checkout?.upstream?.branch, ...(checkout?.profiles ?? [])];
  const odd = values.find((v) => v !== undefined && hasControl(v));
  if (odd !== undefined) {
    return {
      exitCode: 1,
      diagnostics: [...diagnostics, error('KG747', `init would write ${JSON.stringify(odd)} into kolla-gen.yaml, and it holds a control character (a newline, tab, escape...)`)],
    };
  }
  const written: string[] = [];
  const kept: string[] = [];
  const files = initFiles({ dockerDir, ...(preset ? { preset } : {}), ...(options.registry ? { registry: options.registry } : {}), ...(checkout ? { checkout } : {}) });
  // Before any file is written: a commit can make .github (or a file init writes) a link to anywhere.
  const linked = files.flatMap(([rel]) => linkOnPath(options.cwd, rel) ?? []);
  if (linked.length > 0) return { exitCode: 1, diagnostics: [...diagnostics, ...[...new Set(linked)].map(throughLink)] };
  for (const [rel, text] of files) {
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
  const upstream = checkout?.upstream;
  const lines = [
    ...(checkout && preset ? [`kolla checkout ${checkout.root}${checkout.branch ? ` (${checkout.branch})` : ''}: docker dir ${checkout.dockerDir}, profiles ${checkout.profiles.join(', ') || 'none'}`] : []),
    ...(checkout?.layout === 'submodule' && checkout.root !== '.' ? [`layout: submodule (${checkout.root}): git pins its commit`] : []),
    ...(upstream
      ? [
          `layout: beside (${checkout?.root}): kolla-gen.yaml pins upstream ${upstream.commit}${upstream.branch ? ` (${upstream.branch})` : ''}, which CI checks out`,
          '  (recommended instead: a submodule, pinned by git: docs/ops-repo.md)',
        ]
      : []),
    ...written.map((rel) => `wrote ${rel}`),
    ...kept.map((rel) => `kept ${rel} (it exists; init never overwrites a file)`),
    '',
    'next:',
    ...(fs.existsSync(path.resolve(options.cwd, dockerDir)) ? [] : [`  put the docker dir at ${dockerDir} (or edit docker_dirs in kolla-gen.yaml)`]),
    '  kolla-gen lock                     # optional: pin the base images by digest (refresh-bases.yml keeps the lock fresh)',
    '  kolla-gen generate                 # render into generated/',
    '  kolla-gen list                     # the images it selected',
    '  git add -A && git commit -m "kolla-gen: generated/"',
    '  docker buildx bake -f generated/docker-bake.hcl --print   # what bake will build',
    '  kolla-gen build REGEX              # build some images locally',
  ];
  const json = { written, kept, dockerDir, ...(checkout ? { layout: checkout.layout, ...(upstream ? { upstream } : {}) } : {}), ...(options.registry ? { registry: options.registry } : {}) };
  return { exitCode: hasErrors(diagnostics) ? 1 : 0, diagnostics, text: lines.join('\n'), json };
}

const CONFIG = 'kolla-gen.yaml';

/** C0 and C1 controls, DEL and the Unicode line and paragraph separators: none is written into a YAML file. */
function hasControl(value: string): boolean {
  return [...value].some((c) => {
    const code = c.codePointAt(0) ?? 0;
    return code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029;
  });
}

/** The first part of `rel` under `cwd` ("/"-path) that is a link, the file itself included; undefined when none is. */
function linkOnPath(cwd: string, rel: string): string | undefined {
  const parts = rel.split('/');
  for (let i = 1; i <= parts.length; i++) {
    try {
      if (fs.lstatSync(path.join(cwd, ...parts.slice(0, i))).isSymbolicLink()) return parts.slice(0, i).join('/');
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function throughLink(link: string): Diagnostic {
  return error('KG748', `${link} is a link: init writes files of the repo only, never through a link`, { location: { file: link, line: 1, column: 1 } });
}

/**
 * init --bump: upstream.commit (and branch) of kolla-gen.yaml := the HEAD of the checkout its first docker dir lies in.
 * The pull request that bumps holds this edit and the generated/ it makes.
 */
function bump(cwd: string): CommandResult {
  const file = path.join(cwd, CONFIG);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return { exitCode: 1, diagnostics: [error('KG100', `no ${CONFIG} here to bump`, { hint: 'run kolla-gen init --bump in the ops repo root, where kolla-gen.yaml is' })] };
  }
  const written = (() => {
    try {
      return parseYaml(text) as { docker_dirs?: unknown } | null;
    } catch {
      return null;
    }
  })();
  const dirs = Array.isArray(written?.docker_dirs) ? written.docker_dirs.filter((d): d is string => typeof d === 'string') : [];
  const first = dirs[0];
  if (!text.includes('upstream:') || first === undefined) {
    return {
      exitCode: 1,
      diagnostics: [
        error('KG746', `${CONFIG} pins no upstream (upstream.commit) to bump`, {
          hint: 'a submodule is bumped with git: git -C kolla fetch origin && git -C kolla checkout --detach COMMIT && git add kolla, then kolla-gen generate and commit both',
        }),
      ],
    };
  }
  const head = checkoutHead(cwd, first);
  if (!head) return { exitCode: 1, diagnostics: [error('KG742', `cannot read the git commit of the checkout ${first} lies in`, { hint: 'check that the docker dir is part of a git checkout' })] };
  const bumped = bumpedConfigText(text, head);
  if (!bumped) {
    return { exitCode: 1, diagnostics: [error('KG746', `${CONFIG} pins no upstream (upstream.commit) to bump`, { hint: 'write upstream: { url, commit } (kolla-gen init writes it for a checkout beside the repo)' })] };
  }
  const on = head.branch ? ` (${head.branch})` : '';
  if (bumped.from.commit === head.commit) {
    return { exitCode: 0, diagnostics: [], text: `upstream.commit: ${head.commit}${on}, the HEAD of ${head.root} already`, json: { from: bumped.from, to: head, changed: false } };
  }
  const link = linkOnPath(cwd, CONFIG);
  if (link !== undefined) return { exitCode: 1, diagnostics: [throughLink(link)] };
  fs.writeFileSync(file, bumped.text);
  const lines = [
    `upstream.commit: ${bumped.from.commit} -> ${head.commit}${on}, the HEAD of ${head.root}`,
    '',
    'next: one pull request with both',
    '  kolla-gen generate',
    `  git commit -am "Bump upstream to ${head.commit.slice(0, 12)}"`,
  ];
  return { exitCode: 0, diagnostics: [], text: lines.join('\n'), json: { from: bumped.from, to: head, changed: true } };
}
