# Sourced by kolla_start. With KOLLA_BOOTSTRAP set, migrate the API and cell databases and stop.
if [ -n "${KOLLA_BOOTSTRAP:-}" ]; then
    nova-manage api_db sync
    nova-manage db sync
    exit 0
fi
