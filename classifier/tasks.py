"""Celery tasks. They receive ids only and delegate to services."""
import logging
import time

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import task_postrun, task_prerun
from django.conf import settings
from django.db import DatabaseError

from classifier import metrics
from classifier.queue import CLASSIFY_TRACK, DELIVER_WEBHOOK, REQUEUE_STALE_TRACKS
from classifier.services.classification import (
    classify_batch_size,
    track_mark_failed,
    tracks_claim_queued,
    tracks_classify,
    tracks_release,
)
from classifier.services.recovery import temp_files_remove_stale, track_claim, tracks_requeue_stale
from classifier.services.webhooks import WebhookRetry, webhook_deliver

logger = logging.getLogger(__name__)

_started: dict[str, float] = {}  # task id -> when it began, in this worker process


@task_prerun.connect
def _task_started(task_id: str, **_) -> None:
    _started[task_id] = time.monotonic()


@task_postrun.connect
def _task_finished(task_id: str, task, state: str | None = None, **_) -> None:
    """Every task's duration and end state, for `/metrics` (a process killed outright, by the
    hard time limit or SIGKILL, never gets here)."""
    started = _started.pop(task_id, None)
    if started is not None:
        metrics.TASK_SECONDS.labels(task=task.name, state=state or "UNKNOWN").observe(time.monotonic() - started)


# Failures worth another try: the database or the file system hiccuped, not the audio.
TRANSIENT_ERRORS = (DatabaseError, OSError, MemoryError)


@shared_task(
    name=CLASSIFY_TRACK,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=3,
    soft_time_limit=settings.CLASSIFY_TIME_LIMIT,
    time_limit=settings.CLASSIFY_TIME_LIMIT + 30,
)
def classify_track(self, track_id: str) -> None:
    # This very job again: a retry, or the broker handing it back after its worker died.
    rerun = bool(self.request.retries or (self.request.delivery_info or {}).get("redelivered"))
    try:
        if not track_claim(track_id=track_id, rerun=rerun):
            logger.info("track %s is classified already or another job holds it; nothing to do", track_id)
            return
        _classify_leading_a_batch(self, track_id)
    except SoftTimeLimitExceeded:
        logger.warning("classification of track %s hit the time limit", track_id)
        track_mark_failed(track_id=track_id,
                          reason=f"Classification took longer than {settings.CLASSIFY_TIME_LIMIT} s and was stopped.",
                          code=metrics.FAILURE_TIME_LIMIT)
    except TRANSIENT_ERRORS as exc:
        if self.request.retries < self.max_retries:
            raise self.retry(exc=exc, countdown=5 * 2**self.request.retries)
        logger.exception("giving up on track %s", track_id)
        track_mark_failed(track_id=track_id, reason=f"Classification kept failing ({type(exc).__name__}); try again later.",
                          code=metrics.FAILURE_GAVE_UP)
    except Exception as exc:
        # A bug must not leave the track "processing" forever; the user can re-classify later.
        logger.exception("classification of track %s crashed", track_id)
        track_mark_failed(track_id=track_id, reason=f"Internal error while classifying ({type(exc).__name__}).",
                          code=metrics.FAILURE_INTERNAL)
        raise


def _classify_leading_a_batch(task, track_id: str) -> None:
    """Classify this job's track together with other queued tracks it claims, in one model call
    (classifier.services.classification explains the design). A retried job runs alone: its
    track failed before and should not hold others up. Batch tracks whose outcome could not be
    recorded, and all of them if the batch as a whole fails, go back to the queue with jobs of
    their own; this job's own track's error is raised for the retry handling above."""
    mates = [] if task.request.retries else tracks_claim_queued(exclude=track_id, limit=classify_batch_size() - 1)
    try:
        errors = tracks_classify(track_ids=[track_id, *mates])
    except BaseException:
        tracks_release(track_ids=mates)
        raise
    tracks_release(track_ids=[pk for pk in mates if str(pk) in errors])
    if str(track_id) in errors:
        raise errors[str(track_id)]


@shared_task(name=REQUEUE_STALE_TRACKS)
def requeue_stale_tracks() -> int:
    """Sent by Celery beat every TRACK_SWEEP_INTERVAL: queue again the tracks whose job was lost,
    and clear what killed processes left in the temporary folder."""
    temp_files_remove_stale()
    return len(tracks_requeue_stale())


@shared_task(name=DELIVER_WEBHOOK, bind=True, acks_late=True, max_retries=None)
def deliver_webhook(self, delivery_id: int) -> None:
    """POST one recorded webhook delivery; network errors and 5xx retry with exponential back-off."""
    retries = self.request.retries
    try:
        webhook_deliver(delivery_id=delivery_id, final_attempt=retries >= settings.WEBHOOK_MAX_RETRIES)
    except WebhookRetry as exc:
        raise self.retry(exc=exc, countdown=settings.WEBHOOK_RETRY_BACKOFF * 2**retries)
    except DatabaseError as exc:
        # A locked or restarting database: try again, but not forever.
        if retries >= settings.WEBHOOK_MAX_RETRIES:
            raise
        raise self.retry(exc=exc, countdown=settings.WEBHOOK_RETRY_BACKOFF * 2**retries)
