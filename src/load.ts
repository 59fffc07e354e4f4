// Reads what the pipeline needs from disk: the config, the --vars and override files, the docker dirs and their templates.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveConfig, type CliOptions, type SourceText } from './config/resolve.js';
import { error, hasErrors, type Diagnostic } from './diagnostics.js';
import { discover, type DockerDirListing } from './discover.js';
import type { Project } from './pipeline.js';
import type { TemplateSourceFile } from './render/index.js';

export const DEFAULT_CONFIG = 'kolla-gen.yaml';

export interface LoadOptions {
  cwd: string;
  env: Record<string, string | undefined>;
  /** -c/--config; undefined: kolla-gen.yaml when present. */
  configFile?: string;
}

/** A path as the output names it: relative to cwd, "/"-separated. */
export function relativeToCwd(cwd: string, p: string): string {
  const rel = path.relative(cwd, path.resolve(cwd, p)).split(path.sep).join('/');
  return rel === '' ? '.' : rel;
}

function readText(cwd: string, file: string, diagnostics: Diagnostic[], code: 'KG100' | 'KG106'): SourceText | undefined {
  const rel = relativeToCwd(cwd, file);
  try {
    return { path: rel, text: fs.readFileSync(path.resolve(cwd, file), 'utf8') };
  } catch {
    diagnostics.push(error(code, `cannot read ${rel}`));
    return undefined;
  }
}

function listDir(root: string): string[] {
  return fs
    .readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() || (e.isSymbolicLink() && fs.statSync(path.join(e.parentPath, e.name)).isFile()))
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .filter((rel) => !rel.split('/').includes('.git'))
    .sort();
}

/** Discovery works on listings; the code frame of its diagnostics needs the file's text. */
function withSource(cwd: string, d: Diagnostic): Diagnostic {
  if (!d.location || d.source !== undefined) return d;
  try {
    return { ...d, source: fs.readFileSync(path.resolve(cwd, d.location.file), 'utf8') };
  } catch {
    return d;
  }
}

export function loadProject(cli: CliOptions, options: LoadOptions): { project?: Project; diagnostics: Diagnostic[] } {
  const { cwd } = options;
  const diagnostics: Diagnostic[] = [];
  let configSource: SourceText | undefined;
  if (options.configFile !== undefined) {
    configSource = readText(cwd, options.configFile, diagnostics, 'KG100');
  } else if (fs.existsSync(path.resolve(cwd, DEFAULT_CONFIG))) {
    configSource = readText(cwd, DEFAULT_CONFIG, diagnostics, 'KG100');
  }
  const varsFiles = (cli.varsFiles ?? []).flatMap((f) => readText(cwd, f, diagnostics, 'KG106') ?? []);
  const overrides: TemplateSourceFile[] = (cli.templateOverrides ?? []).flatMap((f) => {
    const s = readText(cwd, f, diagnostics, 'KG106');
    return s ? [{ path: s.path, source: s.text }] : [];
  });
  if (hasErrors(diagnostics)) return { diagnostics };

  const resolved = resolveConfig({ cli, config: configSource, varsFiles, env: options.env });
  diagnostics.push(...resolved.diagnostics);
  const config = resolved.config;
  if (!config) return { diagnostics };
  config.dockerDirs = config.dockerDirs.map((d) => relativeToCwd(cwd, d));
  config.output = relativeToCwd(cwd, config.output);

  const listings: DockerDirListing[] = [];
  for (const dir of config.dockerDirs) {
    const abs = path.resolve(cwd, dir);
    if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) {
      diagnostics.push(error('KG200', `docker dir ${dir} does not exist`));
      continue;
    }
    listings.push({ dir, files: listDir(abs) });
  }
  if (hasErrors(diagnostics)) return { diagnostics };

  const { tree, diagnostics: found } = discover(listings);
  diagnostics.push(...found.map((d) => withSource(cwd, d)));
  if (hasErrors(diagnostics)) return { diagnostics };

  const templates = new Map<string, TemplateSourceFile>();
  for (const [rel, file] of tree.files) {
    if (rel.endsWith('.j2')) templates.set(rel, { path: file.path, source: fs.readFileSync(path.resolve(cwd, file.path), 'utf8') });
  }
  return { project: { config, tree, templates, overrides }, diagnostics };
}
