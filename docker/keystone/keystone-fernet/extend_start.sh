# Sourced by kolla_start. The command (cron in the foreground) runs as root; the key directory belongs to keystone.
mkdir -p /etc/keystone/fernet-keys
chown keystone:keystone /etc/keystone/fernet-keys
chmod 0770 /etc/keystone/fernet-keys
