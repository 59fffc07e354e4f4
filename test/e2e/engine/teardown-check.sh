#!/usr/bin/env bash
# Asserts that no e2e engine (test/e2e/engine/index.ts) has left anything on this machine: exit 0 and "clean",
# or exit 1 listing every leftover. It knows the engines' names: temp dirs <tmpdir>/kge2e-*, bridges kge2e-*,
# binfmt entries kolla-gen-e2e-*. Run it when no engine should be running (after the e2e suite).
#
#   test/e2e/engine/teardown-check.sh [CACHE_DIR]
#   test/e2e/engine/teardown-check.sh CACHE_DIR TEMP_DIR BRIDGE BINFMT_ENTRY   (only what that one engine made,
#                                           so that engines of other test runs alongside do not count)
set -uo pipefail

CACHE=${1:-${KOLLA_GEN_E2E_CACHE:-/var/cache/kolla-gen-e2e}}
TMP=${TMPDIR:-/tmp}
TMP=${TMP%/}
ONLY_TMP=${2:-}
ONLY_BRIDGE=${3:-}
ONLY_BINFMT=${4:-}
TMP_GLOB="$TMP/kge2e-"
[[ -n $ONLY_TMP ]] && TMP_GLOB=$ONLY_TMP
left=()

# processes: anything running from an engine's temp dir (dockerd, its containerd and shims, the registry), or a
# binary of the cache (dockerd, docker, buildx); zombies are dead and do not count
for proc in /proc/[0-9]*; do
  pid=${proc#/proc/}
  [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
  cmdline=$(tr '\0' ' ' 2>/dev/null <"$proc/cmdline") || continue
  [[ -n $cmdline ]] || continue
  exe=$(readlink "$proc/exe" 2>/dev/null || true)
  if [[ $cmdline == *"$TMP_GLOB"* || ( -z $ONLY_TMP && $exe == "$CACHE"/* ) ]]; then
    state=$(awk '{ sub(/^.*\) /, ""); print substr($0, 1, 1) }' "$proc/stat" 2>/dev/null)
    [[ $state == Z || $state == X || -z $state ]] && continue
    left+=("process $pid: $cmdline")
  fi
done

# bridges
while read -r name; do
  [[ -n $name ]] && left+=("bridge $name")
done < <(ip -o link show type bridge 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep "^${ONLY_BRIDGE:-kge2e-}" || true)
# and docker0, which the engine never creates
ip link show docker0 >/dev/null 2>&1 && left+=("bridge docker0 (dockerd without -b?)")

# binfmt entries
for entry in /proc/sys/fs/binfmt_misc/${ONLY_BINFMT:-kolla-gen-e2e-*}; do
  [[ -e $entry ]] && left+=("binfmt entry ${entry##*/}")
done

# mounts under an engine's temp dir
while read -r point; do
  [[ -n $point ]] && left+=("mount $point")
done < <(awk -v p="$TMP_GLOB" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo)

# temp dirs
for dir in "$TMP_GLOB"*; do
  [[ -e $dir ]] && left+=("temp dir $dir")
done

# the host dirs dockerd and containerd create whatever their flags, when no dockerd or containerd runs at all
if ! pgrep -x dockerd >/dev/null && ! pgrep -x containerd >/dev/null; then
  for dir in /run/docker/plugins /run/containerd/s /run/runc; do
    [[ -e $dir ]] && left+=("$dir (no dockerd or containerd runs)")
  done
fi

if ((${#left[@]})); then
  echo "teardown-check: ${#left[@]} leftover(s):"
  printf '  %s\n' "${left[@]}"
  exit 1
fi
echo "teardown-check: clean (no engine process, bridge, binfmt entry, mount or temp dir left)"
