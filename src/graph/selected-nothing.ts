// What a selection that selects nothing says: an error when no variant builds anything (a typo must not empty the
// output dir), a warning for the variants that select nothing beside others that do, and one for a regex that names no
// image at all. Pure: reads the statuses selection gave.
import { closest, distance } from 'fastest-levenshtein';
import { error, warning, type Diagnostic } from '../core/diagnostics.js';
import type { Selector, Status } from './select.js';

export interface SelectionOutcome {
  /** Every image of the tree, by name. */
  images: string[];
  /** Each variant (`ubuntu-binary-amd64`) with the status selection gave every image there. */
  variants: { id: string; statuses: Map<string, Status> }[];
  selector: Selector;
  /** The regexes of the command line, as typed. */
  regexes: string[];
  profiles: string[];
  /** explain: a selection of nothing is what it explains, not an error. */
  empty: 'error' | 'warning';
}

/** The image name a regex that matches none was probably meant to be: its text without anchors and escapes. */
function nearImage(source: string, images: string[]): string | undefined {
  const literal = source.replace(/^\^/, '').replace(/\$$/, '').replace(/\\(.)/g, '$1');
  if (images.length === 0 || !/^[\w.-]+$/.test(literal)) return undefined;
  const best = closest(literal, images);
  return distance(literal, best) <= Math.max(2, Math.floor(literal.length / 3)) ? best : undefined;
}

const quoted = (source: string) => `'${source}'`;

/** Why the selection selected nothing on any variant, as one line, with the hint that fixes it. */
function whyNothing(input: SelectionOutcome, unmatched: string[]): { message: string; hint: string } {
  const { selector, images, variants } = input;
  const by = selector.from === 'regex' ? `the regex${input.regexes.length === 1 ? '' : 'es'} ${input.regexes.map(quoted).join(', ')}` : selector.from === 'profile' ? `profile ${input.profiles.join(', ')}` : 'the selection';
  const matched = images.filter((name) => selector.patterns.length === 0 || selector.patterns.some((re) => re.test(name)));
  const known = 'regexes are searched anywhere in the name; kolla-gen list shows the images';
  if (selector.from === 'regex' && unmatched.length === input.regexes.length) {
    const near = [...new Set(unmatched.flatMap((source) => nearImage(source, images) ?? []))];
    return { message: `no image of the tree matches ${by}`, hint: near.length > 0 ? `did you mean ${near.join(', ')}? (${known})` : known };
  }
  if (matched.length === 0) return { message: `no image of the tree matches the entries of ${by}`, hint: known };
  // What became of the images matched, on every variant.
  const statuses = variants.flatMap((v) => matched.map((name) => v.statuses.get(name)));
  if (statuses.includes('skipped')) {
    return { message: `${by} selects no image on any variant: --skip-parents skips every image it selects (each has children)`, hint: 'leave out --skip-parents, or select images without children' };
  }
  if (statuses.includes('unbuildable')) {
    return {
      message: `${by} selects no image on any variant: every image it matches is unbuildable on the variants of this run (${variants.map((v) => v.id).join(', ')})`,
      hint: 'the unbuildable table leaves them out: pick other bases or arches (-b, -a), or pass --enable-unbuildable',
    };
  }
  return { message: `${by} selects no image on any variant`, hint: 'kolla-gen list shows the images; kolla-gen explain IMAGE says why one is not built' };
}

export function selectionDiagnostics(input: SelectionOutcome): Diagnostic[] {
  const { images, variants, selector } = input;
  const unmatched = selector.from === 'regex' ? input.regexes.filter((source, i) => !images.some((name) => selector.patterns[i]?.test(name))) : [];
  const selectedOn = variants.filter((v) => [...v.statuses.values()].includes('selected'));
  if (selectedOn.length === 0 && variants.length > 0) {
    const { message, hint } = whyNothing(input, unmatched);
    const make = input.empty === 'error' ? error : warning;
    return [make('KG605', message, { hint })];
  }
  const out: Diagnostic[] = unmatched.map((source) => {
    const near = nearImage(source, images);
    return warning('KG606', `the regex ${quoted(source)} matches no image of the tree`, near ? { hint: `did you mean ${near}? (the other regexes select images: they are built)` } : {});
  });
  const none = variants.filter((v) => !selectedOn.includes(v));
  if (none.length > 0) {
    out.push(
      warning('KG602', `no image selected on ${none.length === 1 ? 'variant' : `${none.length} variants`} ${none.map((v) => v.id).join(', ')}; the others build`, {
        hint: 'what the selection matches is unbuildable or skipped there: kolla-gen explain IMAGE says why for one image',
      }),
    );
  }
  return out;
}
