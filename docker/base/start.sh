#!/bin/sh
# The entrypoint of every image: copy the config in, run the image's hook, exec the service.
set -eu

if [ "$(id -u)" -eq 0 ]; then
    kolla_set_configs
else
    sudo -E kolla_set_configs
fi

CMD=$(cat /run_command 2>/dev/null || true)

# extend_start.sh of the image, if any: it may bootstrap (KOLLA_BOOTSTRAP) and exit, or set CMD.
if [ -f /usr/local/bin/kolla_extend_start ]; then
    . /usr/local/bin/kolla_extend_start
fi

if [ -z "$CMD" ]; then
    echo "kolla_start: no command: write one in config_files/command" >&2
    exit 1
fi
echo "Running command: $CMD"
# Unquoted on purpose: the command line splits into words.
exec $CMD
