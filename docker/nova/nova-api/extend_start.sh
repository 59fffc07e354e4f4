# Sourced by kolla_start. With KOLLA_BOOTSTRAP set, migrate the API databases and stop.
if [ -n "${KOLLA_BOOTSTRAP:-}" ]; then
    nova-manage api_db sync
    nova-manage db sync
    exit 0
fi
