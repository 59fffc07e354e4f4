#!/bin/sh
# Copies the service's config files into place before it starts (run as root, via sudo).
#
# $KOLLA_CONFIG_DIR (default /var/lib/kolla/config_files) is mounted from the host and holds:
#   command       the service's command line, written to /run_command for kolla_start
#   config.list   one file a line: SOURCE DEST [OWNER[:GROUP]|- [MODE]]; SOURCE relative to
#                 the dir unless absolute; "-" keeps the owner; # comments and blank lines skipped
# KOLLA_CONFIG_STRATEGY=COPY_ONCE copies only at the container's first start (COPY_ALWAYS: every start).
set -eu

dir=${KOLLA_CONFIG_DIR:-/var/lib/kolla/config_files}
stamp=/var/lib/kolla/.configs_copied

if [ "${KOLLA_CONFIG_STRATEGY:-COPY_ALWAYS}" = COPY_ONCE ] && [ -e "$stamp" ]; then
    exit 0
fi

if [ -f "$dir/config.list" ]; then
    while read -r src dest owner mode; do
        case $src in '' | '#'*) continue ;; esac
        case $src in /*) ;; *) src=$dir/$src ;; esac
        echo "Copying $src to $dest"
        mkdir -p "$(dirname "$dest")"
        rm -rf "$dest"
        cp -a "$src" "$dest"
        if [ -n "$owner" ] && [ "$owner" != - ]; then chown -R "$owner" "$dest"; fi
        if [ -n "$mode" ]; then chmod "$mode" "$dest"; fi
    done < "$dir/config.list"
fi

if [ -f "$dir/command" ]; then
    cp "$dir/command" /run_command
    chmod 0644 /run_command
fi
touch "$stamp"
