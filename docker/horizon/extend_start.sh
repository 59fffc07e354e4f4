# Sourced by kolla_start. Apache starts as root and drops to its own user, so no USER here.
# Static files are collected at start: the mounted local_settings decides what they are.
django-admin collectstatic --noinput --clear --settings=openstack_dashboard.settings
django-admin compress --force --settings=openstack_dashboard.settings
