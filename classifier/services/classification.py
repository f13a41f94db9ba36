"""Running the model on a stored track and recording the outcome."""
import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from classifier.models import Prediction, Track
from classifier.services.spectrogram import spectrogram_png
from classifier.services.webhooks import webhook_track_finished
from ml.inference import AudioError, Classifier, get_classifier

logger = logging.getLogger(__name__)


def classifier() -> Classifier:
    """The process's model, loaded once from the configured bundle on the configured device."""
    return get_classifier(settings.MODEL_BUNDLE_DIR, settings.INFERENCE_DEVICE)


def track_mark_failed(*, track_id, reason: str) -> None:
    Track.objects.filter(pk=track_id).update(status=Track.Status.FAILED, failure_reason=reason[:2000])
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
    Track.objects.filter(pk=track.pk).update(status=Track.Status.PROCESSING, failure_reason="")

    model = classifier()
    path = track.file.path
    try:
        result = model.predict(path)
        png = spectrogram_png(model.spectrogram(path))
    except AudioError as err:
        track_mark_failed(track_id=track.pk, reason=f"The audio could not be decoded: {err}")
        return Track.objects.get(pk=track.pk)

    old_spectrogram = track.spectrogram.name
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
            },
        )
        track.spectrogram.save(f"{track.pk}.png", ContentFile(png), save=False)
        track.status = Track.Status.DONE
        track.failure_reason = ""
        if not track.duration:
            track.duration = result.duration
        track.save(update_fields=["spectrogram", "status", "failure_reason", "duration", "updated_at"])
    if old_spectrogram and old_spectrogram != track.spectrogram.name:
        track.spectrogram.storage.delete(old_spectrogram)
    webhook_track_finished(track_id=track.pk)
    return track


def track_queue_classification(*, track_id) -> None:
    """Queue the track once the current transaction commits, so the worker finds it saved."""
    from classifier.tasks import classify_track  # tasks import this module

    transaction.on_commit(lambda: classify_track.delay(str(track_id)))


def track_reclassify(*, track: Track) -> None:
    """Run the (possibly newer) model on a track again; its user genre is kept."""
    Track.objects.filter(pk=track.pk).update(status=Track.Status.QUEUED, failure_reason="")
    track_queue_classification(track_id=track.pk)
