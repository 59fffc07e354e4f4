// kolla-gen init: the files that start an ops repo. Pure: the texts, from the docker dir and the preset.
import { dockerDirReads } from '../emit/bake/allow.js';

export interface InitInput {
  /** -D, relative to the repo root ("/"-separated). */
  dockerDir: string;
  preset?: 'kolla';
}

const outside = (dir: string) => dir === '..' || dir.startsWith('../') || dir.startsWith('/');

export function configText(input: InitInput): string {
  const kolla = input.preset === 'kolla';
  return `# kolla-gen.yaml: how kolla-gen renders ${input.dockerDir} into generated/ (committed; docker buildx bake builds it).
# Paths here are relative to this file's folder, the repo root. Every key is optional; the command line overrides each.
# After a change: kolla-gen generate, then commit generated/ with it (CI runs kolla-gen check).
${kolla ? `
# The template context and defaults of upstream kolla-build (its release, base images, users, repos.yaml), read from
# the kolla checkout around the docker dir.
preset: kolla
` : ''}
# The template trees: a later dir overlays an earlier one, file by file (your own files over upstream's).
docker_dirs:
  - ${input.dockerDir}
#  - overlays/docker

# Where the images go: <registry>/<namespace>/<image>:<tag>.
# registry: registry.example.internal:5000
namespace: kolla
${kolla ? '# tag: the release of the checkout (the preset says which it assumed)' : 'tag: latest'}

# Base distros and arches to render (bases: ubuntu, debian, rocky, centos; arches: amd64, arm64).
bases: [${kolla ? 'ubuntu' : 'ubuntu, debian'}]
arches: [amd64, arm64]
# base_images:
#   ubuntu: { image: ubuntu, tag: "24.04" }

# Profiles: regexes searched anywhere in an image name (kolla-gen build -p infra). An image pulls in its parents.
profiles:
  infra: [mariadb, rabbitmq, memcached, "^cron$", fluentd, kolla-toolbox]
  main: [keystone, glance, placement, nova, neutron, horizon]

# Images known not to build, keyed by base, arch or base+arch; every image built on one of them is left out too.
# unbuildable:
#   arm64: [some-image]

# Extra template variables, and build args for every target.
# vars: {}
# build_args: {}

# The bake files generated/ holds: [hcl, json] (default), or one of them.
# bake_formats: [hcl, json]
`;
}

/** bake-action's `allow:` input: buildx >= 0.20 reads a docker dir outside the repo only when granted (emit/bake/allow.ts). */
function allowInput(dockerDir: string): string {
  const grants = dockerDirReads([dockerDir]);
  if (grants.length === 0) return '';
  return `\n          allow: |\n${grants.map((dir) => `            fs.read=${dir}\n`).join('').trimEnd()}`;
}

export function workflowText(input: InitInput): string {
  const clone = outside(input.dockerDir)
    ? `
      # The docker dir (${input.dockerDir}) lies outside this repo: put the checkout where kolla-gen.yaml expects it.
      - name: upstream checkout
        run: git clone --depth 1 --branch "\${UPSTREAM_BRANCH}" "\${UPSTREAM_REPO}" ../${input.dockerDir.replace(/^(\.\.\/)+/, '').split('/')[0]}`
    : '';
  return `# Builds the images from the committed generated/ files and pushes multi-arch images (written by kolla-gen init).
#   check   fails when generated/ is stale (kolla-gen check: the options generated/manifest.json records)
#   build   one job per arch on a native runner: bakes the default group with KG_ARCHES=<arch> (that platform only,
#           a join's per-arch target of that arch), pushes every image by digest
#   merge   for each target, one manifest list of both arches' digests under the tags of the bake file
# Set the repository variables KOLLA_GEN_PACKAGE (what npm installs kolla-gen from: a git URL or a tarball path in
# this repo) and REGISTRY (the login host), and the secrets REGISTRY_USERNAME and REGISTRY_PASSWORD.
# Pull requests run the check and the builds, and push nothing.
name: images

on:
  push:
    branches: [main]
  pull_request:
  workflow_dispatch:

permissions:
  contents: read

env:
  BAKE_FILE: generated/docker-bake.json
  PUSH: \${{ github.event_name != 'pull_request' }}${outside(input.dockerDir) ? `
  UPSTREAM_REPO: https://opendev.org/openstack/kolla
  UPSTREAM_BRANCH: master` : ''}

jobs:
  check:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
        with:
          submodules: true${clone}
      - uses: actions/setup-node@v4
        with:
          node-version: 20
      # kolla-gen's cache (parsed templates, renderings, the last output), from the latest run that saved one: the
      # check parses and renders only what changed since. A pull request's run saves its own, which no other reads.
      - uses: actions/cache@v4
        with:
          path: ~/.cache/kolla-gen
          key: kolla-gen-\${{ github.sha }}
          restore-keys: kolla-gen-
      - run: npm install -g "\${{ vars.KOLLA_GEN_PACKAGE }}"
      - run: kolla-gen check

  build:
    needs: check
    strategy:
      fail-fast: false
      matrix:
        include:
          - { arch: amd64, runner: ubuntu-24.04 }
          - { arch: arm64, runner: ubuntu-24.04-arm }
    runs-on: \${{ matrix.runner }}
    steps:
      - uses: actions/checkout@v4
        with:
          submodules: true${clone}
      - uses: docker/setup-buildx-action@v3
      - uses: docker/login-action@v3
        if: env.PUSH == 'true'
        with:
          registry: \${{ vars.REGISTRY }}
          username: \${{ secrets.REGISTRY_USERNAME }}
          password: \${{ secrets.REGISTRY_PASSWORD }}
      - name: bake (KG_ARCHES=\${{ matrix.arch }})
        id: bake
        uses: docker/bake-action@v6
        env:
          KG_ARCHES: \${{ matrix.arch }}
        with:
          source: .
          files: \${{ env.BAKE_FILE }}
          targets: default
          provenance: false${allowInput(input.dockerDir)}
          set: |
            *.output=\${{ env.PUSH == 'true' && 'type=image,push-by-digest=true,name-canonical=true,push=true' || 'type=cacheonly' }}
      - name: record the digests
        if: env.PUSH == 'true'
        env:
          METADATA: \${{ steps.bake.outputs.metadata }}
        run: |
          mkdir -p digests
          printf '%s' "$METADATA" | jq 'with_entries(select(.value["containerimage.digest"] != null) | .value = .value["containerimage.digest"])' > "digests/\${{ matrix.arch }}.json"
      - uses: actions/upload-artifact@v4
        if: env.PUSH == 'true'
        with:
          name: digests-\${{ matrix.arch }}
          path: digests/\${{ matrix.arch }}.json
          retention-days: 1

  merge:
    needs: build
    if: github.event_name != 'pull_request'
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - uses: actions/download-artifact@v4
        with:
          pattern: digests-*
          merge-multiple: true
          path: digests
      - uses: docker/setup-buildx-action@v3
      - uses: docker/login-action@v3
        with:
          registry: \${{ vars.REGISTRY }}
          username: \${{ secrets.REGISTRY_USERNAME }}
          password: \${{ secrets.REGISTRY_PASSWORD }}
      - name: create the manifest lists
        run: |
          jq -s 'reduce (.[] | to_entries[]) as $e ({}; .[$e.key] += [$e.value])' digests/*.json > digests.json
          for target in $(jq -r 'keys[]' digests.json); do
            mapfile -t tags < <(jq -r --arg t "$target" '.target[$t].tags[]' "$BAKE_FILE")
            repo=\${tags[0]%:*}
            args=()
            for tag in "\${tags[@]}"; do args+=(--tag "$tag"); done
            mapfile -t sources < <(jq -r --arg t "$target" --arg r "$repo" '.[$t][] | "\\($r)@\\(.)"' digests.json)
            docker buildx imagetools create "\${args[@]}" "\${sources[@]}"
          done
`;
}

export const GITATTRIBUTES = `# Written by kolla-gen: generated/ is kolla-gen's output (kolla-gen generate); code review collapses it.
generated/** linguist-generated=true -diff
`;

export function initFiles(input: InitInput): [string, string][] {
  return [
    ['kolla-gen.yaml', configText(input)],
    ['.github/workflows/images.yml', workflowText(input)],
    ['.gitattributes', GITATTRIBUTES],
  ];
}
