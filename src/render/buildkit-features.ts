// What a rendered Dockerfile asks of BuildKit beyond building from its context: the frontend its `# syntax` names,
// RUN's insecure mode, host network, secret and ssh mounts and devices, ADD of a URL or a git repository, and COPY
// --from or RUN --mount from= naming an image rather than a stage. Read as BuildKit reads them (its syntax detection,
// flags, stage-scoped ARG and ENV expansion); the policy (buildkit-policy.ts) decides which are allowed.
import {
  dockerfileInstructions,
  expand,
  globalScope,
  isJsonForm,
  LexError,
  parseWords,
  positionAt,
  splitInstruction,
  type Instruction,
  type ParseOptions,
} from './dockerfile.js';

export const FEATURE_KINDS = ['syntax', 'insecure', 'host-network', 'secret-mount', 'ssh-mount', 'device', 'remote-add', 'external-from'] as const;
export type FeatureKind = (typeof FEATURE_KINDS)[number];

export interface BuildkitFeature {
  kind: FeatureKind;
  /** 1-based, in the rendered Dockerfile: where the flag, the source or the directive starts. */
  line: number;
  column: number;
  /** What it asks for: the frontend image, `--network=host`, the mount, the URL, the image. */
  value: string;
  /** The instruction as written (its first line), for messages. */
  instruction: string;
  /** An ONBUILD trigger: it runs in the builds of images built FROM this one. */
  onbuild?: true;
  /** Variables kolla-gen cannot resolve (the base image's environment sets them): the value may be this feature. */
  unresolved?: string[];
}

// ---------------------------------------------------------------------------------------------------------------
// # syntax: BuildKit's dockerfile frontend detects it before it parses anything (parser.DetectSyntax)

// Go's "." matches any character but "\n", which no line holds: dotAll here ("\u2028" is a character of the value).
const DIRECTIVE_RE = /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/s;
const DIRECTIVE_NAMES = new Set(['syntax', 'escape', 'check']);

/**
 * The frontend a Dockerfile's text selects, as BuildKit's DetectSyntax finds it: a byte-order mark and a `#!` first
 * line are skipped; then `#key=value` directives at the very top (each line must start with the comment mark), then the
 * same with `//`, then the whole text as a JSON object with a "syntax" key. The frontend is the value's first word.
 * Where BuildKit's releases differ, every frontend any of them would take is returned: BuildKit 0.13 reads a JSON
 * key in any case ("Syntax") and skips no byte-order mark.
 */
export function detectSyntax(text: string): { ref: string; cmdline: string; line: number }[] {
  let body = text.startsWith('\ufeff') ? text.slice(1) : text;
  let first = 1;
  const newline = body.indexOf('\n');
  if ((newline < 0 ? body : body.slice(0, newline)).startsWith('#!')) {
    body = newline < 0 ? '' : body.slice(newline + 1);
    first = 2;
  }
  const lines = body.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const mark of ['#', '//']) {
    const seen = new Set<string>();
    for (let i = 0; i < lines.length; i++) {
      // Go's bufio.Scanner drops a "\r" before the "\n".
      const line = (lines[i] as string).replace(/\r$/, '');
      if (!line.startsWith(mark)) break;
      const match = DIRECTIVE_RE.exec(line.slice(mark.length).replace(/^\s+/u, ''));
      const key = match?.[1]?.toLowerCase();
      if (!match || key === undefined || !DIRECTIVE_NAMES.has(key) || seen.has(key)) break;
      seen.add(key);
      if (key === 'syntax') {
        const cmdline = match[2] as string;
        return [{ ref: cmdline.split(' ')[0] as string, cmdline, line: first + i }];
      }
    }
  }
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return Object.entries(parsed as Record<string, unknown>).flatMap(([key, value]) =>
        key.toLowerCase() === 'syntax' && typeof value === 'string' && value !== '' ? [{ ref: value, cmdline: value, line: first }] : [],
      );
    }
  } catch {
    // not JSON: no syntax there
  }
  return [];
}

// ---------------------------------------------------------------------------------------------------------------
// Instructions

/** ADD sources BuildKit fetches: `<scheme>://` (http, https, git, ssh, any case) and scp-like `user@host:path`. */
export function isRemoteSource(source: string): boolean {
  return /^[a-zA-Z0-9]+:\/\//.test(source) || /^[a-zA-Z0-9_-]+@[a-zA-Z0-9.-]+:/.test(source);
}

/** A stage's variables: what ARG and ENV set in it, and whether its base image may set more (an image's ENV). */
interface StageScope {
  env: Map<string, string>;
  /** Names declared in the Dockerfile (set or not): never the base image's. */
  known: Set<string>;
  /** The stage starts from an image (not scratch, not an earlier stage): its ENV is unknown here. */
  imageBase: boolean;
}

const VARIABLE_RE = /\$\{?([A-Za-z_][A-Za-z0-9_]*)/g;

/** The words of a value the stage scope cannot resolve: set by no ARG or ENV of the Dockerfile, maybe by the image. */
function unresolvedIn(value: string, scope: StageScope | undefined): string[] {
  if (!value.includes('$')) return [];
  const names = [...value.matchAll(VARIABLE_RE)].map((m) => m[1] as string);
  if (scope === undefined) return [...new Set(names)];
  return [...new Set(names.filter((n) => !scope.env.has(n) && !scope.known.has(n) && scope.imageBase))];
}

/** CSV fields as Go's csv reader splits them (double quotes group, "" is a quote). */
function csvFields(value: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    if (quoted) {
      if (ch === '"' && value[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  fields.push(field);
  return fields;
}

interface Context {
  escape: string;
  globals: Map<string, string>;
  buildArgs: Record<string, string>;
  /** Every stage's name (lowercase): --from names a stage by it, in any case. */
  aliases: Set<string>;
  features: BuildkitFeature[];
}

/** --from / from= naming neither an earlier stage (by name, any case, or by index) nor nothing. */
function namesImage(from: string, context: Context, onbuild: boolean): boolean {
  if (/^[0-9]+$/.test(from)) return false;
  return onbuild || !context.aliases.has(from.toLowerCase());
}

function readInstruction(ins: Instruction, scope: StageScope | undefined, context: Context, onbuild: boolean): void {
  const keyword = ins.keyword.toLowerCase();
  const firstLine = ins.text.slice(ins.start).split('\n')[0] ?? '';
  const add = (kind: FeatureKind, offset: number, value: string, unresolved: string[] = []) => {
    context.features.push({
      kind,
      ...positionAt(ins.pieces, offset),
      value,
      instruction: firstLine.trim().length > 120 ? `${firstLine.trim().slice(0, 119)}…` : firstLine.trim(),
      ...(onbuild ? { onbuild: true as const } : {}),
      ...(unresolved.length > 0 ? { unresolved } : {}),
    });
  };
  const expanded = (word: string): { value: string; unresolved: string[] } => {
    const unresolved = unresolvedIn(word, scope);
    try {
      return { value: expand(word, scope?.env ?? new Map(), context.escape), unresolved };
    } catch (e) {
      if (!(e instanceof LexError)) throw e;
      return { value: word, unresolved };
    }
  };
  // Flags take only the --name=value form: BuildKit refuses a flag without "=" (other than a boolean's) before it builds.
  const flags = ins.flags.map((f) => {
    const eq = f.text.indexOf('=');
    return { name: eq < 0 ? f.text : f.text.slice(0, eq), value: eq < 0 ? undefined : f.text.slice(eq + 1), offset: f.offset };
  });

  if (keyword === 'onbuild') {
    // The trigger runs in the stage of an image built FROM this one: its variables and stage names are unknown here.
    const sub = splitInstruction(ins.text.slice(ins.argsStart, ins.argsEnd), [], context.escape);
    const pieces = ins.pieces.map((p) => ({ ...p, offset: p.offset - ins.argsStart }));
    readInstruction({ ...sub, pieces }, undefined, context, true);
    return;
  }
  if (keyword === 'run') {
    for (const flag of flags) {
      if (flag.value === undefined) continue;
      if (flag.name === '--security' && flag.value === 'insecure') add('insecure', flag.offset, '--security=insecure');
      else if (flag.name === '--network' && flag.value === 'host') add('host-network', flag.offset, '--network=host');
      else if (flag.name === '--device') add('device', flag.offset, `--device=${flag.value}`);
      else if (flag.name === '--mount') readMount(flag.value, flag.offset, { add, expanded, context, onbuild });
    }
    return;
  }
  if (keyword === 'copy') {
    for (const flag of flags) {
      if (flag.name === '--from' && flag.value !== undefined && flag.value !== '' && namesImage(flag.value, context, onbuild)) add('external-from', flag.offset, flag.value);
    }
    return;
  }
  if (keyword === 'add') {
    const args = ins.text.slice(ins.argsStart, ins.argsEnd);
    const sources = isJsonForm(args)
      ? (JSON.parse(args.trim()) as string[]).slice(0, -1).map((text) => ({ text, offset: ins.argsStart }))
      : parseWords(args, context.escape)
          .slice(0, -1)
          .map((w) => ({ text: w.text, offset: ins.argsStart + w.offset }));
    for (const source of sources) {
      if (/^[0-9]*<</.test(source.text)) continue;
      const { value, unresolved } = expanded(source.text);
      if (isRemoteSource(value)) add('remote-add', source.offset, value);
      // A variable the image sets may spell a URL, unless a "/" written before it starts a path.
      else if (unresolved.length > 0 && !source.text.slice(0, source.text.indexOf('$')).includes('/')) add('remote-add', source.offset, source.text, unresolved);
    }
  }
}

interface MountReader {
  add: (kind: FeatureKind, offset: number, value: string, unresolved?: string[]) => void;
  expanded: (word: string) => { value: string; unresolved: string[] };
  context: Context;
  onbuild: boolean;
}

function readMount(value: string, offset: number, { add, expanded, context, onbuild }: MountReader): void {
  let type = 'bind';
  let typeUnresolved: string[] = [];
  let from: string | undefined;
  for (const field of csvFields(value)) {
    const eq = field.indexOf('=');
    if (eq < 0) continue;
    const key = field.slice(0, eq).toLowerCase();
    const raw = field.slice(eq + 1);
    if (key === 'type') {
      const e = expanded(raw);
      type = e.value.toLowerCase();
      typeUnresolved = e.unresolved;
    } else if (key === 'from') from = raw;
  }
  const shown = `--mount=${value}`;
  if (type === 'secret') add('secret-mount', offset, shown);
  else if (type === 'ssh') add('ssh-mount', offset, shown);
  else if (typeUnresolved.length > 0) {
    add('secret-mount', offset, shown, typeUnresolved);
    add('ssh-mount', offset, shown, typeUnresolved);
  }
  // BuildKit expands no variable in from= (it refuses one): the value is what it names.
  if (from !== undefined && from !== '' && namesImage(from, context, onbuild)) add('external-from', offset, from);
}

/**
 * Every BuildKit feature the Dockerfile asks for, in the order of its lines. `options` are those of the FROM parse
 * (build args, the arch's platform args): stage ARGs and ENVs expand as BuildKit expands them.
 */
export function buildkitFeatures(text: string, options: ParseOptions = {}): BuildkitFeature[] {
  const features: BuildkitFeature[] = [];
  for (const syntax of detectSyntax(text)) {
    const line = text.split('\n')[syntax.line - 1] ?? '';
    features.push({ kind: 'syntax', line: syntax.line, column: 1, value: syntax.ref, instruction: line.replace(/^\ufeff/, '').trim() });
  }
  const { scan, instructions } = dockerfileInstructions(text);
  const problems: { line: number; column: number; message: string }[] = [];
  const context: Context = {
    escape: scan.escape,
    globals: globalScope(scan.rawFroms, scan.globalArgs, options, scan.escape, problems),
    buildArgs: options.buildArgs ?? {},
    aliases: new Set(scan.rawFroms.flatMap((f) => (f.alias === undefined ? [] : [f.alias]))),
    features,
  };
  const stageScopes = new Map<string, StageScope>();
  let scope: StageScope | undefined;
  let fromIndex = 0;
  for (const ins of instructions) {
    const keyword = ins.keyword.toLowerCase();
    if (keyword === 'from') {
      const raw = scan.rawFroms[fromIndex++];
      const image = raw?.words[0]?.text ?? '';
      let ref = image;
      try {
        ref = expand(image, context.globals, scan.escape);
      } catch (e) {
        if (!(e instanceof LexError)) throw e;
      }
      const parent = stageScopes.get(ref);
      scope = parent
        ? { env: new Map(parent.env), known: new Set(parent.known), imageBase: parent.imageBase }
        : { env: new Map(), known: new Set(), imageBase: ref !== 'scratch' };
      if (raw?.alias !== undefined) stageScopes.set(raw.alias, scope);
      continue;
    }
    if (scope === undefined) continue;
    if (keyword === 'arg') declareArgs(ins, scope, context);
    else if (keyword === 'env') setEnv(ins, scope, context);
    else readInstruction(ins, scope, context, false);
  }
  // ONBUILD and RUN/COPY/ADD before any FROM are errors BuildKit reports; ONBUILD is read above with the rest.
  return features;
}

function declareArgs(ins: Instruction, scope: StageScope, context: Context): void {
  for (const word of parseWords(ins.text.slice(ins.argsStart, ins.argsEnd), context.escape)) {
    const eq = word.text.indexOf('=');
    const key = eq < 0 ? word.text : word.text.slice(0, eq);
    scope.known.add(key);
    let value: string | undefined;
    if (Object.hasOwn(context.buildArgs, key)) value = context.buildArgs[key];
    else if (eq >= 0) {
      try {
        value = expand(word.text.slice(eq + 1), scope.env, context.escape);
      } catch (e) {
        if (!(e instanceof LexError)) throw e;
      }
    } else value = context.globals.get(key);
    if (value !== undefined) scope.env.set(key, value);
  }
}

function setEnv(ins: Instruction, scope: StageScope, context: Context): void {
  const args = ins.text.slice(ins.argsStart, ins.argsEnd);
  const words = parseWords(args, context.escape);
  const first = words[0];
  if (!first) return;
  const set = (key: string, raw: string) => {
    scope.known.add(key);
    try {
      scope.env.set(key, expand(raw, scope.env, context.escape));
    } catch (e) {
      if (!(e instanceof LexError)) throw e;
    }
  };
  // ENV KEY VALUE (the rest of the line) or ENV KEY=VALUE …
  if (!first.text.includes('=')) set(first.text, args.slice(first.offset + first.text.length).trim());
  else for (const word of words) set(word.text.slice(0, word.text.indexOf('=')), word.text.slice(word.text.indexOf('=') + 1));
}
