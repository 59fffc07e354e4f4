# Sourced by kolla_start. With KOLLA_BOOTSTRAP set, migrate the database and stop.
if [ -n "${KOLLA_BOOTSTRAP:-}" ]; then
    cinder-manage db sync
    exit 0
fi
