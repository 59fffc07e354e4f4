#!/bin/sh
# The entrypoint of every image (kolla_start): put the configuration in place (kolla_set_configs reads
# config.json and writes /run_command), run the image's hook, then exec the service in place of this shell.
set -eu

# The full path: sudo looks commands up in its secure_path, which on Rocky and CentOS leaves out /usr/local/bin.
if [ "$(id -u)" -eq 0 ]; then
    /usr/local/bin/kolla_set_configs
else
    sudo -E /usr/local/bin/kolla_set_configs
fi

CMD=$(cat /run_command)
ARGS=""

# The image's extend_start.sh, if any: it may bootstrap (KOLLA_BOOTSTRAP set) and exit, change CMD, or set
# ARGS, words appended to the command.
if [ -f /usr/local/bin/kolla_extend_start ]; then
    . /usr/local/bin/kolla_extend_start
fi

echo "Running command: '${CMD}${ARGS:+ $ARGS}'"
# Unquoted on purpose: the command line splits into words, as kolla's does.
# shellcheck disable=SC2086
exec ${CMD} ${ARGS}
