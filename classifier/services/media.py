"""Storage hygiene: files in media storage that no track points at, and tracks whose files are gone.

Everything goes through the storage API (listdir, exists, delete, get_modified_time), so it works
with FileSystemStorage and object stores alike. Memory stays bounded: files are checked against
the database a batch at a time, and tracks are read with values_list().iterator().
"""
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from classifier.models import Track

BATCH = 500
# A file younger than this may belong to an upload (or a classification) whose row is not saved
# yet: it is never called an orphan.
DEFAULT_MIN_AGE = timedelta(hours=1)
MISSING_AUDIO_REASON = "The uploaded file is missing from storage; upload it again."


@dataclass(frozen=True)
class MissingFile:
    track_id: str
    name: str


@dataclass
class MediaAudit:
    orphans: list[str] = field(default_factory=list)  # storage names no track references
    missing_audio: list[MissingFile] = field(default_factory=list)
    missing_spectrograms: list[MissingFile] = field(default_factory=list)
    recent_skipped: int = 0  # unreferenced files younger than min_age, left alone
    already_failed: int = 0  # missing audio, already marked failed for it by an earlier --fix

    @property
    def clean(self) -> bool:
        return not (self.orphans or self.missing_audio or self.missing_spectrograms)


@dataclass
class MediaFixResult:
    removed: int = 0
    marked_failed: int = 0
    spectrograms_cleared: int = 0


def _storages():
    """The storage of each file field (the default storage unless a field names another)."""
    return Track._meta.get_field("file").storage, Track._meta.get_field("spectrogram").storage


def _walk(storage, folder: str) -> Iterator[tuple[str, list[str]]]:
    """(folder, file names in it) for `folder` and every folder below it."""
    try:
        dirs, files = storage.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return
    yield folder, [f"{folder}/{name}" for name in files]
    for name in dirs:
        yield from _walk(storage, f"{folder}/{name}")


def _referenced(names: list[str]) -> set[str]:
    """Those of `names` that some track uses as its audio, its spectrogram or a cover."""
    rows = Track.objects.filter(
        Q(file__in=names) | Q(spectrogram__in=names) | Q(cover__in=names) | Q(cover_small__in=names)
    ).values_list("file", "spectrogram", "cover", "cover_small")
    return {name for row in rows for name in row} & set(names)


def _is_recent(storage, name: str, cutoff) -> bool:
    if cutoff is None:
        return False
    try:
        return storage.get_modified_time(name) > cutoff
    except (NotImplementedError, OSError):
        return False  # the storage cannot say: treat it as old


def _orphans(storage, folder: str, min_age: timedelta | None, audit: MediaAudit) -> None:
    cutoff = timezone.now() - min_age if min_age else None
    for _, names in _walk(storage, folder):
        for start in range(0, len(names), BATCH):
            batch = names[start:start + BATCH]
            used = _referenced(batch)
            for name in batch:
                if name in used:
                    continue
                if _is_recent(storage, name, cutoff):
                    audit.recent_skipped += 1
                else:
                    audit.orphans.append(name)


def media_audit(*, min_age: timedelta | None = DEFAULT_MIN_AGE) -> MediaAudit:
    """Orphan files under tracks/, spectrograms/ and covers/, and tracks whose audio or spectrogram file
    is missing. Files modified less than `min_age` ago are not counted as orphans."""
    audio_storage, image_storage = _storages()
    audit = MediaAudit()
    _orphans(audio_storage, "tracks", min_age, audit)
    _orphans(image_storage, "spectrograms", min_age, audit)
    _orphans(image_storage, "covers", min_age, audit)  # covers share the spectrograms' (image) storage

    rows = Track.objects.order_by().values_list("pk", "file", "spectrogram", "status", "failure_reason")
    for pk, audio, image, status, reason in rows.iterator(chunk_size=BATCH):
        if audio and not audio_storage.exists(audio):
            if status == Track.Status.FAILED and reason == MISSING_AUDIO_REASON:
                audit.already_failed += 1
            else:
                audit.missing_audio.append(MissingFile(str(pk), audio))
        if image and not image_storage.exists(image):
            audit.missing_spectrograms.append(MissingFile(str(pk), image))
    return audit


def media_fix(audit: MediaAudit) -> MediaFixResult:
    """Remove the orphans, mark tracks without audio `failed` with a reason, and clear references
    to missing spectrograms. Each step checks again first, so a stale audit changes nothing that
    was put right (or started being used) in between."""
    audio_storage, image_storage = _storages()
    result = MediaFixResult()
    for name in audit.orphans:
        storage = image_storage if name.startswith(("spectrograms/", "covers/")) else audio_storage
        if not _referenced([name]) and storage.exists(name):
            storage.delete(name)
            result.removed += 1
    now = timezone.now()
    for missing in audit.missing_audio:
        if audio_storage.exists(missing.name):
            continue
        result.marked_failed += Track.objects.filter(pk=missing.track_id, file=missing.name).update(
            status=Track.Status.FAILED, failure_reason=MISSING_AUDIO_REASON, updated_at=now)
    for missing in audit.missing_spectrograms:
        if image_storage.exists(missing.name):
            continue
        result.spectrograms_cleared += Track.objects.filter(
            pk=missing.track_id, spectrogram=missing.name).update(spectrogram="", updated_at=now)
    return result
