"""Reading tags and covers from the files themselves (services.metadata), for every format the
product accepts, from files these tests tag and illustrate on the spot."""
import base64
import subprocess
import sys
import textwrap
from io import BytesIO

import pytest
from mutagen.id3 import APIC, ID3, TCON
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from PIL import Image

from classifier.services.metadata import COVER_LARGE, COVER_MAX_BYTES, COVER_MAX_PIXELS, COVER_SMALL, read_metadata
from tests.audiogen import ALL_FORMATS
from tests.conftest import ROOT
from tests.tagging import cover_image, write_tagged

TAGS = {"title": "Blue Tide", "artist": "Ana Ray", "album_artist": "The Harbour Band", "album": "Harbour Lights",
        "genre": "Jazz", "track": "3/12", "disc": "2/2", "year": "2019-05-01"}


def _image(data: bytes) -> Image.Image:
    image = Image.open(BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_tags_and_cover_of_every_format(tmp_path, fmt):
    path = write_tagged(tmp_path / f"song.{fmt}", TAGS, cover_image(800, 600, colour=(30, 90, 200)))
    metadata = read_metadata(path)
    assert metadata.track_fields() == {
        "title": "Blue Tide", "artist": "Ana Ray", "album_artist": "The Harbour Band", "album": "Harbour Lights",
        "file_genre": "Jazz", "track_number": 3, "disc_number": 2, "year": 2019,
    }
    assert metadata.notes == []
    large, small = _image(metadata.covers.large), _image(metadata.covers.small)
    assert large.format == small.format == "JPEG"
    # Resized once, keeping the aspect ratio; the longest edge is the thumbnail size.
    assert large.size == (COVER_LARGE, COVER_LARGE * 600 // 800)
    assert small.size == (COVER_SMALL, COVER_SMALL * 600 // 800)
    # The picture is the one embedded: the blue of the drawing survives.
    red, green, blue = large.convert("RGB").getpixel((5, 5))
    assert blue > 150 and red < 80


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_a_file_without_tags_gives_empty_fields_and_no_cover(tmp_path, fmt):
    metadata = read_metadata(write_tagged(tmp_path / f"bare.{fmt}"))
    assert metadata.track_fields() == {
        "title": "", "artist": "", "album_artist": "", "album": "", "file_genre": "",
        "track_number": None, "disc_number": None, "year": None,
    }
    assert metadata.covers is None and metadata.notes == []


def test_a_png_cover_with_transparency_becomes_a_jpeg_on_white(tmp_path):
    picture = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    out = BytesIO()
    picture.save(out, "PNG")
    metadata = read_metadata(write_tagged(tmp_path / "alpha.flac", {"title": "Clear"}, out.getvalue()))
    assert _image(metadata.covers.large).convert("RGB").getpixel((10, 10)) == (255, 255, 255)


# Where each format keeps the title; the 4 bytes before it are a length: the ID3 tag's (syncsafe)
# size in front of its first frame, the MP4 atom's own size, the Vorbis comment's length.
TITLE_MARKERS = {"mp3": b"TIT2", "wav": b"TIT2", "aiff": b"TIT2", "m4a": b"\xa9nam",
                 "flac": b"TITLE=", "ogg": b"TITLE=", "opus": b"TITLE="}


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_damaged_tags_leave_a_note_and_no_fields(tmp_path, fmt):
    path = write_tagged(tmp_path / f"damaged.{fmt}", {"title": "Lost", "artist": "Nobody"})
    data = bytearray(path.read_bytes())
    at = data.index(TITLE_MARKERS[fmt])
    data[at - 4:at] = b"\xff\xff\xff\x7f"  # that length now runs far past the tag (and is no syncsafe number)
    path.write_bytes(bytes(data))
    metadata = read_metadata(path)
    assert metadata.title == "" and metadata.artist == "" and metadata.covers is None
    assert metadata.notes == ["The file's tags could not be read (they look damaged); title, artist and album "
                              "were left empty."]


def test_garbage_where_id3_frames_should_be_reads_as_no_tags(tmp_path):
    audio = write_tagged(tmp_path / "plain.mp3").read_bytes()
    size = 600  # an ID3v2.4 header announcing 600 bytes of frames, followed by noise
    header = b"ID3\x04\x00\x00" + bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    path = tmp_path / "garbage.mp3"
    path.write_bytes(header + bytes(range(256)) * 2 + bytes(88) + audio)
    metadata = read_metadata(path)
    assert metadata.track_fields()["title"] == "" and metadata.covers is None


def test_an_unreadable_picture_leaves_a_note_and_keeps_the_tags(tmp_path):
    path = write_tagged(tmp_path / "bad-picture.mp3", {"title": "Still Here"})
    tags = ID3(path)
    tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="", data=b"\xff\xd8 not really a jpeg"))
    tags.save(path)
    metadata = read_metadata(path)
    assert metadata.title == "Still Here" and metadata.covers is None
    assert metadata.notes == ["The embedded cover picture could not be read as an image, so this track has no cover."]


@pytest.mark.parametrize("block", [
    "!!not base64!!",
    base64.b64encode(b"\x00\x00\x00\x03\x00\x00\x00\x0aimage/jp").decode(),  # a picture block cut short
])
def test_a_malformed_vorbis_picture_block_leaves_a_note_and_keeps_the_tags(tmp_path, block):
    path = write_tagged(tmp_path / "bad-block.opus", {"title": "Still Here"})
    audio = OggOpus(path)
    audio["METADATA_BLOCK_PICTURE"] = [block]
    audio.save()
    metadata = read_metadata(path)
    assert metadata.title == "Still Here" and metadata.covers is None
    assert metadata.notes == ["The embedded cover picture could not be read as an image, so this track has no cover."]


def test_a_malformed_vorbis_picture_block_beside_a_good_one_is_skipped(tmp_path):
    path = write_tagged(tmp_path / "two-blocks.ogg", {"title": "Covered"}, cover_image(200, 200))
    audio = OggVorbis(path)
    audio["METADATA_BLOCK_PICTURE"] = ["!!not base64!!", *audio["METADATA_BLOCK_PICTURE"]]
    audio.save()
    metadata = read_metadata(path)
    assert metadata.covers is not None and metadata.notes == []


def test_a_picture_over_the_byte_limit_is_refused_unread_and_the_tags_are_kept(tmp_path):
    """In a WAV's ID3 chunk, as a tagger writes it: ffmpeg, which attaches the covers of the other
    fixtures, would re-encode the picture and so shrink it."""
    jpeg = cover_image(64, 64)
    picture = jpeg + bytes(COVER_MAX_BYTES + 1 - len(jpeg))  # a real JPEG padded to one byte over 16 MB
    path = write_tagged(tmp_path / "heavy.wav", {"title": "Heavy", "artist": "Ana Ray"}, picture)
    metadata = read_metadata(path)
    assert (metadata.title, metadata.artist, metadata.covers) == ("Heavy", "Ana Ray", None)
    assert metadata.notes == ["The embedded cover picture is 17 MB; pictures up to 16 MB are used, so this track "
                              "has no cover."]


def test_odd_but_common_tag_values(tmp_path):
    path = write_tagged(tmp_path / "odd.mp3", {"title": "Odd", "track": "07", "year": "1987"})
    tags = ID3(path)
    tags.delall("TCON")
    tags.add(TCON(encoding=3, text=["(17)"]))  # an ID3v1 genre number
    tags.save(path)
    metadata = read_metadata(path)
    assert (metadata.track_number, metadata.year, metadata.genre) == (7, 1987, "Rock")


def test_free_text_vorbis_comments(tmp_path):
    tags = {"title": "Line\x00one\nand\ttwo\x1b  ", "year": "c. 1987", "track": "0", "disc": "one"}
    metadata = read_metadata(write_tagged(tmp_path / "free.flac", tags))
    assert metadata.title == "Line one and two"  # control characters never reach the database
    assert (metadata.year, metadata.track_number, metadata.disc_number) == (1987, None, None)


def test_text_is_cut_to_the_column_size(tmp_path):
    metadata = read_metadata(write_tagged(tmp_path / "long.ogg", {"album": "x" * 10_000}))
    assert metadata.album == "x" * 255


def test_a_huge_picture_is_refused_from_its_header_in_bounded_memory(tmp_path):
    """A 12,000 x 12,000 picture (144 megapixels; 430 MB once decoded to RGB) in a few kB of PNG:
    refused before decoding, with a message, and the tags are still read. Run in a fresh
    process so its peak memory can be measured."""
    side = 12_000
    assert side * side > COVER_MAX_PIXELS
    out = BytesIO()
    Image.new("1", (side, side)).save(out, "PNG")  # one bit per pixel: cheap to make here
    path = write_tagged(tmp_path / "huge.mp3", {"title": "Big Picture"}, out.getvalue())
    script = textwrap.dedent(f"""
        import re
        from pathlib import Path
        from classifier.services.metadata import read_metadata
        metadata = read_metadata({str(path)!r})
        print(metadata.title)
        print(metadata.covers)
        print(metadata.notes[0])
        # This process's own peak (VmHWM starts afresh at exec; getrusage would include pytest's).
        status = Path("/proc/self/status").read_text()
        print(int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) // 1024)
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    title, covers, note, peak_mb = result.stdout.strip().splitlines()
    assert (title, covers) == ("Big Picture", "None")
    assert note == ("The embedded cover picture is 12,000 × 12,000 pixels, larger than the 20 megapixels "
                    "GenreWeb reads, so this track has no cover.")
    assert int(peak_mb) < 250, f"peak memory {peak_mb} MB: the picture was decoded"
