"""Importing audio files from the local file system (the `import_tracks` command).

Each file goes through the same service as a browser or API upload (`track_upload`): the
same size/empty checks, the sha256 duplicate check before anything is copied, the probe,
the Track row and the classification queued when that file's own transaction commits. A
run that is interrupted and started again therefore skips what it already imported: those
files are now duplicates by checksum. In place (`--in-place`), files under MUSIC_DIRECTORY
are not copied: their tracks refer to them where they are (classifier.audio_storage).
"""
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.files import File

from classifier.audio_storage import music_directory_name
from classifier.models import Track
from classifier.services.quota import StorageBudget
from classifier.services.uploads import UploadRejected, _sha256, track_upload, upload_too_large
from ml.predict import AUDIO_SUFFIXES

NEW = "new"
DUPLICATE = "duplicate"
REJECTED = "rejected"


@dataclass(frozen=True)
class ImportResult:
    path: Path
    outcome: str  # NEW, DUPLICATE or REJECTED
    track: Track | None = None
    code: str = ""  # why it was rejected (UploadRejected.code, or "unreadable")
    message: str = ""


@dataclass
class ImportTally:
    counts: Counter = field(default_factory=lambda: Counter({NEW: 0, DUPLICATE: 0, REJECTED: 0}))
    rejected: list[ImportResult] = field(default_factory=list)

    def add(self, result: ImportResult) -> None:
        self.counts[result.outcome] += 1
        if result.outcome == REJECTED:
            self.rejected.append(result)


def find_audio_files(paths) -> list[Path]:
    """Files named directly, plus every file with an audio suffix under the folders named,
    in a stable (sorted) order, each file once. Raises FileNotFoundError for a missing path."""
    found: list[Path] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            found.append(path)

    for arg in paths:
        root = Path(arg)
        if root.is_dir():
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames.sort()
                for name in sorted(filenames):
                    path = Path(dirpath, name)
                    if path.suffix.lower() in AUDIO_SUFFIXES and path.is_file():
                        add(path)
        elif root.is_file():
            add(root)
        else:
            raise FileNotFoundError(arg)
    return found


def in_place_name(path) -> str:
    """The audio storage name under which `path` is imported in place (left where it is).
    Raises ValueError, with a message for the person importing, when in-place import is off or
    `path` (symbolic links followed) is not inside MUSIC_DIRECTORY."""
    if not settings.MUSIC_DIRECTORY:
        raise ValueError("In-place import needs MUSIC_DIRECTORY: set it to the folder that holds the music "
                         "(the web server and every worker must see it at that path).")
    root = Path(settings.MUSIC_DIRECTORY).resolve()
    try:
        relative = Path(path).resolve().relative_to(root)
    except ValueError:
        raise ValueError(f"{path} is not inside MUSIC_DIRECTORY ({root}); only files there can be "
                         "imported in place.") from None
    name = music_directory_name(relative.as_posix())
    if len(name) > Track._meta.get_field("file").max_length:
        raise ValueError(f"{path}: its path inside MUSIC_DIRECTORY is too long to keep in place; import it "
                         "without --in-place to copy it.")
    return name


def owner_checksums(owner) -> set[str]:
    """The checksums of all the owner's tracks, read once for an import run: each file's
    duplicate check is then a lookup here, and a new file costs only its INSERT."""
    return set(Track.objects.filter(owner=owner).values_list("sha256", flat=True).iterator())


def import_file(*, owner, path, budget: StorageBudget | None = None, in_place: bool = False,
                known: set[str] | None = None) -> ImportResult:
    """Import one local file for `owner`; never raises for a file we will not store. Give every
    file of a run the same `budget` (the owner's storage is then counted once per run) and the
    same `known` (owner_checksums(): no duplicate query per new file). With `in_place` the file
    stays where it is (inside MUSIC_DIRECTORY) and the track refers to it.

    The file is read in chunks (hash, probe copy, media copy), so memory does not depend on
    its size. Database errors and interrupts propagate; the file's transaction is then rolled
    back and its media copy removed by `track_upload`.
    """
    path = Path(path)
    try:
        name = in_place_name(path) if in_place else ""
    except ValueError as err:
        return ImportResult(path, REJECTED, code="outside_music_directory", message=str(err))
    try:
        with open(path, "rb") as handle:
            outcome = track_upload(owner=owner, upload=File(handle, name=path.name), budget=budget, in_place=name,
                                   known=known)
    except UploadRejected as err:
        return ImportResult(path, REJECTED, code=err.code, message=err.message)
    except OSError as err:  # unreadable (permissions, vanished meanwhile)
        return ImportResult(path, REJECTED, code="unreadable", message=f"{path.name} could not be read: {err}")
    return ImportResult(path, NEW if outcome.created else DUPLICATE, track=outcome.track)


def dry_run_file(*, path, known: set[str], budget: StorageBudget, in_place: bool = False) -> ImportResult:
    """What import_file would say without storing anything: DUPLICATE by checksum (in `known`,
    owner_checksums() plus this run's NEW files so far), REJECTED when empty/too big/unreadable or past the
    storage quota (counting this run's earlier NEW files in `budget`), else NEW (the audio
    itself is not probed, so a NEW here may still be rejected by a real run)."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            upload = File(handle, name=path.name)
            if upload.size > settings.UPLOAD_MAX_BYTES:
                err = upload_too_large(path.name)
                return ImportResult(path, REJECTED, code=err.code, message=err.message)
            if upload.size == 0:
                return ImportResult(path, REJECTED, code="empty_file", message=f"{path.name} is empty.")
            sha256 = _sha256(upload)
    except OSError as err:
        return ImportResult(path, REJECTED, code="unreadable", message=f"{path.name} could not be read: {err}")
    if sha256 in known:
        return ImportResult(path, DUPLICATE)
    if not in_place and (refusal := budget.refusal(name=path.name, size=upload.size)):
        return ImportResult(path, REJECTED, code="quota_exceeded", message=refusal)
    known.add(sha256)
    if not in_place:
        budget.add(upload.size)
    return ImportResult(path, NEW)
