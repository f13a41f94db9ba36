"""Lost classification jobs found again, and no track classified twice.

A job can be lost: Redis restarted without its data, a worker killed on the filesystem broker
(which cannot hand a job back), the web process killed between saving a track and sending its
job. A job can also arrive twice: the broker hands back a job whose worker died, or the sweep
below queues again a track whose job was only slow. Hence two rules:

- A job first claims its track (`track_claim`) with one conditional UPDATE, queued ->
  processing: of two jobs exactly one wins, and a track already done or failed is left alone.
- A periodic sweep (`tracks_requeue_stale`, sent by Celery beat) queues again every track left
  `queued` or `processing` past its timeout (TRACK_QUEUED_TIMEOUT, TRACK_PROCESSING_TIMEOUT).

A process killed mid-way also leaves its temporary file (an upload half received, a copy of the
audio made for the model); `temp_files_remove_stale` clears those out of FILE_UPLOAD_TEMP_DIR.
"""
import logging
import time
from pathlib import Path

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from classifier.models import Track
from classifier.services.classification import job_lost_before, track_queue_classification

logger = logging.getLogger(__name__)

# Tracks re-queued per sweep at most; the next sweep takes the rest.
SWEEP_LIMIT = 500


def track_claim(*, track_id, rerun: bool = False) -> bool:
    """True when this job may classify the track, which is then `processing`.

    `rerun`: this very job held the track before (a retry, or the broker handing the job back
    after its worker died), so a `processing` track is its own. A different job leaves a
    `processing` track to its holder, unless the holder is long gone.
    """
    now = timezone.now()
    if Track.objects.filter(pk=track_id, status=Track.Status.QUEUED).update(
            status=Track.Status.PROCESSING, updated_at=now):
        return True
    current = Track.objects.filter(pk=track_id).values("status", "updated_at").first()
    if current is None or current["status"] != Track.Status.PROCESSING:
        return False  # deleted, or already done or failed
    if not rerun and current["updated_at"] >= job_lost_before(Track.Status.PROCESSING):
        return False
    # Conditional on the claim we saw, so two jobs taking over at once cannot both win.
    return bool(Track.objects.filter(pk=track_id, status=Track.Status.PROCESSING,
                                     updated_at=current["updated_at"]).update(updated_at=now))


def tracks_requeue_stale() -> list:
    """Queue again every track whose job was lost (classification.job_lost_before); returns
    their ids.

    A track whose job was merely slow gets a second job, which its claim turns into a no-op.
    Each track moves back to `queued` with a fresh updated_at, conditional on the row being as
    it was read, so two sweeps at once queue it once and a track a job claims meanwhile is left
    to that job.
    """
    now = timezone.now()
    stale = (
        Track.objects.filter(
            Q(status=Track.Status.QUEUED, updated_at__lt=job_lost_before(Track.Status.QUEUED))
            | Q(status=Track.Status.PROCESSING, updated_at__lt=job_lost_before(Track.Status.PROCESSING))
        )
        .order_by("updated_at")
        .values_list("pk", "status", "updated_at")[:SWEEP_LIMIT]
    )
    requeued = []
    for pk, status, updated_at in stale:
        if Track.objects.filter(pk=pk, status=status, updated_at=updated_at).update(
                status=Track.Status.QUEUED, updated_at=timezone.now()):
            logger.warning("track %s was %s for %d s with no job behind it; queued again",
                           pk, status, (now - updated_at).total_seconds())
            track_queue_classification(track_id=pk)
            requeued.append(pk)
    return requeued


# The names of our temporary files: Django's for uploads being received, services.storage's
# for copies made for the decoder. Anything else in the folder is left alone.
TEMP_FILE_PATTERNS = ("*.upload*", "genreweb-*")


def temp_files_remove_stale() -> int:
    """Delete our temporary files in FILE_UPLOAD_TEMP_DIR that nothing wrote for an hour, or for
    TRACK_PROCESSING_TIMEOUT if longer; returns how many. A live upload writes continually and a
    job reads its copy within its time limit, so only what killed processes left is that old."""
    cutoff = time.time() - max(3600, settings.TRACK_PROCESSING_TIMEOUT)
    folder = Path(settings.FILE_UPLOAD_TEMP_DIR)
    removed = 0
    for path in {p for pattern in TEMP_FILE_PATTERNS for p in folder.glob(pattern)}:
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # its process finished with it meanwhile
            continue
    if removed:
        logger.warning("removed %d temporary file(s) left by processes killed mid-way", removed)
    return removed

