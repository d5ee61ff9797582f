import functools
import logging
import os

from celery import Celery
from celery.contrib.django.task import DjangoTask
from django.db import transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desmigratif.settings")

logger = logging.getLogger(__name__)


def send(task, args: tuple = (), kwargs: dict | None = None) -> bool:
    """Send a task; False (and a warning in the log) when the broker cannot be reached.

    The request that asked for the work has committed its job row in a waiting state by then:
    an error page would tell the user it failed when it is only late. The reapers send the
    waiting rows again once the broker is back (docs/operations.md). Inline (no broker, or in
    tests) errors propagate, as they always did.
    """
    if task.app.conf.task_always_eager:
        task.apply_async(args, kwargs)
        return True
    try:
        task.apply_async(args, kwargs)
    except Exception:
        logger.warning("%s%s: the broker cannot be reached", task.name, args, exc_info=True)
        return False
    return True


class Task(DjangoTask):
    """Tasks sent after the commit (`delay_on_commit`) that never turn a committed request
    into an error when the broker is down."""

    def delay_on_commit(self, *args, **kwargs) -> None:
        transaction.on_commit(functools.partial(send, self, args, kwargs))


app = Celery("desmigratif", task_cls=Task)
# Every Celery setting lives in desmigratif/settings.py under the CELERY_ prefix.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Each task runs in its scope on the database (row-level security): the hooks are connected here,
# where every process that sends or runs a task passes.
from desmigratif import rls  # noqa: E402, F401
