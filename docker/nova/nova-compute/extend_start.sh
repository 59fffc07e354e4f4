# Sourced by kolla_start. Instances live on a volume that may be new, and empty.
mkdir -p /var/lib/nova/instances
