"""Exports (CSV, JSON, tagged downloads, corrections as a training set), delete and re-classify."""
import csv
import hashlib
import io
import json
import re
from pathlib import Path

import mutagen
import pytest
from django.core.management import call_command
from django.urls import reverse

from classifier.models import Prediction, Track
from classifier.services import exports
from ml.sources import read_clips

pytestmark = pytest.mark.django_db


def streamed(response) -> str:
    return b"".join(response.streaming_content).decode()


def test_csv_export(alice_client, make_track, user):
    make_track(user, title="One, with comma", artist="A", album="X", genre="rock", confidence=0.91234)
    make_track(user, title="Two", genre="rock", user_genre="blues")
    make_track(user, title="Three", genre="", status=Track.Status.QUEUED)
    response = alice_client.get(reverse("library-export-csv"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(streamed(response))))
    assert [r["title"] for r in rows] == ["One, with comma", "Two", "Three"]
    assert rows[0] == {"file": "One, with comma.mp3", "title": "One, with comma", "artist": "A", "album": "X",
                       "album_artist": "", "disc": "", "track": "", "year": "",
                       "genre": "rock", "confidence": "0.9123", "genre_source": "model", "uncertain": "no",
                       "runner_up": "", "file_genre": "",
                       "top_tags": "rock;guitar;male vocals;beat;80s"}
    assert (rows[1]["genre"], rows[1]["genre_source"]) == ("blues", "user")
    assert (rows[2]["genre"], rows[2]["confidence"], rows[2]["top_tags"]) == ("", "", "")


def test_exports_say_when_the_genre_is_uncertain_with_the_runner_up(alice_client, make_track, user):
    make_track(user, title="Unsure", genre="electronic", confidence=0.45, uncertain=True, runner_up="hiphop")
    make_track(user, title="Decided", genre="electronic", confidence=0.45, uncertain=True, runner_up="hiphop",
               user_genre="hiphop")  # the owner's own genre is never uncertain
    rows = list(csv.DictReader(io.StringIO(streamed(alice_client.get(reverse("library-export-csv"))))))
    assert [(r["genre"], r["uncertain"], r["runner_up"]) for r in rows] == [("electronic", "yes", "hiphop"),
                                                                           ("hiphop", "no", "")]
    data = json.loads(streamed(alice_client.get(reverse("library-export-json"))))
    assert [(d["genre"], d["uncertain"], d["runner_up"]) for d in data] == [("electronic", True, "hiphop"),
                                                                           ("hiphop", False, "")]


def test_json_export(alice_client, make_track, user):
    make_track(user, title="Two", genre="rock", user_genre="blues", confidence=0.5)
    make_track(user, title="Three", genre="", status=Track.Status.QUEUED)
    data = json.loads(streamed(alice_client.get(reverse("library-export-json"))))
    assert data[0]["genre"] == "blues" and data[0]["genre_source"] == "user" and data[0]["confidence"] == 0.5
    assert data[0]["top_tags"] == ["rock", "guitar", "male vocals", "beat", "80s"]
    assert data[1]["genre"] == "" and data[1]["confidence"] is None


def test_exports_carry_the_files_own_tags(alice_client, make_track, user):
    track = make_track(user, title="Intro", artist="Band", album="Debut", genre="rock")
    Track.objects.filter(pk=track.pk).update(album_artist="Various Artists", disc_number=2, track_number=7,
                                             year=1999, file_genre="Alternative")
    row = next(csv.DictReader(io.StringIO(streamed(alice_client.get(reverse("library-export-csv"))))))
    assert (row["album_artist"], row["disc"], row["track"], row["year"], row["file_genre"]) == (
        "Various Artists", "2", "7", "1999", "Alternative")
    item = json.loads(streamed(alice_client.get(reverse("library-export-json"))))[0]
    assert (item["album_artist"], item["disc"], item["track"], item["year"], item["file_genre"]) == (
        "Various Artists", 2, 7, 1999, "Alternative")


def test_json_export_of_empty_library(alice_client):
    assert json.loads(streamed(alice_client.get(reverse("library-export-json")))) == []


def sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.mark.parametrize("name,read_genre", [
    ("song.mp3", lambda f: [str(t) for t in f.tags["TCON"].text]),
    ("song.flac", lambda f: f.tags["genre"]),
    ("song.ogg", lambda f: f.tags["genre"]),
    ("song.m4a", lambda f: f.tags["\xa9gen"]),
    ("song.wav", lambda f: [str(t) for t in f.tags["TCON"].text]),
    ("song.aiff", lambda f: [str(t) for t in f.tags["TCON"].text]),
    ("song.opus", lambda f: f.tags["genre"]),
])
def test_download_writes_the_genre_into_a_copy(alice_client, upload_track, user, name, read_genre, tmp_path):
    track = upload_track(user, name, genre="jazz")
    track.user_genre = "blues"  # the effective genre is what goes into the file
    track.save()
    original = sha256(track.file.path)
    response = alice_client.get(reverse("track-download", args=[track.pk]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"] and name in response["Content-Disposition"]
    copy = tmp_path / f"download-{name}"
    copy.write_bytes(b"".join(response.streaming_content))
    assert read_genre(mutagen.File(copy)) == ["blues"]
    assert sha256(track.file.path) == original == track.sha256  # the stored file is untouched
    assert mutagen.File(track.file.path).tags is None or "blues" not in str(mutagen.File(track.file.path).tags)


def test_download_of_a_missing_file_is_404(alice_client, make_track, user):
    track = make_track(user)  # its file was never written
    assert alice_client.get(reverse("track-download", args=[track.pk])).status_code == 404


def test_delete_asks_then_removes_row_and_files(alice_client, upload_track, user, django_capture_on_commit_callbacks):
    track = upload_track(user, "song.flac")
    track.spectrogram.save("x.png", io.BytesIO(b"\x89PNG fake"), save=True)
    audio, image = Path(track.file.path), Path(track.spectrogram.path)
    assert audio.is_file() and image.is_file()
    confirm = alice_client.get(reverse("track-delete", args=[track.pk]))
    assert confirm.status_code == 200 and "Delete track" in confirm.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("track-delete", args=[track.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert not Track.objects.filter(pk=track.pk).exists()
    assert not Prediction.objects.filter(track_id=track.pk).exists()
    assert not audio.exists() and not image.exists()


def test_deleting_a_user_removes_the_files_of_all_their_tracks(upload_track, user, django_capture_on_commit_callbacks):
    tracks = [upload_track(user, name, seed=i) for i, name in enumerate(["a.flac", "b.mp3"])]
    files = [Path(track.file.path) for track in tracks]
    assert all(path.is_file() for path in files)
    with django_capture_on_commit_callbacks(execute=True):
        user.delete()
    assert not Track.objects.exists()
    assert not any(path.exists() for path in files)


def test_reclassify_one_track_queues_it(alice_client, make_track, user, django_capture_on_commit_callbacks):
    track = make_track(user, user_genre="blues")
    with django_capture_on_commit_callbacks() as callbacks:
        response = alice_client.post(reverse("track-reclassify", args=[track.pk]))
    assert response.status_code == 302
    assert len(callbacks) == 1
    track.refresh_from_db()
    assert track.status == Track.Status.QUEUED and track.user_genre == "blues"


def test_reclassify_whole_library_skips_tracks_already_queued(alice_client, make_track, user, other_user,
                                                             django_capture_on_commit_callbacks):
    make_track(user)
    make_track(user, status=Track.Status.FAILED, genre="")
    make_track(user, status=Track.Status.QUEUED, genre="")
    make_track(other_user)
    with django_capture_on_commit_callbacks() as callbacks:
        alice_client.post(reverse("library-reclassify"), {"scope": "all"})
    assert len(callbacks) == 2
    assert Track.objects.get(owner=other_user).status == Track.Status.DONE


def test_export_corrections_is_a_training_csv(upload_track, user, other_user, tmp_path):
    corrected = upload_track(user, "a.flac", genre="rock", seed=1)
    Track.objects.filter(pk=corrected.pk).update(user_genre="blues")
    second = upload_track(user, "b.mp3", genre="pop", seed=2)
    Track.objects.filter(pk=second.pk).update(user_genre="disco")
    upload_track(user, "c.wav", genre="jazz", seed=3)  # not corrected: not exported
    theirs = upload_track(other_user, "d.wav", genre="jazz", seed=4)
    Track.objects.filter(pk=theirs.pk).update(user_genre="metal")
    out = tmp_path / "export"
    stdout = io.StringIO()
    call_command("export_corrections", "--user", user.username, "--out", str(out), stdout=stdout)
    assert "Wrote 2 track(s)" in stdout.getvalue()
    clips = read_clips(out / "labels.csv")  # the ml package's own reader
    assert sorted(c.genre for c in clips) == ["blues", "disco"]
    by_genre = {c.genre: c for c in clips}
    assert by_genre["blues"].path.read_bytes() == Path(corrected.file.path).read_bytes()
    assert by_genre["disco"].path.suffix == ".mp3"
    for clip in clips:
        assert clip.path.is_relative_to(out.resolve())
    with (out / "labels.csv").open() as fh:
        assert next(csv.reader(fh)) == ["file", "genre"]


def test_export_corrections_unknown_user(tmp_path, db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No user named"):
        call_command("export_corrections", "--user", "nobody", "--out", str(tmp_path))


def test_m3u_keeps_each_entry_on_its_own_lines_whatever_the_tags_hold():
    # Tags are cleaned on the way in; the M3U writer does not rely on it: a line break in a tag
    # must never start a line of its own (a forged #EXTINF or URL entry).
    tracks = [Track(pk=1, owner_id=1, artist="Band\n#EXTINF:1,forged", title="Song\r\nhttp://evil.example/x.mp3",
                    duration=61.6),
              Track(pk=2, owner_id=1, original_name="untitled.flac", duration=None)]
    lines = exports.m3u_playlist(tracks, title="rock", site="https://genreweb.example/").splitlines()

    assert lines[:3] == ["#EXTM3U", "#PLAYLIST:rock", "#EXTINF:62,Band #EXTINF:1,forged - Song http://evil.example/x.mp3"]
    assert lines[4] == "#EXTINF:-1,untitled"
    assert len(lines) == 6
    assert all(re.fullmatch(r"https://genreweb\.example/stream/[\w:.-]+/", line) for line in (lines[3], lines[5]))
