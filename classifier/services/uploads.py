"""Turning an uploaded file into a queued Track."""
import hashlib
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePath

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat

from classifier import metrics
from classifier.models import Track
from classifier.services.catalogue import track_apply_metadata, track_discard_covers
from classifier.services.classification import track_queue_classification
from classifier.services.metadata import read_metadata
from classifier.services.quota import StorageBudget
from classifier.uploadhandlers import MAX_EXTENSION
from ml.inference import AudioError, probe_audio

# What the product accepts, by the format found in the content (probe_audio), not the file name.
ACCEPTED_FORMATS = {"WAV", "MP3", "FLAC", "OGG", "OPUS", "M4A", "AAC", "AIFF"}
ACCEPTED_DESCRIPTION = "WAV, MP3, FLAC, OGG/Opus, M4A/AAC or AIFF"


class UploadRejected(Exception):
    """A file we will not store. `message` is written for the person who uploaded it."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class UploadOutcome:
    track: Track
    created: bool  # False: the same bytes were already in this user's library


def upload_too_large(name: str) -> UploadRejected:
    limit = filesizeformat(settings.UPLOAD_MAX_BYTES)
    return UploadRejected("file_too_large", f"{name} is larger than the {limit} upload limit.", status=413)


@contextmanager
def _local_path(upload):
    """A filesystem path for the upload: the temporary file Django already wrote, or a copy."""
    if hasattr(upload, "temporary_file_path"):
        yield Path(upload.temporary_file_path())
        return
    with tempfile.NamedTemporaryFile(suffix=PurePath(upload.name).suffix[:MAX_EXTENSION]) as tmp:
        for chunk in upload.chunks():
            tmp.write(chunk)
        tmp.flush()
        yield Path(tmp.name)


def _sha256(upload) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def _discard_files(track: Track) -> None:
    track.file.delete(save=False)
    track_discard_covers(track=track)


def track_upload(*, owner, upload, budget: StorageBudget | None = None, in_place: str = "",
                 known: set[str] | None = None) -> UploadOutcome:
    """Store `upload` as a new Track of `owner` and queue it for classification.

    Returns the existing track instead when the owner already has these exact bytes.
    Raises UploadRejected for files that are too large, empty, not audio we accept, or that
    would take the owner over their storage quota. Pass one `budget` for several uploads (a
    request, an import run) to count the owner's storage once. `in_place` is the audio storage
    name of a file that stays where it is (classifier.audio_storage): the track refers to it
    instead of a copy, and it takes none of the owner's quota. `known` holds the checksums of
    all the owner's tracks (an import run reads them once): a file not among them is inserted
    without the duplicate query first, and its checksum is added.
    """
    name = PurePath(upload.name or "upload").name[:255]
    if upload.size > settings.UPLOAD_MAX_BYTES:
        raise upload_too_large(name)
    if upload.size == 0:
        raise UploadRejected("empty_file", f"{name} is empty.")

    sha256 = _sha256(upload)
    if known is None or sha256 in known:
        existing = Track.objects.filter(owner=owner, sha256=sha256).first()
        if existing:
            return UploadOutcome(existing, created=False)
    budget = budget or StorageBudget(user=owner)
    if not in_place and (refusal := budget.refusal(name=name, size=upload.size)):
        raise UploadRejected("quota_exceeded", refusal, status=413)

    with _local_path(upload) as path:
        try:
            info = probe_audio(path)
        except AudioError as err:
            raise UploadRejected("invalid_audio", f"{name} is not an audio file we can read: {err}") from err
        if info.format.upper() not in ACCEPTED_FORMATS:
            raise UploadRejected(
                "unsupported_format",
                f"{name} is {info.format} audio; GenreWeb accepts {ACCEPTED_DESCRIPTION}.",
            )
        if info.duration > settings.UPLOAD_MAX_MINUTES * 60:
            raise UploadRejected(
                "too_long",
                f"{name} is {info.duration / 60:.0f} minutes long; the limit is {settings.UPLOAD_MAX_MINUTES} minutes.",
            )
        if info.duration < settings.UPLOAD_MIN_SECONDS:
            # The model would hear the blip repeated over its whole window and name a genre for it.
            raise UploadRejected(
                "too_short",
                f"{name} is only {info.duration:.1f} seconds long; GenreWeb needs at least "
                f"{settings.UPLOAD_MIN_SECONDS:g} seconds of audio to tell its genre.",
            )
        metadata = read_metadata(path)

    track = Track(
        owner=owner,
        original_name=name,
        sha256=sha256,
        size=upload.size,
        format=info.format.upper(),
        duration=info.duration,
    )
    try:
        with transaction.atomic():
            if in_place:
                track.file.name = in_place
            else:
                track.file.save(name, upload, save=False)
            track_apply_metadata(track=track, metadata=metadata)
            track.save()
            track_queue_classification(track_id=track.pk)
    except IntegrityError:
        # The same bytes arrived twice at once; the other request stored them.
        _discard_files(track)
        return UploadOutcome(Track.objects.get(owner=owner, sha256=sha256), created=False)
    except BaseException:
        _discard_files(track)  # no row points at them: do not leave them in media/
        raise
    if known is not None:
        known.add(sha256)
    if not in_place:
        budget.add(upload.size)
        metrics.UPLOAD_BYTES.inc(upload.size)
    return UploadOutcome(track, created=True)
