"""Celery and the model it runs: Redis when REDIS_URL is set, else an embedded broker on the
filesystem."""
import re
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from .environment import BASE_DIR, VAR_DIR, check_scheme, env, env_int

# --- Model ------------------------------------------------------------------------------
MODEL_BUNDLE_DIR = Path(env.str("MODEL_BUNDLE_DIR", default=str(BASE_DIR / "models" / "saved_models")))
INFERENCE_DEVICE = env.str("INFERENCE_DEVICE", default="auto").strip().lower()
if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", INFERENCE_DEVICE):
    raise ImproperlyConfigured(f"INFERENCE_DEVICE={INFERENCE_DEVICE!r} must be auto, cpu, cuda or cuda:N.")

# --- Broker -----------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    check_scheme("REDIS_URL", REDIS_URL, {"redis", "rediss"}, "redis://127.0.0.1:6379/0")
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    _transport = {}
else:
    _queue_dir = VAR_DIR / "celery-queue"
    _queue_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    # kombu's filesystem transport, with each message written whole before a worker can see it.
    CELERY_BROKER_TRANSPORT = "genreweb.broker:Transport"
    CELERY_RESULT_BACKEND = None
    _transport = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_queue_dir),
        "store_processed": False,
        # Exchange bindings; kombu's default is ./control, i.e. wherever the process started.
        "control_folder": str(VAR_DIR / "celery-control"),
    }
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **_transport,
    # Redis redelivers unacknowledged jobs after this long; longer than any classification.
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", default=3600),
}
# Results live in the database; Celery's own result store is not needed.
CELERY_TASK_IGNORE_RESULT = True
# A job is acknowledged only when done, so a worker killed mid-task hands it back.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# With the embedded broker Celery's blocking loop settles a finished job only every 2 s, so
# one reserved job at a time would leave the worker idle between jobs (a batch's no-op jobs
# included); it reserves a few instead, which only ever wait on this one machine.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1 if REDIS_URL else 4
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="genreweb")
# The model uses all cores itself; one process per worker keeps memory at one model copy.
CELERY_WORKER_CONCURRENCY = env_int("CELERY_CONCURRENCY", default=1)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# One classification may take this long before it is stopped and the track marked failed;
# far above the seconds a 3-hour track needs, far below the broker's redelivery timeout.
CLASSIFY_TIME_LIMIT = env_int("CLASSIFY_TIME_LIMIT", default=600)
# Lost jobs found again (classifier.services.recovery): Celery beat sends a sweep every
# TRACK_SWEEP_INTERVAL seconds that queues again the tracks `queued` for longer than
# TRACK_QUEUED_TIMEOUT, or `processing` for longer than TRACK_PROCESSING_TIMEOUT: past the
# hard time limit (CLASSIFY_TIME_LIMIT + 30 s) and a retry's wait, so no job still holds them.
TRACK_SWEEP_INTERVAL = env_int("TRACK_SWEEP_INTERVAL", default=60)
TRACK_QUEUED_TIMEOUT = env_int("TRACK_QUEUED_TIMEOUT", default=600)
TRACK_PROCESSING_TIMEOUT = env_int("TRACK_PROCESSING_TIMEOUT", default=CLASSIFY_TIME_LIMIT + 120,
                                   minimum=CLASSIFY_TIME_LIMIT + 60)
CELERY_BEAT_SCHEDULE = {
    "requeue stale tracks": {
        "task": "classifier.requeue_stale_tracks",  # classifier.queue.REQUEUE_STALE_TRACKS
        "schedule": float(TRACK_SWEEP_INTERVAL),
        # The sweep waits in its queue behind the jobs sent before it, so it runs once they were
        # picked up; one that waited a whole interval is dropped, the next being on its way.
        "options": {"expires": TRACK_SWEEP_INTERVAL},
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Tracks per model call in the worker (decoded in threads, windows stacked into one batch);
# 0 = by device: 8 on a GPU, 4 on the CPU.
CLASSIFY_BATCH_SIZE = env_int("CLASSIFY_BATCH_SIZE", default=0, minimum=0)
# Queue for classification jobs. Empty: CELERY_QUEUE, which every worker consumes. On a GPU
# machine e.g. "gpu", consumed by one worker with -Q gpu --concurrency 1 (see README).
CLASSIFY_QUEUE = env.str("CLASSIFY_QUEUE", default="").strip()
