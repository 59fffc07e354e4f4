// The shape of kolla-gen.yaml as written (WrittenConfig); resolve.ts turns it into a ResolvedConfig.
import { z } from 'zod';
import { PRESETS } from './types.js';

const name = z.string().min(1);
const scalar = z.union([z.string(), z.number(), z.boolean()]);

export const writtenConfigSchema = z
  .object({
    docker_dirs: z.array(name).min(1).optional(),
    output: name.optional(),
    namespace: name.optional(),
    registry: z.string().optional(),
    image_name_prefix: z.string().optional(),
    tag: name.optional(),
    maintainer: z.string().optional(),
    bases: z.array(name).min(1).optional(),
    types: z.array(name.regex(/^[a-z0-9]+$/, 'a type is lowercase letters and digits')).min(1).optional(),
    arches: z.array(name).min(1).optional(),
    base_images: z.record(name, z.object({ image: name, tag: name }).strict()).optional(),
    profiles: z.record(name.regex(/^[a-zA-Z0-9_-]+$/, 'a profile name uses only [a-zA-Z0-9_-]'), z.array(name)).optional(),
    unbuildable: z.record(name, z.array(name)).optional(),
    vars: z.record(z.string(), z.unknown()).optional(),
    build_args: z.record(name, scalar).optional(),
    labels: z.record(name, scalar).optional(),
    preset: z.enum(PRESETS).optional(),
    /** The bake files the output dir holds: HCL for people, JSON for machines; the same build. */
    bake_formats: z.array(z.enum(['hcl', 'json'])).min(1).optional(),
    content_tags: z.union([z.boolean(), z.literal('only')]).optional(),
    insecure_registries: z.array(name).optional(),
    strict_undefined: z.boolean().optional(),
    render_limits: z
      .object({
        max_value_size: z.number().int().positive().optional(),
        max_output_size: z.number().int().positive().optional(),
        max_steps: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    cache: z
      .object({
        ref: name.regex(/^[^\s:@]+(:[0-9]+)?(\/[^\s:@]+)*$/, 'a repository such as registry.example:5000/kolla-cache, without a tag'),
        mode: z.enum(['min', 'max']).optional(),
        export: z.boolean().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type WrittenConfig = z.infer<typeof writtenConfigSchema>;
