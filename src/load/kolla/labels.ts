// The labels kolla-build adds to every image at build time (kolla_worker.py's org.opencontainers.image.* set,
// tasks.py's build-date), computed as the checkout's release computes them, with SOURCE_DATE_EPOCH for the clock.
import type { Family } from '../../core/types.js';
import { expandPlaceholders } from '../config/placeholders.js';
import type { ResolvedConfig } from '../config/types.js';
import type { KollaLabel } from './kolla-release.js';

/** What kolla-build's git fallback names as the source of a kolla checkout, whatever its remote. */
export const KOLLA_SOURCE_URL = 'https://opendev.org/openstack/kolla';

/** `%Y-%m-%dT%H:%M:%SZ` (created) and `%Y%m%d` (build-date) of an epoch, in UTC. */
export function epochDates(epoch: string): { created: string; day: string } {
  const iso = new Date(Number(epoch) * 1000).toISOString();
  return { created: `${iso.slice(0, 19)}Z`, day: iso.slice(0, 10).replaceAll('-', '') };
}

/**
 * The labels of one image under --preset kolla; none without it, or on a release that adds none (before 2026.1).
 * `revision` and `source` come from the checkout's git as kolla-build's fallback reads it: left out, as kolla-build
 * leaves them out, when the checkout has no git.
 */
export function kollaLabels(config: Pick<ResolvedConfig, 'kolla' | 'preset' | 'sourceDateEpoch' | 'tag' | 'maintainer' | 'baseImages'>, image: string, family: Family): Record<string, string> {
  const settings = config.kolla;
  if (config.preset !== 'kolla' || !settings) return {};
  const { created, day } = epochDates(config.sourceDateEpoch);
  const value: Record<KollaLabel, string | undefined> = {
    'org.opencontainers.image.revision': settings.gitCommit,
    'org.opencontainers.image.source': settings.gitCommit !== undefined ? KOLLA_SOURCE_URL : undefined,
    'org.opencontainers.image.title': image,
    'org.opencontainers.image.description': `OpenStack Kolla ${image} image`,
    'org.opencontainers.image.version': expandPlaceholders(config, config.tag, family),
    'org.opencontainers.image.created': created,
    'org.opencontainers.image.authors': config.maintainer,
    'org.opencontainers.image.url': KOLLA_SOURCE_URL,
    'org.opencontainers.image.licenses': 'Apache-2.0',
    'build-date': day,
  };
  const labels: Record<string, string> = {};
  for (const label of settings.release.labels) {
    const v = value[label];
    if (v !== undefined) labels[label] = v;
  }
  return labels;
}
