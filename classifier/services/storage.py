"""Reading stored media through Django's storage API, whichever backend holds it.

Nothing here asks a storage for a filesystem path, so the same code serves a local MEDIA_ROOT
and an S3-compatible bucket (classifier.storage_backends). Where a program needs a real file
(ffmpeg decoding, mutagen writing tags), the bytes are copied in chunks to a temporary file
that is removed afterwards.
"""
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path, PurePath

from django.conf import settings
from django.db.models.fields.files import FieldFile

from classifier.audio_storage import is_in_place

CHUNK = 64 * 1024


def file_chunks(file: FieldFile, start: int = 0, end: int | None = None) -> Iterator[bytes]:
    """Bytes `start`..`end` (inclusive; None: to the end) of a stored file, in chunks.

    Lazy: nothing is opened until the first chunk is asked for. A storage with a ranged read
    of its own (`stream`, as MediaS3Storage has) uses it; any other is opened and seeked.
    Raises FileNotFoundError when the file is gone.
    """
    storage, name = file.storage, file.name
    if hasattr(storage, "resolve"):  # classifier.audio_storage: the media storage or the music folder
        storage, name = storage.resolve(name)
    stream = getattr(storage, "stream", None)
    if stream is not None:
        yield from stream(name, start, end, chunk_size=CHUNK)
        return
    with storage.open(name, "rb") as handle:
        handle.seek(start)
        remaining = None if end is None else end - start + 1
        while remaining is None or remaining > 0:
            chunk = handle.read(CHUNK if remaining is None else min(CHUNK, remaining))
            if not chunk:
                break
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk


def copy_to(file: FieldFile, out) -> int:
    """Write the whole stored file into the open binary file `out`; returns the bytes written."""
    written = 0
    for chunk in file_chunks(file):
        out.write(chunk)
        written += len(chunk)
    return written


@contextmanager
def local_copy(file: FieldFile) -> Iterator[Path]:
    """A temporary local file holding the stored file's bytes (same suffix), removed on exit."""
    suffix = PurePath(file.name).suffix
    with tempfile.NamedTemporaryFile(prefix="genreweb-", suffix=suffix, dir=settings.FILE_UPLOAD_TEMP_DIR) as tmp:
        copy_to(file, tmp)
        tmp.flush()
        yield Path(tmp.name)


def open_for_decoding(track) -> AbstractContextManager[Path]:
    """`with open_for_decoding(track) as path:` a local path of the track's audio for the
    decoder, wherever it is stored; raises FileNotFoundError when the stored file is gone.
    Several can be open at once (contextlib.ExitStack) for a batch."""
    if is_in_place(track.file.name):
        return _music_directory_file(track.file)
    return local_copy(track.file)


@contextmanager
def _music_directory_file(file: FieldFile) -> Iterator[Path]:
    """A file imported in place is a local file already: no copy."""
    path = Path(file.path)
    if not path.is_file():
        raise FileNotFoundError(file.name)
    yield path
