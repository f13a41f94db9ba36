"""Logs and metrics."""
from django.core.exceptions import ImproperlyConfigured

from .environment import env, env_bool

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").strip().upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"LOG_LEVEL={LOG_LEVEL!r} must be DEBUG, INFO, WARNING, ERROR or CRITICAL.")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}

# Prometheus metrics at /metrics (classifier.metrics): off unless METRICS_ENABLED; with
# METRICS_TOKEN set, a scrape needs "Authorization: Bearer <token>". PROMETHEUS_MULTIPROC_DIR
# (read by prometheus-client itself) adds up the worker's and the web processes' counters.
METRICS_ENABLED = env_bool("METRICS_ENABLED", default=False)
METRICS_TOKEN = env.str("METRICS_TOKEN", default="").strip()
