// The tag and the image name prefix of a family: `{base}`, `{type}` and `{base_tag}` filled in. Here, not in render/,
// so that the config can check the refs it makes.
import type { Family } from '../../core/types.js';
import type { ResolvedConfig } from './types.js';

/** `{base}`, `{type}` and `{base_tag}` in the tag or the prefix name the family, so that bases can share a tree without sharing refs. */
export function expandPlaceholders(config: Pick<ResolvedConfig, 'baseImages'>, text: string, family: Family): string {
  return text
    .replaceAll('{base}', family.base)
    .replaceAll('{type}', family.type ?? '')
    .replaceAll('{base_tag}', config.baseImages[family.base].tag);
}

export function imagePrefix(config: Pick<ResolvedConfig, 'baseImages' | 'imageNamePrefix'>, family: Family): string {
  if (config.imageNamePrefix !== undefined) return expandPlaceholders(config, config.imageNamePrefix, family);
  return family.type === undefined ? '' : `${family.base}-${family.type}-`;
}
