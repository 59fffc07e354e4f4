# Sourced by kolla_start. With KOLLA_BOOTSTRAP set, create or upgrade the database, set up the fernet and
# credential keys and the admin project, then stop. Otherwise the command of config.json runs.
if [ -n "${KOLLA_BOOTSTRAP:-}" ]; then
    keystone-manage db_sync
    keystone-manage fernet_setup --keystone-user keystone --keystone-group keystone
    keystone-manage credential_setup --keystone-user keystone --keystone-group keystone
    if [ -n "${KEYSTONE_ADMIN_PASSWORD:-}" ]; then
        keystone-manage bootstrap --bootstrap-password "${KEYSTONE_ADMIN_PASSWORD}" \
            ${KEYSTONE_PUBLIC_URL:+--bootstrap-public-url "${KEYSTONE_PUBLIC_URL}"} \
            ${KEYSTONE_REGION:+--bootstrap-region-id "${KEYSTONE_REGION}"}
    fi
    exit 0
fi
