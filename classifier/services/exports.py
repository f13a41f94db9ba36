"""The library as CSV or JSON, produced row by row so a large library streams; playlists as M3U."""
import csv
import json

from classifier.selectors import track_list

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


def m3u_playlist(tracks, audio_url, *, title: str) -> str:
    """Extended M3U text for `tracks`; `audio_url(track)` gives each entry's absolute URL."""
    lines = ["#EXTM3U", f"#PLAYLIST:{title}"]
    for track in tracks:
        label = " - ".join(filter(None, [track.artist, track.display_title]))
        label = " ".join(label.split())  # one line per entry, whatever the tags contain
        lines.append(f"#EXTINF:{round(track.duration) if track.duration else -1},{label}")
        lines.append(audio_url(track))
    return "\n".join(lines) + "\n"
