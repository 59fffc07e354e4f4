import type { CliOptions } from '../load/config/resolve.js';
import type { LoadOptions } from '../load/load.js';
import { familyId } from '../core/types.js';
import { ancestors, type VariantGraph } from '../graph/graph.js';
import { compileSelector, type Selector } from '../graph/select.js';
import { renderKey } from '../render/images.js';
import { compileProject, failed, type CommandResult } from './run.js';

/** The images a selection asks for on one graph, buildable or not: those its patterns match, and their ancestors. */
function asked(graph: VariantGraph | undefined, selector: Selector | undefined): Set<string> {
  const out = new Set<string>();
  if (!graph || !selector) return out;
  for (const name of graph.order) {
    if (out.has(name) || !(selector.patterns.length === 0 || selector.patterns.some((re) => re.test(name)))) continue;
    out.add(name);
    for (const a of ancestors(graph, name)) out.add(a);
  }
  return out;
}

export async function list(cli: CliOptions, options: LoadOptions): Promise<CommandResult> {
  const { compiled, diagnostics } = await compileProject(cli, options);
  if (!compiled) return failed(diagnostics);
  const { selector } = compileSelector(compiled.config);
  const variants = compiled.families.flatMap((result) =>
    compiled.config.arches.map((arch) => {
      const statuses = result.statuses.get(arch) ?? new Map();
      const order = result.graphs.get(arch)?.order ?? [];
      // Unbuildable images the selection asked for: not those of the table it did not touch (-p infra and nova).
      const touched = asked(result.graphs.get(arch), selector);
      return {
        base: result.family.base,
        ...(result.family.type !== undefined ? { type: result.family.type } : {}),
        arch,
        images: order.filter((name) => statuses.get(name) === 'selected'),
        skipped: order.filter((name) => statuses.get(name) === 'skipped'),
        unbuildable: order.filter((name) => statuses.get(name) === 'unbuildable' && touched.has(name)),
        ...(compiled.config.affectedSince !== undefined ? { unaffected: order.filter((name) => statuses.get(name) === 'unaffected') } : {}),
        ...(compiled.config.skipExisting !== undefined ? { existing: order.filter((name) => statuses.get(name) === 'existing') } : {}),
        // Every image's chained content hash (its own inputs and its ancestors'), selected or not: manifest.json
        // records only each image's own inputs, so scripts that need the chain read it here.
        hashes: Object.fromEntries(
          order.flatMap((name) => {
            const hash = compiled.hashes.get(renderKey(name, result.family, arch))?.hash;
            return hash === undefined ? [] : [[name, hash]];
          }),
        ),
      };
    }),
  );
  const text = variants
    .map((v) => {
      const head = `${familyId(v)}-${v.arch}: ${v.images.length} selected`;
      const extra = [
        v.skipped.length ? `${v.skipped.length} skipped` : '',
        v.unbuildable.length ? `${v.unbuildable.length} unbuildable` : '',
        v.unaffected?.length ? `${v.unaffected.length} unaffected since ${compiled.config.affectedSince}` : '',
        v.existing?.length ? `${v.existing.length} already in the registry` : '',
      ]
        .filter(Boolean)
        .join(', ');
      return [`${head}${extra ? `, ${extra}` : ''}`, ...v.images.map((name) => `  ${name}`)].join('\n');
    })
    .join('\n');
  return { exitCode: 0, diagnostics, text, json: { variants }, listing: true };
}
