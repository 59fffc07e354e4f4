# Sourced by kolla_start. With KOLLA_BOOTSTRAP set, upgrade the database to the release's head and stop.
if [ -n "${KOLLA_BOOTSTRAP:-}" ]; then
    neutron-db-manage --config-file /etc/neutron/neutron.conf --config-file /etc/neutron/plugins/ml2/ml2_conf.ini upgrade head
    exit 0
fi
