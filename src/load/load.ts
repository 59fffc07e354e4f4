// Reads what the pipeline needs from disk: the config, the --vars and override files, the docker dirs and their templates.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ContextFile } from '../core/digest.js';
import { readConfig, resolveConfig, type CliOptions, type ResolvedConfig, type SourceText } from './config/resolve.js';
import { error, hasErrors, warning, type Diagnostic, type SourceLocation } from '../core/diagnostics.js';
import { parseKollaConfig, withKollaConfig, type KollaConfigValues } from './kolla/config.js';
import type { KollaCheckout } from './kolla/preset.js';
import { CONFIG_NAME, isWithin } from './root.js';
import { readKollaRelease } from './kolla/kolla-release.js';
import { discover, type DockerDirListing } from './discover.js';
import { digestBounded, firstInvalidUtf8, linkOutOfRoot, MAX_CONTEXT_FILE_BYTES, MAX_TEMPLATE_BYTES, readBounded, scanDockerDir } from './files.js';
import { contextIgnoreText, TEMPLATE_PATTERNS } from './context-ignore.js';
import { CONTROL_CHARACTER, readIgnoreFile, sentFiles, type IgnorePattern } from './ignore-file.js';
import type { Project } from './project.js';
import type { TemplateSourceFile } from '../jinja/index.js';
import type { Image } from '../core/types.js';
import { recordOptions } from './config/made-with.js';
import { lockPath, MAX_LOCK_BYTES, parseLock, type BaseLock } from './lock.js';
import { configOptions, withConfigOptions } from './config/options.js';

export const DEFAULT_CONFIG = CONFIG_NAME;
/** Files of the tree other than templates that templates may import: text files up to this size. */
const MAX_IMPORTABLE_BYTES = 1024 * 1024;

export interface LoadOptions {
  cwd: string;
  env: Record<string, string | undefined>;
  /** -c/--config; undefined: kolla-gen.yaml when present. */
  configFile?: string;
  /** Told which config file was loaded (relative to the repo root), or null: the CLI says so. */
  onConfig?: (config: string | null) => void;
  /** --no-config: ignore kolla-gen.yaml. */
  noConfig?: boolean;
  /** --kolla-config: a kolla-build.conf. */
  kollaConfigFile?: string;
  /** Leave the base image lock unread (kolla-gen lock reads, and repairs, it itself). */
  ignoreLock?: boolean;
  /** A selection of nothing is an error, but `explain` explains it: a warning there. */
  emptySelection?: 'warning';
  /** explain: what the BuildKit policy refuses is a warning, so that explain can list it. */
  buildkitPolicy?: 'warning';
  /**
   * A revision exported by --affected-since into `tree`, loaded from the folder there that is `cwd` in the work tree:
   * the short HEAD at the revision of the innermost of `checkouts` (the repo, its submodules) around a kolla checkout
   * inside `tree` (which has no git dir of its own) is kolla_version, and a relative path of the config that leads out
   * of `tree` (`../kolla/kolla/docker`, beside an ops repo) means what it means from `cwd`. A kolla checkout outside
   * `tree` is read as always.
   */
  /** links: those the export made to the work tree's own docker dirs (checked when the work tree loaded). */
  exported?: { tree: string; cwd: string; checkouts: readonly { dir: string; shortSha: string; commit?: string }[]; links?: readonly string[] };
}

/** A path as the output names it: relative to cwd, "/"-separated. */
export function relativeToCwd(cwd: string, p: string): string {
  const rel = path.relative(cwd, path.resolve(cwd, p)).split(path.sep).join('/');
  return rel === '' ? '.' : rel;
}

/** `from`: the config's key that names the file (its place, and its text for the code frame). */
function readText(cwd: string, file: string, diagnostics: Diagnostic[], code: 'KG100' | 'KG106', from?: ConfigKey): SourceText | undefined {
  const rel = relativeToCwd(cwd, file);
  try {
    return { path: rel, text: fs.readFileSync(path.resolve(cwd, file), 'utf8') };
  } catch {
    const at = from?.location ? { location: from.location, source: from.source, hint: `check the path of ${from.key}: it is relative to the folder of ${from.location.file}` } : {};
    diagnostics.push(error(code, `cannot read ${rel}${from ? ` (${from.key} of ${from.location?.file ?? 'the config'})` : ''}`, at));
    return undefined;
  }
}

interface ConfigKey {
  key: string;
  location?: SourceLocation;
  source?: string;
}


/** The entries of a sorted list that start with prefix: one run of it, found by binary search (not a scan per image). */
function underPrefix(sorted: string[], prefix: string): string[] {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as string) < prefix) lo = mid + 1;
    else hi = mid;
  }
  let end = lo;
  while (end < sorted.length && (sorted[end] as string).startsWith(prefix)) end++;
  return sorted.slice(lo, end);
}

/**
 * The files BuildKit receives as an image's context: its folder on disk (nested folders included) or, when overlays
 * mixed docker dirs, the files kolla-gen copies under the output dir; less what the ignore file kolla-gen writes
 * beside the rendered Dockerfile excludes (templates, then the folder's .dockerignore), with that file's text.
 */
function readContext(cwd: string, image: Image, listings: DockerDirListing[], diagnostics: Diagnostic[]): { files: ContextFile[]; ignore: string } {
  const prefix = `${image.rel}/`;
  let files: { name: string; path: string }[] = image.files.map((f) => ({ name: f.rel.slice(prefix.length), path: f.path }));
  if (image.contextDir !== undefined) {
    const listing = listings.find((l) => (l.dir === '.' || l.dir === '' ? image.rel : `${l.dir}/${image.rel}`) === image.contextDir);
    if (listing) {
      files = underPrefix(listing.files, prefix).map((rel) => ({ name: rel.slice(prefix.length), path: `${image.contextDir}/${rel.slice(prefix.length)}` }));
    }
  }
  const named = CONTROL_CHARACTER.test(image.rel) ? image.files[0]?.path ?? image.rel : files.find((f) => CONTROL_CHARACTER.test(f.name))?.path;
  if (named !== undefined) {
    diagnostics.push(error('KG222', `the context of ${image.name} holds a name with a control character: ${JSON.stringify(named)}`));
    return { files: [], ignore: '' };
  }
  const ownFile = files.find((f) => f.name === '.dockerignore');
  let own: { path: string; patterns: IgnorePattern[] } | undefined;
  if (ownFile) {
    const read = readBounded(path.resolve(cwd, ownFile.path), MAX_TEMPLATE_BYTES);
    if ('problem' in read) {
      diagnostics.push(fileProblem(ownFile.path, read.problem));
      return { files: [], ignore: '' };
    }
    const text = read.bytes.toString('utf8');
    const invalid = firstInvalidUtf8(read.bytes);
    if (invalid) {
      const before = read.bytes.subarray(0, invalid.offset).toString('utf8');
      const lineStart = before.lastIndexOf('\n') + 1;
      diagnostics.push(
        error('KG223', `${ownFile.path} is not UTF-8 (${invalid.reason} at byte ${invalid.offset})`, {
          location: { file: ownFile.path, line: before.split('\n').length, column: [...before.slice(lineStart)].length + 1 },
          source: text,
        }),
      );
      return { files: [], ignore: '' };
    }
    const { patterns, problems } = readIgnoreFile(text);
    for (const p of problems) diagnostics.push(error(p.code, p.message, { location: { file: ownFile.path, line: p.line, column: p.column }, source: text }));
    if (problems.length > 0) return { files: [], ignore: '' };
    own = { path: `${image.rel}/.dockerignore`, patterns };
  }
  const ignore = contextIgnoreText(own);
  const sent = new Set(sentFiles([...TEMPLATE_PATTERNS, ...(own?.patterns ?? [])], files.map((f) => f.name)));
  const digested = files
    .filter((f) => sent.has(f.name))
    .flatMap((f) => {
      const digest = digestBounded(path.resolve(cwd, f.path), MAX_CONTEXT_FILE_BYTES);
      if ('problem' in digest) {
        diagnostics.push(fileProblem(f.path, digest.problem));
        return [];
      }
      return [{ name: f.name, executable: digest.executable, sha256: digest.sha256 }];
    });
  return { files: digested, ignore };
}

function fileProblem(file: string, problem: string): Diagnostic {
  return error('KG215', `cannot read ${file}: ${problem}`, { location: { file, line: 1, column: 1 } });
}

/** A template's text, refused as Jinja2 refuses it when it is not UTF-8 (no U+FFFD in its place). */
function readTemplate(file: string, abs: string, diagnostics: Diagnostic[]): string | undefined {
  const read = readBounded(abs, MAX_TEMPLATE_BYTES);
  if ('problem' in read) {
    diagnostics.push(fileProblem(file, read.problem));
    return undefined;
  }
  const invalid = firstInvalidUtf8(read.bytes);
  if (!invalid) return read.bytes.toString('utf8');
  const before = read.bytes.subarray(0, invalid.offset).toString('utf8');
  const lineStart = before.lastIndexOf('\n') + 1;
  const byte = (read.bytes[invalid.offset] as number).toString(16).padStart(2, '0');
  const what = invalid.end > invalid.offset ? `bytes in position ${invalid.offset}-${invalid.end}` : `byte 0x${byte} in position ${invalid.offset}`;
  diagnostics.push(
    error('KG214', `${file} is not UTF-8: 'utf-8' codec can't decode ${what}: ${invalid.reason}`, {
      location: { file, line: before.split('\n').length, column: [...before.slice(lineStart)].length + 1 },
      source: read.bytes.toString('utf8'),
    }),
  );
  return undefined;
}

/** Discovery works on listings; the code frame of its diagnostics needs the file's text. */
function withSource(cwd: string, d: Diagnostic): Diagnostic {
  if (!d.location || d.source !== undefined) return d;
  const read = readBounded(path.resolve(cwd, d.location.file), MAX_TEMPLATE_BYTES);
  return 'bytes' in read ? { ...d, source: read.bytes.toString('utf8') } : d;
}

function readOptional(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** kolla/template/repos-*.yaml: the repos files older releases pick by base (repos-el10.yaml, repos-noble.yaml). */
function readReposFiles(dir: string): Record<string, string> {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => /^repos-[\w.-]+\.yaml$/.test(n)).sort();
  } catch {
    return {};
  }
  return Object.fromEntries(names.flatMap((n) => {
    const text = readOptional(path.join(dir, n));
    return text === undefined ? [] : [[n, text]];
  }));
}

/**
 * The kolla checkout around a docker dir: `<checkout>/kolla/docker` today, `<checkout>/docker` on older branches.
 * Its python package holds the tables kolla-build passes to templates; its git HEAD is kolla_version.
 */
function readKollaCheckout(
  cwd: string,
  dockerDirs: string[],
  reposYamlFile: string | undefined,
  diagnostics: Diagnostic[],
  exported?: LoadOptions['exported'],
  pinned?: string,
): KollaCheckout {
  const checkout: KollaCheckout = {};
  for (const dir of dockerDirs) {
    const abs = path.resolve(cwd, dir);
    const pkg = [path.dirname(abs), path.join(path.dirname(abs), 'kolla')].find((p) => fs.existsSync(path.join(p, 'common', 'users.py')));
    if (!pkg) continue;
    checkout.configPy = readOptional(path.join(pkg, 'common', 'config.py'));
    if (checkout.configPy !== undefined) checkout.configPyPath = relativeToCwd(cwd, path.join(pkg, 'common', 'config.py'));
    checkout.reposYaml = readOptional(path.join(pkg, 'template', 'repos.yaml'));
    checkout.reposFiles = readReposFiles(path.join(pkg, 'template'));
    checkout.usersPy = readOptional(path.join(pkg, 'common', 'users.py'));
    checkout.unbuildablePy = readOptional(path.join(pkg, 'image', 'unbuildable.py'));
    // What differs by release in kolla-build itself: handle_repos(), and the variables it passes to templates.
    const { release, problems } = readKollaRelease({
      methodsPy: readOptional(path.join(pkg, 'template', 'methods.py')),
      workerPy: readOptional(path.join(pkg, 'image', 'kolla_worker.py')),
      tasksPy: readOptional(path.join(pkg, 'image', 'tasks.py')),
    });
    checkout.release = release;
    for (const problem of problems) diagnostics.push(warning('KG114', `${relativeToCwd(cwd, path.dirname(pkg))}/${problem}`));
    const root = path.dirname(pkg);
    const atRevision = exported && isWithin(exported.tree, root) ? exported.checkouts.filter((c) => isWithin(c.dir, root)).at(-1) : undefined;
    if (atRevision !== undefined) {
      checkout.gitShortSha = atRevision.shortSha;
      if (atRevision.commit !== undefined) checkout.gitCommit = atRevision.commit;
    } else if (fs.existsSync(path.join(root, '.git'))) {
      try {
        // What pbr runs for kolla-build's kolla_version; the checkout is input, like the templates.
        checkout.gitShortSha = execFileSync('git', ['--git-dir', path.join(root, '.git'), 'log', '-n1', '--pretty=format:%h'], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        }).trim();
        // kolla-build's org.opencontainers.image.revision: its git fallback reads the checkout's HEAD.
        checkout.gitCommit = execFileSync('git', ['--git-dir', path.join(root, '.git'), 'rev-parse', 'HEAD'], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        }).trim();
        // upstream.commit of kolla-gen.yaml is what CI checks out: output made from another commit fails its check.
        if (pinned && checkout.gitShortSha && !pinned.startsWith(checkout.gitShortSha)) {
          diagnostics.push(
            warning('KG745', `the kolla checkout ${relativeToCwd(cwd, root)} is at ${checkout.gitShortSha}, but kolla-gen.yaml pins upstream.commit ${pinned}`, {
              hint: `check out the pinned commit (git -C ${relativeToCwd(cwd, root)} checkout --detach ${pinned}), or bump upstream.commit to ${checkout.gitShortSha}'s full id (docs/ops-repo.md, "Bumping upstream")`,
            }),
          );
        }
      } catch {
        diagnostics.push(warning('KG114', `cannot read the git HEAD of ${relativeToCwd(cwd, root)}: kolla_version is empty (set it with --vars)`));
      }
    } else {
      diagnostics.push(warning('KG114', `the kolla checkout ${relativeToCwd(cwd, root)} has no .git: kolla_version is empty (set it with --vars)`));
    }
    break;
  }
  if (checkout.usersPy === undefined) {
    diagnostics.push(
      warning('KG114', `no kolla checkout around ${dockerDirs.join(', ')} (kolla/common/users.py): templates see only the users of the kolla-build.conf, and no repos.yaml`),
    );
  }
  if (reposYamlFile) {
    const text = readOptional(path.resolve(cwd, reposYamlFile));
    if (text === undefined) diagnostics.push(error('KG106', `cannot read ${relativeToCwd(cwd, reposYamlFile)} (repos_yaml of the kolla-build.conf)`));
    else checkout.reposOverride = { path: reposYamlFile, text };
  }
  return checkout;
}

/**
 * KG216 for a docker dir named by a path inside the repo that a link takes out of it (a commit can make `overlay` a
 * link to `../.docker` or `/home/runner`): its templates could include any file there. One the config names outside
 * the repo (`../kolla/docker`) is taken as named.
 */
function linkedDockerDir(cwd: string, dir: string, at: ConfigKey | undefined, made: readonly string[] = []): Diagnostic[] {
  const out = linkOutOfRoot(cwd, path.resolve(cwd, dir));
  if (!out || made.includes(path.join(cwd, out.link))) return [];
  const named = at ? `docker_dirs entry ${JSON.stringify(dir)}` : `docker dir ${JSON.stringify(dir)}`;
  return [
    error('KG216', `${named} lies in the repo, but ${out.link} is a link to ${JSON.stringify(out.target)}, out of it: kolla-gen reads no docker dir through it`, {
      ...(at?.location ? { location: at.location, source: at.source } : { location: { file: out.link, line: 1, column: 1 } }),
      related: [{ message: `${out.link} -> ${out.target}`, location: { file: out.link, line: 1, column: 1 } }],
    }),
  ];
}

/** A relative path of the exported revision's config that leads out of the export: the same path from the work tree. */
function beyondExport(cwd: string, p: string, exported: LoadOptions['exported']): string {
  if (!exported || path.isAbsolute(p)) return p;
  return isWithin(exported.tree, path.resolve(cwd, p)) ? p : path.resolve(exported.cwd, p);
}

export function loadProject(cliFlags: CliOptions, options: LoadOptions): { project?: Project; diagnostics: Diagnostic[] } {
  const { cwd } = options;
  const diagnostics: Diagnostic[] = [];
  let configSource: SourceText | undefined;
  if (options.configFile !== undefined) {
    configSource = readText(cwd, options.configFile, diagnostics, 'KG100');
  } else if (!options.noConfig && fs.existsSync(path.resolve(cwd, DEFAULT_CONFIG))) {
    configSource = readText(cwd, DEFAULT_CONFIG, diagnostics, 'KG100');
  }
  // The config first: it may name the kolla-build.conf, the override and vars files to read.
  const read = configSource ? readConfig(configSource) : { written: {}, diagnostics: [], at: () => undefined };
  if (!read.written) return { diagnostics: [...diagnostics, ...read.diagnostics] };
  const { written } = read;
  const own = configOptions(written, configSource?.path);
  const kollaConfigFile = options.kollaConfigFile ?? own.kollaConfig;
  // A file kolla-gen.yaml names: an error that cannot read it points at its key.
  const key = (name: string, list?: string[], index?: number): ConfigKey | undefined => {
    if (!configSource || (index !== undefined && index >= (list?.length ?? 0))) return undefined;
    const written = read.written?.[name as keyof typeof read.written];
    return { key: name, location: read.at(Array.isArray(written) && index !== undefined ? [name, index] : [name]), source: configSource.text };
  };
  let cli = cliFlags;
  let kollaConfig: KollaConfigValues | undefined;
  if (kollaConfigFile !== undefined) {
    const source = readText(cwd, kollaConfigFile, diagnostics, 'KG106', options.kollaConfigFile === undefined ? key('kolla_config') : undefined);
    if (!source) return { diagnostics };
    const parsed = parseKollaConfig(source);
    diagnostics.push(...parsed.diagnostics);
    if (!parsed.values) return { diagnostics };
    kollaConfig = parsed.values;
    cli = withKollaConfig(cli, kollaConfig);
  }
  cli = withConfigOptions(cli, own);
  if (configSource) options.onConfig?.(configSource.path);
  else if (!hasErrors(diagnostics)) options.onConfig?.(null);
  // The config's entries come first in each list (withConfigOptions).
  const varsFiles = (cli.varsFiles ?? []).flatMap((f, i) => readText(cwd, f, diagnostics, 'KG106', key('vars_files', own.varsFiles, i)) ?? []);
  const overrides: TemplateSourceFile[] = (cli.templateOverrides ?? []).flatMap((f, i) => {
    const s = readText(cwd, f, diagnostics, 'KG106', key('template_override', own.templateOverrides, i));
    return s ? [{ path: s.path, source: s.text }] : [];
  });
  if (hasErrors(diagnostics)) return { diagnostics };
  const recorded = recordOptions(written, cliFlags, { config: options.noConfig ? false : (configSource?.path ?? null), kollaConfig: options.kollaConfigFile });

  const input = { cli, config: configSource, varsFiles, env: options.env, kollaConfig };
  const outOfExport = (config: ResolvedConfig | undefined) => {
    if (config && options.exported) config.dockerDirs = config.dockerDirs.map((d) => beyondExport(cwd, d, options.exported));
  };
  let resolved = resolveConfig(input);
  outOfExport(resolved.config);
  // Before anything around a docker dir is read (the kolla checkout's tables, the tree).
  const fromConfig = !cli.dockerDirs?.length;
  diagnostics.push(...(resolved.config?.dockerDirs ?? []).flatMap((dir, i) => linkedDockerDir(cwd, dir, fromConfig ? key('docker_dirs', written.docker_dirs, i) : undefined, options.exported?.links)));
  if (hasErrors(diagnostics)) return { diagnostics };
  if (resolved.config?.preset === 'kolla') {
    // The preset's defaults are the checkout's own tables: resolve once to find the docker dirs, then with them.
    const kollaCheckout = readKollaCheckout(cwd, resolved.config.dockerDirs, kollaConfig?.reposYaml, diagnostics, options.exported, resolved.config.upstream?.commit);
    if (hasErrors(diagnostics)) return { diagnostics };
    resolved = resolveConfig({ ...input, kollaCheckout });
    outOfExport(resolved.config);
  }
  diagnostics.push(...resolved.diagnostics);
  const config = resolved.config;
  if (!config) return { diagnostics };
  config.dockerDirs = config.dockerDirs.map((d) => relativeToCwd(cwd, d));
  config.output = relativeToCwd(cwd, config.output);
  config.root = path.resolve(cwd);

  const listings: DockerDirListing[] = [];
  for (const dir of config.dockerDirs) {
    const abs = path.resolve(cwd, dir);
    if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) {
      // No config and the default docker dir: most likely not in an ops repo at all.
      const lost = configSource === undefined && cli.dockerDirs === undefined && config.dockerDirs.length === 1;
      diagnostics.push(
        lost
          ? error('KG200', `docker dir ${dir} does not exist, and no ${DEFAULT_CONFIG} was found here or in a folder above (up to the git top-level)`, {
              hint: `run \`kolla-gen init\` to start an ops repo here (kolla-gen init --preset kolla -D <kolla checkout>/kolla/docker for upstream Kolla), pass -c <path>/${DEFAULT_CONFIG}, or -D <docker dir>`,
            })
          : error('KG200', `docker dir ${dir} does not exist`),
      );
      continue;
    }
    const scan = scanDockerDir(dir, abs);
    diagnostics.push(...scan.diagnostics);
    listings.push({ dir, files: scan.files, links: scan.links });
  }
  if (hasErrors(diagnostics)) return { diagnostics };

  const { tree, diagnostics: found } = discover(listings);
  diagnostics.push(...found.map((d) => withSource(cwd, d)));
  if (hasErrors(diagnostics)) return { diagnostics };

  const templates = new Map<string, TemplateSourceFile>();
  for (const [rel, file] of tree.files) {
    if (rel.endsWith('.j2')) {
      const source = readTemplate(file.path, path.resolve(cwd, file.path), diagnostics);
      if (source !== undefined) templates.set(rel, { path: file.path, source });
    } else {
      // Any text file of the tree can be imported by name (kolla 2025.1: `{% from "rabbitmq/<image>/rabbitmq_packages_rpm.rocky" import … %}`);
      // a file that is not small UTF-8 text is no template and is left out without a word.
      const read = readBounded(path.resolve(cwd, file.path), MAX_IMPORTABLE_BYTES);
      if ('bytes' in read && !read.bytes.includes(0) && !firstInvalidUtf8(read.bytes)) templates.set(rel, { path: file.path, source: read.bytes.toString('utf8') });
    }
  }
  const contexts = new Map(tree.images.map((image) => [image.name, readContext(cwd, image, listings, diagnostics)]));
  const { lock, diagnostics: lockProblems } = options.ignoreLock ? { lock: undefined, diagnostics: [] } : readLock(cwd, config.configPath);
  diagnostics.push(...lockProblems);
  if (hasErrors(diagnostics)) return { diagnostics };
  const contextFiles = new Map([...contexts].map(([name, c]) => [name, c.files]));
  const contextIgnores = new Map([...contexts].map(([name, c]) => [name, c.ignore]));
  return { project: { config, tree, templates, overrides, contextFiles, contextIgnores, recorded, ...(lock ? { lock } : {}) }, diagnostics };
}

/** The lock of the project whose config is `configPath` (relative to `cwd`, the repo root). */
export function readLock(cwd: string, configPath: string | undefined): { lock: BaseLock; diagnostics: Diagnostic[] } {
  const file = lockPath(configPath);
  const abs = path.resolve(cwd, file);
  let text: string;
  try {
    const stat = fs.statSync(abs);
    if (stat.size > MAX_LOCK_BYTES) return { lock: { path: file }, diagnostics: [error('KG480', `${file} is larger than ${MAX_LOCK_BYTES} bytes`, { location: { file, line: 1, column: 1 } })] };
    text = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { lock: { path: file }, diagnostics: [] };
    return { lock: { path: file }, diagnostics: [error('KG480', `cannot read ${file}: ${(e as Error).message}`, { location: { file, line: 1, column: 1 } })] };
  }
  const parsed = parseLock(file, text);
  return { lock: { path: file, ...(parsed.entries ? { entries: parsed.entries } : {}) }, diagnostics: parsed.diagnostics };
}
