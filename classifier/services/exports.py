"""The library as CSV or JSON, produced row by row so a large library streams; playlists as M3U;
tracks as a ZIP of their tagged files, written as it streams."""
import csv
import io
import json
import logging
import os
import re
import zipfile
from pathlib import PurePath

from classifier.selectors import track_list
from classifier.services.metadata import clean_text
from classifier.services.streaming import stream_link_path
from classifier.services.tags import download_name, track_tagged_copy

logger = logging.getLogger(__name__)

FIELDS = ["file", "title", "artist", "album", "album_artist", "disc", "track", "year", "genre", "confidence",
          "genre_source", "uncertain", "runner_up", "file_genre", "top_tags"]


def library_export_rows(*, user):
    """One dict per track of `user` (oldest first), with the effective genre and top 5 tags. An
    uncertain genre says so, with the runner-up, as the pages show "X or Y?"."""
    for track in track_list(user=user).order_by("created_at", "pk").iterator(chunk_size=500):
        prediction = getattr(track, "prediction", None)
        tags = sorted((prediction.tags or {}).items(), key=lambda kv: -kv[1])[:5] if prediction else []
        uncertain = track.genre_uncertain
        yield {
            "file": track.original_name,
            "title": track.title,
            "artist": track.artist,
            "album": track.album,
            "album_artist": track.album_artist,
            "disc": track.disc_number,
            "track": track.track_number,
            "year": track.year,
            "genre": track.genre,
            "confidence": round(prediction.confidence, 4) if prediction else None,
            "genre_source": track.genre_source,
            "uncertain": uncertain,
            "runner_up": prediction.top_two[1].genre if uncertain else "",
            "file_genre": track.file_genre,  # the file's own genre tag, beside ours
            "top_tags": [name for name, _ in tags],
        }


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection");
# tag text is anyone's, so such cells get a leading apostrophe and open as plain text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    """A CSV cell: lists joined with ';', None empty, yes/no for flags, text that would run as a
    formula defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        value = ";".join(value)
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_START) else value
    return value


class _Echo:
    """A file-like object whose write() hands back what it was given, for csv.writer."""

    def write(self, value):
        return value


def library_csv_lines(*, user):
    writer = csv.writer(_Echo())
    yield writer.writerow(FIELDS)
    for row in library_export_rows(user=user):
        yield writer.writerow([_cell(row[field]) for field in FIELDS])


def library_json_chunks(*, user):
    """A JSON array, one element per chunk."""
    yield "["
    for index, row in enumerate(library_export_rows(user=user)):
        yield ("," if index else "") + "\n" + json.dumps(row, ensure_ascii=False)
    yield "\n]\n"


def m3u_playlist(tracks, *, title: str, site: str) -> str:
    """Extended M3U text for `tracks`, each entry a signed link on `site` (the absolute root URL,
    e.g. request.build_absolute_uri("/")) that plays in any player, without a login."""
    lines = ["#EXTM3U", f"#PLAYLIST:{title}"]
    for track in tracks:
        label = " - ".join(filter(None, [track.artist, track.display_title]))
        label = " ".join(label.split())  # one line per entry, whatever the tags contain
        lines.append(f"#EXTINF:{round(track.duration) if track.duration else -1},{label}")
        lines.append(site.rstrip("/") + stream_link_path(track))
    return "\n".join(lines) + "\n"


class _Sink(io.RawIOBase):
    """Where ZipFile writes: kept until the generator hands it on. Not seekable, so ZipFile
    writes each entry's sizes after its data and never goes back."""

    def __init__(self):
        super().__init__()
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


_UNSAFE = re.compile(r'[/\\:*?"<>|]')  # path separators, and what Windows refuses in names


def _part(text: str, fallback: str) -> str:
    """One folder or file name from tag text: no separators, no leading dots, not too long."""
    name = _UNSAFE.sub("_", clean_text(text, limit=120)).strip(" .")
    return name or fallback


def zip_entry_name(track) -> str:
    """Artist/Album/NN Title.ext, as music players file a library."""
    number = f"{track.track_number:02d} " if track.track_number else ""
    if track.disc_number and track.track_number:
        number = f"{track.disc_number}-{number}"
    file = PurePath(download_name(track))
    return (f"{_part(track.album_artist or track.artist, 'Unknown artist')}/{_part(track.album, 'No album')}/"
            f"{number}{_part(track.display_title, file.stem or 'track')}{file.suffix}")


def tracks_zip_chunks(tracks, *, block: int = 1 << 20):
    """A ZIP of `tracks` as services.tags writes them (genre and corrections in their tags),
    streamed: one tagged copy at a time, bytes handed on as they are written, so memory stays
    flat for any library. Audio is stored, not compressed (it is compressed already). Files gone
    from storage are listed in MISSING.txt instead of failing the whole download."""
    sink, used, missing = _Sink(), set(), []
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
        for track in tracks:
            try:
                copy = track_tagged_copy(track=track)
            except FileNotFoundError:
                logger.warning("track %s is missing from storage; left out of a ZIP", track.pk)
                missing.append(track.original_name)
                continue
            name = zip_entry_name(track)
            stem, suffix = os.path.splitext(name)
            n = 1
            while name in used:  # two tracks that would file under one name
                n += 1
                name = f"{stem} ({n}){suffix}"
            used.add(name)
            # Sizes go after the data on a stream; ZipFile must know up front if they need ZIP64.
            large = os.fstat(copy.fileno()).st_size >= zipfile.ZIP64_LIMIT
            with copy, archive.open(name, "w", force_zip64=large) as entry:
                while data := copy.read(block):
                    entry.write(data)
                    yield sink.take()
            yield sink.take()
        if missing:
            archive.writestr("MISSING.txt", "These tracks' audio files are missing from storage:\n"
                             + "".join(f"{name}\n" for name in missing))
    yield sink.take()
