// kolla-gen init: the files that start an ops repo. Pure: the texts, from the docker dir, the preset, the registry
// and what init read of the checkout (init-checkout.ts).
import { isScalar, parse, parseDocument } from 'yaml';

/** What init read of the checkout -D names. */
export interface InitCheckout {
  /** The checkout's root, relative to the repo root ("/"-separated). */
  root: string;
  /** The docker dir of its release (kolla/docker on master, docker on stable branches), relative to the repo root. */
  dockerDir: string;
  /** Inside the repo (a submodule: git pins it) or beside it (kolla-gen.yaml's upstream pins it). */
  layout: 'submodule' | 'beside';
  /** The names of the checkout's own profiles (kolla/common/config.py). */
  profiles: string[];
  configPy?: string;
  branch?: string;
  /** Beside the repo: what CI checks out (url undefined: the checkout has no origin). */
  upstream?: { commit: string; url?: string; branch?: string };
}

export interface InitInput {
  /** -D, relative to the repo root ("/"-separated): the checkout's docker dir when there is one. */
  dockerDir: string;
  preset?: 'kolla';
  /** --registry: the host the images are pushed to (and CI logs in to). */
  registry?: string;
  checkout?: InitCheckout;
}

const NAMESPACE = 'kolla';

/** A value as a YAML scalar: plain where it reads back as itself, else double-quoted (JSON's escapes are YAML's). */
export function yamlScalar(value: string): string {
  return /^[A-Za-z0-9_./~+@][A-Za-z0-9_./~+@:-]*$/.test(value) && parse(value) === value ? value : JSON.stringify(value);
}

function upstreamBlock(upstream: NonNullable<InitCheckout['upstream']>, root: string): string {
  const lines = [
    '',
    `# The upstream checkout ${root} comes from, pinned: CI checks out exactly this commit there (generated/ names it, as`,
    "# base's kolla_version label). Bump it in a pull request that moves this commit and generated/ together",
    '# (docs/ops-repo.md, "Bumping upstream").',
    'upstream:',
    upstream.url ? `  url: ${yamlScalar(upstream.url)}` : '  # url: the checkout has no remote origin: write the URL CI fetches it from, and uncomment',
    `  commit: ${upstream.commit}`,
    ...(upstream.branch ? [`  branch: ${yamlScalar(upstream.branch)}`] : []),
  ];
  return `${lines.join('\n')}\n`;
}

export function configText(input: InitInput): string {
  const kolla = input.preset === 'kolla';
  const checkout = input.checkout;
  const profiles = kolla
    ? `# Profiles: the preset reads kolla's own (${checkout?.profiles.length ? checkout.profiles.join(', ') : 'infra, main, aux, default'}) from ${checkout?.configPy ?? "the checkout's kolla/common/config.py"}
# (kolla-gen list -p infra). A profile written here replaces the one of that name, or adds one.
# profiles:
#   mine: [keystone, "^nova-api$"]`
    : `# Profiles: regexes searched anywhere in an image name (kolla-gen build -p infra). An image pulls in its parents.
profiles:
  infra: [mariadb, rabbitmq, memcached, "^cron$", fluentd, kolla-toolbox]
  main: [keystone, glance, placement, nova, neutron, horizon]`;
  return `# kolla-gen.yaml: how kolla-gen renders ${input.dockerDir} into generated/ (committed; docker buildx bake builds it).
# Paths here are relative to this file's folder, the repo root. Every key is optional; the command line overrides each.
# After a change: kolla-gen generate, then commit generated/ with it (CI runs kolla-gen check).
${kolla ? `
# The template context and defaults of upstream kolla-build (its release, base images, users, repos.yaml, profiles),
# read from the kolla checkout around the docker dir${checkout?.branch ? ` (${checkout.root}: ${checkout.branch})` : ''}.
preset: kolla
` : ''}
# The template trees: a later dir overlays an earlier one, file by file (your own files over upstream's).
docker_dirs:
  - ${yamlScalar(input.dockerDir)}
#  - overlays/docker
${checkout?.upstream ? upstreamBlock(checkout.upstream, checkout.root) : ''}
# Where the images go: <registry>/<namespace>/<image>:<tag>. CI logs in to this registry (.github/workflows/images.yml).
${input.registry ? `registry: ${input.registry}` : '# registry: registry.example.internal:5000   # none: Docker Hub, under the namespace'}
namespace: ${NAMESPACE}
${kolla ? '# tag: the release of the checkout (the preset says which it assumed)' : 'tag: latest'}

# Base distros and arches to render (bases: ubuntu, debian, rocky, centos; arches: amd64, arm64).
bases: [${kolla ? 'ubuntu' : 'ubuntu, debian'}]
arches: [amd64, arm64]
# base_images:
#   ubuntu: { image: ubuntu, tag: "24.04" }

${profiles}

# Images known not to build, keyed by base, arch or base+arch; every image built on one of them is left out too.
# unbuildable:
#   arm64: [some-image]

# Extra template variables, and build args for every target.
# vars: {}
# build_args: {}

# The bake files generated/ holds: [hcl, json] (default), or one of them.
# bake_formats: [hcl, json]

# The network every RUN runs in (docs/building.md, "The network of a RUN"): default, a network of its own per RUN;
# host, the runner's, as kolla-build runs them (a proxy on the runner's 127.0.0.1; faster builds), which a pull
# request's template then reaches too; none.
# network_mode: default

# Attestations BuildKit attaches to every pushed image, each arch's runner's kept in the multi-arch list
# (docs/building.md, "Attestations"): SLSA provenance (min, max, or false for none) and an SBOM (sbom: true; BuildKit
# pulls its scanner image from Docker Hub: a runner that reaches no public registry sets sbom_generator to a mirror).
attest:
  provenance: min
#  sbom: true
`;
}

/** The upstream checkout of the beside layout, at the commit kolla-gen.yaml pins, where docker_dirs expects it. */
export const UPSTREAM_STEP = 'upstream at the commit kolla-gen.yaml pins';
export const REGISTRY_STEP = 'the registry of kolla-gen.yaml is the one CI logs in to';
export const REFRESH_STEP = 'kolla-gen lock, then kolla-gen generate';
export const PULL_REQUEST_STEP = 'a pull request when a base moved';

function upstreamStep(root: string): string {
  return `
      # ${root} lies beside this repo: check out exactly the commit kolla-gen.yaml pins (upstream:), with its history:
      # kolla_version is its short sha, which git abbreviates by the number of objects it holds (9 characters in a
      # full clone of kolla, 7 after a --depth 1 fetch), and generated/ holds the one a full clone gives.
      - name: ${UPSTREAM_STEP}
        env:
          UPSTREAM_DIR: ${yamlScalar(root)}
        run: |
          url=$(yq -r '.upstream.url // ""' kolla-gen.yaml)
          commit=$(yq -r '.upstream.commit // ""' kolla-gen.yaml)
          branch=$(yq -r '.upstream.branch // ""' kolla-gen.yaml)
          case "$url" in ""|-*) echo "::error file=kolla-gen.yaml::upstream.url must be a git URL not starting with -"; exit 1 ;; esac
          case "$branch" in -*) echo "::error file=kolla-gen.yaml::upstream.branch must not start with -"; exit 1 ;; esac
          if ! printf '%s' "$commit" | grep -Eqx '[0-9a-f]{40}'; then echo "::error file=kolla-gen.yaml::upstream.commit must be 40 hex digits"; exit 1; fi
          git init -q "$UPSTREAM_DIR"
          git -C "$UPSTREAM_DIR" remote add origin "$url"
          git -C "$UPSTREAM_DIR" fetch -q origin "$commit" || git -C "$UPSTREAM_DIR" fetch -q origin "\${branch:-+refs/heads/*:refs/remotes/origin/*}"
          git -C "$UPSTREAM_DIR" checkout -q --detach "$commit"`;
}

/**
 * What a pull request affects, for its summary and its build: --affected-since the base branch. Beside the repo, the
 * checkout is the same at both ends of --affected-since, so a pull request that moves upstream.commit affects every image
 * (the build then builds every image the registry lacks).
 */
function pullRequestSince(beside: boolean): string {
  const since = 'since=(--affected-since "origin/$BASE_REF")';
  if (!beside) return since;
  return `${since}
          if [ "$(git show "origin/$BASE_REF:kolla-gen.yaml" | yq -r '.upstream.commit // ""')" != "$(yq -r '.upstream.commit // ""' kolla-gen.yaml)" ]; then since=(); fi`;
}

/** The pull request's build: what it affects, on the parents main pushed; read the registry cache, write none. */
function pullRequestBuild(beside: boolean): string {
  const flags = '--content-tags=only --skip-existing=warn --cache-ref "$CACHE_REF" --no-cache-export';
  if (!beside) return `run: kolla-gen build -a "$ARCH" --affected-since "origin/$BASE_REF" ${flags}`;
  return `# The checkout beside the repo is the same at both ends of --affected-since: a pull request that moves
        # upstream.commit builds every image the registry lacks.
        run: |
          ${pullRequestSince(true)}
          kolla-gen build -a "$ARCH" "\${since[@]}" ${flags}`;
}

/** The check job's summary of a pull request: kolla-gen summary of what it affects, as its build selects them. */
function pullRequestSummary(beside: boolean): string {
  const summary = 'kolla-gen summary --affected-since "origin/$BASE_REF" >> "$GITHUB_STEP_SUMMARY"';
  if (!beside) return `run: ${summary}`;
  // The checkout beside the repo is the same at both ends of --affected-since: when the pull request moves
  // upstream.commit, its build builds every image the registry lacks, and the summary lists them all.
  return `run: |
          ${pullRequestSince(true)}
          if [ \${#since[@]} -eq 0 ]; then
            {
              echo "### Images affected since $BASE_REF"
              echo "upstream.commit moved: every image (the checkout beside the repo is the same at both ends of --affected-since)"
              echo '\`\`\`'
              kolla-gen list
              echo '\`\`\`'
            } >> "$GITHUB_STEP_SUMMARY"
          else
            ${summary}
          fi`;
}

/**
 * The first steps of every job of both workflows: the repo (whole histories, its submodules), the upstream checkout
 * beside it where docker_dirs expects it, node. `extra` goes under actions/checkout's `with:`.
 */
function checkoutSteps(input: InitInput, extra = ''): string {
  const upstream = input.checkout?.layout === 'beside' ? upstreamStep(input.checkout.root) : '';
  return `
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0      # the base branch, for --affected-since; whole histories, for kolla_version
          submodules: true${extra}${upstream}
      - uses: actions/setup-node@v4
        with:
          node-version: 20`;
}

/** The docker login of a job: to the registry of kolla-gen.yaml (REGISTRY), with the repository's secrets. */
const LOGIN = `
      - uses: docker/login-action@v3
        if: env.HAS_CREDENTIALS == 'true'
        with:
          registry: \${{ env.REGISTRY }}
          username: \${{ secrets.REGISTRY_USERNAME }}
          password: \${{ secrets.REGISTRY_PASSWORD }}`;

export function workflowText(input: InitInput): string {
  const beside = input.checkout?.layout === 'beside';
  const registry = input.registry ?? '';
  const cacheRef = `${registry ? `${registry}/` : ''}${NAMESPACE}/cache`;
  const checkout = checkoutSteps(input);
  return `# Builds the images and pushes multi-arch images, each arch on its own native runner, building only what the
# registry lacks (written by kolla-gen init; see docs/ops-repo.md of kolla-gen).
#   check   fails when generated/ is stale (kolla-gen check --diff shows what generate would change); on a pull
#           request, puts what it changes in the run's summary (kolla-gen summary: images per variant, a graph, the
#           instructions each image's Dockerfile gains and loses)
#   build   one job per arch: kolla-gen build -a <arch> --content-tags=only builds an image only when the registry
#           lacks its per-arch content tag (--skip-existing) and, on main, pushes it under that tag. On a pull request
#           it builds only what the pull request affects (--affected-since) on the parents main pushed, pushes
#           nothing, and reads the registry cache without writing it.
#   lists   main only, after both arches: kolla-gen build --skip-existing --push builds nothing, makes each image's
#           manifest list from its per-arch images and points the tags of generated/ at it.
# ${beside ? `The docker dir lies beside the repo (${input.checkout?.root}): every job checks out the commit kolla-gen.yaml pins.` : 'Upstream is a submodule (or part of this repo): git pins its commit, and every job checks it out.'}
# kolla-gen build grants buildx the read of a docker dir outside the repo (--allow fs.read=<dir>), none inside it.
# Set the repository variable KOLLA_GEN_PACKAGE (what npm installs kolla-gen from: a git URL, or a tarball in this
# repo) and the secrets REGISTRY_USERNAME and REGISTRY_PASSWORD.
name: images

on:
  push:
    branches: [main]
  pull_request:
  workflow_dispatch:

permissions:
  contents: read

concurrency:
  group: images-\${{ github.ref }}
  cancel-in-progress: true

env:
  KOLLA_GEN_PACKAGE: \${{ vars.KOLLA_GEN_PACKAGE }}
  # The registry of kolla-gen.yaml (registry:): the tags of generated/ name it, and CI logs in to it.${registry ? '' : ' None: Docker Hub.'}
  REGISTRY: "${registry}"
  # The registry cache: one ref per image, variant and arch under this repository.
  CACHE_REF: ${cacheRef}
  HAS_CREDENTIALS: \${{ secrets.REGISTRY_USERNAME != '' }}
  BASE_REF: \${{ github.base_ref }}

jobs:
  check:
    name: generated/ is up to date
    runs-on: ubuntu-24.04
    steps:${checkout}
      # kolla-gen's cache (parsed templates, renderings, the last output), from the latest run that saved one: the
      # check parses and renders only what changed since. A pull request's run saves its own, which no other reads.
      - uses: actions/cache@v4
        with:
          path: ~/.cache/kolla-gen
          key: kolla-gen-\${{ github.sha }}
          restore-keys: kolla-gen-
      - run: npm install -g "$KOLLA_GEN_PACKAGE"
      # Stale: each file on a line, then the diff of what kolla-gen generate would change (the first 2000 lines).
      - run: kolla-gen check --diff
      # The tags of generated/ name the registry of kolla-gen.yaml; the jobs log in to REGISTRY: the same, or a push fails.
      - name: ${REGISTRY_STEP}
        run: |
          config=$(yq -r '.registry // ""' kolla-gen.yaml)
          if [ "$config" != "$REGISTRY" ]; then echo "::error file=kolla-gen.yaml::registry: is '$config', but the workflow logs in to REGISTRY '$REGISTRY'"; exit 1; fi
      # What the pull request changes, in the run's summary: the images it affects per variant, their graph, and
      # what changed in each rendered Dockerfile.
      - name: what this pull request changes
        if: github.event_name == 'pull_request'
        ${pullRequestSummary(beside)}

  build:
    name: build \${{ matrix.arch }}
    needs: check
    strategy:
      fail-fast: false
      matrix:
        include:
          - { arch: amd64, runner: ubuntu-24.04 }
          - { arch: arm64, runner: ubuntu-24.04-arm }
    runs-on: \${{ matrix.runner }}
    env:
      ARCH: \${{ matrix.arch }}
    steps:${checkout}
      - run: npm install -g "$KOLLA_GEN_PACKAGE"
      - uses: docker/setup-buildx-action@v3${LOGIN}
      - name: build what the registry lacks (\${{ matrix.arch }})
        if: github.event_name != 'pull_request'
        run: kolla-gen build -a "$ARCH" --content-tags=only --skip-existing --push --cache-ref "$CACHE_REF"
      - name: build what the pull request affects (\${{ matrix.arch }})
        if: github.event_name == 'pull_request'
        ${pullRequestBuild(beside)}

  lists:
    name: multi-arch tags
    needs: build
    if: github.event_name != 'pull_request'
    runs-on: ubuntu-24.04
    steps:${checkout}
      - run: npm install -g "$KOLLA_GEN_PACKAGE"
      - uses: docker/setup-qemu-action@v3    # only for an image a build job failed to build
      - uses: docker/setup-buildx-action@v3
      - uses: docker/login-action@v3
        with:
          registry: \${{ env.REGISTRY }}
          username: \${{ secrets.REGISTRY_USERNAME }}
          password: \${{ secrets.REGISTRY_PASSWORD }}
      # Builds nothing when both build jobs succeeded (an image one of them failed to build is built here, emulated).
      - name: make the manifest lists and point the tags at them
        run: kolla-gen build --skip-existing --push --cache-ref "$CACHE_REF"
`;
}

/** The pull request's branch: one per branch the workflow runs on, force-pushed by each refresh. */
export const REFRESH_BRANCH = 'kolla-gen/refresh-bases-$GITHUB_REF_NAME';
export const REFRESH_TITLE = 'Refresh the base images (kolla-gen lock)';

/**
 * The scheduled refresh of the lock (docs/lock.md): kolla-gen lock, kolla-gen generate, and a pull request with both
 * when a base moved. A workflow of its own: other triggers than images.yml's, and the only one that may write.
 */
export function refreshWorkflowText(input: InitInput): string {
  const beside = input.checkout?.layout === 'beside';
  const registry = input.registry ?? '';
  const token = `
          # Pushes the pull request's branch: with KOLLA_GEN_PR_TOKEN, GitHub runs images.yml on the pull request.
          token: \${{ secrets.KOLLA_GEN_PR_TOKEN || github.token }}`;
  return `# Keeps the base-image lock fresh (written by kolla-gen init; see docs/lock.md of kolla-gen). Every Monday, and when
# run by hand: kolla-gen lock resolves every external base again (kolla-gen.lock.json) and kolla-gen generate pins the
# new digests in generated/. When a base moved, a pull request holds both, described by kolla-gen summary (the images
# the new bases reach, which images.yml builds once it is merged); when none moved, nothing happens.
# The lock is opt-in: until kolla-gen.lock.json is committed (kolla-gen lock, kolla-gen generate, commit both), this
# workflow does nothing, and it never turns the lock on.
# ${beside ? `The docker dir lies beside the repo (${input.checkout?.root}): the job checks out the commit kolla-gen.yaml pins.` : 'Upstream is a submodule (or part of this repo): git pins its commit, and the job checks it out.'}
# Set the repository variable KOLLA_GEN_PACKAGE, as for images.yml (and the secrets REGISTRY_USERNAME and
# REGISTRY_PASSWORD when a base lies in the registry CI logs in to). GitHub Actions opens pull requests only where the
# repository's settings allow it (Actions, General, Workflow permissions), and GitHub starts no workflow on a pull
# request the default token opens: set the secret KOLLA_GEN_PR_TOKEN (a token that may write contents and pull
# requests) for images.yml to check and build it, or close and reopen the pull request.
name: refresh base images

on:
  schedule:
    - cron: '17 5 * * 1'    # Mondays, 05:17 UTC
  workflow_dispatch:

permissions:
  contents: write
  pull-requests: write

concurrency:
  group: refresh-bases-\${{ github.ref }}

env:
  KOLLA_GEN_PACKAGE: \${{ vars.KOLLA_GEN_PACKAGE }}
  # The registry of kolla-gen.yaml (registry:), as in images.yml: CI logs in to it, for a base that lies there.${registry ? '' : ' None: Docker Hub.'}
  REGISTRY: "${registry}"
  HAS_CREDENTIALS: \${{ secrets.REGISTRY_USERNAME != '' }}

jobs:
  refresh:
    name: refresh kolla-gen.lock.json
    runs-on: ubuntu-24.04
    steps:${checkoutSteps(input, token)}
      - run: npm install -g "$KOLLA_GEN_PACKAGE"${LOGIN}
      - name: ${REFRESH_STEP}
        run: |
          if [ ! -f kolla-gen.lock.json ]; then
            echo "no kolla-gen.lock.json: the lock is off, nothing to refresh (kolla-gen lock, kolla-gen generate and a commit of both turn it on)"
            exit 0
          fi
          kolla-gen lock
          kolla-gen generate
      # Nothing changed: done. Else a commit on the branch, force-pushed (an open pull request from it gets the new
      # commit), and a pull request when none is open.
      - name: ${PULL_REQUEST_STEP}
        env:
          GH_TOKEN: \${{ secrets.KOLLA_GEN_PR_TOKEN || github.token }}
        run: |
          if [ -z "$(git status --porcelain)" ]; then echo "every base is where kolla-gen.lock.json pins it: nothing to do"; exit 0; fi
          branch="${REFRESH_BRANCH}"
          {
            echo "kolla-gen lock: base images moved under their tags. This pins the new digests (kolla-gen.lock.json, and generated/ by kolla-gen generate); once merged, images.yml builds the images below."
            echo
            kolla-gen summary --affected-since HEAD
          } > "$RUNNER_TEMP/pull-request.md"
          git switch -c "$branch"
          git add -A
          git -c user.name='github-actions[bot]' -c user.email='41898282+github-actions[bot]@users.noreply.github.com' commit -q -m "${REFRESH_TITLE}"
          git push -f origin "$branch"
          if [ -n "$(gh pr list --head "$branch" --state open --json number --jq '.[].number')" ]; then
            echo "the open pull request from $branch has the new commit"
          else
            gh pr create --base "$GITHUB_REF_NAME" --head "$branch" --title "${REFRESH_TITLE}" --body-file "$RUNNER_TEMP/pull-request.md"
          fi
`;
}

export const GITATTRIBUTES = `# Written by kolla-gen: generated/ is kolla-gen's output (kolla-gen generate); code review collapses it.
generated/** linguist-generated=true
`;

export function initFiles(input: InitInput): [string, string][] {
  return [
    ['kolla-gen.yaml', configText(input)],
    ['.github/workflows/images.yml', workflowText(input)],
    ['.github/workflows/refresh-bases.yml', refreshWorkflowText(input)],
    ['.gitattributes', GITATTRIBUTES],
  ];
}

/**
 * kolla-gen.yaml with upstream.commit (and upstream.branch, when it has one) moved, every other byte kept: init --bump.
 * undefined when the text has no upstream.commit.
 */
export function bumpedConfigText(text: string, to: { commit: string; branch?: string }): { text: string; from: { commit: string; branch?: string } } | undefined {
  const doc = parseDocument(text);
  const commit = doc.getIn(['upstream', 'commit'], true);
  if (!isScalar(commit) || !commit.range) return undefined;
  const branch = doc.getIn(['upstream', 'branch'], true);
  const edits: { range: [number, number]; value: string }[] = [{ range: [commit.range[0], commit.range[1]], value: to.commit }];
  if (to.branch && isScalar(branch) && branch.range) edits.push({ range: [branch.range[0], branch.range[1]], value: to.branch });
  let out = text;
  for (const edit of edits.sort((a, b) => b.range[0] - a.range[0])) out = out.slice(0, edit.range[0]) + edit.value + out.slice(edit.range[1]);
  const from = { commit: String(commit.value), ...(isScalar(branch) ? { branch: String(branch.value) } : {}) };
  return { text: out, from };
}
