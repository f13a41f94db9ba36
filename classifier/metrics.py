"""Prometheus metrics: every metric GenreWeb exports, in one place.

Counters and histograms are incremented where outcomes are decided (the services and the
request-timing middleware), and read by the `/metrics` view (classifier.views.metrics).

Processes: the web server and the Celery worker are separate processes. With
PROMETHEUS_MULTIPROC_DIR set (the same empty folder for every web and worker process on the
machine, emptied before they start), prometheus-client's multiprocess mode writes each
process's values there and `/metrics` adds them up, so the classification counters the worker
moves show up in the web server's scrape. Without it each process has its own registry and
`/metrics` shows only the web process's values. `genreweb_tracks` (and so the queue depth) is
read from the database at scrape time and is right either way. `runapp` sets the folder up by
itself when METRICS_ENABLED is on; docker-compose shares a volume between its containers.
"""
import logging
import os
import socket

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess, values
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


if multiprocess_dir():
    # Each process writes files named after its id. Containers sharing the folder (web and
    # worker in docker-compose) each number their processes from 1, so the host name joins the pid.
    _HOST = socket.gethostname().replace("_", "-")  # "_" separates the parts of those file names
    values.ValueClass = values.MultiProcessValue(lambda: f"{_HOST}-{os.getpid()}")

REQUEST_SECONDS = Histogram(
    "genreweb_http_request_seconds",
    "Time to answer an HTTP request, by view name, method and status class (2xx, 4xx, ...).",
    ["view", "method", "status"],
)
CLASSIFICATIONS = Counter(
    "genreweb_classifications",  # exported as genreweb_classifications_total
    "Classifications finished, by outcome (done or failed) and model version.",
    ["outcome", "model_version"],
)
FAILURES = Counter(
    "genreweb_classification_failures",  # exported as genreweb_classification_failures_total
    "Tracks marked failed, by reason code.",
    ["reason"],
)
CLASSIFICATION_SECONDS = Histogram(
    "genreweb_classification_seconds",
    "Time one classification took in the worker (decoding, model, spectrogram, storing).",
    buckets=(0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, float("inf")),
)
TASK_SECONDS = Histogram(
    "genreweb_task_seconds",
    "Time a Celery task ran in the worker, by task name and how it ended (SUCCESS, RETRY, FAILURE).",
    ["task", "state"],
    buckets=(0.05, 0.25, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, float("inf")),
)
UPLOAD_BYTES = Counter(
    "genreweb_upload_bytes",  # exported as genreweb_upload_bytes_total
    "Bytes of audio stored from uploads (duplicates of a track already stored are not counted).",
)

# Fixed reason codes for FAILURES; the free-text reason shown to the user goes on the track.
FAILURE_UNDECODABLE = "undecodable"  # the model could not decode the stored audio
FAILURE_BROKER_DOWN = "broker_down"  # the job could not be sent to the task queue
FAILURE_TIME_LIMIT = "time_limit"  # CLASSIFY_TIME_LIMIT ran out
FAILURE_GAVE_UP = "gave_up"  # transient errors (database, file system) outlasted the retries
FAILURE_INTERNAL = "internal"  # a bug: an unexpected exception in the task
FAILURE_REASONS = frozenset({FAILURE_UNDECODABLE, FAILURE_BROKER_DOWN, FAILURE_TIME_LIMIT, FAILURE_GAVE_UP,
                             FAILURE_INTERNAL})

NO_MODEL = "none"  # model_version label of failures that happened before any model ran


def record_classification(outcome: str, model_version: str = "") -> None:
    CLASSIFICATIONS.labels(outcome=outcome, model_version=model_version or NO_MODEL).inc()


def record_failure(reason: str, model_version: str = "") -> None:
    if reason not in FAILURE_REASONS:
        raise ValueError(f"unknown failure reason code {reason!r}")
    FAILURES.labels(reason=reason).inc()
    record_classification("failed", model_version)


class TrackStatusCollector(Collector):
    """`genreweb_tracks{status=...}`: tracks per status, counted in the database at scrape time,
    so queued + processing is the queue depth whichever process does the work."""

    def collect(self):
        from django.db import DatabaseError
        from django.db.models import Count

        from classifier.models import Track

        family = GaugeMetricFamily("genreweb_tracks", "Tracks by status (queued + processing = queue depth).",
                                   labels=["status"])
        try:
            counts = dict(Track.objects.order_by().values_list("status").annotate(n=Count("pk")))
        except DatabaseError:
            logger.exception("could not count tracks for /metrics")
            return
        for status in Track.Status.values:
            family.add_metric([status], counts.get(status, 0))
        yield family


_tracks_registry = CollectorRegistry(auto_describe=False)
_tracks_registry.register(TrackStatusCollector())


def exposition() -> bytes:
    """The text every process's metrics add up to (multiprocess mode) or this process's, plus
    the database-backed gauges."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry) + generate_latest(_tracks_registry)
