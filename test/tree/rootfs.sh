#!/usr/bin/env bash
# What the tree's real build (test/tree) needs besides the e2e engine:
#
#   test/tree/rootfs.sh CACHE_DIR      (root)
#
# - CACHE_DIR/debian-12-rootfs.tar: a Debian 12 (bookworm) base image's rootfs, made with debootstrap from the
#   machine's own Debian source, read from /etc/apt at run time (no host name is written in the repo);
#   installs debootstrap if it is missing;
# - CACHE_DIR/tinyproxy/usr/bin/tinyproxy: bookworm's tinyproxy-bin (and tinyproxy, for its error pages),
#   downloaded and unpacked with dpkg -x, not installed (installing would start a proxy service on the machine).
# Idempotent: a cached run only checks that both are there.
set -Eeuo pipefail
umask 022
CACHE=${1:?usage: rootfs.sh CACHE_DIR}
OUT=$CACHE/debian-12-rootfs.tar
log() { printf '[rootfs] %s\n' "$*"; }

mkdir -p "$CACHE"

PROXY=$CACHE/tinyproxy/usr/bin/tinyproxy
if [ ! -x "$PROXY" ] || [ ! -f "$CACHE/tinyproxy/usr/share/tinyproxy/default.html" ]; then
    log "downloading tinyproxy-bin"
    dl=$(mktemp -d "$CACHE/download.XXXXXX")
    (cd "$dl" && apt-get download -qq tinyproxy tinyproxy-bin >/dev/null 2>&1) \
        || { apt-get update -qq && (cd "$dl" && apt-get download -qq tinyproxy tinyproxy-bin >/dev/null); }
    rm -rf "$CACHE/tinyproxy"
    for deb in "$dl"/*.deb; do dpkg -x "$deb" "$CACHE/tinyproxy"; done
    rm -rf "$dl"
    [ -x "$PROXY" ] || { echo "[rootfs] no $PROXY in tinyproxy-bin" >&2; exit 1; }
fi

if [ -s "$OUT" ]; then
    log "cached: $OUT, $PROXY"
    exit 0
fi

if ! command -v debootstrap >/dev/null; then
    log "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null \
        || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; }
fi

# The first URI of a source for the suite bookworm that is not the security archive (deb822 or one-line form).
mirror=$(
    {
        awk 'BEGIN { RS = ""; FS = "\n" }
             /(^|\n)Suites:[^\n]*(^| )bookworm( |\n|$)/ {
                 for (i = 1; i <= NF; i++) if ($i ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", $i); split($i, u, " "); print u[1] }
             }' /etc/apt/sources.list.d/*.sources 2>/dev/null
        awk '$1 == "deb" && $0 ~ / bookworm / { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' \
            /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
    } | grep -v -- '-security' | head -n 1 || true
)
[ -n "$mirror" ] || { echo "[rootfs] found no bookworm source in /etc/apt" >&2; exit 1; }

work=$(mktemp -d "$CACHE/debootstrap.XXXXXX")
trap 'rm -rf --one-file-system "$work"' EXIT
log "debootstrap --variant=minbase bookworm from the machine's mirror"
debootstrap --variant=minbase bookworm "$work/root" "$mirror" >"$work/log" 2>&1 \
    || { tail -n 30 "$work/log" >&2; exit 1; }
# As Debian's own images: no apt caches or lists, no machine id.
rm -rf "$work/root/var/lib/apt/lists/"* "$work/root/var/cache/apt/"*.bin "$work/root/var/cache/apt/archives/"*.deb
: > "$work/root/etc/machine-id"
tar -C "$work/root" --numeric-owner -cf "$OUT.tmp" .
mv "$OUT.tmp" "$OUT"
log "wrote $OUT ($(du -h "$OUT" | cut -f1))"
