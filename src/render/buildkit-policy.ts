// kolla-gen.yaml's `buildkit:` policy, checked on every rendered Dockerfile: each BuildKit feature it asks for that the
// policy does not allow is an error at its line in the rendered Dockerfile (and its line in the template, where the
// rendered line is written there as is). Pure: reads renderings, returns diagnostics.
import { error, warning, type Diagnostic, type DiagnosticCode, type SourceLocation } from '../core/diagnostics.js';
import { familiarRepository } from '../core/ref.js';
import { familyId, type Arch, type Family } from '../core/types.js';
import type { BuildkitPolicy, ResolvedConfig } from '../load/config/types.js';
import type { Project } from '../load/project.js';
import { buildkitFeatures, type BuildkitFeature, type FeatureKind } from './buildkit-features.js';
import { platformArgs } from './dockerfile.js';
import { renderKey, type Rendering } from './images.js';

const RULES: Record<FeatureKind, { code: DiagnosticCode; key: string; what: (f: BuildkitFeature) => string }> = {
  syntax: {
    code: 'KG450',
    key: 'syntax',
    what: (f) => `its # syntax line makes BuildKit pull and run the frontend ${f.value}`,
  },
  insecure: { code: 'KG451', key: 'insecure', what: () => 'RUN --security=insecure runs the command outside the sandbox (every capability, the host\'s devices)' },
  'host-network': { code: 'KG452', key: 'host_network', what: () => 'RUN --network=host runs the command in the network of the host BuildKit runs on' },
  'secret-mount': { code: 'KG453', key: 'secret_mounts', what: (f) => `RUN ${f.value} reads a secret the build is given` },
  'ssh-mount': { code: 'KG454', key: 'ssh_mounts', what: (f) => `RUN ${f.value} uses the SSH agent the build is given` },
  device: { code: 'KG455', key: 'devices', what: (f) => `RUN ${f.value} gives the command a device of the host` },
  'remote-add': {
    code: 'KG456',
    key: 'remote_add',
    what: (f) => `ADD fetches ${f.value} at build time: what it brings is in no file of the tree, and no content hash covers it`,
  },
  'external-from': {
    code: 'KG457',
    key: 'external_from',
    what: (f) => `${/^RUN/i.test(f.instruction) ? 'RUN --mount from=' : 'COPY --from='}${f.value} names an image, not a stage: BuildKit pulls it`,
  },
};

/** The key of kolla-gen.yaml's buildkit: that allows a kind of feature (`host_network`). */
export const ruleKey = (kind: FeatureKind): string => RULES[kind].key;

/** Whether the policy allows a feature; a feature whose value kolla-gen cannot resolve is allowed only as a whole. */
export function allows(policy: BuildkitPolicy, feature: BuildkitFeature): boolean {
  switch (feature.kind) {
    case 'syntax':
      return policy.syntax.includes(familiarRepository(feature.value) ?? '');
    case 'insecure':
      return policy.insecure;
    case 'host-network':
      return policy.hostNetwork;
    case 'secret-mount':
      return policy.secretMounts;
    case 'ssh-mount':
      return policy.sshMounts;
    case 'device':
      return policy.devices;
    case 'remote-add':
      return policy.remoteAdd;
    case 'external-from':
      return Array.isArray(policy.externalFrom) ? policy.externalFrom.includes(familiarRepository(feature.value) ?? '') : policy.externalFrom;
  }
}

/** What a feature is, in one line (explain, and the messages). */
export function describeFeature(feature: BuildkitFeature): string {
  const what = RULES[feature.kind].what(feature);
  const unsure = feature.unresolved
    ? ` (it may: ${feature.unresolved.map((n) => `$${n}`).join(', ')} is set by no ARG or ENV of the Dockerfile, so the base image's environment decides)`
    : '';
  return `${feature.onbuild ? 'an ONBUILD trigger (it runs in the build of every image built FROM this one): ' : ''}${what}${unsure}`;
}

function hintFor(kind: FeatureKind, feature: BuildkitFeature): string {
  const key = `buildkit.${RULES[kind].key}`;
  if (kind === 'syntax') {
    const repository = familiarRepository(feature.value);
    return `BuildKit runs the image a # syntax line names with the build's access: remove the line (BuildKit's own Dockerfile frontend reads it), or, if ${repository ?? feature.value} is a frontend you trust, add ${repository ?? 'its repository'} to ${key} in kolla-gen.yaml (default: [docker/dockerfile])`;
  }
  if (kind === 'external-from') {
    const repository = familiarRepository(feature.value);
    return `name a stage of the Dockerfile (FROM ${feature.value} AS <name>, then --from=<name>), or allow the image in kolla-gen.yaml: ${key}: [${repository ?? feature.value}] (or true for any image)`;
  }
  return `the policy in kolla-gen.yaml refuses it by default; if the tree needs it, set ${key}: true there (docs/security.md, "BuildKit features")`;
}

/** A rendered line's place in the template: a line of the template that reads the same; undefined when none does. */
function templateLine(templateSource: string, renderedLine: string, column: number): { line: number; column: number } | undefined {
  const wanted = renderedLine.trim();
  if (wanted === '') return undefined;
  const lines = templateSource.split('\n');
  const index = lines.findIndex((l) => l.trim() === wanted);
  if (index < 0) return undefined;
  const shift = (lines[index]?.search(/\S/) ?? 0) - Math.max(0, renderedLine.search(/\S/));
  return { line: index + 1, column: Math.max(1, column + shift) };
}

export interface BuildkitCheck {
  /** The features of every rendered (image, variant), by renderKey. */
  features: Map<string, BuildkitFeature[]>;
  /** One per feature the policy refuses, merged over the variants it hits (each carries a `key` for that). */
  diagnostics: (Diagnostic & { key: string })[];
}

/**
 * The features of every rendering and what the policy says of them: errors, or warnings with `severity` 'warning'
 * (explain, which shows them). A rendering's Dockerfile is `<output>/<variant>/<image>/Dockerfile`, or
 * `Dockerfile.<arch>` where the image renders differently per arch.
 */
export function checkBuildkit(project: Project, renderings: Map<string, Rendering>, severity: 'error' | 'warning' = 'error'): BuildkitCheck {
  const { config, tree } = project;
  const features = new Map<string, BuildkitFeature[]>();
  const diagnostics: BuildkitCheck['diagnostics'] = [];
  const read = new Map<string, BuildkitFeature[]>();
  for (const family of config.families) {
    for (const image of tree.images) {
      const texts = config.arches.map((arch) => renderings.get(renderKey(image.name, family, arch))?.text);
      const folded = texts.every((t) => t === texts[0]);
      const template = project.templates.get(image.template) ?? { path: image.template, source: '' };
      for (const arch of config.arches) {
        const key = renderKey(image.name, family, arch);
        const rendering = renderings.get(key);
        if (!rendering) continue;
        const memo = `${arch}\0${rendering.text}`;
        let found = read.get(memo);
        if (!found) read.set(memo, (found = buildkitFeatures(rendering.text, { buildArgs: config.buildArgs, platformArgs: platformArgs(arch) })));
        features.set(key, found);
        const refused = found.filter((f) => !allows(config.buildkit, f));
        if (refused.length === 0) continue;
        const file = renderedPath(config, family, image.name, folded ? undefined : arch);
        for (const feature of refused) diagnostics.push(refusal({ feature, file, rendering, template, family, arch, severity }));
      }
    }
  }
  return { features, diagnostics };
}

function renderedPath(config: ResolvedConfig, family: Family, image: string, arch: Arch | undefined): string {
  return `${config.output}/${familyId(family)}/${image}/Dockerfile${arch === undefined ? '' : `.${arch}`}`;
}

function refusal(input: {
  feature: BuildkitFeature;
  file: string;
  rendering: Rendering;
  template: { path: string; source: string };
  family: Family;
  arch: Arch;
  severity: 'error' | 'warning';
}): Diagnostic & { key: string } {
  const { feature, file, rendering, template, family, arch } = input;
  const rule = RULES[feature.kind];
  const renderedLine = rendering.text.split('\n')[feature.line - 1] ?? '';
  const inTemplate = templateLine(template.source, renderedLine, feature.column);
  const location: SourceLocation = { file, line: feature.line, column: feature.column };
  const templateAt: SourceLocation = { file: template.path, line: inTemplate?.line ?? 1, column: inTemplate?.column ?? 1 };
  const make = input.severity === 'error' ? error : warning;
  return {
    ...make(rule.code, `${describeFeature(feature)}; buildkit.${rule.key} in kolla-gen.yaml does not allow it`, {
      location,
      source: rendering.text,
      hint: hintFor(feature.kind, feature),
      variants: [`${familyId(family)}-${arch}`],
      related: [
        inTemplate
          ? { message: 'written in the template here', location: templateAt, source: template.source }
          : { message: 'rendered from this template (no line of it reads as the rendered line: the template assembles it)', location: templateAt },
      ],
    }),
    // One problem per place in the template; a line the template assembles is told apart by its rendered place.
    key: `${rule.code}|${template.path}|${templateAt.line}|${templateAt.column}|${feature.kind}|${feature.value}${inTemplate ? '' : `|${feature.line}|${feature.column}`}`,
  };
}
