"""A downloadable copy of a track with its genre written into the file's own tags."""
import logging
import os
import tempfile
from pathlib import PurePath

import mutagen
from mutagen.id3 import ID3, TCON
from mutagen.mp4 import MP4Tags

from classifier.models import Track
from classifier.services.storage import copy_to

logger = logging.getLogger(__name__)


class TaggingFailed(Exception):
    pass


def _write_genre(path: str, genre: str) -> None:
    audio = mutagen.File(path)
    if audio is None:
        raise TaggingFailed("mutagen does not know this format")
    if audio.tags is None:
        audio.add_tags()
    tags = audio.tags
    if isinstance(tags, ID3):  # MP3, and WAV/AIFF which carry an ID3 chunk
        tags.delall("TCON")
        tags.add(TCON(encoding=3, text=[genre]))
    elif isinstance(tags, MP4Tags):
        tags["\xa9gen"] = [genre]
    else:  # Vorbis comments: FLAC, Ogg Vorbis, Opus
        tags["GENRE"] = [genre]
    audio.save()


def track_tagged_copy(*, track: Track):
    """An open, already-unlinked temporary file: a copy of the track with the effective genre
    in its tags. The stored original is never written to. When the format cannot be tagged the
    copy is returned untagged (the download still works)."""
    suffix = PurePath(track.file.name).suffix
    fd, path = tempfile.mkstemp(suffix=suffix, prefix="genreweb-")
    try:
        with os.fdopen(fd, "wb") as out:
            copy_to(track.file, out)
        if track.genre:
            try:
                _write_genre(path, track.genre)
            except Exception:  # mutagen raises many types for odd files; tags are a bonus
                logger.warning("could not write the genre into a copy of track %s", track.pk, exc_info=True)
        handle = open(path, "rb")
    finally:
        # Unlinked now, freed when the response closes the handle.
        os.unlink(path)
    return handle


def download_name(track: Track) -> str:
    stem = PurePath(track.original_name).stem or "track"
    return f"{stem}{PurePath(track.file.name).suffix}"
