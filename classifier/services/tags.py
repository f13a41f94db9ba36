"""A downloadable copy of a track with what GenreWeb knows written into the file's own tags: the
genre it states, and every tag the owner corrected here. Everything else in the file, its cover
included, stays as it was."""
import logging
import os
import re
import tempfile
from pathlib import PurePath

import mutagen
from mutagen.id3 import ID3, Frames
from mutagen.mp4 import MP4Tags

from classifier.models import Track
from classifier.services.catalogue import EDITABLE
from classifier.services.metadata import ID3_FRAMES, ID3_YEAR_FRAMES, MP4_ATOMS, VORBIS_NAMES, Metadata, read_metadata
from classifier.services.storage import copy_to

logger = logging.getLogger(__name__)

NUMBERED = ("track_number", "disc_number")
ID3_WRITE = {**ID3_FRAMES, "genre": "TCON", "year": "TDRC"}
_TOTAL = re.compile(r"/\s*\d+\s*$")  # the "/12" of "3/12"


class TaggingFailed(Exception):
    pass


def tag_changes(track: Track, in_file: Metadata) -> dict:
    """What to write into a copy of the file: each editable tag whose value here differs from the
    file's (the owner corrected it; "" or None clears it), and the genre, unless GenreWeb is
    uncertain of it (the page then says "X or Y?", which no genre tag can hold)."""
    changes = {name: getattr(track, name) for name in EDITABLE if getattr(track, name) != getattr(in_file, name)}
    if track.genre and not track.genre_uncertain:
        changes["genre"] = track.genre
    return changes


def _numbered(value: int, old) -> str:
    """The number as text, keeping a total the file had ("3/12" corrected to 4 is "4/12")."""
    total = _TOTAL.search(str(old)) if old is not None else None
    return f"{value}{total.group() if total else ''}"


def _write_id3(tags: ID3, changes: dict) -> None:
    for name, value in changes.items():
        frame_id = ID3_WRITE[name]
        old = tags.get(frame_id)
        for stale in ID3_YEAR_FRAMES if name == "year" else (frame_id,):
            tags.delall(stale)
        if value not in (None, ""):
            text = _numbered(value, old.text[0] if old and old.text else None) if name in NUMBERED else str(value)
            tags.add(Frames[frame_id](encoding=3, text=[text]))


def _write_mp4(tags: MP4Tags, changes: dict) -> None:
    for name, value in changes.items():
        atom = MP4_ATOMS[name]
        old = tags.get(atom)
        if value in (None, ""):
            tags.pop(atom, None)
        elif name in NUMBERED:  # (number, total) pairs
            total = old[0][1] if old and isinstance(old[0], tuple) and len(old[0]) > 1 else 0
            tags[atom] = [(int(value), total)]
        else:
            tags[atom] = [str(value)]


def _write_vorbis(tags, changes: dict) -> None:
    for name, value in changes.items():
        names = VORBIS_NAMES[name]
        old = next((tags[key][0] for key in names if tags.get(key)), None)
        for key in names:  # the alternative spellings too, or a reader could find the old value
            if key in tags:
                del tags[key]
        if value not in (None, ""):
            tags[names[0]] = [_numbered(value, old) if name in NUMBERED else str(value)]


def _write_tags(path: str, changes: dict) -> None:
    audio = mutagen.File(path)
    if audio is None:
        raise TaggingFailed("mutagen does not know this format")
    if audio.tags is None:
        audio.add_tags()
    tags = audio.tags
    if isinstance(tags, ID3):  # MP3, and WAV/AIFF which carry an ID3 chunk
        _write_id3(tags, changes)
    elif isinstance(tags, MP4Tags):
        _write_mp4(tags, changes)
    else:  # Vorbis comments: FLAC, Ogg Vorbis, Opus
        _write_vorbis(tags, changes)
    audio.save()


def track_tagged_copy(*, track: Track):
    """An open, already-unlinked temporary file: a copy of the track with the genre and the
    owner's corrections in its tags (tag_changes). The stored original is never written to. When
    the format cannot be tagged the copy is returned as stored (the download still works)."""
    suffix = PurePath(track.file.name).suffix
    fd, path = tempfile.mkstemp(suffix=suffix, prefix="genreweb-")
    try:
        with os.fdopen(fd, "wb") as out:
            copy_to(track.file, out)
        changes = tag_changes(track, read_metadata(path, covers=False))
        if changes:
            try:
                _write_tags(path, changes)
            except Exception:  # mutagen raises many types for odd files; tags are a bonus
                logger.warning("could not write tags into a copy of track %s", track.pk, exc_info=True)
        handle = open(path, "rb")
    finally:
        # Unlinked now, freed when the response closes the handle.
        os.unlink(path)
    return handle


def download_name(track: Track) -> str:
    stem = PurePath(track.original_name).stem or "track"
    return f"{stem}{PurePath(track.file.name).suffix}"
