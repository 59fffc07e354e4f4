#!/usr/bin/env bash
# Provision the end-to-end engine from Debian packages alone (see test/e2e/engine/index.ts).
#
#   test/e2e/engine/provision.sh [CACHE_DIR]      (root; CACHE_DIR defaults to $KOLLA_GEN_E2E_CACHE or
#                                                  /var/cache/kolla-gen-e2e)
#
# 1. apt-get installs the host's (bookworm) packages the engine runs on: containerd, runc, docker-registry,
#    qemu-user-static, skopeo, iproute2 (apt-get update first only when a package has no candidate).
# 2. Downloads, with a PRIVATE apt configuration whose one source line reuses the URI and keyring of the
#    machine's Debian source with another suite, the .debs of two engines: the oldest supported one from trixie
#    (docker.io = dockerd 26, docker-cli, docker-buildx 0.13) with busybox-static (amd64 and arm64), into
#    CACHE_DIR/debs, and today's from forky (docker.io = dockerd 28.5, docker-cli, docker-buildx 0.29), into
#    CACHE_DIR/debs-forky. The machine's apt setup is not touched and nothing of either suite is installed: the
#    .debs are unpacked with dpkg -x, each engine into its own dir (CACHE_DIR/trixie, CACHE_DIR/forky).
# 3. Builds CACHE_DIR/rootfs-{amd64,arm64}.tar (busybox, its applet links, /tmp, a minimal /etc) for offline
#    base images: FROM scratch + ADD rootfs-<arch>.tar /.
# 4. Writes CACHE_DIR/paths.env (KEY=path lines) for the harness: DOCKERD, DOCKER and DOCKER_BUILDX are the
#    oldest engine's, TODAY_DOCKERD, TODAY_DOCKER and TODAY_DOCKER_BUILDX today's, the rest shared.
#
# Idempotent: every step checks what is already there, and a cached run only checks. Safe to run concurrently
# (a lock in CACHE_DIR). No host name of any mirror appears here: it is read from /etc/apt at run time.
set -Eeuo pipefail
umask 022

CACHE=${1:-${KOLLA_GEN_E2E_CACHE:-/var/cache/kolla-gen-e2e}}
BOOKWORM_PKGS=(containerd runc docker-registry qemu-user-static skopeo iproute2)
ENGINE_PKGS=(docker.io docker-cli docker-buildx) # host arch, unpacked into $CACHE/<suite>
ENGINE_SUITES=(trixie forky)                       # the oldest supported engine, today's
BUSYBOX_SUITE=trixie
BUSYBOX_ARCHES=(amd64 arm64)

STEP=init
log() { printf '[provision] %s\n' "$*"; }
die() {
  printf '[provision] FAILED in step "%s": %s\n' "$STEP" "$*" >&2
  exit 1
}
trap 'rc=$?; printf "[provision] FAILED in step \"%s\" (line %s, exit %s)\n" "$STEP" "$LINENO" "$rc" >&2' ERR

ms() { date +%s%3N; }
step() { # NAME FUNCTION: run one step, saying how long it took
  STEP=$1
  local t0
  t0=$(ms)
  log "step: $1"
  "$2"
  local dt=$(($(ms) - t0))
  log "step: $1: done in $((dt / 1000)).$(printf '%03d' $((dt % 1000)))s"
}

check_host() {
  [[ $(id -u) == 0 ]] || die "must run as root (it installs packages); run: sudo $0"
  HOST_ARCH=$(dpkg --print-architecture)
  [[ $HOST_ARCH == amd64 ]] || die "the engine is made for an amd64 host (arm64 runs under qemu); this host is $HOST_ARCH"
  for c in apt-get apt-cache dpkg dpkg-query flock tar; do
    command -v "$c" >/dev/null || die "missing command: $c"
  done
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.lock"
  flock 9
  log "cache dir: $CACHE"
}

# --- 1. host packages ---------------------------------------------------------------------------------------

POLICY_RC_CREATED=0
guard_services() { # packages such as docker-registry start their service on install: not here
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    POLICY_RC_CREATED=1
  fi
}
unguard_services() {
  if ((POLICY_RC_CREATED)); then rm -f /usr/sbin/policy-rc.d; POLICY_RC_CREATED=0; fi
}
trap unguard_services EXIT

host_packages() {
  local missing=() p
  for p in "${BOOKWORM_PKGS[@]}"; do
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) == installed ]] || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    log "  already installed: ${BOOKWORM_PKGS[*]}"
    return
  fi
  log "  to install: ${missing[*]}"
  local updated=0
  for p in "${missing[@]}"; do
    local policy
    policy=$(apt-cache policy "$p" 2>/dev/null || true)
    if ! grep -q 'Candidate: [^(]' <<<"$policy"; then
      log "  $p has no candidate: apt-get update"
      apt-get update -q
      updated=1
      break
    fi
  done
  guard_services
  local install=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}")
  if ! "${install[@]}"; then
    ((updated)) && die "apt-get install ${missing[*]} failed"
    log "  apt-get install failed: apt-get update and retry"
    apt-get update -q
    "${install[@]}" || die "apt-get install ${missing[*]} failed"
  fi
  unguard_services
}

# --- 2. each engine's .debs through a private apt configuration ----------------------------------------------------

# Prints "URI KEYRING" of the machine's Debian source for its own suite (deb822 .sources or one-line .list).
debian_source() {
  local codename
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [[ -n $codename ]] || die "no VERSION_CODENAME in /etc/os-release"
  local f found=""
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    found=$(awk -v suite="$codename" '
      function flush() {
        if (!done && types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && (" " comps " ") ~ / main / && enabled != "no" && uri != "")
          { print uri, (key == "" ? "-" : key); done = 1; exit }
        types = suites = comps = uri = key = enabled = ""
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      /^[ \t]/ { next }                                   # continuation lines (an inline key): ignored
      { name = tolower($1); sub(/:$/, "", name); $1 = ""; sub(/^[ \t]+/, ""); v = $0
        if (name == "types") types = v; else if (name == "suites") suites = v
        else if (name == "components") comps = v; else if (name == "enabled") enabled = tolower(v)
        else if (name == "uris") { split(v, a, " "); uri = a[1] }
        else if (name == "signed-by") { key = (v ~ /^\// ? v : "") } }
      END { flush() }' "$f")
    [[ -n $found ]] && break
  done
  if [[ -z $found ]]; then
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [[ -f $f ]] || continue
      found=$(awk -v suite="$codename" '
        $1 == "deb" {
          key = "-"; i = 2
          if ($2 ~ /^\[/) { while (i <= NF) { if ($i ~ /^\[?signed-by=/) { k = $i; sub(/^\[?signed-by=/, "", k); sub(/\]$/, "", k); key = k }
                                             if ($i ~ /\]$/) { i++; break } i++ } }
          if ($(i + 1) == suite) { print $i, key; exit }
        }' "$f")
      [[ -n $found ]] && break
    done
  fi
  [[ -n $found ]] || die "found no Debian source for suite $codename in /etc/apt/sources.list{,.d/}"
  local uri=${found% *} key=${found##* }
  [[ $key == - ]] && key=/usr/share/keyrings/debian-archive-keyring.gpg
  [[ -f $key ]] || die "keyring $key of the Debian source does not exist"
  echo "$uri $key"
}

debs_dir() { # SUITE -> where its .debs are kept (trixie's in debs/, as before forky joined)
  if [[ $1 == trixie ]]; then echo "$CACHE/debs"; else echo "$CACHE/debs-$1"; fi
}

# The .debs wanted from SUITE, as "name:arch" (apt-get download syntax).
wanted_debs() {
  local p a
  for p in "${ENGINE_PKGS[@]}"; do echo "$p:$HOST_ARCH"; done
  if [[ $1 == "$BUSYBOX_SUITE" ]]; then
    for a in "${BUSYBOX_ARCHES[@]}"; do echo "busybox-static:$a"; done
  fi
}
deb_file() { # SUITE name:arch -> path of its cached .deb, or nothing
  local name=${2%:*} arch=${2#*:}
  compgen -G "$(debs_dir "$1")/${name}_*_${arch}.deb" | sort | tail -n 1 || true
}

download_debs() { # SUITE
  local suite=$1 dir missing=() d
  dir=$(debs_dir "$suite")
  while read -r d; do [[ -n $(deb_file "$suite" "$d") ]] || missing+=("$d"); done < <(wanted_debs "$suite")
  if ((${#missing[@]} == 0)); then
    log "  cached ($suite): $(cd "$dir" && echo *.deb)"
    return
  fi
  log "  to download ($suite): ${missing[*]}"
  local src uri key
  src=$(debian_source)
  uri=${src% *} key=${src#* }
  local apt=$CACHE/apt-$suite
  rm -rf "$apt"
  mkdir -p "$apt/etc" "$apt/lists/partial" "$apt/cache/archives/partial" "$dir"
  echo "deb [signed-by=$key] $uri $suite main" >"$apt/etc/sources.list"
  log "  private apt source: $(cat "$apt/etc/sources.list")"
  local opts=(
    -o "Dir::Etc::SourceList=$apt/etc/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
    -o "APT::Architecture=$HOST_ARCH" -o "APT::Architectures::=$HOST_ARCH" -o APT::Architectures::=arm64
    -o APT::Sandbox::User=root
  )
  apt-get -q "${opts[@]}" update
  local part
  part=$(mktemp -d "$dir/.partial.XXXXXX")
  (cd "$part" && apt-get -q "${opts[@]}" download "${missing[@]}") || { rm -rf "$part"; die "apt-get download ${missing[*]} ($suite) failed"; }
  mv "$part"/*.deb "$dir/"
  rmdir "$part"
  rm -rf "$apt" # only the .debs are kept: the indexes are 20 MB and stale tomorrow
}

download_all_debs() {
  local suite
  for suite in "${ENGINE_SUITES[@]}"; do download_debs "$suite"; done
}

unpack() { # DIR DEB...: dpkg -x the .debs into DIR, unless DIR already holds exactly them
  local dir=$1
  shift
  local want
  want=$(for d in "$@"; do basename "$d"; done)
  if [[ -f $dir/.unpacked && $(cat "$dir/.unpacked") == "$want" ]]; then
    log "  cached: $dir"
    return
  fi
  rm -rf "$dir" "$dir.tmp"
  mkdir -p "$dir.tmp"
  local d
  for d in "$@"; do
    log "  dpkg -x $(basename "$d") $dir"
    dpkg -x "$d" "$dir.tmp"
  done
  echo "$want" >"$dir.tmp/.unpacked"
  mv "$dir.tmp" "$dir"
}

unpack_debs() {
  local suite p a
  for suite in "${ENGINE_SUITES[@]}"; do
    local debs=()
    for p in "${ENGINE_PKGS[@]}"; do debs+=("$(deb_file "$suite" "$p:$HOST_ARCH")"); done
    unpack "$CACHE/$suite" "${debs[@]}"
  done
  for a in "${BUSYBOX_ARCHES[@]}"; do unpack "$CACHE/busybox-$a" "$(deb_file "$BUSYBOX_SUITE" "busybox-static:$a")"; done
}

# --- 3. rootfs tars -----------------------------------------------------------------------------------------

find_busybox() { # ARCH -> the busybox binary unpacked for it
  local b
  for b in "$CACHE/busybox-$1/usr/bin/busybox" "$CACHE/busybox-$1/bin/busybox"; do
    [[ -f $b ]] && { echo "$b"; return; }
  done
  die "no busybox binary in $CACHE/busybox-$1"
}

build_rootfs() {
  local a native
  native=$(find_busybox "$HOST_ARCH")
  for a in "${BUSYBOX_ARCHES[@]}"; do
    local tar=$CACHE/rootfs-$a.tar bb
    bb=$(find_busybox "$a")
    if [[ -f $tar && $tar -nt $bb && $tar -nt ${BASH_SOURCE[0]} ]]; then
      log "  cached: $tar"
      continue
    fi
    local dir
    dir=$(mktemp -d "$CACHE/.rootfs-$a.XXXXXX")
    chmod 755 "$dir"
    mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,var/tmp,proc,sys,dev}
    chmod 1777 "$dir/tmp" "$dir/var/tmp"
    chmod 700 "$dir/root"
    install -m 755 "$bb" "$dir/bin/busybox"
    # The equivalent of `busybox --install -s`, without running a foreign binary: the applet list is the same
    # for every arch of one Debian build, so the native busybox lists it.
    local applet n=0
    while read -r applet; do
      [[ -z $applet || $applet == bin/busybox || $applet == usr/bin/busybox ]] && continue
      mkdir -p "$dir/$(dirname "$applet")"
      ln -sfn /bin/busybox "$dir/$applet"
      n=$((n + 1))
    done < <("$native" --list-full)
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$dir/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
    printf '127.0.0.1\tlocalhost\n' >"$dir/etc/hosts"
    echo "$a" >"$dir/etc/kolla-gen-e2e-rootfs"
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$dir" -cf "$tar.tmp" .
    mv "$tar.tmp" "$tar"
    rm -rf "$dir"
    log "  built $tar (busybox + $n applet links, $(du -h "$tar" | cut -f1))"
  done
}

# --- 4. paths for the harness -------------------------------------------------------------------------------

buildx_of() { # DIR -> the buildx plugin unpacked there
  find "$1" -path '*/cli-plugins/docker-buildx' -type f | head -n 1
}

write_paths() {
  local t=$CACHE/trixie f=$CACHE/forky
  local -A paths=(
    [DOCKERD]=$t/usr/sbin/dockerd
    [DOCKER]=$t/usr/bin/docker
    [DOCKER_BUILDX]=$(buildx_of "$t")
    [TODAY_DOCKERD]=$f/usr/sbin/dockerd
    [TODAY_DOCKER]=$f/usr/bin/docker
    [TODAY_DOCKER_BUILDX]=$(buildx_of "$f")
    [CONTAINERD]=$(command -v containerd || true)
    [RUNC]=$(command -v runc || true)
    [REGISTRY]=$(command -v docker-registry || true)
    [QEMU_AARCH64]=$(command -v qemu-aarch64-static || true)
    [SKOPEO]=$(command -v skopeo || true)
    [IP]=$(command -v ip || true)
    [ROOTFS_AMD64]=$CACHE/rootfs-amd64.tar
    [ROOTFS_ARM64]=$CACHE/rootfs-arm64.tar
  )
  local k out=""
  for k in DOCKERD DOCKER DOCKER_BUILDX TODAY_DOCKERD TODAY_DOCKER TODAY_DOCKER_BUILDX CONTAINERD RUNC REGISTRY QEMU_AARCH64 SKOPEO IP ROOTFS_AMD64 ROOTFS_ARM64; do
    [[ -n ${paths[$k]} && -e ${paths[$k]} ]] || die "$k not found after provisioning (${paths[$k]:-no path})"
    out+="$k=${paths[$k]}"$'\n'
  done
  printf '%s' "$out" >"$CACHE/paths.env.tmp"
  mv "$CACHE/paths.env.tmp" "$CACHE/paths.env"
  log "  oldest: $("${paths[DOCKERD]}" --version), buildx $("${paths[DOCKER_BUILDX]}" version | awk '{print $2}')"
  log "  today:  $("${paths[TODAY_DOCKERD]}" --version), buildx $("${paths[TODAY_DOCKER_BUILDX]}" version | awk '{print $2}')"
  log "  containerd $(containerd --version | awk '{print $3}'), runc $(runc --version | awk 'NR==1{print $3}')"
  log "  wrote $CACHE/paths.env"
}

T0=$(ms)
step "check host" check_host
step "host packages (apt-get install)" host_packages
step "download the engines' .debs (private apt config)" download_all_debs
step "unpack .debs (dpkg -x)" unpack_debs
step "build rootfs tars" build_rootfs
step "write paths.env" write_paths
DT=$(($(ms) - T0))
log "provisioned in $((DT / 1000)).$(printf '%03d' $((DT % 1000)))s"
