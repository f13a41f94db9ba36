"""Running the model on stored tracks and recording each one's outcome.

Batching. A job names one track and stays the unit of retry and status, but the model is fed
several tracks per call. The job's own track leads a batch: `tracks_claim_queued` takes up to
batch size - 1 other queued tracks, each by its own conditional UPDATE (queued -> processing),
so of two workers racing for a track exactly one gets it, and the taken tracks' own jobs later
find them no longer queued and do nothing. `tracks_classify` decodes the batch in threads, runs
all its windows in one model call and records every track's outcome on its own: a file that
cannot be decoded fails alone, with its reason. What it could not record (a database or file
system error) it hands back; the task then returns those tracks to the queue (`tracks_release`)
with a job of their own, so their retries are counted by their own jobs, as for any track.
"""
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from classifier import metrics, queue
from classifier.models import Prediction, Track
from classifier.services.media import MISSING_AUDIO_REASON
from classifier.services.spectrogram import spectrogram_png
from classifier.services.storage import open_for_decoding
from classifier.services.webhooks import webhook_track_finished
from ml.inference import AudioError, Classifier, get_classifier

logger = logging.getLogger(__name__)


def classifier() -> Classifier:
    """The process's model, loaded once from the configured bundle on the configured device."""
    return get_classifier(settings.MODEL_BUNDLE_DIR, settings.INFERENCE_DEVICE)


def _set_status(track_id, status, reason: str = "") -> None:
    # update() skips auto_now; updated_at is what tells a live job from an abandoned one.
    Track.objects.filter(pk=track_id).update(status=status, failure_reason=reason[:2000], updated_at=timezone.now())


def job_lost_before(status: str):
    """A track `queued` or `processing` unchanged since before this moment has no live job behind
    it (TRACK_QUEUED_TIMEOUT, TRACK_PROCESSING_TIMEOUT): its job was lost, so the sweep in
    services.recovery queues it again, and its user may too. None for other statuses."""
    seconds = {Track.Status.QUEUED: settings.TRACK_QUEUED_TIMEOUT,
               Track.Status.PROCESSING: settings.TRACK_PROCESSING_TIMEOUT}.get(status)
    return None if seconds is None else timezone.now() - timedelta(seconds=seconds)


def track_is_busy(track: Track) -> bool:
    """Queued or processing recently enough that a job is surely behind it."""
    lost_before = job_lost_before(track.status)
    return lost_before is not None and track.updated_at > lost_before


def track_mark_failed(*, track_id, reason: str, code: str = metrics.FAILURE_INTERNAL, model_version: str = "") -> None:
    """Mark the track failed: `reason` is shown to the user, `code` (one of
    metrics.FAILURE_REASONS) labels the failure in the metrics."""
    _set_status(track_id, Track.Status.FAILED, reason)
    metrics.record_failure(code, model_version)
    webhook_track_finished(track_id=track_id)


def classify_batch_size() -> int:
    """Tracks per model call: CLASSIFY_BATCH_SIZE, or by the device the model runs on (a GPU
    wants many windows per call; on a CPU a few tracks already keep every core busy)."""
    if settings.CLASSIFY_BATCH_SIZE:
        return settings.CLASSIFY_BATCH_SIZE
    return 8 if classifier().device.type == "cuda" else 4


def tracks_claim_queued(*, exclude, limit: int) -> list:
    """Take up to `limit` queued tracks (oldest first, any owner) for the batch that `exclude`
    leads, moving each to processing. One conditional UPDATE per track, so no track is ever
    taken by two workers; SQLite and PostgreSQL alike."""
    if limit <= 0:
        return []
    candidates = list(
        Track.objects.filter(status=Track.Status.QUEUED).exclude(pk=exclude)
        .order_by("updated_at").values_list("pk", flat=True)[:2 * limit]
    )
    claimed = []
    for pk in candidates:
        taken = Track.objects.filter(pk=pk, status=Track.Status.QUEUED).update(
            status=Track.Status.PROCESSING, updated_at=timezone.now())
        if taken:
            claimed.append(pk)
            if len(claimed) == limit:
                break
    return claimed


def tracks_release(*, track_ids) -> None:
    """Hand claimed tracks back: queued again, each with a job of its own (their first job may
    have come and gone while they were in someone else's batch)."""
    for pk in track_ids:
        if Track.objects.filter(pk=pk, status=Track.Status.PROCESSING).update(
                status=Track.Status.QUEUED, updated_at=timezone.now()):
            track_queue_classification(track_id=pk)


def track_classify(*, track_id) -> Track | None:
    """Classify one track (a batch of one). Raises what tracks_classify could not record for it,
    so the task can retry; returns None when the track was deleted meanwhile."""
    errors = tracks_classify(track_ids=[track_id])
    if str(track_id) in errors:
        raise errors[str(track_id)]
    return Track.objects.filter(pk=track_id).first()


def tracks_classify(*, track_ids) -> dict:
    """Classify several tracks with one model call and store each one's single Prediction.

    Every track ends `done`, or `failed` with the reason when its audio cannot be decoded or
    is gone from storage, except those returned: {str(track id): exception} for tracks whose
    outcome could not be recorded (database or storage errors), left as they were for the
    caller to retry. An error of the batch as a whole (the model itself) propagates. Deleted
    tracks are skipped.
    """
    by_pk = Track.objects.in_bulk(list(track_ids))
    tracks = [by_pk[pk] for pk in by_pk]
    if len(by_pk) < len(track_ids):
        logger.info("%d track(s) were deleted before classification", len(track_ids) - len(by_pk))
    if not tracks:
        return {}
    Track.objects.filter(pk__in=list(by_pk)).update(status=Track.Status.PROCESSING, updated_at=timezone.now())

    started = time.perf_counter()
    model = classifier()
    errors, paths = {}, {}
    timings = {}
    with ExitStack() as stack:
        for track in tracks:
            try:
                paths[track.pk] = stack.enter_context(open_for_decoding(track))
            except FileNotFoundError:  # gone from storage: no retry brings it back
                track_mark_failed(track_id=track.pk, reason=MISSING_AUDIO_REASON, code=metrics.FAILURE_UNDECODABLE,
                                  model_version=getattr(model, "version", ""))
            except Exception as err:  # storage unreachable, disk full: this track only, retried
                errors[str(track.pk)] = err
        ready = [t for t in tracks if t.pk in paths]
        workers = max(1, min(len(ready), os.cpu_count() or 1))
        results = model.predict_many([paths[t.pk] for t in ready], workers=workers, timings=timings) if ready else []
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            pngs = list(pool.map(lambda tr: _spectrogram_or_error(model, paths[tr[0].pk], tr[1]),
                                 zip(ready, results)))
        timings["spectrograms"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    share = (t0 - started) / max(1, len(ready))
    for track, result, png in zip(ready, results, pngs):
        try:
            _record_outcome(track, result, png, model)
        except Exception as err:
            errors[str(track.pk)] = err
        metrics.CLASSIFICATION_SECONDS.observe(share)
    timings["store"] = time.perf_counter() - t0
    # One line per batch: what bench/pipeline reads to say where the time goes.
    logger.info("classified a batch of %d track(s) on %s in %.3f s: %s", len(tracks), model.device,
                time.perf_counter() - started,
                ", ".join(f"{step} {seconds:.3f} s" for step, seconds in timings.items()))
    return errors


def _spectrogram_or_error(model, path, result):
    """The track's spectrogram PNG, or the error that stops it (the prediction's own, if any):
    in a batch, one track's error is that track's alone (_record_outcome decides what it means)."""
    if isinstance(result, AudioError):
        return result
    try:
        return spectrogram_png(model.spectrogram(path))
    except Exception as err:
        return err


def _record_outcome(track: Track, result, png, model) -> None:
    """Store one track's prediction and spectrogram, or mark it failed when its audio could not be
    decoded. Raises other errors (nothing recorded) for the caller to hand back."""
    version = getattr(model, "version", "")
    undecodable = result if isinstance(result, AudioError) else png if isinstance(png, AudioError) else None
    if undecodable is not None:
        track_mark_failed(track_id=track.pk, reason=f"The audio could not be decoded: {undecodable}",
                          code=metrics.FAILURE_UNDECODABLE, model_version=version)
        return
    if isinstance(png, BaseException):
        raise png
    old_spectrogram = track.spectrogram.name
    try:
        _store_result(track, result, png)
    except BaseException:
        # The row did not change (deleted meanwhile, database error): drop the new image too.
        if track.spectrogram.name != old_spectrogram:
            track.spectrogram.storage.delete(track.spectrogram.name)
        raise
    if old_spectrogram and old_spectrogram != track.spectrogram.name:
        track.spectrogram.storage.delete(old_spectrogram)
    metrics.record_classification("done", result.model_version)
    webhook_track_finished(track_id=track.pk)


def _store_result(track: Track, result, png: bytes) -> None:
    with transaction.atomic():
        Prediction.objects.update_or_create(
            track=track,
            defaults={
                "genre": result.genre,
                "confidence": result.confidence,
                "probabilities": result.probabilities,
                "timeline": [vars(segment) for segment in result.timeline],
                "tags": result.tags,
                "embedding": result.embedding,
                "model_version": result.model_version,
                "device": result.device,
                "seconds": result.seconds,
                "uncertain": result.uncertain,
                "styles": result.styles,
                "silent": result.silent,
            },
        )
        track.spectrogram.save(f"{track.pk}.png", ContentFile(png), save=False)
        track.status = Track.Status.DONE
        track.failure_reason = ""
        if not track.duration:
            track.duration = result.track_duration
        track.save(update_fields=["spectrogram", "status", "failure_reason", "duration", "updated_at"])


def track_queue_classification(*, track_id) -> None:
    """Queue the track once the current transaction commits, so the worker finds it saved."""
    transaction.on_commit(lambda: _send_to_worker(track_id))


def _send_to_worker(track_id) -> None:
    try:
        queue.queue_classification(track_id)
    except Exception:
        # Broker down: the upload itself is safe, so say so on the track instead of leaving it
        # "queued" with no job behind it; "Classify again" works once the broker is back.
        logger.exception("could not queue track %s", track_id)
        track_mark_failed(track_id=track_id, reason="The task queue could not be reached; classify it again later.",
                          code=metrics.FAILURE_BROKER_DOWN)


def track_reclassify(*, track: Track) -> None:
    """Run the (possibly newer) model on a track again; its user genre is kept."""
    _set_status(track.pk, Track.Status.QUEUED)
    track_queue_classification(track_id=track.pk)
