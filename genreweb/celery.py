"""Celery application: `celery -A genreweb worker` starts a worker.

Broker and result settings come from Django settings (CELERY_* names), so the same
code runs on Redis when REDIS_URL is set and on the embedded filesystem broker when not.
"""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "genreweb.settings")

app = Celery("genreweb")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
