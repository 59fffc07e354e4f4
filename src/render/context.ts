// What each template sees (kolla-build's variable names), and the refs images are pushed under.
import type { ResolvedConfig } from '../load/config/resolve.js';
import { presetContext } from '../load/kolla/preset.js';
import { expandPlaceholders, imagePrefix } from '../load/config/placeholders.js';

export { expandPlaceholders, imagePrefix } from '../load/config/placeholders.js';
import { KOLLA_ARCH, familyId, type Family, type Image, type Variant } from '../core/types.js';

export function imageTag(config: ResolvedConfig, family: Family): string {
  return expandPlaceholders(config, config.tag, family);
}

/** kolla-build's `namespace` variable: `<registry>/<namespace>` when a registry is set. */
export function namespaceWithRegistry(config: ResolvedConfig): string {
  return config.registry ? `${config.registry}/${config.namespace}` : config.namespace;
}

/** `[registry/]namespace/prefix+image:tag` */
export function imageRef(config: ResolvedConfig, imageName: string, family: Family): string {
  return `${namespaceWithRegistry(config)}/${imagePrefix(config, family)}${imageName}:${imageTag(config, family)}`;
}

/** The image's part of its target names: bake names keep only [a-zA-Z0-9_-] (bases, types and arches already do). */
export function targetStem(imageName: string): string {
  return imageName.replace(/[^a-zA-Z0-9_-]/g, '_');
}

export function targetName(imageName: string, family: Family, arch?: string): string {
  return `${familyId(family)}-${targetStem(imageName)}${arch ? `-${arch}` : ''}`;
}

/** Per config, the part of the context every image of a variant shares, by variant (built once, not per image). */
const byVariant = new WeakMap<ResolvedConfig, Map<string, Record<string, unknown>>>();

function variantContext(config: ResolvedConfig, variant: Variant): Record<string, unknown> {
  let known = byVariant.get(config);
  if (!known) byVariant.set(config, (known = new Map()));
  const key = `${familyId(variant)}/${variant.arch}`;
  const found = known.get(key);
  if (found) return found;
  const base = config.baseImages[variant.base];
  const context: Record<string, unknown> = {
    namespace: namespaceWithRegistry(config),
    image_prefix: imagePrefix(config, variant),
    tag: imageTag(config, variant),
    base_distro: variant.base,
    base_distro_tag: base.tag,
    base_image: base.image,
    base_arch: KOLLA_ARCH[variant.arch],
    debian_arch: variant.arch,
    maintainer: config.maintainer,
  };
  if (variant.type !== undefined) context.install_type = variant.type;
  Object.assign(context, presetContext(config, variant));
  // Shared, not cloned: the renderer copies a context list or dict when a template first reads it, so that one render's
  // mutations (list.append, customizable) never leak into the next.
  Object.assign(context, config.vars);
  known.set(key, context);
  return context;
}

/**
 * All a template context is made of: the image's name, the variant's part (one object per variant) and the passed
 * environment. The kept renderings (render/kept.ts) are filed under these.
 */
export function contextParts(config: ResolvedConfig, image: Image, variant: Variant): { imageName: string; variant: Record<string, unknown>; env: Record<string, string> } {
  return { imageName: image.name, variant: variantContext(config, variant), env: config.env };
}

export function templateContext(config: ResolvedConfig, image: Image, variant: Variant): Record<string, unknown> {
  const parts = contextParts(config, image, variant);
  const context: Record<string, unknown> = { image_name: parts.imageName, ...parts.variant };
  context.env = { ...parts.env };
  return context;
}
