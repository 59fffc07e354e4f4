# Sourced by kolla_start. With KOLLA_BOOTSTRAP set, create the system tables and stop.
if [ -n "${KOLLA_BOOTSTRAP:-}" ]; then
    mariadb-install-db --user=mysql --datadir=/var/lib/mysql
    exit 0
fi
