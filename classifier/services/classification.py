"""Running the model on a stored track and recording the outcome."""
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from classifier import metrics, queue
from classifier.models import Prediction, Track
from classifier.services.spectrogram import spectrogram_png
from classifier.services.webhooks import webhook_track_finished
from ml.inference import AudioError, Classifier, get_classifier

logger = logging.getLogger(__name__)


def classifier() -> Classifier:
    """The process's model, loaded once from the configured bundle on the configured device."""
    return get_classifier(settings.MODEL_BUNDLE_DIR, settings.INFERENCE_DEVICE)


def _set_status(track_id, status, reason: str = "") -> None:
    # update() skips auto_now; updated_at is what tells a live job from an abandoned one.
    Track.objects.filter(pk=track_id).update(status=status, failure_reason=reason[:2000], updated_at=timezone.now())


def track_is_busy(track: Track) -> bool:
    """Queued or processing recently enough that a job is surely behind it. Older ones were
    abandoned (a worker killed on a broker that cannot redeliver) and may be queued again."""
    abandoned = timezone.now() - timedelta(seconds=2 * settings.CLASSIFY_TIME_LIMIT)
    return track.status in (Track.Status.QUEUED, Track.Status.PROCESSING) and track.updated_at > abandoned


def track_mark_failed(*, track_id, reason: str, code: str = metrics.FAILURE_INTERNAL, model_version: str = "") -> None:
    """Mark the track failed: `reason` is shown to the user, `code` (one of
    metrics.FAILURE_REASONS) labels the failure in the metrics."""
    _set_status(track_id, Track.Status.FAILED, reason)
    metrics.record_failure(code, model_version)
    webhook_track_finished(track_id=track_id)


def track_classify(*, track_id) -> Track | None:
    """Classify one track and store its single Prediction (replacing any earlier one).

    Undecodable audio ends as a `failed` track with the reason; other exceptions propagate
    so the task can retry them. Returns None when the track was deleted meanwhile.
    """
    track = Track.objects.filter(pk=track_id).first()
    if track is None:
        logger.info("track %s was deleted before classification", track_id)
        return None
    _set_status(track.pk, Track.Status.PROCESSING)

    started = time.perf_counter()
    model = classifier()
    path = track.file.path
    try:
        result = model.predict(path)
        png = spectrogram_png(model.spectrogram(path))
    except AudioError as err:
        track_mark_failed(track_id=track.pk, reason=f"The audio could not be decoded: {err}",
                          code=metrics.FAILURE_UNDECODABLE, model_version=getattr(model, "version", ""))
        metrics.CLASSIFICATION_SECONDS.observe(time.perf_counter() - started)
        return Track.objects.get(pk=track.pk)

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
    metrics.CLASSIFICATION_SECONDS.observe(time.perf_counter() - started)
    metrics.record_classification("done", result.model_version)
    webhook_track_finished(track_id=track.pk)
    return track


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
