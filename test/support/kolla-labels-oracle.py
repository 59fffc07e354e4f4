# The labels an upstream kolla-build gives images at build time, computed by that release's own code (the checkout
# on PYTHONPATH), for kolla-gen's tests to compare with. It holds no upstream code: it drives the release's
# KollaWorker and BuildTask, with the clock fixed to SOURCE_DATE_EPOCH and an engine that builds nothing.
#
# usage: SOURCE_DATE_EPOCH=N TZ=UTC PBR_VERSION=x python3 kolla-labels-oracle.py IMAGE[,IMAGE...] [kolla-build args...]
# prints {"<image>": {"<label>": "<value>", ...}, ...} as JSON.
import datetime
import json
import os
import sys
import types

from oslo_config import cfg

from kolla.common import config as common_config
from kolla.image import kolla_worker
from kolla.image import tasks

EPOCH = int(os.environ.get('SOURCE_DATE_EPOCH', '0'))


class FixedClock(datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        at = datetime.datetime.fromtimestamp(EPOCH, datetime.timezone.utc)
        # kolla-build asks for local time without a zone; the oracle runs with TZ=UTC.
        return at if tz is not None else at.replace(tzinfo=None)


fixed = types.SimpleNamespace(datetime=FixedClock, timezone=datetime.timezone)
kolla_worker.datetime = fixed
tasks.datetime = fixed


class NoEngine:
    """Stands for the container engine: a build is refused after the labels are set."""

    class images:
        @staticmethod
        def build(*args, **kwargs):
            raise RuntimeError('the labels oracle builds nothing')


wanted = sys.argv[1].split(',')
conf = cfg.ConfigOpts()
common_config.parse(conf, ['--template-only'] + sys.argv[2:], prog='kolla-build')
worker = kolla_worker.KollaWorker(conf)
worker.setup_working_dir()
worker.find_dockerfiles()
worker.docker_build_paths = [p for p in worker.docker_build_paths if os.path.basename(p) in wanted]
worker.create_dockerfiles()
worker.build_image_list()

out = {}
for image in worker.images:
    # No sources to fetch, no buildx to run: only what the task does before it builds.
    image.source = None
    task = tasks.BuildTask(conf, image, None)
    task._ec = NoEngine()
    task._build_buildkit = lambda *args, **kwargs: None
    try:
        task.builder(image)
    except Exception:
        pass
    out[image.name] = dict(getattr(image, 'labels', None) or {})
print(json.dumps(out, sort_keys=True))
