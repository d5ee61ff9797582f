import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desmigratif.settings")

app = Celery("desmigratif")
# Every Celery setting lives in desmigratif/settings.py under the CELERY_ prefix.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Each task runs in its scope on the database (row-level security): the hooks are connected here,
# where every process that sends or runs a task passes.
from desmigratif import rls  # noqa: E402, F401
