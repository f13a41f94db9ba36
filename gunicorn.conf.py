"""gunicorn reads this file from the directory it starts in (runapp, the Dockerfile and
docker-compose all start it in the project root).

With LOG_FORMAT=json, gunicorn's own messages go through the project's JSON handler as well, and
its plain-text access log is dropped: classifier.middleware logs each request as JSON instead.
"""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "genreweb.settings")

from django.conf import settings  # noqa: E402  (after the settings module is named)

if settings.LOG_FORMAT == "json":
    logconfig_dict = {
        **settings.LOGGING,
        "loggers": {
            "gunicorn.error": {"handlers": [], "propagate": True, "level": "INFO"},
            "gunicorn.access": {"handlers": [], "propagate": False},
        },
    }
