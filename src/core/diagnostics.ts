// Every problem a user can cause, with a stable code. Stages return Diagnostics as data; only the CLI prints them.

/** `info`: what kolla-gen assumed (one line, not a problem), for people and for --json. */
export type Severity = 'error' | 'warning' | 'info';

/** The one list of codes. A code, once published, never changes meaning. */
export const CODES = {
  // config and command line
  KG100: { title: 'config file not found', hint: 'pass an existing file with -c/--config, or drop the flag to use kolla-gen.yaml' },
  KG101: { title: 'config file is not valid YAML', hint: 'fix the YAML syntax at the marked position' },
  KG102: { title: 'config value is invalid', hint: 'see docs/configuration.md for the expected shape' },
  KG103: { title: 'vars file is invalid', hint: 'a --vars file must hold one YAML or JSON mapping of variable names to values' },
  KG104: { title: 'unknown base, type or arch', hint: 'bases: ubuntu, debian, rocky, centos; arches: amd64, arm64 (or x86_64, aarch64); types: those in the config' },
  KG105: { title: 'malformed --build-arg', hint: 'write --build-arg KEY=VALUE' },
  KG106: { title: 'file not found', hint: 'check the path; it is relative to the directory kolla-gen runs in' },
  KG107: { title: 'SOURCE_DATE_EPOCH is invalid', hint: 'set it to a whole number of seconds since 1970-01-01 UTC, e.g. SOURCE_DATE_EPOCH=$(git log -1 --format=%ct), or unset it' },
  // what the config and the command line put into refs and bake files
  KG130: { title: 'YAML aliases expand too far', hint: 'a YAML file may use at most 100 aliases (*name) in all; write the values out, or use fewer anchors' },
  KG131: { title: 'text is not well-formed Unicode', hint: 'a lone UTF-16 surrogate (an escape such as "\\ud800" without its pair) cannot be written to a UTF-8 file: remove it' },
  KG132: { title: 'two keys are the same text', hint: 'bake normalises strings to Unicode NFC: keep one of the two keys' },
  KG133: { title: 'invalid part of an image ref', hint: 'refs follow the distribution reference grammar: [registry/]namespace/prefix+image:tag' },
  KG134: { title: 'image folder name cannot be part of a ref', hint: 'an image is named after its folder and the name goes into its ref: use lowercase letters and digits, with ".", "_", "__" or "-" between them' },
  // presets and kolla-build.conf
  KG110: { title: 'unknown preset', hint: 'the presets are: kolla' },
  KG111: { title: 'kolla-build.conf cannot be read', hint: 'write INI: [DEFAULT], [profiles] or [<name>-user] sections of `key = value` lines' },
  KG112: { title: 'kolla-build.conf value is invalid', hint: 'see docs/kolla.md' },
  KG113: { title: 'kolla-build.conf key ignored', hint: 'kolla-gen reads the keys listed in docs/kolla.md; remove the others or keep them for kolla-build' },
  KG114: { title: 'kolla checkout incomplete', hint: 'point -D at the docker dir of a kolla git checkout (kolla/docker, or docker on older branches)' },
  KG115: { title: 'what --preset kolla assumed', hint: 'override the release with openstack_release in a --kolla-config file, the base images with base_images in kolla-gen.yaml (or base_image/base_tag), the tag with --tag' },
  // documentation (kolla-gen help)
  KG150: { title: 'no such diagnostic code', hint: 'the codes are listed in docs/diagnostics.md; `kolla-gen help KG402` explains one' },
  // discovery
  KG200: { title: 'docker dir not found', hint: 'pass an existing directory with -D/--docker-dir' },
  KG201: { title: 'two images share one name', hint: 'an image is named after its folder: rename one of the folders' },
  KG202: { title: 'no images found', hint: 'an image is a folder holding Dockerfile.j2 under a docker dir' },
  KG203: { title: 'invalid image name', hint: 'image folder names may use only letters, digits, "_", "-" and "."' },
  // files and links of a docker dir (docs/security.md "Files and links")
  KG210: { title: 'link leaves its docker dir', hint: 'a link in a docker dir may point only inside that docker dir: copy the file into the tree, or make the link relative to a file of the tree' },
  KG211: { title: 'dangling link', hint: 'the link points to nothing: fix its target or remove it' },
  KG212: { title: 'link loop', hint: 'the link leads back to itself or to a folder that holds it: point it at a file or folder of the tree' },
  KG213: { title: 'not a regular file, folder or link', hint: 'a docker dir may hold only files, folders and links: remove the FIFO, socket or device' },
  KG214: { title: 'template is not UTF-8', hint: 'templates are read as UTF-8, as Jinja2 reads them: convert the file (iconv -f LATIN1 -t UTF-8) or fix the marked byte' },
  KG215: { title: 'file too large', hint: 'templates may have up to 64 MiB and context files up to 2 GiB: fetch large files in the build (ADD <url>) instead of keeping them in the tree' },
  KG216: { title: 'docker dir linked out of the repo', hint: 'a docker dir named by a path inside the repo must be there: commit the files instead of a link, or name the dir outside the repo by its own path in docker_dirs (../kolla/docker)' },
  // ignore files and names of a context, read as BuildKit reads them (docs/templates.md "What the build sees")
  KG220: { title: 'ignore pattern BuildKit rejects', hint: 'BuildKit stops the build on this pattern ("syntax error in pattern" or "illegal exclusion pattern"): close the [...] class, escape a lone "\\" as "\\\\", drop a "\\" before a letter or digit, or remove the line' },
  KG221: { title: 'ignore pattern kolla-gen cannot match as BuildKit does', hint: 'BuildKit turns patterns into Go regular expressions, so "\\d", "\\s", "\\b", "\\pL", "[[:alpha:]]", a "*" or "?" inside [...] and a "^" in a wildcard pattern mean regular-expression syntax there: write the pattern with plain characters, *, ?, ** and [a-z] classes' },
  KG222: { title: 'control character in a context file name', hint: 'a newline, tab or other control character in a file or folder name of a build context cannot be written to an ignore file safely: rename it' },
  KG223: { title: 'ignore file is not UTF-8', hint: '.dockerignore files are read as UTF-8: convert the file (iconv -f LATIN1 -t UTF-8) or fix the marked byte' },
  // rendering
  KG300: { title: 'template syntax error', hint: 'fix the Jinja syntax at the marked position' },
  KG301: { title: 'template render error', hint: 'the template failed while rendering; check the variables it uses' },
  KG302: { title: 'template reached outside its context', hint: 'templates may read only their variables: no constructors, prototypes, process, require, environment or files' },
  KG303: { title: 'template not found', hint: 'imports and includes resolve from the root of the docker dirs (for example "macros.j2")' },
  KG304: { title: 'template raised an error', hint: 'the template called raise_error(); read its message' },
  // rendering: bounds, strict mode, Python's semantics
  KG135: { title: 'image folder name is reserved on Windows', hint: 'the image\'s name becomes a folder under the output dir, and Windows cannot check out a file or folder named con, prn, aux, nul, com1-com9 or lpt1-lpt9 (any case, with or without an extension): rename the folder' },
  KG136: { title: 'image ref too long', hint: 'a registry refuses a repository name (registry/namespace/prefix+image) over 255 characters: shorten the namespace, prefix or image folder name' },
  KG137: { title: 'build arg or label value not in Unicode NFC', hint: 'bake normalises strings to NFC, so BuildKit would get other bytes than the content hash covers: write the value in NFC (the message shows it)' },
  KG310: { title: 'template value too large', hint: 'a str, list or dict the template builds is bounded: fix the template, or raise render_limits.max_value_size in kolla-gen.yaml (--max-value-size)' },
  KG311: { title: 'template output too large', hint: 'a render\'s output is bounded: fix the template, or raise render_limits.max_output_size in kolla-gen.yaml (--max-output-size)' },
  KG312: { title: 'template takes too much work', hint: 'a render\'s steps (loop iterations, calls, characters and items built) are bounded: look for a loop that runs away, or raise render_limits.max_steps in kolla-gen.yaml (--max-steps)' },
  KG313: { title: 'undefined variable (strict mode)', hint: 'with --strict-undefined (strict_undefined: true) a template may not print, test, iterate or compare an undefined variable: define it (vars, --vars), or guard it with `is defined` or `|default(...)`' },
  KG314: { title: 'value Python computes but kolla-gen cannot', hint: 'kolla-gen\'s ints are exact only up to 2**53 (9007199254740992) and its floats are IEEE doubles: keep numbers in that range, or compute the value outside the template (vars)' },
  // Dockerfile and graph
  KG400: { title: 'rendered Dockerfile has no FROM', hint: 'every image must start a stage with FROM' },
  KG401: { title: 'malformed FROM', hint: 'write FROM [--platform=<platform>] <image> [AS <name>]' },
  KG402: { title: 'FROM names no image of the tree', hint: 'the reference has the tree\'s registry, namespace and tag, so it must name one of its images' },
  KG410: { title: 'FROM is one typo away from an image of the tree', hint: 'a FROM that is not exactly the ref of an image of the tree is an external base, pulled from its registry: fix the ref if you meant the tree\'s image' },
  // what a rendered Dockerfile asks of BuildKit (kolla-gen.yaml buildkit:, docs/security.md "BuildKit features")
  KG450: { title: 'frontend the BuildKit policy does not allow', hint: 'a # syntax line makes BuildKit pull and run that image: remove the line, or add the repository to buildkit.syntax in kolla-gen.yaml (default: [docker/dockerfile])' },
  KG451: { title: 'RUN --security=insecure', hint: 'an insecure RUN runs outside BuildKit\'s sandbox: remove the flag, or set buildkit.insecure: true in kolla-gen.yaml' },
  KG452: { title: 'RUN --network=host', hint: 'a RUN in the host\'s network reaches what the build host reaches: remove the flag, or set buildkit.host_network: true in kolla-gen.yaml' },
  KG453: { title: 'RUN --mount=type=secret', hint: 'a secret mount reads a secret the build is given: remove it, or set buildkit.secret_mounts: true in kolla-gen.yaml' },
  KG454: { title: 'RUN --mount=type=ssh', hint: 'an ssh mount uses the SSH agent the build is given: remove it, or set buildkit.ssh_mounts: true in kolla-gen.yaml' },
  KG455: { title: 'RUN --device', hint: 'a device mount gives the command a device of the host: remove it, or set buildkit.devices: true in kolla-gen.yaml' },
  KG456: { title: 'ADD of a URL or a git repository', hint: 'a remote ADD fetches what no file of the tree holds: put the file in the image\'s folder, or set buildkit.remote_add: true in kolla-gen.yaml' },
  KG457: { title: 'COPY --from or RUN --mount from= an image', hint: 'name a stage (FROM <image> AS <name>), or allow the image with buildkit.external_from in kolla-gen.yaml (true, or a list of repositories)' },
  // attestations (attest: of kolla-gen.yaml)
  KG475: { title: 'SBOM generator is no image ref', hint: 'attest.sbom_generator names the scanner image BuildKit runs, e.g. registry.example:5000/mirror/buildkit-syft-scanner:stable-1 (docs/building.md, "Attestations")' },
  KG476: { title: 'SBOM generator without an SBOM', hint: 'set attest.sbom: true to make an SBOM with that scanner, or remove attest.sbom_generator' },
  // base image lock (kolla-gen lock)
  KG480: { title: 'the lock file cannot be read', hint: 'kolla-gen lock writes it: a JSON object {"version": 1, "bases": {"<ref>": {"digest": "sha256:…"}}}; run kolla-gen lock to rewrite it, or fix the line named' },
  KG481: { title: 'external base missing from the lock file', hint: 'run kolla-gen lock to resolve the base to its digest and record it (kolla-gen lock REF for this one), then commit the lock file' },
  KG482: { title: 'external base cannot be resolved', hint: 'check the ref, that the registry answers and that docker login gave access (docker\'s credentials are used); --insecure-registry names a plain-HTTP registry' },
  KG483: { title: 'the lock file is out of date', hint: 'run kolla-gen lock (without --check) to write it, then commit it' },
  KG484: { title: 'kolla-gen lock REF names no external base', hint: 'give a ref as a FROM of the tree names it (ubuntu:24.04): kolla-gen lock --check lists them' },
  KG500: { title: 'cycle in the image graph', hint: 'an image cannot be its own ancestor: break the cycle by changing one FROM' },
  KG501: { title: 'image builds FROM itself', hint: 'change the FROM to name the parent image' },
  // selection
  KG600: { title: 'invalid regex', hint: 'selectors are JavaScript regular expressions, searched anywhere in the image name' },
  KG601: { title: 'unknown profile', hint: 'profiles are defined under "profiles" in kolla-gen.yaml' },
  KG602: { title: 'no image selected on some variants', hint: 'no image matched the regexes or profiles for this variant, or none is affected since the --affected-since revision' },
  KG603: { title: 'unknown image in config', hint: 'names in profiles and unbuildable lists must be images of the tree' },
  KG604: { title: 'two variants push the same ref', hint: 'put {base} (and {type}) in the tag or the image name prefix, e.g. tag: "2026.1-{base}" or image_name_prefix: "{base}-"' },
  KG605: { title: 'the selection selects no image', hint: 'kolla-gen list shows the images of the tree' },
  KG606: { title: 'a regex matches no image', hint: 'regexes are searched anywhere in the image name; kolla-gen list shows the images' },
  KG610: { title: 'regex cannot run in linear time', hint: 'selection regexes run on RE2 (linear time, no backtracking): write it without lookaround ((?=…), (?!…), (?<=…), (?<!…)) or backreferences (\\1), e.g. as alternatives (a|b) or with several regexes' },
  KG611: { title: 'flag value given after a space', hint: 'write --content-tags=only (or --skip-existing=warn): after a space the word is read as a regex' },
  // output
  KG700: { title: 'output dir is not kolla-gen\'s', hint: 'kolla-gen replaces its output dir whole; point -o at a new dir or at one kolla-gen wrote' },
  KG701: { title: 'generated output is out of date', hint: 'run `kolla-gen generate` (npm run generate) and commit the result' },
  KG702: { title: 'two images map to one target name', hint: 'target names keep only [a-zA-Z0-9_-]: rename one image' },
  KG730: { title: 'two generated names are the same', hint: 'each target, group and generated file has one source; an image whose renders differ per arch has per-arch targets named <target>-<arch>: rename the image folder that takes such a name' },
  KG703: { title: 'cannot write output', hint: 'kolla-gen writes the new output dir beside the old one and renames it into place: the folder holding it and the output dir need write access, and free space' },
  KG710: { title: 'build uses a private generation', hint: 'the output dir is stale, or this build\'s flags define its targets otherwise, so build baked a generation of its own in a temp dir (removed after): regenerate with kolla-gen.yaml\'s options and commit, or put the flags into kolla-gen.yaml' },
  KG712: { title: 'init cannot write a file', hint: 'check the permissions of the directory kolla-gen init runs in' },
  KG711: { title: 'no recorded options to check with (no longer reported)', hint: 'check never reads options from manifest.json: it checks with kolla-gen.yaml and its own flags' },
  KG713: { title: 'output made with options the config does not hold', hint: 'put the options the message names into kolla-gen.yaml, or run kolla-gen generate with kolla-gen.yaml\'s options, and commit' },
  // kolla-gen init: the checkout it reads (docs/ops-repo.md)
  KG740: { title: 'no kolla checkout where -D points', hint: 'get upstream first (git submodule add https://opendev.org/openstack/kolla kolla, recommended; or git clone it beside the repo), then run kolla-gen init --preset kolla -D <checkout>' },
  KG741: { title: 'not the docker dir of that kolla release', hint: 'master keeps its templates in kolla/docker, stable and unmaintained branches in docker: pass that dir, or the checkout itself, to -D' },
  KG742: { title: 'the checkout beside the repo cannot be pinned', hint: 'CI checks out the commit kolla-gen.yaml records (upstream:): make the docker dir part of a git checkout with a remote origin, or a submodule of the repo' },
  KG743: { title: 'checkout inside the repo is not a submodule', hint: 'CI sees only what the repo commits: add upstream with git submodule add URL DIR, which pins its commit' },
  KG744: { title: 'no registry for the images', hint: 'run init with --registry HOST, or set registry: in kolla-gen.yaml and REGISTRY in the workflows: without one, a push goes to Docker Hub under the namespace' },
  KG745: { title: 'the kolla checkout is not at the pinned commit', hint: 'CI checks out upstream.commit of kolla-gen.yaml: check that commit out, or bump upstream.commit with generated/ in one pull request (docs/ops-repo.md)' },
  KG746: { title: 'no upstream to bump', hint: 'init --bump moves upstream.commit of kolla-gen.yaml (the beside layout); a submodule is bumped with git add' },
  KG747: { title: 'a value init writes holds a control character', hint: 'init writes it into kolla-gen.yaml and the workflow: rename the dir (or pass another -D) without newlines, tabs or other control characters' },
  KG748: { title: 'init would write through a link', hint: 'init writes kolla-gen.yaml, .github/workflows/images.yml and .gitattributes as files of the repo: remove the link (git rm if a commit added it), then run init again' },
  // the output dir (docs/security.md "The output directory")
  KG720: { title: 'output dir is a link', hint: 'point -o (or output: in kolla-gen.yaml) at the real folder; kolla-gen replaces its output dir whole and never writes through a link' },
  KG721: { title: 'files kept in the output dir', hint: 'kolla-gen removes only the files its previous manifest.json lists as its own; these stay where they are' },
  KG722: { title: 'recovered from a killed run', hint: 'a run was killed while replacing or updating the output dir; nothing to do, but check the result with kolla-gen check' },
  KG723: { title: 'a file kolla-gen did not write is in the way', hint: 'move the file out of the output dir (kolla-gen never deletes a file it did not write), then run generate again' },
  KG724: { title: 'interrupted while writing the output dir', hint: 'nothing to undo: run generate again for the new output' },
  KG725: { title: 'not a leftover of kolla-gen', hint: 'a dir beside the output dir is named like a killed run\'s leftover but is a link, is tracked by git, or names paths out of the output dir: remove it (git rm -r if a commit added it), then run generate again' },
  KG726: { title: 'a link in the output dir where kolla-gen writes', hint: 'kolla-gen never writes through a link: remove the link (git rm if a commit added it), then run generate again' },
  KG727: { title: 'output dir linked out of the repo', hint: 'an output dir named by a path inside the repo must be there: remove the link in its path, or name a dir outside the repo by its own path' },
  // building (kolla-gen build)
  KG800: { title: 'docker CLI not found', hint: 'install the docker CLI (https://docs.docker.com/engine/install/) and put `docker` on PATH' },
  KG801: { title: 'docker buildx plugin not found', hint: 'install buildx: the docker-buildx-plugin package (Docker\'s apt and yum repos), docker-buildx (Debian, Ubuntu), or a release from https://github.com/docker/buildx/releases saved as ~/.docker/cli-plugins/docker-buildx (chmod +x)' },
  KG802: { title: 'builder cannot build or push this', hint: 'the docker driver builds several platforms and pushes manifest lists only with the containerd image store: turn it on ({"features":{"containerd-snapshotter":true}} in daemon.json), or use another builder: docker buildx create --name kolla --driver docker-container --bootstrap, then --builder kolla' },
  KG803: { title: 'registry refused the push', hint: 'log in (docker login REGISTRY), check the registry of the refs (--registry, kolla-gen.yaml) and that it accepts pushes; a plain-HTTP registry other than localhost must be declared insecure to the builder (buildkitd.toml)' },
  KG804: { title: 'image failed to build', hint: 'read its log above, then rebuild it alone with kolla-gen build \'^IMAGE$\'' },
  KG805: { title: 'builder not found or not reachable', hint: 'check the builder name (docker buildx ls, --builder) and that the docker daemon runs (docker version)' },
  KG808: { title: 'cannot write a build result file', hint: 'check the path and permissions of --summary-json-file and --metadata-file' },
  KG820: { title: 'builder cannot store attestations', hint: 'the docker driver attaches provenance and SBOM attestations only with the containerd image store: turn it on ({"features":{"containerd-snapshotter":true}} in daemon.json), use a docker-container, remote or kubernetes builder (--builder), or set attest.provenance: false and attest.sbom: false in kolla-gen.yaml (docs/building.md, "Attestations")' },
  KG821: { title: 'network_mode not granted', hint: 'buildx before 0.18 ignores the bake files\' network (it would run every RUN in BuildKit\'s default network): install buildx 0.18 or later; a BuildKit builder of its own grants network.host only when its buildkitd allows it (docker buildx create --buildkitd-flags \'--allow-insecure-entitlement network.host\'); or remove network_mode from kolla-gen.yaml (docs/building.md, "The network of a RUN")' },
  // changes and the registry (--affected-since, --skip-existing, explain)
  KG900: { title: 'cannot read the revision', hint: 'run kolla-gen inside a git checkout and name a revision git knows (git rev-parse REF), e.g. origin/main; in CI fetch it first (actions/checkout with fetch-depth: 0)' },
  KG901: { title: 'the tree at the revision does not compile', hint: 'every image counts as affected; build once from a revision whose tree compiles' },
  KG902: { title: 'cannot ask the registry', hint: 'check that the registry is reachable and that you are logged in (docker login REGISTRY); with --skip-existing=warn kolla-gen builds everything instead' },
  KG903: { title: 'no such image', hint: 'name an image of the tree (kolla-gen list)' },
  KG904: { title: 'cannot tag an existing image', hint: 'kolla-gen copies the manifest of the content tag to each tag in the registry: check that you may push there (docker login REGISTRY)' },
  KG905: { title: 'an unaffected parent is not in the registry', hint: 'a child built on it by content tag would fail: add --skip-existing to build such parents too, or push them first (kolla-gen build --skip-existing --push)' },
  KG906: { title: 'cannot push the per-arch content tags', hint: 'the images are built and pushed under their tags; only the per-arch content tags (kg-<arch hash>) of a multi-arch image are missing, so a one-arch run with --skip-existing builds it again: check that you may push there (docker login REGISTRY)' },
  KG907: { title: 'images in the registry per arch only', hint: 'the registry holds each arch\'s image under its per-arch content tag but no manifest list of them: build with --push to make the lists (images built on them in this run need them)' },
} as const;

export type DiagnosticCode = keyof typeof CODES;

export interface SourceLocation {
  /** Path relative to the directory kolla-gen runs in. */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

export interface Diagnostic {
  code: DiagnosticCode;
  severity: Severity;
  message: string;
  location?: SourceLocation;
  /** The text of location.file, for the code frame. */
  source?: string;
  /** Overrides the code's default hint. */
  hint?: string;
  /** The variants (`ubuntu-binary-amd64`) a problem of a template hits: one report, not one per variant. */
  variants?: string[];
  /** Further places that take part (each FROM of a cycle, the other duplicate folder). */
  related?: { message: string; location?: SourceLocation; source?: string }[];
  /** Structured facts behind an `info` message, for --json. */
  data?: Record<string, unknown>;
  /** Printed on one line, its place first and no code frame: one of a list of like problems (ignored keys). */
  oneLine?: boolean;
}

export function error(code: DiagnosticCode, message: string, extra: Partial<Diagnostic> = {}): Diagnostic {
  return { code, severity: 'error', message, ...extra };
}

export function warning(code: DiagnosticCode, message: string, extra: Partial<Diagnostic> = {}): Diagnostic {
  return { code, severity: 'warning', message, ...extra };
}

export function info(code: DiagnosticCode, message: string, data?: Record<string, unknown>): Diagnostic {
  return { code, severity: 'info', message, ...(data ? { data } : {}) };
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** A user error that aborts a stage; the CLI prints its diagnostics and exits 1. */
export class UserError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => `${d.code}: ${d.message}`).join('\n'));
    this.name = 'UserError';
  }
}

/** Lines around `line` with a caret under `column`, as vite prints them. */
export function generateCodeFrame(source: string, line: number, column: number, context = 2): string {
  const lines = source.replace(/\r?\n$/, '').split(/\r?\n/);
  // An error at the very end (an unclosed bracket) points at the empty line after the last newline.
  while (lines.length < line) lines.push('');
  const start = Math.max(1, line - context);
  const end = Math.min(lines.length, line + context);
  const width = String(end).length;
  const out: string[] = [];
  for (let n = start; n <= end; n++) {
    const text = lines[n - 1] ?? '';
    out.push(`${n === line ? '>' : ' '} ${String(n).padStart(width)} | ${text}`);
    if (n === line) {
      const pad = text.slice(0, Math.max(0, column - 1)).replace(/[^\t]/g, ' ');
      out.push(`  ${' '.repeat(width)} | ${pad}^`);
    }
  }
  return out.join('\n');
}

function formatLocation(loc: SourceLocation): string {
  return `${loc.file}:${loc.line}:${loc.column}`;
}

/** The hint a diagnostic prints: its own, else its code's. */
export function hintOf(d: Diagnostic): string {
  return d.hint ?? CODES[d.code].hint;
}

export function formatDiagnostic(d: Diagnostic): string {
  return formatDiagnosticHinted(d, true);
}

/** `hint` false: leave the hint out (the CLI prints each hint once per run, with the first diagnostic giving it). */
export function formatDiagnosticHinted(d: Diagnostic, hint: boolean): string {
  if (d.severity === 'info') return `kolla-gen: ${d.message}`;
  if (d.oneLine) return [`${d.severity}[${d.code}]: ${d.location ? `${formatLocation(d.location)}: ` : ''}${d.message}`, ...(hint ? [`  hint: ${hintOf(d)}`] : [])].join('\n');
  const out = [`${d.severity}[${d.code}]: ${d.message}`];
  if (d.location) {
    out.push(`  --> ${formatLocation(d.location)}`);
    if (d.source !== undefined) out.push(generateCodeFrame(d.source, d.location.line, d.location.column));
  }
  if (d.variants && d.variants.length > 0) out.push(`  on ${d.variants.length === 1 ? 'variant' : `${d.variants.length} variants`}: ${d.variants.join(', ')}`);
  for (const r of d.related ?? []) {
    out.push(`  note: ${r.message}${r.location ? ` (${formatLocation(r.location)})` : ''}`);
    if (r.location && r.source !== undefined) out.push(generateCodeFrame(r.source, r.location.line, r.location.column, 0));
  }
  if (hint) out.push(`  hint: ${hintOf(d)}`);
  return out.join('\n');
}

export function diagnosticToJson(d: Diagnostic): Record<string, unknown> {
  const { source: _source, related, oneLine: _oneLine, ...rest } = d;
  return {
    ...rest,
    hint: d.hint ?? CODES[d.code].hint,
    ...(related ? { related: related.map(({ source: _s, ...r }) => r) } : {}),
  };
}
