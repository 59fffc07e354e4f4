# Sourced by kolla_start. Create the database at the first start (the volume is empty then).
db=/var/lib/openvswitch/conf.db
if [ ! -e "$db" ]; then
    mkdir -p "$(dirname "$db")"
    ovsdb-tool create "$db" /usr/share/openvswitch/vswitch.ovsschema
fi
