"""Bad files through the upload page's form and through the API, with the real worker and model.

Every case ends as a clear 4xx at upload (and nothing stored) or as a track the worker finished:
`failed` with a reason a person understands, or `done` where the audio is legitimately fine. No
500, no track left queued or processing, and the same worker process serves every job.
"""
import csv
import io
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import mutagen
import pytest
from django.core.cache import cache
from django.urls import NoReverseMatch, reverse
from django.utils.html import escape
from rest_framework.test import APIClient

from classifier.models import Track
from classifier.services.tokens import token_create
from tests.audiogen import (claim_duration, truncate, write_audio, write_float_with_nan, write_not_audio,
                            write_silence, write_tags, write_without_audio)
from tests.conftest import wait_for_track

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'
CONTROL = "Bell\x07 Esc\x1b[31m red\r\nnext line\x7f"
UNICODE = "Beyoncé – Déjà vu · 東京 🎵"
LONG = "x" * 10_000


@dataclass(frozen=True)
class Case:
    """make(folder) writes the file and returns its path; `name` is the file name the client
    sends (default: the file's own). Expect a rejection (`status`, `code`, `message` in the
    message), or a track that ends `outcome` ("done"/"failed") with `reason` in its failure."""

    make: Callable[[Path], Path]
    name: str = ""
    status: int | None = None
    code: str = ""
    message: str = ""
    outcome: str = ""
    reason: str = ""
    check: Callable[[Track], None] = field(default=lambda track: None)


def _silent(track):
    # Silence has no genre: the model may guess one, but never state it as certain, and the
    # track is marked silent so the page can say why.
    assert track.prediction.uncertain, track.prediction.probabilities
    assert track.prediction.silent


def _tags_cleaned(title: str, artist: str = ""):
    def check(track):
        assert track.title == title
        assert track.artist == artist

    return check


def _long_tags(track):
    assert track.title == "x" * 255 and track.album == "x" * 255


def _name_is(name: str):
    def check(track):
        assert track.original_name == name
        assert Path(track.file.name).suffix == Path(name).suffix
        assert track.file.name.startswith(f"tracks/{track.owner_id}/")

    return check


LONG_NAME = "a" * 296 + ".mp3"
LONG_EXTENSION = "song." + "x" * 300


def _original_name_is(name: str):
    def check(track):
        assert track.original_name == name

    return check


CASES = {
    "zero-bytes": Case(lambda d: _touch(d / "empty.mp3"), status=400, code="empty_file",
                       message="empty.mp3 is empty."),
    "truncated-mp3": Case(lambda d: truncate(write_audio(d / "cut.mp3", seconds=4)), outcome="done"),
    "truncated-flac": Case(lambda d: truncate(write_audio(d / "cut.flac", seconds=4)), outcome="failed",
                           reason="The audio could not be decoded: the audio data is corrupt"),
    "text-as-mp3": Case(lambda d: write_not_audio(d / "lyrics.mp3", "text"), status=400, code="invalid_audio",
                        message="lyrics.mp3 is not an audio file we can read"),
    "png-as-mp3": Case(lambda d: write_not_audio(d / "cover.mp3", "png"), status=400, code="invalid_audio",
                       message="cover.mp3 is not an audio file we can read"),
    "pdf-as-mp3": Case(lambda d: write_not_audio(d / "invoice.mp3", "pdf"), status=400, code="invalid_audio",
                       message="invoice.mp3 is not an audio file we can read"),
    "elf-as-mp3": Case(lambda d: write_not_audio(d / "program.mp3", "elf"), status=400, code="invalid_audio",
                       message="program.mp3 is not an audio file we can read"),
    "video-only-mp4": Case(lambda d: write_without_audio(d / "clip.mp4", "video"), status=400,
                           code="invalid_audio", message="clip.mp4 is not an audio file we can read: "
                                                         "the file contains no audio stream"),
    "subtitles-only-mkv": Case(lambda d: write_without_audio(d / "subs.mkv", "subtitles"), status=400,
                               code="invalid_audio", message="the file contains no audio stream"),
    "0.2-seconds": Case(lambda d: write_audio(d / "blip.wav", seconds=0.2), status=400, code="too_short",
                        message="blip.wav is only 0.2 seconds long; GenreWeb needs at least 0.5 seconds of audio"),
    "10-minutes-silence": Case(lambda d: write_silence(d / "silence.flac", 600), outcome="done", check=_silent),
    "8ch-96k-24bit": Case(lambda d: write_audio(d / "surround.wav", seconds=2, sample_rate=96000, channels=8,
                                                subtype="PCM_24"), outcome="done"),
    "float-wav": Case(lambda d: write_audio(d / "float.wav", seconds=2, subtype="FLOAT"), outcome="done"),
    "float-wav-with-nan-and-inf": Case(lambda d: write_float_with_nan(d / "broken-mixer.wav"), outcome="done"),
    "mp3-header-claims-20h": Case(lambda d: claim_duration(write_audio(d / "liar.mp3", seconds=2), hours=20),
                                  status=400, code="too_long",
                                  message="liar.mp3 is 1200 minutes long; the limit is 180 minutes."),
    "over-size-limit": Case(lambda d: write_audio(d / "big.wav", seconds=1, sample_rate=8000, channels=1),
                            status=413, code="file_too_large", message="big.wav is larger than the 10.0 KB upload limit."),
    "id3-html-and-script": Case(lambda d: write_tags(write_audio(d / "xss.mp3", seconds=2), title=SCRIPT, artist=IMG),
                                outcome="done", check=_tags_cleaned(SCRIPT, IMG)),
    "vorbis-10000-chars": Case(lambda d: write_tags(write_audio(d / "long.flac", seconds=2), title=LONG, album=LONG),
                               outcome="done", check=_long_tags),
    "tags-unicode-and-control": Case(
        lambda d: write_tags(write_audio(d / "odd.flac", seconds=2), title=CONTROL, artist=UNICODE),
        outcome="done", check=_tags_cleaned("Bell Esc [31m red next line", UNICODE)),
    "name-with-dot-dot": Case(lambda d: write_audio(d / "escape.wav", seconds=2), name="../../../etc/escape.wav",
                              outcome="done", check=_name_is("escape.wav")),
    "name-unicode": Case(lambda d: write_audio(d / "u.ogg", seconds=2), name=f"{UNICODE}.ogg", outcome="done",
                         check=_name_is(f"{UNICODE}.ogg")),
    "name-300-chars": Case(lambda d: write_audio(d / "n.mp3", seconds=2), name=LONG_NAME, outcome="done",
                           check=_name_is("a" * 251 + ".mp3")),
    "name-300-char-extension": Case(lambda d: write_audio(d / "e.wav", seconds=2), name=LONG_EXTENSION,
                                    outcome="done", check=_original_name_is(LONG_EXTENSION[:255])),
}


def _touch(path):
    path.write_bytes(b"")
    return path


def multipart(field_name: str, file_name: str, content: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body as a browser sends it: the file name goes as given (raw UTF-8),
    `../` included; Django's test client would strip it before sending."""
    boundary = uuid.uuid4().hex
    quoted = file_name.replace('"', "%22")
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field_name}\"; filename=\"{quoted}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


@dataclass
class Sent:
    status: int
    code: str  # the rejection's code, or "" when accepted
    message: str
    track_id: str | None


def send_form(user, name, content) -> Sent:
    """POST to the upload page as its plain form does (no JavaScript: the answer is the page)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    body, content_type = multipart("files", name, content)
    response = client.post(reverse("upload"), body, content_type=content_type)
    track = Track.objects.filter(owner=user).first()
    # The page itself is the message: each file's outcome is shown on it (escaped).
    return Sent(response.status_code, "", response.content.decode(), str(track.pk) if track else None)


def send_api(user, name, content) -> Sent:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(user=user, name='bad files')[1]}")
    body, content_type = multipart("file", name, content)
    response = client.generic("POST", "/api/v1/tracks/", body, content_type=content_type)
    data = response.json()
    if "error" in data:
        return Sent(response.status_code, data["error"]["code"], data["error"]["message"], None)
    return Sent(response.status_code, "", "", data["id"])


SENDERS = {"form": send_form, "api": send_api}


def media_files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def pool_pids(worker) -> set[int]:
    """The worker's pool processes (children of the `celery worker` main process)."""
    pid = worker.process.pid
    children = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        children |= {int(c) for c in (task / "children").read_text().split()}
    return children


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()  # upload throttle counters live in the cache
    yield
    cache.clear()


@pytest.mark.parametrize("via", SENDERS)
@pytest.mark.parametrize("case_id", CASES)
def test_bad_file(case_id, via, celery_worker, make_user, media_dir, settings, tmp_path):
    case = CASES[case_id]
    if case_id == "over-size-limit":
        settings.UPLOAD_MAX_BYTES = 10 * 1024  # the file has 16 KB
    path = case.make(tmp_path)
    name = case.name or path.name
    user = make_user(f"{via}-{uuid.uuid4().hex[:8]}")
    pids = pool_pids(celery_worker)
    before = media_files(media_dir)

    sent = SENDERS[via](user, name, path.read_bytes())
    sent.message = sent.message.replace("\xa0", " ")  # filesizeformat's no-break space

    if case.status:  # refused at the door: the reason, and nothing kept
        assert sent.status == case.status, sent.message[:2000]
        if via == "api":
            assert sent.code == case.code
            assert case.message in sent.message
        else:
            assert escape(case.message) in sent.message
        assert not Track.objects.filter(owner=user).exists()
        assert media_files(media_dir) == before
        return

    assert sent.status in (201, 202), sent.message[:2000]
    track = wait_for_track(sent.track_id, worker=celery_worker)
    assert track.status == case.outcome, track.failure_reason + "\n" + celery_worker.output()
    if case.outcome == "failed":
        assert case.reason in track.failure_reason
    case.check(track)
    assert not Track.objects.filter(status__in=[Track.Status.QUEUED, Track.Status.PROCESSING]).exists()
    # The job ran in the pool process that was there before: nothing crashed and was replaced.
    assert celery_worker.process.poll() is None
    assert pool_pids(celery_worker) == pids, celery_worker.output()




FORMULA = '=HYPERLINK("http://evil.example/","open me")'


def _pages_if_routed(*names):
    """The library's album, artist and genre pages, where this checkout has them."""
    urls = []
    for name in names:
        try:
            urls.append(reverse(name))
        except NoReverseMatch:
            pass
    return urls


def test_tag_text_is_escaped_everywhere_it_is_shown(celery_worker, make_user, tmp_path):
    """Hostile tags in an MP3 (ID3) and a FLAC (Vorbis): pages escape them, M3U keeps one entry
    per line, CSV neutralises spreadsheet formulas, JSON round-trips them as data, and the
    downloaded file carries them unchanged beside the genre written into it."""
    from django.test import Client

    user = make_user("tagged")
    client = Client()
    client.force_login(user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(user=user, name='escape')[1]}")
    tracks = []
    for name in ("hostile.mp3", "hostile.flac"):
        path = write_tags(write_audio(tmp_path / name, seconds=3, seed=len(tracks)),
                          title=SCRIPT, artist=IMG, album=FORMULA)
        sent = send_form(user, name, path.read_bytes())
        assert sent.status == 201
        tracks.append(wait_for_track(Track.objects.get(owner=user, original_name=name).pk, worker=celery_worker))
    for track in tracks:
        assert track.status == "done", track.failure_reason
        # A genre of the user's own: uncertain guesses are kept out of playlists.
        assert client.post(reverse("track-genre", args=[track.pk]), {"genre": "rock"}).status_code == 302

    raw = [SCRIPT, "<img src=x"]
    pages = [reverse("track-detail", args=[tracks[0].pk]), reverse("track-detail", args=[tracks[1].pk]),
             reverse("home"), reverse("home") + "?q=script", reverse("playlist-detail", args=["rock"]),
             reverse("track-delete", args=[tracks[0].pk]), reverse("dashboard"),
             *_pages_if_routed("album-list", "artist-list", "genres")]
    for url in pages:
        html = client.get(url).content.decode()
        assert not any(text in html for text in raw), url
    for url in pages[:5]:
        assert escape(SCRIPT) in client.get(url).content.decode(), url

    for url in (reverse("playlist-m3u", args=["rock"]), "/api/v1/playlists/rock/?format=m3u"):
        response = (api if url.startswith("/api/") else client).get(url)
        assert response.status_code == 200 and "html" not in response["Content-Type"]
        lines = response.content.decode().splitlines()
        assert lines[:2] == ["#EXTM3U", "#PLAYLIST:GenreWeb · rock"]
        assert lines[2::2] == [f"#EXTINF:3,{IMG} - {SCRIPT}"] * 2  # one line each, text as it is
        assert all(line.startswith("http://testserver/") for line in lines[3::2])

    csv_text = b"".join(client.get(reverse("library-export-csv")).streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    # A spreadsheet would run a cell that starts with "="; the export keeps it as text.
    assert [(r["title"], r["artist"], r["album"]) for r in rows] == [(SCRIPT, IMG, "'" + FORMULA)] * 2

    exported = json.loads(b"".join(client.get(reverse("library-export-json")).streaming_content))
    assert [(r["title"], r["artist"], r["album"]) for r in exported] == [(SCRIPT, IMG, FORMULA)] * 2
    detail = api.get(f"/api/v1/tracks/{tracks[0].pk}/")
    assert detail["Content-Type"] == "application/json"
    assert (detail.json()["title"], detail.json()["artist"]) == (SCRIPT, IMG)
    browsable = api.get(f"/api/v1/tracks/{tracks[0].pk}/", HTTP_ACCEPT="text/html").content.decode()
    assert not any(text in browsable for text in raw)

    for track in tracks:
        response = client.get(reverse("track-download", args=[track.pk]))
        copy = tmp_path / f"download{Path(track.original_name).suffix}"
        copy.write_bytes(b"".join(response.streaming_content))
        written = mutagen.File(copy, easy=True)
        assert (written["title"], written["artist"], written["album"]) == ([SCRIPT], [IMG], [FORMULA])
        assert written["genre"] == ["rock"]
