"""The one seam between services and the task queue.

Services call these functions, never `classifier.tasks`: a job is sent by its task name, so
this module needs neither the task code nor the model it loads. `classifier.tasks` registers
its tasks under the names below, so the two cannot drift apart.

Jobs carry ids only. Waiting for the commit and handling a broker that is down stay with the
callers; these functions raise whatever the broker raises.
"""
from celery import current_app  # the project's app, bound when Django loaded genreweb
from django.conf import settings

CLASSIFY_TRACK = "classifier.classify_track"
DELIVER_WEBHOOK = "classifier.deliver_webhook"
# Sent by Celery beat (genreweb.celery), never by a service.
REQUEUE_STALE_TRACKS = "classifier.requeue_stale_tracks"

TASK_NAMES = (CLASSIFY_TRACK, DELIVER_WEBHOOK, REQUEUE_STALE_TRACKS)


def default_queue() -> str:
    """CELERY_QUEUE (settings.CELERY_TASK_DEFAULT_QUEUE): the queue the worker consumes with -Q."""
    return current_app.conf.task_default_queue


def classify_queue() -> str:
    """Where classification jobs go: CLASSIFY_QUEUE (a GPU worker's `gpu` queue), else the default."""
    return settings.CLASSIFY_QUEUE or default_queue()


def worker_queues() -> list[str]:
    """Every queue a worker that does all the work (runapp, one-machine setups) consumes."""
    return list(dict.fromkeys([default_queue(), classify_queue()]))


def _send(name: str, *args, queue: str | None = None) -> None:
    current_app.send_task(
        name,
        args=list(args),
        queue=queue or default_queue(),
        # As Task.delay would: results live in the database, not in Celery's result store.
        ignore_result=current_app.conf.task_ignore_result,
    )


def queue_classification(track_id) -> None:
    """Send one track to the worker for classification."""
    _send(CLASSIFY_TRACK, str(track_id), queue=classify_queue())


def queue_webhook_delivery(delivery_id: int) -> None:
    """Send one recorded WebhookDelivery to the worker to be POSTed."""
    _send(DELIVER_WEBHOOK, delivery_id)
