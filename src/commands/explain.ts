// kolla-gen explain IMAGE: the run's selection as for generate, then why IMAGE is or is not built on each variant.
import type { CliOptions } from '../load/config/resolve.js';
import { explainImage, formatExplanations } from './explain-image.js';
import type { LoadOptions } from '../load/load.js';
import { compileProject, failed, type CommandResult } from './run.js';

export async function explain(image: string, cli: CliOptions, options: LoadOptions): Promise<CommandResult> {
  const { compiled, diagnostics } = await compileProject(cli, { ...options, emptySelection: 'warning' });
  if (!compiled) return failed(diagnostics);
  const { explanations, diagnostics: problems } = explainImage(compiled, image);
  if (problems.length > 0) return failed([...diagnostics, ...problems]);
  return { exitCode: 0, diagnostics, text: formatExplanations(explanations), json: { image, explanations }, listing: true };
}
