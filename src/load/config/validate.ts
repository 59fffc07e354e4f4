// Checks of what the config and the command line put into refs and bake files, each error naming its source: the
// flag, or the config key at its file:line:col. Pure: locations arrive as functions.
import { error, type Diagnostic, type SourceLocation } from '../../core/diagnostics.js';
import { isRegistry, isRepositoryPath, isTag } from '../../core/ref.js';

/** Where a value came from: a flag ("--tag") or a config key with its place in the file. */
export interface ValueSource {
  /** "--tag", "tag", "build_args.FOO". */
  name: string;
  flag: boolean;
  location?: SourceLocation;
  source?: string;
}

export function describeSource(from: ValueSource): string {
  // A key may hold the very lone surrogate being reported: print it as an escape.
  const name = from.name.replace(/\p{Cs}/gu, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
  return from.flag ? name : `${name} (kolla-gen.yaml)`;
}

function at(from: ValueSource): Partial<Diagnostic> {
  return from.location ? { location: from.location, ...(from.source !== undefined ? { source: from.source } : {}) } : {};
}

// Lone surrogates cannot be written as UTF-8; C0/C1 controls and DEL have no place in a ref, an arg or a label key.
const LONE_SURROGATE = /\p{Cs}/u;

/** A value that reaches a bake file must be well-formed Unicode (UTF-8 cannot hold a lone surrogate). */
export function checkWellFormed(value: string, from: ValueSource, diagnostics: Diagnostic[]): boolean {
  if (!LONE_SURROGATE.test(value)) return true;
  diagnostics.push(
    error('KG131', `${describeSource(from)}: ${JSON.stringify(value)} holds a lone UTF-16 surrogate, which no UTF-8 file can hold`, {
      ...at(from),
    }),
  );
  return false;
}

/**
 * A map that reaches a bake file (build_args, labels): well-formed keys and values, no two keys equal under NFC
 * (bake normalises strings to NFC, so "café" written two ways would be one duplicate key there), and values in NFC.
 */
export function checkBakeMap(
  what: string,
  entries: Record<string, string>,
  fromOf: (key: string) => ValueSource,
  diagnostics: Diagnostic[],
): void {
  const seen = new Map<string, string>();
  for (const [key, value] of Object.entries(entries)) {
    const from = fromOf(key);
    if (!checkWellFormed(key, from, diagnostics) || !checkWellFormed(value, from, diagnostics)) continue;
    const nfc = key.normalize('NFC');
    const other = seen.get(nfc);
    if (other !== undefined) {
      diagnostics.push(
        error('KG132', `${what}: keys ${JSON.stringify(other)} and ${JSON.stringify(key)} are the same text (equal under Unicode NFC)`, {
          ...at(from),
          hint: `bake normalises strings to NFC, so both would be one key: keep one of them (write keys in NFC, e.g. ${JSON.stringify(nfc)})`,
        }),
      );
      continue;
    }
    seen.set(nfc, key);
    // Bake hands BuildKit the NFC form of every string (cty normalises them), and the content hash covers the value as
    // written: a value not in NFC would build other bytes than the hash says.
    if (value !== value.normalize('NFC')) {
      diagnostics.push(
        error('KG137', `${what}: the value of ${JSON.stringify(key)} is not in Unicode NFC (${JSON.stringify(value)})`, {
          ...at(from),
          hint: `bake normalises strings to NFC, so the build would get ${JSON.stringify(value.normalize('NFC'))}, not what was written: write it so`,
        }),
      );
    }
  }
}

export type RefPart = 'registry' | 'namespace' | 'prefix' | 'tag' | 'cache-ref';

const PART_HINTS: Record<RefPart, string> = {
  registry: 'a registry is a host name or IP, with an optional port: registry.example.com, localhost:5000, [::1]:5000',
  namespace:
    'a namespace is lowercase path components joined by "/": letters and digits, with ".", "_", "__" or "-" between them (e.g. kolla, openstack/kolla)',
  prefix: 'the image name prefix joins the image folder name in one lowercase repository name: letters, digits, ".", "_", "-" (e.g. ubuntu-binary-)',
  tag: 'a tag is 1 to 128 characters: letters, digits, "_", "." and "-", not starting with "." or "-" ({base}, {type} and {base_tag} are filled in first)',
  'cache-ref': 'write a repository without tag or options, e.g. registry.example:5000/kolla-cache',
};

function partError(part: RefPart, value: string, from: ValueSource, why: string): Diagnostic {
  return error('KG133', `${describeSource(from)}: ${JSON.stringify(value)} is not a valid ${part === 'cache-ref' ? 'cache repository' : `image ${part}`}${why}`, {
    ...at(from),
    hint: PART_HINTS[part],
  });
}

/** The registry, namespace, prefix and tag of the tree's refs, each against the distribution reference grammar. */
export function checkRefParts(
  input: {
    registry?: { value: string; from: ValueSource };
    namespace: { value: string; from: ValueSource };
    /** The prefix and the tag of each family, placeholders filled in; `raw` is what was written. */
    prefixes: { value: string; raw: string; from: ValueSource }[];
    tags: { value: string; raw: string; from: ValueSource }[];
    cacheRef?: { value: string; from: ValueSource };
  },
  diagnostics: Diagnostic[],
): void {
  const { registry, namespace, cacheRef } = input;
  const seen = new Set<string>();
  const once = (d: Diagnostic) => {
    if (seen.has(d.message)) return;
    seen.add(d.message);
    diagnostics.push(d);
  };
  if (registry && checkWellFormed(registry.value, registry.from, diagnostics) && !isRegistry(registry.value)) {
    once(partError('registry', registry.value, registry.from, ''));
  }
  if (checkWellFormed(namespace.value, namespace.from, diagnostics) && !isRepositoryPath(namespace.value)) {
    const why = namespace.value.toLowerCase() !== namespace.value ? ' (repository names are lowercase)' : '';
    once(partError('namespace', namespace.value, namespace.from, why));
  }
  for (const { value, raw, from } of input.prefixes) {
    // A prefix is good when some image name can follow it: "ubuntu-" + "a" is a repository name, "Ubuntu-" + "a" is not.
    if (value !== '' && checkWellFormed(value, from, diagnostics) && !isRepositoryPath(`${value}a`)) {
      once(partError('prefix', value, from, raw !== value ? ` (from ${JSON.stringify(raw)})` : ''));
    }
  }
  for (const { value, raw, from } of input.tags) {
    if (!checkWellFormed(value, from, diagnostics) || isTag(value)) continue;
    const why = /[$%]\{/.test(value) ? ' (a "${" would be expanded by the Dockerfile\'s FROM, and by bake)' : raw !== value ? ` (from ${JSON.stringify(raw)})` : '';
    once(partError('tag', value, from, why));
  }
  if (cacheRef && checkWellFormed(cacheRef.value, cacheRef.from, diagnostics)) {
    const slash = cacheRef.value.indexOf('/');
    const host = slash < 0 ? '' : cacheRef.value.slice(0, slash);
    const repoIsHost = host === 'localhost' || /[.:]/.test(host);
    const path = repoIsHost ? cacheRef.value.slice(slash + 1) : cacheRef.value;
    if ((repoIsHost && !isRegistry(host)) || !isRepositoryPath(path)) {
      const why = /[,=\s]/.test(cacheRef.value) ? ' (",", "=" and spaces would add cache options)' : '';
      once(partError('cache-ref', cacheRef.value, cacheRef.from, why));
    }
  }
}

/** An image's folder name is the last component of its repository name, with the prefix before it. */
export function checkImageName(name: string, prefix: string, location: SourceLocation): Diagnostic | undefined {
  if (isRepositoryPath(`${prefix}${name}`) && !name.includes('/')) return undefined;
  const why = name.toLowerCase() !== name ? ' (repository names are lowercase)' : '';
  return error('KG134', `image folder "${name}" cannot be part of an image ref (${prefix}${name})${why}`, {
    location,
    hint: 'an image is named after its folder, and the name goes into its ref: use lowercase letters and digits, with ".", "_", "__" or "-" between them (rename the folder)',
  });
}
