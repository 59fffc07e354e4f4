// What every target passes to BuildKit besides its Dockerfile and context: its build args and labels. The bake file
// and the content hash both read them here, so that a hash covers what a build is given.
import type { Family } from '../../core/types.js';
import { kollaLabels } from '../kolla/labels.js';
import type { ResolvedConfig } from './types.js';

/** SOURCE_DATE_EPOCH first (BuildKit dates the image config and its history from it), then the config's build_args. */
export function targetArgs(config: Pick<ResolvedConfig, 'sourceDateEpoch' | 'buildArgs'>): Record<string, string> {
  return { SOURCE_DATE_EPOCH: config.sourceDateEpoch, ...config.buildArgs };
}

/**
 * The preset's labels (kolla-build's), then the config's `labels`. For the hash, without the version label: like a
 * parent's ref, the tag alone changes no hash (a target found by its content tag is tagged, not rebuilt).
 */
export function targetLabels(
  config: Pick<ResolvedConfig, 'kolla' | 'preset' | 'sourceDateEpoch' | 'tag' | 'maintainer' | 'baseImages' | 'labels'>,
  image: string,
  family: Family,
  forHash = false,
): Record<string, string> {
  const labels: Record<string, string> = { ...kollaLabels(config, image, family), ...config.labels };
  if (forHash) delete labels['org.opencontainers.image.version'];
  return labels;
}
