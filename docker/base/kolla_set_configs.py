#!/usr/bin/env python3
"""Put a service's configuration in place before it starts (run as root: kolla_start calls it through sudo).

The deployment mounts a directory (default /var/lib/kolla/config_files) holding config.json and the files
it names:

    {
      "command": "keystone-wsgi-public --port 5000",
      "config_files": [
        {"source": "/var/lib/kolla/config_files/keystone.conf", "dest": "/etc/keystone/keystone.conf",
         "owner": "keystone", "perm": "0600"},
        {"source": "/var/lib/kolla/config_files/policy.d", "dest": "/etc/keystone/policy.d",
         "owner": "keystone:keystone", "perm": "0640", "merge": true},
        {"source": "/var/lib/kolla/config_files/extra/*.conf", "dest": "/etc/keystone/keystone.conf.d/",
         "owner": "keystone", "perm": "0600", "optional": true}
      ],
      "permissions": [{"path": "/var/log/kolla/keystone", "owner": "keystone:keystone", "recurse": true}]
    }

- command: written to /run_command, which kolla_start executes.
- config_files: each source (a file, a directory, or a glob) is copied to dest. A dest ending in "/", or a
  glob source, names a directory to copy into. owner is "user" or "user:group" (default: root); perm an
  octal mode given to every copied file (directories also get the execute bits the mode grants reading);
  a missing source is an error unless optional is true; merge copies a directory's contents into an
  existing dest instead of replacing dest.
- permissions: owner (and perm) set on existing paths, recursively when recurse is true.

Environment: KOLLA_CONFIG_FILE (the config.json), KOLLA_CONFIG_STRATEGY: COPY_ALWAYS (default, every start)
or COPY_ONCE (only the container's first start).
"""
import glob
import grp
import json
import os
import pwd
import shutil
import sys

CONFIG_FILE = os.environ.get("KOLLA_CONFIG_FILE", "/var/lib/kolla/config_files/config.json")
RUN_COMMAND = os.environ.get("KOLLA_RUN_COMMAND_FILE", "/run_command")
STAMP = os.environ.get("KOLLA_CONFIG_STAMP", "/var/lib/kolla/.configs_copied")


class ConfigError(Exception):
    pass


def ids(owner):
    """'user' or 'user:group' (names or numbers) -> (uid, gid); the group defaults to the user's."""
    user, _, group = (owner or "root").partition(":")
    try:
        entry = pwd.getpwuid(int(user)) if user.isdigit() else pwd.getpwnam(user)
    except KeyError:
        raise ConfigError("unknown user %r" % user)
    gid = entry.pw_gid
    if group:
        try:
            gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
        except KeyError:
            raise ConfigError("unknown group %r" % group)
    return entry.pw_uid, gid


def mode_of(perm):
    if perm is None:
        return None
    try:
        return int(str(perm), 8)
    except ValueError:
        raise ConfigError("perm %r is not an octal mode" % perm)


def set_attrs(path, uid, gid, mode, recurse=True):
    paths = [path]
    if recurse and os.path.isdir(path) and not os.path.islink(path):
        for root, dirs, files in os.walk(path):
            paths.extend(os.path.join(root, name) for name in dirs + files)
    for item in paths:
        os.lchown(item, uid, gid)
        if mode is not None and not os.path.islink(item):
            if os.path.isdir(item):
                # A directory is usable with a file mode: add x wherever the mode grants r.
                os.chmod(item, mode | ((mode & 0o444) >> 2))
            else:
                os.chmod(item, mode)


def remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.remove(path)


def copy(source, dest, merge):
    """Copies a file or a directory; without merge, whatever was at dest is replaced."""
    if os.path.isdir(source):
        if not merge:
            remove(dest)
        shutil.copytree(source, dest, symlinks=True, dirs_exist_ok=True)
    else:
        if os.path.isdir(dest) and not os.path.islink(dest):
            shutil.rmtree(dest)
        shutil.copy2(source, dest, follow_symlinks=False)


def copy_entry(entry):
    for key in ("source", "dest"):
        if not entry.get(key):
            raise ConfigError("config_files entry without %s: %r" % (key, entry))
    source, dest = entry["source"], entry["dest"]
    uid, gid = ids(entry.get("owner"))
    mode = mode_of(entry.get("perm"))
    merge = bool(entry.get("merge", False))
    pattern = glob.has_magic(source)
    sources = sorted(glob.glob(source)) if pattern else ([source] if os.path.lexists(source) else [])
    if not sources:
        if entry.get("optional", False):
            print("Skipping %s: not found, and optional" % source)
            return
        raise ConfigError("%s not found (set \"optional\": true to allow that)" % source)
    into_dir = pattern or dest.endswith("/")
    if into_dir:
        os.makedirs(dest, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(dest) or "/", exist_ok=True)
    for item in sources:
        target = os.path.join(dest, os.path.basename(item.rstrip("/"))) if into_dir else dest
        print("Copying %s to %s" % (item, target))
        copy(item, target, merge)
        set_attrs(target, uid, gid, mode)


def set_permissions(entry):
    path = entry.get("path")
    if not path:
        raise ConfigError("permissions entry without path: %r" % entry)
    uid, gid = ids(entry.get("owner"))
    mode = mode_of(entry.get("perm"))
    for item in sorted(glob.glob(path)) if glob.has_magic(path) else [path]:
        if not os.path.lexists(item):
            os.makedirs(item)
        print("Setting owner of %s" % item)
        set_attrs(item, uid, gid, mode, recurse=bool(entry.get("recurse", False)))


def main():
    strategy = os.environ.get("KOLLA_CONFIG_STRATEGY", "COPY_ALWAYS")
    if strategy not in ("COPY_ALWAYS", "COPY_ONCE"):
        raise ConfigError("KOLLA_CONFIG_STRATEGY must be COPY_ALWAYS or COPY_ONCE, not %r" % strategy)
    try:
        with open(CONFIG_FILE) as f:
            config = json.load(f)
    except FileNotFoundError:
        raise ConfigError("%s not found: mount the service's config_files directory" % CONFIG_FILE)
    except ValueError as e:
        raise ConfigError("%s is not valid JSON: %s" % (CONFIG_FILE, e))
    if not isinstance(config, dict) or not isinstance(config.get("command"), str) or not config["command"]:
        raise ConfigError("%s needs a \"command\" string" % CONFIG_FILE)

    if strategy == "COPY_ONCE" and os.path.exists(STAMP):
        print("COPY_ONCE: the configuration was copied at the first start; leaving it as it is")
    else:
        for entry in config.get("config_files", []):
            copy_entry(entry)
        for entry in config.get("permissions", []):
            set_permissions(entry)
        os.makedirs(os.path.dirname(STAMP), exist_ok=True)
        open(STAMP, "w").close()

    with open(RUN_COMMAND, "w") as f:
        f.write(config["command"])
    os.chmod(RUN_COMMAND, 0o644)


if __name__ == "__main__":
    try:
        main()
    except (ConfigError, OSError) as e:
        print("kolla_set_configs: %s" % e, file=sys.stderr)
        sys.exit(1)
