import type { CliOptions } from '../load/config/resolve.js';
import { formatDot, formatMermaid, formatTreeJson, type GraphNode } from '../graph/format.js';
import type { LoadOptions } from '../load/load.js';
import { familyId } from '../core/types.js';
import { compileProject, failed, type CommandResult } from './run.js';

export const DEPS_FORMATS = ['json', 'dot', 'mermaid'] as const;
export type DepsFormat = (typeof DEPS_FORMATS)[number];

/** The dependency tree of the selected images (skipped ones included), per base and type, from the first arch's graph. */
export async function deps(cli: CliOptions, options: LoadOptions, format: DepsFormat): Promise<CommandResult> {
  const { compiled, diagnostics } = await compileProject(cli, options);
  if (!compiled) return failed(diagnostics);
  const arch = compiled.config.arches[0];
  const graphs = compiled.families.map((result) => {
    const graph = arch === undefined ? undefined : result.graphs.get(arch);
    const statuses = arch === undefined ? undefined : result.statuses.get(arch);
    const keep = (name: string) => statuses?.get(name) === 'selected' || statuses?.get(name) === 'skipped';
    const nodes: GraphNode[] = (graph?.order ?? []).filter(keep).map((name) => ({ name, parents: (graph?.parents.get(name) ?? []).filter(keep) }));
    return { id: familyId(result.family), nodes };
  });
  const single = graphs.length === 1 ? graphs[0] : undefined;
  let text: string;
  if (format === 'json') {
    const value = single ? formatTreeJson(single.nodes) : Object.fromEntries(graphs.map((g) => [g.id, formatTreeJson(g.nodes)]));
    text = JSON.stringify(value, null, 2);
  } else if (format === 'dot') {
    text = graphs.map((g) => formatDot(g.nodes, g.id)).join('\n');
  } else {
    text = single ? formatMermaid(single.nodes) : graphs.map((g) => `%% ${g.id}\n${formatMermaid(g.nodes)}`).join('\n');
  }
  return { exitCode: 0, diagnostics, text: text.replace(/\n$/, ''), listing: true };
}
