"""Logs and metrics."""
from django.core.exceptions import ImproperlyConfigured

from .environment import env, env_bool

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").strip().upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"LOG_LEVEL={LOG_LEVEL!r} must be DEBUG, INFO, WARNING, ERROR or CRITICAL.")

# text: the message alone, as before; json: one JSON object per line (classifier.logs explains the
# fields), from the web processes, the Celery worker and gunicorn (gunicorn.conf.py) alike.
LOG_FORMAT = env.str("LOG_FORMAT", default="text").strip().lower()
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} must be text or json.")
_JSON = LOG_FORMAT == "json"
# One line per request (method, path, status, duration; classifier.middleware). On by default
# with JSON, which replaces gunicorn's plain-text access log; in text, gunicorn writes that.
LOG_REQUESTS = env_bool("LOG_REQUESTS", default=_JSON)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "classifier.logs.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", **({"formatter": "json"} if _JSON else {})}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}
if _JSON:
    # Django's loggers have text handlers of their own (runserver's request lines, DEBUG's
    # console): send their records to the root's JSON handler instead.
    LOGGING["loggers"] = {name: {"handlers": [], "propagate": True} for name in ("django", "django.server")}
    LOGGING_CONFIG = "classifier.logs.configure_json"
# Celery would replace the root logger's handler with its own plain-text one in the worker.
CELERY_WORKER_HIJACK_ROOT_LOGGER = not _JSON

# Prometheus metrics at /metrics (classifier.metrics): off unless METRICS_ENABLED; with
# METRICS_TOKEN set, a scrape needs "Authorization: Bearer <token>". PROMETHEUS_MULTIPROC_DIR
# (read by prometheus-client itself) adds up the worker's and the web processes' counters.
METRICS_ENABLED = env_bool("METRICS_ENABLED", default=False)
METRICS_TOKEN = env.str("METRICS_TOKEN", default="").strip()
