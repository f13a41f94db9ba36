"""Readiness checks for /api/v1/ready/: can this instance take and finish work right now?"""
import logging
import os
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection

logger = logging.getLogger(__name__)

BROKER_TIMEOUT = 3  # seconds; a probe must answer fast even when the broker hangs


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _broker() -> None:
    from celery import current_app  # the project's app, bound when Django loaded genreweb

    with current_app.connection_for_write(connect_timeout=BROKER_TIMEOUT) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT)


def _model() -> None:
    from ml.inference import bundle_info

    info = bundle_info(settings.MODEL_BUNDLE_DIR)
    weights = Path(settings.MODEL_BUNDLE_DIR) / info["config"].get("weights", "model.pth")
    if not weights.is_file() or not os.access(weights, os.R_OK):
        raise FileNotFoundError("model weights missing or unreadable")


def _storage() -> None:
    # The media storage answers: a wrong bucket, key or endpoint shows here, not at the first
    # upload. A local MEDIA_ROOT that no upload has created yet is fine (the first save makes it).
    try:
        default_storage.listdir("")
    except FileNotFoundError:
        pass


CHECKS = {"database": _database, "broker": _broker, "model": _model, "storage": _storage}


def readiness_checks() -> dict[str, str]:
    """{"database": "ok" | "failed", ...}; details go to the log, not to the (public) answer."""
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception:
            logger.warning("readiness check %s failed", name, exc_info=True)
            results[name] = "failed"
    return results
