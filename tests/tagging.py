"""Tagged audio fixtures: every accepted format with the tags and the embedded cover a user's
tagger would write (mutagen), or an encoder (ffmpeg's `attached_pic`) where it can attach one.
Covers are drawn here, never copied from anywhere. (audiogen.write_tags sets text tags through
mutagen's easy interface, which has no WAV/AIFF and no pictures; this writes each format's own.)"""
import base64
import shutil
import subprocess
from io import BytesIO
from pathlib import Path

from mutagen.flac import FLAC, Picture
from mutagen.id3 import APIC, TALB, TCON, TDRC, TIT2, TPE1, TPE2, TPOS, TRCK
from mutagen.mp4 import MP4, MP4Cover
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from PIL import Image, ImageDraw

from tests.audiogen import write_audio

# Formats whose cover ffmpeg attaches as a video stream with the attached_pic disposition.
FFMPEG_COVER_FORMATS = {"mp3", "m4a", "flac"}


def cover_image(width=640, height=640, colour=(200, 60, 40), fmt="JPEG", mode="RGB") -> bytes:
    """A drawn cover: a coloured square with a lighter disc in it."""
    image = Image.new(mode, (width, height), colour if mode == "RGB" else 0)
    if mode == "RGB":
        draw = ImageDraw.Draw(image)
        draw.ellipse((width // 4, height // 4, 3 * width // 4, 3 * height // 4),
                     fill=tuple(min(c + 80, 255) for c in colour))
    out = BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def _mime(data: bytes) -> str:
    return "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"


def _attach_with_ffmpeg(path: Path, cover: bytes) -> None:
    picture = path.with_suffix(".cover.png" if _mime(cover) == "image/png" else ".cover.jpg")
    picture.write_bytes(cover)
    out = path.with_name("with-cover-" + path.name)
    codec = ["-c:v", "png"] if _mime(cover) == "image/png" else ["-c:v", "mjpeg"]
    subprocess.run([shutil.which("ffmpeg"), "-nostdin", "-loglevel", "error", "-y", "-i", str(path),
                    "-i", str(picture), "-map", "0:a", "-map", "1:v", "-c:a", "copy", *codec,
                    "-disposition:v", "attached_pic", str(out)], check=True)
    out.replace(path)
    picture.unlink()


def _write_id3(path: Path, audio_cls, tags: dict, cover: bytes | None) -> None:
    audio = audio_cls(path)
    if audio.tags is None:
        audio.add_tags()
    frames = {"title": TIT2, "artist": TPE1, "album_artist": TPE2, "album": TALB, "genre": TCON,
              "track": TRCK, "disc": TPOS, "year": TDRC}
    for name, frame in frames.items():
        if name in tags:
            audio.tags.add(frame(encoding=3, text=[str(tags[name])]))
    if cover is not None:
        audio.tags.add(APIC(encoding=3, mime=_mime(cover), type=3, desc="Cover", data=cover))
    audio.save()


def _vorbis_comments(tags: dict) -> dict:
    names = {"title": "TITLE", "artist": "ARTIST", "album_artist": "ALBUMARTIST", "album": "ALBUM",
             "genre": "GENRE", "track": "TRACKNUMBER", "disc": "DISCNUMBER", "year": "DATE"}
    return {names[name]: [str(value)] for name, value in tags.items()}


def _picture_block(cover: bytes) -> Picture:
    picture = Picture()
    picture.type, picture.mime, picture.desc, picture.data = 3, _mime(cover), "Cover", cover
    with Image.open(BytesIO(cover)) as image:
        picture.width, picture.height = image.size
    picture.depth = 24
    return picture


def write_tagged(path: Path, tags: dict | None = None, cover: bytes | None = None, seconds: float = 2.0,
                 seed: int = 0) -> Path:
    """A generated clip at `path` (format from the suffix) carrying `tags` (title, artist,
    album_artist, album, genre, track, disc, year) and `cover` as its front cover."""
    from mutagen.aiff import AIFF
    from mutagen.mp3 import MP3
    from mutagen.wave import WAVE

    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    write_audio(path, seconds=seconds, seed=seed)
    tags = tags or {}
    if cover is not None and fmt in FFMPEG_COVER_FORMATS:
        _attach_with_ffmpeg(path, cover)
        cover = None  # attached
    if fmt in ("mp3", "wav", "aiff"):
        _write_id3(path, {"mp3": MP3, "wav": WAVE, "aiff": AIFF}[fmt], tags, cover)
    elif fmt == "m4a":
        audio = MP4(path)
        atoms = {"title": "\xa9nam", "artist": "\xa9ART", "album_artist": "aART", "album": "\xa9alb",
                 "genre": "\xa9gen", "year": "\xa9day"}
        for name, atom in atoms.items():
            if name in tags:
                audio[atom] = [str(tags[name])]
        if "track" in tags:
            audio["trkn"] = [(int(str(tags["track"]).split("/")[0]), 0)]
        if "disc" in tags:
            audio["disk"] = [(int(str(tags["disc"]).split("/")[0]), 0)]
        if cover is not None:
            audio["covr"] = [MP4Cover(cover, MP4Cover.FORMAT_PNG if _mime(cover) == "image/png" else MP4Cover.FORMAT_JPEG)]
        audio.save()
    elif fmt == "flac":
        audio = FLAC(path)
        audio.update(_vorbis_comments(tags))
        if cover is not None:
            audio.add_picture(_picture_block(cover))
        audio.save()
    elif fmt in ("ogg", "opus"):
        audio = (OggVorbis if fmt == "ogg" else OggOpus)(path)
        audio.update(_vorbis_comments(tags))
        if cover is not None:
            audio["METADATA_BLOCK_PICTURE"] = [base64.b64encode(_picture_block(cover).write()).decode("ascii")]
        audio.save()
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return path
