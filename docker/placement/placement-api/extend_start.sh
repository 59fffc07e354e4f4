# Sourced by kolla_start. With KOLLA_BOOTSTRAP set, migrate the database and stop.
if [ -n "${KOLLA_BOOTSTRAP:-}" ]; then
    placement-manage db sync
    exit 0
fi
