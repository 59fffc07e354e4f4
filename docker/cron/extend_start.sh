# Sourced by kolla_start. logrotate's state lives on the log volume, which may be new.
mkdir -p /var/log/kolla
