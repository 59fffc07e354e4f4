import type { CliOptions } from '../load/config/resolve.js';
import { depsImages, formatDot, formatMermaidSections, type DepsDocument, type DepsFormat, type GraphNode } from '../graph/format.js';
import type { LoadOptions } from '../load/load.js';
import { familyId } from '../core/types.js';
import { compileProject, failed, type CommandResult } from './run.js';

export { DEPS_FORMATS, type DepsFormat } from '../graph/format.js';

/**
 * The dependency tree of the selected images (skipped ones included), per base and type, from the first arch's graph:
 * one document whatever the number of variants. --json gives the JSON document as the result.
 */
export async function deps(cli: CliOptions, options: LoadOptions, format: DepsFormat): Promise<CommandResult> {
  const { compiled, diagnostics } = await compileProject(cli, options);
  if (!compiled) return failed(diagnostics);
  const arch = compiled.config.arches[0];
  if (arch === undefined) throw new Error('deps: the resolved config has no arch');
  const sections = compiled.families.map((result) => {
    const graph = result.graphs.get(arch);
    const statuses = result.statuses.get(arch);
    const keep = (name: string) => statuses?.get(name) === 'selected' || statuses?.get(name) === 'skipped';
    const nodes: GraphNode[] = (graph?.order ?? []).filter(keep).map((name) => ({ name, parents: (graph?.parents.get(name) ?? []).filter(keep) }));
    return { family: result.family, title: familyId(result.family), nodes };
  });
  const document: DepsDocument = {
    variants: sections.map((s) => ({
      name: s.title,
      base: s.family.base,
      ...(s.family.type !== undefined ? { type: s.family.type } : {}),
      arch,
      images: depsImages(s.nodes),
    })),
  };
  const text = format === 'json' ? JSON.stringify(document, null, 2) : format === 'dot' ? formatDot(sections) : formatMermaidSections(sections);
  return { exitCode: 0, diagnostics, text: text.replace(/\n$/, ''), json: document, listing: true };
}
