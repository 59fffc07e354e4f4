// The shape of kolla-gen.yaml as written (WrittenConfig); resolve.ts turns it into a ResolvedConfig.
// zod/mini, with zod's English messages: the same checks and messages as zod's full API, in a fifteenth of the code
// to load on every run (issue 14).
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { NETWORK_MODES, PRESETS } from './types.js';

z.config(en());

const name = z.string().check(z.minLength(1));
const named = (pattern: RegExp, message: string) => z.string().check(z.minLength(1), z.regex(pattern, message));
const nonEmpty = <T extends z.ZodMiniType>(item: T) => z.array(item).check(z.minLength(1));
const scalar = z.union([z.string(), z.number(), z.boolean()]);
const positiveInt = z.optional(z.number().check(z.int(), z.positive()));

export const writtenConfigSchema = z.strictObject({
  docker_dirs: z.optional(nonEmpty(name)),
  output: z.optional(name),
  namespace: z.optional(name),
  registry: z.optional(z.string()),
  image_name_prefix: z.optional(z.string()),
  tag: z.optional(name),
  maintainer: z.optional(z.string()),
  bases: z.optional(nonEmpty(name)),
  types: z.optional(nonEmpty(named(/^[a-z0-9]+$/, 'a type is lowercase letters and digits'))),
  arches: z.optional(nonEmpty(name)),
  base_images: z.optional(z.record(name, z.strictObject({ image: name, tag: name }))),
  profiles: z.optional(z.record(named(/^[a-zA-Z0-9_-]+$/, 'a profile name uses only [a-zA-Z0-9_-]'), z.array(name))),
  unbuildable: z.optional(z.record(name, z.array(name))),
  vars: z.optional(z.record(z.string(), z.unknown())),
  build_args: z.optional(z.record(name, scalar)),
  labels: z.optional(z.record(name, scalar)),
  preset: z.optional(z.enum(PRESETS)),
  // The options a flag can set too, named as kolla-build.conf names them where it has them: the config is the whole
  // truth of what the output is made with. Paths are relative to the config file.
  kolla_config: z.optional(name),
  template_override: z.optional(z.union([name, z.array(name)])),
  vars_files: z.optional(z.union([name, z.array(name)])),
  pass_env: z.optional(z.array(named(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name: letters, digits and "_"'))),
  /** kolla-build's `regex` and `profile`: what the run selects (regexes given on the command line replace `regex`). */
  regex: z.optional(z.array(name)),
  profile: z.optional(z.array(z.string())),
  skip_parents: z.optional(z.boolean()),
  enable_unbuildable: z.optional(z.boolean()),
  /** The bake files the output dir holds: HCL for people, JSON for machines; the same build. */
  bake_formats: z.optional(nonEmpty(z.enum(['hcl', 'json']))),
  content_tags: z.optional(z.union([z.boolean(), z.literal('only')])),
  insecure_registries: z.optional(z.array(name)),
  /** --skip-existing reads each content tag's manifest and asks for each arch's image, not its HEAD alone. */
  verify_existing: z.optional(z.boolean()),
  /** kolla-build's network_mode: the network every RUN runs in (BuildKit knows these three). */
  network_mode: z.optional(z.enum(NETWORK_MODES)),
  strict_undefined: z.optional(z.boolean()),
  render_limits: z.optional(
    z.strictObject({
      max_value_size: positiveInt,
      max_output_size: positiveInt,
      max_steps: positiveInt,
    }),
  ),
  // What the rendered Dockerfiles may ask of BuildKit beyond their context (docs/security.md "BuildKit features").
  buildkit: z.optional(
    z.strictObject({
      syntax: z.optional(z.array(name)),
      insecure: z.optional(z.boolean()),
      host_network: z.optional(z.boolean()),
      secret_mounts: z.optional(z.boolean()),
      ssh_mounts: z.optional(z.boolean()),
      devices: z.optional(z.boolean()),
      remote_add: z.optional(z.boolean()),
      external_from: z.optional(z.union([z.boolean(), z.array(name)])),
    }),
  ),
  cache: z.optional(
    z.strictObject({
      ref: named(/^[^\s:@]+(:[0-9]+)?(\/[^\s:@]+)*$/, 'a repository such as registry.example:5000/kolla-cache, without a tag'),
      mode: z.optional(z.enum(['min', 'max'])),
      export: z.optional(z.boolean()),
    }),
  ),
  // The attestations BuildKit attaches to every pushed image (the bake files' `attest`): provenance (min or max, or
  // false for none) and an SBOM, scanned by a generator image BuildKit pulls (an offline runner names its mirror).
  attest: z.optional(
    z.strictObject({
      provenance: z.optional(z.union([z.enum(['min', 'max']), z.literal(false)])),
      sbom: z.optional(z.boolean()),
      sbom_generator: z.optional(name),
    }),
  ),
  // The pinned upstream: the git checkout a docker dir beside the repo comes from (kolla-gen init fills it in). CI
  // checks out exactly this commit; bumping it is a pull request that moves it and generated/ together.
  upstream: z.optional(
    z.strictObject({
      // git would read a URL starting with "-" as an option (--upload-pack=...).
      url: named(/^[^\s-]\S*$/, 'a git URL, without spaces and not starting with "-"'),
      commit: named(/^[0-9a-f]{40}$/, 'a full commit id: 40 lowercase hex digits (git rev-parse HEAD)'),
      branch: z.optional(named(/^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]+$/, 'a branch name, such as master or stable/2025.2')),
    }),
  ),
});

export type WrittenConfig = z.infer<typeof writtenConfigSchema>;
