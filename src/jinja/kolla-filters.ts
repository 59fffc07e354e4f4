// Filters kolla-build adds to the environment.
import { bind } from './methods.js';
import { RenderError, Undefined, pyEquals, str, type Dict } from './python.js';
import { iterate } from './runtime.js';
import type { Filter, FilterEnv } from './filters.js';

/**
 * `{{ packages | customizable("packages") }}`: lets a template override (or --vars) replace or edit a list.
 * With `img` = image_name with "-" as "_": `<img>_<name>_override` replaces the list; otherwise
 * `<img>_<name>_append` extends it and `<img>_<name>_remove` drops (the first occurrence of) each item.
 * Like kolla's filter it edits the list in place.
 */
export const customizable: Filter = (env: FilterEnv, value: unknown, args: unknown[], kwargs: Dict) => {
  const [callType] = bind('customizable', ['call_type'], [], args, kwargs);
  if (value instanceof Undefined) return value;
  const prefix = `${str(env.resolve('image_name')).replace(/-/g, '_')}_${str(callType)}_`;
  const override = env.resolve(prefix + 'override');
  if (override !== undefined) return override;
  const list = value as unknown[];
  const append = env.resolve(prefix + 'append');
  if (append !== undefined) {
    if (!Array.isArray(list)) throw new RenderError(`customizable: ${prefix}append needs a list to extend`);
    list.push(...iterate(append));
  }
  const remove = env.resolve(prefix + 'remove');
  if (remove !== undefined) {
    for (const item of iterate(remove)) {
      const i = Array.isArray(list) ? list.findIndex((x) => pyEquals(x, item)) : -1;
      if (i >= 0) list.splice(i, 1);
    }
  }
  return list;
};

export const kollaFilters = new Map<string, Filter>([['customizable', customizable]]);
