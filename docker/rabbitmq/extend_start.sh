# Sourced by kolla_start. The Erlang cookie, if the deployment gives one, must be private to rabbitmq.
if [ -n "${RABBITMQ_ERLANG_COOKIE:-}" ]; then
    printf '%s' "${RABBITMQ_ERLANG_COOKIE}" > /var/lib/rabbitmq/.erlang.cookie
    chmod 0400 /var/lib/rabbitmq/.erlang.cookie
fi
