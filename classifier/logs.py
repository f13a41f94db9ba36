"""Logs as one JSON object per line (LOG_FORMAT=json), for a log collector to parse.

Each line has time (ISO 8601, UTC), level, logger and message; a line written while a request
is served adds its request_id (classifier.middleware.RequestTimingMiddleware sets it; the
request's own summary line also has method, path, status and duration_ms); a line written by a
Celery task adds task_id and task_name; an exception adds its traceback as `exception`; fields
given with `extra=` are kept. Imported by the logging configuration of Django, Celery and
gunicorn (gunicorn.conf.py), so it does not import Django.
"""
import contextvars
import datetime
import json
import logging
import logging.config

# The id of the request being served in this thread or task; "" outside requests.
request_id = contextvars.ContextVar("request_id", default="")

# Attributes every LogRecord has; any other attribute came from `extra=`. Django adds the request
# object to its own records: its request_id says more than its repr.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName", "request"}


def configure_json(config: dict) -> None:
    """settings.LOGGING_CONFIG for LOG_FORMAT=json: Python's warnings become log records too, or
    they would print as plain text."""
    logging.config.dictConfig(config)
    logging.captureWarnings(True)


def _current_task():
    try:
        from celery import current_task
    except ImportError:  # pragma: no cover - celery is a requirement
        return None
    return current_task if current_task and current_task.request.id else None


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        # Django logs a 4xx after the middleware is done, but with the request, which has the id.
        if rid := request_id.get() or getattr(getattr(record, "request", None), "request_id", ""):
            entry["request_id"] = rid
        if task := _current_task():
            entry["task_id"] = task.request.id
            entry["task_name"] = task.name
        entry.update((key, value) for key, value in vars(record).items()
                     if key not in _STANDARD and not key.startswith("_"))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.stack_info:
            entry["stack"] = record.stack_info
        # default=str: an extra value JSON cannot hold (a UUID, a path) is written as text.
        return json.dumps(entry, ensure_ascii=False, default=str)
