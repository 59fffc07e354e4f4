// What differs between upstream Kolla releases in kolla-build itself, read from the checkout's python as text: the
// shape of handle_repos() (kolla/template/methods.py) and what kolla_worker.py passes to templates. Pure.

/**
 * The shapes upstream's handle_repos() has had:
 * - `skip-missing` (2024.1, 2025.1): looks a repo up in the `<distro>-<arch>` section (else `<distro>`) and skips
 *   the repos that section lacks; rpm repos are names for `dnf config-manager --enable`;
 * - `union` (2025.2, 2026.1): the package type, distro and distro-arch sections joined (a later one replaces a repo
 *   whole); a repo none of them has is a KeyError;
 * - `merge` (master): the same sections merged field by field, with kolla-build's checks and stale-file removal.
 */
export type HandleReposStyle = 'skip-missing' | 'union' | 'merge';

/** A condition of handle_repos() on the template's variables, as plain data (settings cross into worker threads). */
export type RepoCondition =
  | { op: 'and' | 'or'; args: RepoCondition[] }
  | { op: 'eq'; name: string; value: string }
  | { op: 'startswith'; name: string; prefixes: string[] }
  | { op: 'truthy'; name: string };

/** A repos file handle_repos() reads instead of repos.yaml when its condition holds (repos-el10.yaml, repos-noble.yaml). */
export interface ReposFileRule {
  file: string;
  when: RepoCondition;
}

/** One `distro_python_version = "X"` of kolla_worker.py, with the base and base tag conditions around it. */
export interface PythonVersionRule {
  /** undefined: any base (the final else). */
  bases?: string[];
  /** undefined: any tag. */
  tagPrefixes?: string[];
  version: string;
}

export interface KollaRelease {
  handleRepos: HandleReposStyle;
  /** The alternative repos files handle_repos() picks by the variant, in order; repos.yaml otherwise. */
  reposFileRules: ReposFileRule[];
  /** The names of the variables kolla-build passes to templates (its `values`); undefined: unknown, pass them all. */
  contextKeys?: string[];
  /** The functions it gives templates (`_get_methods`); undefined: unknown, give them all. */
  methods?: string[];
  /** distro_python_version by base (2024.1); empty when the release passes none. */
  pythonVersions: PythonVersionRule[];
  /** Whether unbuildable.py keys may name a base tag (`rocky+10`), as kolla-build 2025.1 matches them. */
  unbuildableByTag: boolean;
  /** The labels kolla-build adds at build time (none before 2026.1), in the order it adds them. */
  labels: KollaLabel[];
}

/**
 * The labels kolla-build adds to every image at build time (not in templates): the `org.opencontainers.image.*` set of
 * kolla_worker.py (2026.1 on) and `build-date` of tasks.py (master). kolla-gen knows how kolla-build computes each.
 */
export const KOLLA_LABELS = [
  'org.opencontainers.image.revision',
  'org.opencontainers.image.source',
  'org.opencontainers.image.title',
  'org.opencontainers.image.description',
  'org.opencontainers.image.version',
  'org.opencontainers.image.created',
  'org.opencontainers.image.authors',
  'org.opencontainers.image.url',
  'org.opencontainers.image.licenses',
  'build-date',
] as const;
export type KollaLabel = (typeof KOLLA_LABELS)[number];

/** The labels the checkout's kolla_worker.py and tasks.py add; one kolla-gen does not know is a problem, and left out. */
export function readKollaLabels(workerPy: string | undefined, tasksPy: string | undefined, problems: string[]): KollaLabel[] {
  const labels = new Set<string>();
  if (workerPy !== undefined) {
    const code = stripComments(workerPy);
    // The source control labels: pip's direct_url.json, else the checkout's git.
    if (/def _get_scm_labels\(/.test(code)) {
      labels.add('org.opencontainers.image.revision');
      labels.add('org.opencontainers.image.source');
    }
    const update = bracedAfter(code, /\boci_labels\.update\(\s*\{/) ?? '';
    for (const m of update.matchAll(/['"]([\w.-]+)['"]\s*:/g)) labels.add(m[1] ?? '');
  }
  if (tasksPy !== undefined) {
    for (const m of stripComments(tasksPy).matchAll(/\.labels\[\s*['"]([^'"]+)['"]\s*\]\s*=/g)) labels.add(m[1] ?? '');
  }
  const known = new Set<string>(KOLLA_LABELS);
  for (const label of labels) {
    if (!known.has(label)) problems.push(`kolla/image: kolla-build adds a label kolla-gen does not know, ${label}; kolla-gen leaves it out`);
  }
  return KOLLA_LABELS.filter((l) => labels.has(l));
}

/** What could not be read, for a warning; the value used instead is master's. */
export interface KollaReleaseResult {
  release: KollaRelease;
  problems: string[];
}

function stripComments(text: string): string {
  return text.replace(/(^|[^'"\w])#[^\n]*/g, '$1');
}

/** The body of `def name(...)` up to the next top-level or same-level def. */
function functionBody(code: string, name: string): string | undefined {
  const start = new RegExp(`^([ \\t]*)def ${name}\\(`, 'm').exec(code);
  if (!start) return undefined;
  const indent = start[1] ?? '';
  const rest = code.slice(start.index + start[0].length);
  const end = new RegExp(`^${indent}(def |@|class )`, 'm').exec(rest.slice(1));
  return end ? rest.slice(0, end.index + 1) : rest;
}

/** The text inside the braces that follow `marker`, braces nesting. */
function bracedAfter(code: string, marker: RegExp): string | undefined {
  const m = marker.exec(code);
  if (!m) return undefined;
  const open = code.indexOf('{', m.index + m[0].length - 1);
  if (open < 0) return undefined;
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    if (code[i] === '{') depth += 1;
    else if (code[i] === '}' && --depth === 0) return code.slice(open + 1, i);
  }
  return undefined;
}

// --- conditions -------------------------------------------------------------------------------------------------

const CONDITION_NAMES = new Set(['base_distro', 'base_distro_tag', 'base_arch', 'base_package_type']);

/** Parses the small python expressions handle_repos() chooses a repos file by: ==, startswith, and, or, parentheses. */
export function parseRepoCondition(text: string): RepoCondition | undefined {
  const tokens = text.replace(/\\\n/g, ' ').match(/'[^']*'|"[^"]*"|[A-Za-z_][\w.]*|==|[(),]|\S/g) ?? [];
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++];
  const isString = (t: string | undefined) => t !== undefined && /^['"]/.test(t);
  const fail = (): never => {
    throw new Error('unreadable condition');
  };
  const strings = (): string[] => {
    if (peek() === '(') {
      next();
      const out: string[] = [];
      while (peek() !== ')') {
        const t = next();
        if (!isString(t)) fail();
        out.push((t as string).slice(1, -1));
        if (peek() === ',') next();
      }
      next();
      return out;
    }
    const t = next();
    if (!isString(t)) fail();
    return [(t as string).slice(1, -1)];
  };
  const atom = (): RepoCondition => {
    const t = next();
    if (t === '(') {
      const inner = or();
      if (next() !== ')') fail();
      return inner;
    }
    if (t === undefined) return fail();
    const starts = /^(\w+)\.startswith$/.exec(t);
    if (starts && CONDITION_NAMES.has(starts[1] ?? '')) {
      if (next() !== '(') fail();
      const prefixes = strings();
      if (next() !== ')') fail();
      return { op: 'startswith', name: starts[1] as string, prefixes };
    }
    if (!CONDITION_NAMES.has(t)) fail();
    if (peek() === '==') {
      next();
      const v = next();
      if (!isString(v)) fail();
      return { op: 'eq', name: t, value: (v as string).slice(1, -1) };
    }
    return { op: 'truthy', name: t };
  };
  const and = (): RepoCondition => {
    const args = [atom()];
    while (peek() === 'and') {
      next();
      args.push(atom());
    }
    return args.length === 1 ? (args[0] as RepoCondition) : { op: 'and', args };
  };
  const or = (): RepoCondition => {
    const args = [and()];
    while (peek() === 'or') {
      next();
      args.push(and());
    }
    return args.length === 1 ? (args[0] as RepoCondition) : { op: 'or', args };
  };
  try {
    const cond = or();
    return i === tokens.length ? cond : undefined;
  } catch {
    return undefined;
  }
}

export function evalRepoCondition(cond: RepoCondition, vars: Record<string, string>): boolean {
  switch (cond.op) {
    case 'and':
      return cond.args.every((c) => evalRepoCondition(c, vars));
    case 'or':
      return cond.args.some((c) => evalRepoCondition(c, vars));
    case 'eq':
      return vars[cond.name] === cond.value;
    case 'startswith':
      return cond.prefixes.some((p) => (vars[cond.name] ?? '').startsWith(p));
    case 'truthy':
      return (vars[cond.name] ?? '') !== '';
  }
}

// --- methods.py -----------------------------------------------------------------------------------------------

function handleReposStyle(body: string): HandleReposStyle | undefined {
  if (body.includes('_build_repo_list')) return 'merge';
  if (/repo_data\.get\(\s*base_package_type/.test(body)) return 'union';
  if (/repo_data\[\s*['"]%s-%s['"]/.test(body) && body.includes('rpm_switch')) return 'skip-missing';
  return undefined;
}

/** `'/repos-X.yaml' if (COND) else '/repos.yaml'`: the files handle_repos() picks by the variant. */
function reposFileRules(body: string, problems: string[]): ReposFileRule[] {
  const rules: ReposFileRule[] = [];
  for (const m of body.matchAll(/['"]\/(repos-[\w.-]+\.yaml)['"]\s+if\s+([\s\S]*?)\s+else\s+['"]\/repos\.yaml['"]/g)) {
    const when = parseRepoCondition(m[2] ?? '');
    if (when) rules.push({ file: m[1] ?? '', when });
    else problems.push(`cannot read when handle_repos() uses ${m[1]}: it is never used`);
  }
  return rules;
}

// --- kolla_worker.py ------------------------------------------------------------------------------------------

function dictKeys(body: string | undefined): string[] | undefined {
  if (body === undefined) return undefined;
  const keys = [...body.matchAll(/['"](\w+)['"]\s*:/g)].map((m) => m[1] ?? '');
  return keys.length > 0 ? keys : undefined;
}

/** `self.conf.distro_python_version = "X"` under `if self.base in [...]` and `if self.base_tag.startswith(...)`. */
export function parsePythonVersions(worker: string): PythonVersionRule[] {
  const rules: PythonVersionRule[] = [];
  let bases: string[] | undefined;
  let baseIndent = -1;
  let tagPrefixes: string[] | undefined;
  let tagIndent = -1;
  for (const line of stripComments(worker).split('\n')) {
    const indent = /^\s*/.exec(line)?.[0].length ?? 0;
    const text = line.trim();
    if (text === '') continue;
    if (tagIndent >= 0 && indent <= tagIndent && !/^(elif|else)\b/.test(text)) tagIndent = -1;
    if (baseIndent >= 0 && indent <= baseIndent && !/^(elif|else)\b/.test(text)) baseIndent = -1;
    const baseIf = /^(?:el)?if self\.base in \[([^\]]*)\]\s*:/.exec(text);
    if (baseIf) {
      bases = [...(baseIf[1] ?? '').matchAll(/['"]([^'"]+)['"]/g)].map((m) => m[1] ?? '');
      baseIndent = indent;
      tagIndent = -1;
      continue;
    }
    if (text === 'else:' && indent === baseIndent) {
      bases = undefined;
      tagIndent = -1;
      continue;
    }
    const tagIf = /^(?:el)?if self\.base_tag\.startswith\((.*)\)\s*:/.exec(text);
    if (tagIf && baseIndent >= 0) {
      tagPrefixes = [...(tagIf[1] ?? '').matchAll(/['"]([^'"]+)['"]/g)].map((m) => m[1] ?? '');
      tagIndent = indent;
      continue;
    }
    if (text === 'else:' && indent === tagIndent) {
      tagPrefixes = undefined;
      continue;
    }
    const set = /^self\.conf\.distro_python_version\s*=\s*['"]([^'"]+)['"]/.exec(text);
    if (set && baseIndent >= 0) {
      rules.push({ ...(bases ? { bases } : {}), ...(tagIndent >= 0 && tagPrefixes ? { tagPrefixes } : {}), version: set[1] ?? '' });
    }
  }
  return rules;
}

export function pythonVersion(rules: PythonVersionRule[], base: string, tag: string): string | undefined {
  return rules.find((r) => (!r.bases || r.bases.includes(base)) && (!r.tagPrefixes || r.tagPrefixes.some((p) => tag.startsWith(p))))?.version;
}

/** Reads methods.py and kolla_worker.py; what is missing or unreadable is master's behaviour, with a problem said. */
export function readKollaRelease(files: { methodsPy?: string; workerPy?: string; tasksPy?: string }): KollaReleaseResult {
  const problems: string[] = [];
  const release: KollaRelease = { handleRepos: 'merge', reposFileRules: [], pythonVersions: [], unbuildableByTag: false, labels: [...KOLLA_LABELS] };
  if (files.methodsPy !== undefined) {
    const body = functionBody(stripComments(files.methodsPy), 'handle_repos');
    const style = body && handleReposStyle(body);
    if (style) release.handleRepos = style;
    else problems.push("kolla/template/methods.py: handle_repos() has a shape kolla-gen does not know; it runs master's");
    if (body) release.reposFileRules = reposFileRules(body, problems);
  }
  if (files.workerPy !== undefined) {
    const code = stripComments(files.workerPy);
    release.contextKeys = dictKeys(bracedAfter(code, /\bvalues\s*=\s*\{/));
    const methods = functionBody(code, '_get_methods');
    release.methods = dictKeys(methods && bracedAfter(methods, /return\s*\{/));
    if (!release.contextKeys) problems.push('kolla/image/kolla_worker.py: cannot find the variables it passes to templates; all are passed');
    release.pythonVersions = parsePythonVersions(files.workerPy);
    const tagElement = /tag_element\s*=\s*r?['"][^'"]*['"]\s*%\s*\(([^)]*)\)/.exec(code);
    release.unbuildableByTag = tagElement?.[1]?.includes('base_tag') ?? false;
  }
  if (files.workerPy !== undefined || files.tasksPy !== undefined) release.labels = readKollaLabels(files.workerPy, files.tasksPy, problems);
  return { release, problems };
}
