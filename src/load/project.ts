// A loaded project: the resolved config, the tree and the template texts, all the stages after loading work from.
import type { ContextFile } from '../core/digest.js';
import type { Tree } from '../core/types.js';
import type { TemplateSourceFile } from '../jinja/index.js';
import type { ResolvedConfig } from './config/types.js';
import type { RecordedOptions } from './config/made-with.js';
import type { BaseLock } from './lock.js';

export interface Project {
  config: ResolvedConfig;
  tree: Tree;
  /** Every template the loader may be asked for, by its name in the merged tree ("macros.j2"). */
  templates: Map<string, TemplateSourceFile>;
  overrides: TemplateSourceFile[];
  /** image → the files of its build context, digested (content hashes). */
  contextFiles: Map<string, ContextFile[]>;
  /** image → the text of the ignore file written beside each of its rendered Dockerfiles (what the build sees). */
  contextIgnores: Map<string, string>;
  /** The options of the run as kolla-gen.yaml keys, recorded in manifest.json for people (never read back). */
  recorded: RecordedOptions;
  /** The base image lock (kolla-gen.lock.json); its entries are undefined when there is none. Absent: no lock either. */
  lock?: BaseLock;
}
