"""What a file says about itself: its tags (title, artists, album, numbering, year, genre) and its
embedded cover picture, made into thumbnails.

Reading never raises: a file with no tags, broken tags or an unusable picture gives what could be
read plus `notes` a person can understand, and the upload goes on. Nothing here touches Django
or storage, so the same reader serves uploads, imports and the `read_metadata` command.
"""
import base64
import binascii
import logging
import math
import re
import unicodedata
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

import mutagen
from mutagen.flac import Picture
from mutagen.id3 import ID3
from mutagen.mp4 import MP4Tags
from PIL import Image, UnidentifiedImageError

logger = logging.getLogger(__name__)

# Thumbnail edges in pixels: the album grid and pages use LARGE, lists and the player SMALL.
COVER_LARGE = 300
COVER_SMALL = 96
# Checked on the picture's header, before any pixel is decoded: 20 megapixels decode to at most
# 80 MB, whereas a 20,000 x 20,000 picture would need 1.6 GB.
COVER_MAX_PIXELS = 20_000_000
# An embedded picture larger than this is not decoded at all (real covers are well under 10 MB).
COVER_MAX_BYTES = 16 * 1024 * 1024
# ID3 / FLAC picture type of the front cover; preferred over back covers, artist photos etc.
FRONT_COVER = 3

TEXT_FIELDS = ("title", "artist", "album_artist", "album", "genre")
_FIRST_NUMBER = re.compile(r"\d+")
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")


@dataclass
class Covers:
    """JPEG bytes of the front cover at COVER_LARGE and COVER_SMALL pixels (longest edge)."""

    large: bytes
    small: bytes


@dataclass
class Metadata:
    title: str = ""
    artist: str = ""
    album_artist: str = ""
    album: str = ""
    genre: str = ""  # the file's own genre tag, as written by whoever tagged it
    track_number: int | None = None
    disc_number: int | None = None
    year: int | None = None
    covers: Covers | None = None
    notes: list[str] = field(default_factory=list)  # what could not be read, for the track page

    def track_fields(self) -> dict:
        """The Track fields these tags fill (the genre tag is kept as file_genre)."""
        return {
            "title": self.title, "artist": self.artist, "album_artist": self.album_artist, "album": self.album,
            "file_genre": self.genre, "track_number": self.track_number, "disc_number": self.disc_number,
            "year": self.year,
        }


class CoverRejected(Exception):
    """An embedded picture we do not use; the message is written for the track's owner."""


UNREADABLE_COVER = "The embedded cover picture could not be read as an image, so this track has no cover."


# --- Text and numbers ---------------------------------------------------------------------------


def clean_text(value, limit: int = 255) -> str:
    """One line of tag text fit for a database column: control characters (NUL is legal in tags
    but not in PostgreSQL text) become spaces, runs of space collapse, at most `limit` characters."""
    text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in str(value))
    return " ".join(text.split())[:limit]


def _number(value) -> int | None:
    """3 from "3", "03/12" or (3, 12); None when there is no usable number (0 means unknown)."""
    if isinstance(value, tuple):
        value = value[0] if value else None
    match = _FIRST_NUMBER.search(str(value)) if value is not None else None
    number = int(match.group()) if match else 0
    return number if 0 < number < 10_000 else None


def _year(value) -> int | None:
    match = _YEAR.search(str(value)) if value is not None else None
    year = int(match.group(1)) if match else 0
    return year if 1000 <= year <= 2999 else None


# --- Per tag format: text fields and pictures ----------------------------------------------------


def _first(values):
    if isinstance(values, (list, tuple)):
        return values[0] if values else None
    return values


ID3_FRAMES = {"title": "TIT2", "artist": "TPE1", "album_artist": "TPE2", "album": "TALB",
              "track_number": "TRCK", "disc_number": "TPOS"}
ID3_YEAR_FRAMES = ("TDRC", "TYER", "TDOR")  # recording date (v2.4), year (v2.3), original release
MP4_ATOMS = {"title": "\xa9nam", "artist": "\xa9ART", "album_artist": "aART", "album": "\xa9alb",
             "genre": "\xa9gen", "track_number": "trkn", "disc_number": "disk", "year": "\xa9day"}
# Vorbis comment names are case-insensitive; the first present one of each list wins.
VORBIS_NAMES = {"title": ["title"], "artist": ["artist"], "album_artist": ["albumartist", "album artist"],
                "album": ["album"], "genre": ["genre"], "track_number": ["tracknumber"],
                "disc_number": ["discnumber"], "year": ["date", "year", "originaldate"]}


def _id3_fields(tags: ID3) -> dict:
    raw = {}
    for name, frame_id in ID3_FRAMES.items():
        frame = tags.get(frame_id)
        if frame is not None and frame.text:
            raw[name] = frame.text[0]
    genre = tags.get("TCON")
    if genre is not None and genre.genres:
        raw["genre"] = genre.genres[0]  # resolves ID3v1 numbers such as "(17)" to "Rock"
    for frame_id in ID3_YEAR_FRAMES:
        frame = tags.get(frame_id)
        if frame is not None and frame.text:
            raw["year"] = frame.text[0]
            break
    return raw


def _id3_pictures(tags: ID3) -> list[tuple[int, bytes]]:
    return [(frame.type, frame.data) for frame in tags.getall("APIC")]


def _mp4_fields(tags: MP4Tags) -> dict:
    return {name: _first(tags[atom]) for name, atom in MP4_ATOMS.items() if tags.get(atom)}


def _mp4_pictures(tags: MP4Tags) -> list[tuple[int, bytes]]:
    # MP4 has no picture types: every `covr` entry counts as a front cover.
    return [(FRONT_COVER, bytes(cover)) for cover in tags.get("covr", [])]


def _vorbis_fields(tags) -> dict:
    raw = {}
    for name, keys in VORBIS_NAMES.items():
        for key in keys:
            values = tags.get(key)
            if values:
                raw[name] = values[0]
                break
    return raw


def _flac_pictures(audio) -> list[tuple[int, bytes]]:
    return [(picture.type, picture.data) for picture in getattr(audio, "pictures", [])]  # FLAC only


def _vorbis_pictures(audio, tags) -> list[tuple[int, bytes | None]]:
    pictures = _flac_pictures(audio)
    for encoded in tags.get("metadata_block_picture", []):  # Ogg Vorbis / Opus
        try:
            picture = Picture(base64.b64decode(encoded))
        except (binascii.Error, ValueError, mutagen.MutagenError) as err:
            logger.info("skipping a malformed METADATA_BLOCK_PICTURE: %s", err)
            # Kept as a picture without data, so the owner hears why there is no cover.
            pictures.append((0, None))
            continue
        pictures.append((picture.type, picture.data))
    return pictures


def _front_cover(pictures: list[tuple[int, bytes | None]]) -> bytes | None:
    pictures = [(kind, data) for kind, data in pictures if data]
    if not pictures:
        return None
    return next((data for kind, data in pictures if kind == FRONT_COVER), pictures[0][1])


# --- Covers --------------------------------------------------------------------------------------


def _flatten(image: Image.Image) -> Image.Image:
    """RGB for JPEG: transparency goes onto white, palettes and greyscale are expanded."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, "white")
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")


def _jpeg(image: Image.Image, edge: int) -> bytes:
    copy = image.copy()
    copy.thumbnail((edge, edge), Image.Resampling.LANCZOS)
    out = BytesIO()
    copy.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


def make_covers(data: bytes) -> Covers:
    """Thumbnails of an embedded picture. Raises CoverRejected for pictures that are too large or
    not an image Pillow knows; the size is checked from the header before anything is decoded."""
    if len(data) > COVER_MAX_BYTES:
        # Rounded up: a picture just over the limit must not read as "16 MB; up to 16 MB are used".
        raise CoverRejected(f"The embedded cover picture is {math.ceil(len(data) / 2**20)} MB; pictures up to "
                            f"{COVER_MAX_BYTES // 2**20} MB are used, so this track has no cover.")
    try:
        with Image.open(BytesIO(data)) as image:  # reads the header only
            width, height = image.size
            if width * height > COVER_MAX_PIXELS:
                raise CoverRejected(
                    f"The embedded cover picture is {width:,} × {height:,} pixels, larger than the "
                    f"{COVER_MAX_PIXELS / 1e6:.0f} megapixels GenreWeb reads, so this track has no cover.")
            # JPEG decodes straight at 1/2 to 1/8 scale when that still covers the large thumbnail.
            image.draft("RGB", (COVER_LARGE, COVER_LARGE))
            image = _flatten(image)
    except CoverRejected:
        raise
    except Image.DecompressionBombError as err:  # Pillow's own limit, far above ours: same answer
        raise CoverRejected(f"The embedded cover picture is larger than the {COVER_MAX_PIXELS / 1e6:.0f} "
                            "megapixels GenreWeb reads, so this track has no cover.") from err
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise CoverRejected(UNREADABLE_COVER) from err
    return Covers(large=_jpeg(image, COVER_LARGE), small=_jpeg(image, COVER_SMALL))


# --- The reader ----------------------------------------------------------------------------------


def _open(path: Path, metadata: Metadata):
    try:
        return mutagen.File(path)
    except Exception as err:  # mutagen raises many types for odd files; tags are optional
        logger.info("could not read the tags of %s: %s", path, err)
        metadata.notes.append("The file's tags could not be read (they look damaged); "
                              "title, artist and album were left empty.")
        return None


def _tag_fields_and_pictures(audio) -> tuple[dict, list[tuple[int, bytes]]]:
    tags = audio.tags
    if tags is None:  # a FLAC file can hold pictures without any Vorbis comment
        return {}, _flac_pictures(audio)
    if isinstance(tags, ID3):  # MP3, and WAV/AIFF which carry an ID3 chunk
        return _id3_fields(tags), _id3_pictures(tags)
    if isinstance(tags, MP4Tags):
        return _mp4_fields(tags), _mp4_pictures(tags)
    return _vorbis_fields(tags), _vorbis_pictures(audio, tags)  # FLAC, Ogg Vorbis, Opus


def read_metadata(path: Path | str, *, covers: bool = True) -> Metadata:
    """Tags and (unless `covers` is False) front-cover thumbnails of the audio file at `path`.
    Never raises for what is in the file: problems are left in `notes`."""
    metadata = Metadata()
    audio = _open(Path(path), metadata)
    if audio is None:
        return metadata
    try:
        raw, pictures = _tag_fields_and_pictures(audio)
    except Exception as err:  # a frame mutagen parsed but we cannot interpret
        logger.info("could not interpret the tags of %s: %s", path, err)
        metadata.notes.append("Some of the file's tags could not be understood and were left out.")
        raw, pictures = {}, []
    for name in TEXT_FIELDS:
        if raw.get(name) is not None:
            setattr(metadata, name, clean_text(raw[name]))
    metadata.track_number = _number(raw.get("track_number"))
    metadata.disc_number = _number(raw.get("disc_number"))
    metadata.year = _year(raw.get("year"))

    if not covers:
        return metadata
    picture = _front_cover(pictures)
    if picture is not None:
        try:
            metadata.covers = make_covers(picture)
        except CoverRejected as err:
            metadata.notes.append(str(err))
    elif any(data is None for _kind, data in pictures):  # only pictures that could not be unpacked
        metadata.notes.append(UNREADABLE_COVER)
    return metadata
