"""Celery application: `celery -A genreweb worker` starts a worker.

Broker and result settings come from Django settings (CELERY_* names), so the same
code runs on Redis when REDIS_URL is set and on the embedded filesystem broker when not.
"""
import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "genreweb.settings")

app = Celery("genreweb")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.celeryd_init.connect
def _no_banner_with_json_logs(instance, **kwargs):
    from django.conf import settings

    # The worker's start-up banner is plain text on stdout; LOG_FORMAT=json promises JSON lines.
    if settings.LOG_FORMAT == "json":
        instance.quiet = True
