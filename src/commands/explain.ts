// kolla-gen explain IMAGE: the run's selection as for generate, then why IMAGE is or is not built on each variant.
import type { CliOptions } from '../load/config/resolve.js';
import { explainImage, formatExplanations } from './explain-image.js';
import type { LoadOptions } from '../load/load.js';
import { compileProject, failed, type CommandResult } from './run.js';
import type { Diagnostic } from '../core/diagnostics.js';

const isBuildkitRefusal = (d: Diagnostic): boolean => /^KG45[0-7]$/.test(d.code);

export async function explain(image: string, cli: CliOptions, options: LoadOptions): Promise<CommandResult> {
  const { compiled, diagnostics } = await compileProject(cli, { ...options, emptySelection: 'warning', buildkitPolicy: 'warning' });
  if (!compiled) return failed(diagnostics);
  const { explanations, diagnostics: problems } = explainImage(compiled, image);
  if (problems.length > 0) return failed([...diagnostics, ...problems]);
  // What the BuildKit policy refuses shows in the explanation of the image it concerns, not as a warning per image.
  const own = diagnostics.filter((d) => !isBuildkitRefusal(d));
  return { exitCode: 0, diagnostics: own, text: formatExplanations(explanations), json: { image, explanations }, listing: true };
}
