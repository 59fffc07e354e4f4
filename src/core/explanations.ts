// The long explanation of a diagnostic code, as `kolla-gen help KG402` prints it (rustc --explain's idea): what
// happened, why kolla-gen refuses it, and how to fix it, with an example. Kept beside CODES, keyed by its codes, so
// that the one list stays one line per code; a code without an entry here prints its title and hint alone.
import type { DiagnosticCode } from './diagnostics.js';

export const EXPLANATIONS: Partial<Record<DiagnosticCode, string>> = {
  KG100: `The config file named by -c/--config does not exist. Without -c, kolla-gen reads the kolla-gen.yaml it
finds in the directory it runs in or the nearest folder above (up to the git top-level), and runs from that
folder; it uses its defaults when there is none. With -c, a missing file is an error, so that a typo in CI
does not build with the defaults.`,
  KG102: `A value of kolla-gen.yaml has the wrong shape: an unknown key (often a typo: kolla-gen says which key it
expected), a value of the wrong type, or an unbuildable key that is not a base, an arch or base+arch.

    unbuildable:
      arm64: [some-x86-only-image]      # by arch
      rocky+arm64: [another]            # by base and arch

Every key is described in docs/configuration.md.`,
  KG104: `A base, install type or arch given on the command line (-b, -t, -a) or in kolla-gen.yaml is not one kolla-gen
knows. Bases are ubuntu, debian, rocky and centos; arches amd64 and arm64 (kolla-build's x86_64 and aarch64 are
accepted too); install types are those the config declares under \`types:\` (a tree may have none).`,
  KG200: `A docker dir given with -D/--docker-dir (or docker_dirs in kolla-gen.yaml) does not exist. Paths on the
command line are relative to the directory kolla-gen runs in; paths in kolla-gen.yaml to the config file.
With no kolla-gen.yaml here or above and no docker/, this is probably not an ops repo yet: \`kolla-gen init\`
starts one, -c names a config elsewhere.`,
  KG201: `Two folders in the docker dirs hold a Dockerfile.j2 and have the same name. An image is named after its
folder, wherever the folder is, so docker/nova/nova-api and docker/extra/nova-api are both "nova-api".
Rename one. To replace an image of one docker dir from another, give the same relative path in both
(-D docker -D site: site/nova/nova-api/Dockerfile.j2 replaces docker/nova/nova-api/Dockerfile.j2).`,
  KG202: `No folder under the docker dirs holds a Dockerfile.j2. An image is a folder holding Dockerfile.j2; its
other files are its build context. A Dockerfile.j2 at the root of a docker dir is not an image.`,
  KG220: `BuildKit would stop the build on this .dockerignore pattern. kolla-gen reads ignore files exactly as
BuildKit does (docs/security.md, "Ignore files"), so it refuses, at the pattern's line and column, what BuildKit
rejects when it sends the context: an escape such as \`esc\\1.txt\` (BuildKit turns the pattern into a Go
regular expression, where \`\\1\` is an error), a \`[\` never closed, \`[]\`, a range without an end
(\`[a-]\`) or written backwards (\`[z-a]\`), and \`!\` or \`!/\` alone. Write \`esc1.txt\`, close the class,
or remove the line.`,
  KG221: `BuildKit accepts this .dockerignore pattern but reads part of it as Go regular-expression syntax: \`\\d\`
is any digit, \`\\t\` a tab, \`\\pL\` any letter, \`[[:alpha:]]\` a POSIX class, a \`*\` inside \`[...]\`
becomes a nested class, and a \`^\` in a pattern with wildcards means "start of the name", so the pattern
never matches. No reader of the file expects that, and kolla-gen's content hash must cover exactly what the
build is sent, so kolla-gen refuses the pattern. Write it with plain characters, \`*\`, \`?\`, \`**\` and
\`[a-z]\` classes (\`\\^\` for a plain caret).`,
  KG300: `The template does not parse as Jinja: an unclosed block or expression, a tag kolla-gen does not know, or a
stray character. The position points into your template. kolla-gen follows Jinja2 3.x's grammar, so a
template that kolla-build renders parses here too.`,
  KG301: `The template parsed but failed while rendering: an undefined variable used where a value is needed, a
call of something that is not a function, a filter given the wrong arguments. The position points at the
expression. Variables come from kolla-gen's context (docs/templates.md), the config's \`vars\` and --vars
files; under --preset kolla, from kolla-build's context.`,
  KG302: `The template tried to reach something outside its variables: a constructor, a prototype, \`process\`,
\`require\`, the environment, or a file. Templates render in a sandbox, as kolla-build's Jinja2 sandbox
does, so that CI can render a pull request's templates safely; nothing ran. Pass environment variables
explicitly with --pass-env NAME (the template reads env.NAME).`,
  KG303: `An import, include or extends names a template kolla-gen cannot find. Names resolve from the root of the
docker dirs, so \`{% import "macros.j2" as macros %}\` reads <docker dir>/macros.j2 whatever folder the
importing template is in.`,
  KG400: `A rendered Dockerfile has no FROM line, so it has no base and no parent. Often a Jinja condition left the
FROM out for one variant: kolla-gen renders every (image, variant), so look at the variant named in the
message.`,
  KG401: `A FROM line does not read as BuildKit reads it. The form is

    FROM [--platform=<platform>] <image> [AS <name>]

after ARG expansion; an ARG used in FROM must be declared before the first FROM to have a value there.`,
  KG402: `A FROM names an image with the tree's own registry, namespace and tag, but no image of the tree has that
name, so it can be neither a parent (built in the same run) nor an external base (pulled). Usually a typo
in the image's name, or a parent that is not in the docker dirs given: kolla-gen says which image it
thinks you meant.

    FROM {{ namespace }}/{{ image_prefix }}bsae:{{ tag }}     # error: no image "bsae"
    FROM {{ namespace }}/{{ image_prefix }}base:{{ tag }}     # the parent image "base"

An image meant to come from elsewhere needs another ref (another namespace or tag).`,
  KG500: `Images form a cycle through their FROM lines: each is an ancestor of the next, so none can be built first.
The message names every image on the cycle and the FROM line of each; change one FROM to break it.`,
  KG600: `A regex given as an argument (or in a profile) is not a valid JavaScript regular expression. Regexes are
searched anywhere in the image's name, as kolla-build searches them: \`nova\` matches nova-api, \`^nova-api$\`
only nova-api.`,
  KG601: `-p/--profile names a profile kolla-gen.yaml does not define. Profiles are lists of regexes under
\`profiles:\`; under --preset kolla, kolla-build's own profiles (infra, main, aux, default) are defined too.`,
  KG602: `Some variants select no image while others do (what the regexes or profiles match is unbuildable there,
or skipped by --skip-parents), or --affected-since found nothing changed since the revision. This is a
warning: the output holds no targets for those variants, or none at all when nothing is affected (a
legitimate answer: there is nothing to build). kolla-gen explain IMAGE says why one image is or is not built.`,
  KG605: `The selection (the regexes, the profiles, or every image) selects no image on any variant of the run. It
is an error, not an empty output: a typo in a regex must not remove every file of the output dir. generate
writes nothing, check, list and build stop; explain says why each variant leaves the image out.

    kolla-gen generate 'nova-apii$'      # error: no image of the tree matches 'nova-apii$'
    kolla-gen generate 'nova-api$'       # did you mean nova-api?

The cause is named: no image matches the regexes (with the nearest image name), every image they match is
unbuildable on the variants of the run (-b, -a, --enable-unbuildable), or --skip-parents skips them all.
--affected-since finding nothing changed is not this error but a KG602 warning.`,
  KG606: `One of several regexes matches no image of the tree, while the others select images: those are built, and
the regex is probably a typo (kolla-gen names the nearest image). Regexes are searched anywhere in the name.`,
  KG604: `Two targets push the same ref: typically a tree without install types built for several bases, whose
images are all named kolla/<image>:<tag>, so the ubuntu and debian builds overwrite each other. Put the
variant into the tag or the prefix:

    tag: "2026.1-{base}"            # kolla/nova-api:2026.1-ubuntu
    image_name_prefix: "{base}-"    # kolla/ubuntu-nova-api:2026.1`,
  KG700: `The output dir holds files kolla-gen did not write (it has no kolla-gen manifest.json). kolla-gen replaces its
output dir whole, removing the files it no longer produces, so it refuses to take over a dir that may hold
your own files. Point -o at a new dir, or at one kolla-gen wrote.`,
  KG710: `Only kolla-gen generate writes the output dir. kolla-gen build bakes the generation the output dir holds
when it is what the build's options make (regexes aside) and defines the selected targets as the build would.
When it is stale, or was made with other options (another --tag, --base, --skip-parents...), build says so,
writes a private generation into a temp dir, bakes that, and removes it: the committed files stay byte for byte.
When the output dir is stale, run kolla-gen generate (kolla-gen.yaml's options) and commit. When it is up to date
and only the build's own flags differ (CI's per-arch builds pass --content-tags=only, --cache-ref and the like),
the private generation is expected: regenerating with those flags would fail a plain check (KG713); put them into
kolla-gen.yaml instead if the committed generation should carry them.`,
  KG711: `No longer reported. kolla-gen check once checked with the options a manifest.json recorded; a pull request
can edit that file, so no command reads options from it any more: check uses kolla-gen.yaml and its own flags.`,
  KG713: `kolla-gen.yaml is the whole truth of a generation: every option that changes the output has a key there, and
check, generate, build, list and explain run with no flags use those options and nothing else. A flag is a one-off for
one run. The output dir was made with options this check does not use (a flag such as --template-override or
--registry, another config file, or --affected-since), so it does not pass. The message names the kolla-gen.yaml lines
that make the config hold those options (then every command agrees on them), or regenerate with the config's:

    kolla-gen generate --template-override o.j2   # a one-off: check then fails with KG713
    template_override: [o.j2]                     # in kolla-gen.yaml: generate, check, build agree

A plain generate replaces such output with the config's and says so with this code as a warning, naming the same
lines (to keep those options, put them into kolla-gen.yaml and generate again). The lines come from the options
manifest.json records, which are only shown: no command reads a file, a variable or a registry that manifest.json
names.`,
  KG740: `kolla-gen init --preset kolla reads the kolla checkout -D names: the docker dir of its release, its branch,
its profiles and, beside the repo, the commit CI must check out. There is no kolla/common/config.py at -D, its
parent or its grandparent, so there is no checkout to read. Get upstream first, then run init again:

    git submodule add -b stable/2025.2 https://opendev.org/openstack/kolla kolla   # recommended: git pins it
    kolla-gen init --preset kolla -D kolla --registry registry.example

or, beside the repo: git clone https://opendev.org/openstack/kolla ../kolla, then -D ../kolla.`,
  KG741: `-D names a dir of a kolla checkout that is not the docker dir of its release. Master keeps the templates in
kolla/docker, stable and unmaintained branches in docker (a stable checkout has no kolla/docker, so kolla-gen would
find no docker dir later, KG200). Pass the dir the message names, or the checkout itself: init then finds it.`,
  KG742: `The docker dir lies beside the repo, outside it: CI must check out that same tree at the same commit, since
generated/ names it (base's kolla_version label). init records the checkout's origin URL and commit in
kolla-gen.yaml (upstream:), and the workflow it writes checks out exactly that commit. Here the commit (no git
checkout) or the origin (no remote) cannot be read. Make it a clone of upstream, or use a submodule instead.`,
  KG743: `The checkout lies inside the repo, but the repo does not record it as a submodule, so a clone of the repo (CI's)
does not have it unless its files are committed. A submodule pins upstream's commit in git itself:
git submodule add https://opendev.org/openstack/kolla kolla.`,
  KG744: `Without a registry, image refs are kolla/<image>:<tag>: a push goes to Docker Hub under the namespace kolla,
which is upstream's, not yours. init writes --registry to kolla-gen.yaml (registry:), so that generated/ names it,
and to the workflows (REGISTRY in images.yml and refresh-bases.yml), which log in to it. Without --registry, set them
by hand before the first push.`,
  KG745: `kolla-gen.yaml pins the upstream checkout beside the repo (upstream: { url, commit }), and the workflow kolla-gen
init wrote checks out exactly that commit. The checkout here is at another commit, so what generate writes now
(base's kolla_version label, and whatever else changed upstream) is not what CI renders, and its check fails. Either
check the pinned commit out, or bump: move upstream.commit to the checkout's commit and commit it with the new
generated/ in one pull request (docs/ops-repo.md, "Bumping upstream").`,
  KG701: `kolla-gen check found that the output dir differs from what generate would write now: a file is stale,
missing or extra. The templates, kolla-gen.yaml or the options changed since generated/ was written.
check names each such file on a line of its own (\`stale   generated/debian/nova-api/Dockerfile\`), then this one
error; \`kolla-gen check --diff\` prints the unified diff of what generate would change (what a reviewer reads when
CI fails), and \`--json\` gives each file with its state. Run kolla-gen generate and commit the result. check with no flags uses kolla-gen.yaml's options and nothing else
(never the options manifest.json records): output made with a flag also fails with KG713, which names the lines.`,
  KG800: `kolla-gen build runs docker buildx bake and found no \`docker\` on PATH. Install the docker CLI; compiling
(generate, check, list, deps) needs no docker.`,
  KG801: `docker is there but its buildx plugin is not. Install the docker-buildx-plugin package (Docker's repos),
docker-buildx (Debian, Ubuntu), or a release binary saved as ~/.docker/cli-plugins/docker-buildx.`,
  KG802: `The builder cannot build or push what was asked, typically the \`docker\` driver without the containerd image
store, which cannot hold several platforms in one image. Turn the store on in daemon.json
({"features":{"containerd-snapshotter":true}}), or make a docker-container builder:

    docker buildx create --name kolla --driver docker-container --bootstrap
    kolla-gen build --builder kolla …`,
  KG804: `An image failed to build. kolla-gen isolates failures (bake cancels every target when one fails): it bakes
again in smaller batches until the failing target is alone, tries it --retries more times, and builds
everything that does not depend on it. The message has bake's error; rebuild the image alone with
kolla-gen build '^IMAGE$' to see its whole log.`,
  KG900: `--affected-since REV compares with the tree as it was at the git revision REV, and git cannot give it: not
in a git checkout, or a revision git does not know. In CI, fetch the history first (actions/checkout with
fetch-depth: 0) and name the base as origin/<branch>.`,
  KG902: `--skip-existing asks the registry whether each image's content tag exists, and the registry could not be
asked (unreachable, or it refused the credentials). Nothing was built, so that a registry outage does not
turn into a full rebuild; --skip-existing=warn builds everything instead.`,
};
