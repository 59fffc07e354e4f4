# Sourced by kolla_start. With KOLLA_BOOTSTRAP set, migrate the database and stop.
if [ -n "${KOLLA_BOOTSTRAP:-}" ]; then
    glance-manage db_sync
    exit 0
fi
