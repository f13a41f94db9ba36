"""Media on an S3-compatible bucket (a real server on 127.0.0.1): reads in ranges, the decoder's
local copy, audio streaming with Range, the tagged download, check_media, and deleting."""
import hashlib
import os
from pathlib import Path

import mutagen
import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse

from classifier.models import Track
from classifier.services.classification import tracks_classify
from classifier.services.media import MISSING_AUDIO_REASON, media_audit, media_fix
from classifier.services.storage import file_chunks, open_for_decoding
from classifier.services.tracks import track_delete

pytestmark = pytest.mark.django_db


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def s3_track(s3_media, user, audio_file):
    """A Track whose audio (a real MP3) was saved through the storage API into the bucket."""
    data = audio_file("stored.mp3", seconds=2).read_bytes()
    track = Track(owner=user, original_name="Stored Song.mp3", sha256=hashlib.sha256(data).hexdigest(),
                  size=len(data), format="MP3", status=Track.Status.DONE, user_genre="blues")
    track.file.save("stored.mp3", ContentFile(data), save=False)
    track.save()
    return track, data


def test_files_saved_through_the_storage_api_land_in_the_bucket(s3_media, s3_track, settings):
    track, data = s3_track
    assert track.file.name.startswith(f"tracks/{track.owner_id}/")
    assert s3_media.keys() == {track.file.name}
    assert s3_media.read(track.file.name) == data
    assert not Path(settings.MEDIA_ROOT).exists()  # nothing written locally


def test_ranged_reads_fetch_exactly_the_bytes_asked_for(s3_track):
    track, data = s3_track
    assert b"".join(file_chunks(track.file)) == data
    assert b"".join(file_chunks(track.file, 100, 4099)) == data[100:4100]
    assert b"".join(file_chunks(track.file, len(data) - 7)) == data[-7:]
    assert b"".join(file_chunks(track.file, 0, -1)) == b""  # an empty range is no request at all


def test_the_decoder_gets_a_local_copy_that_is_removed_afterwards(s3_track):
    track, data = s3_track
    with open_for_decoding(track) as path:
        assert path.suffix == ".mp3"
        assert path.read_bytes() == data
    assert not path.exists()


def test_a_missing_object_is_file_not_found(s3_media, s3_track):
    track, _ = s3_track
    s3_media.client.delete_object(Bucket=s3_media.name, Key=track.file.name)
    with pytest.raises(FileNotFoundError):
        b"".join(file_chunks(track.file))
    with pytest.raises(FileNotFoundError):
        with open_for_decoding(track):
            pass


def test_audio_streams_with_range_from_the_bucket(alice_client, s3_track):
    track, data = s3_track
    url = reverse("track-audio", args=[track.pk])
    whole = alice_client.get(url)
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes"
    assert whole["Content-Type"] == "audio/mpeg" and body(whole) == data

    part = alice_client.get(url, headers={"range": "bytes=1000-1999"})
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 1000-1999/{len(data)}" and part["Content-Length"] == "1000"
    assert body(part) == data[1000:2000]

    assert body(alice_client.get(url, headers={"range": "bytes=-100"})) == data[-100:]
    beyond = alice_client.get(url, headers={"range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{len(data)}"


def test_audio_of_another_user_or_a_missing_object_is_404(s3_media, s3_track, other_user, login_client,
                                                         alice_client):
    track, _ = s3_track
    url = reverse("track-audio", args=[track.pk])
    assert login_client(other_user).get(url).status_code == 404
    s3_media.client.delete_object(Bucket=s3_media.name, Key=track.file.name)
    assert alice_client.get(url).status_code == 404


def test_download_is_a_tagged_copy_and_the_stored_object_is_untouched(alice_client, s3_media, s3_track, tmp_path):
    track, data = s3_track
    response = alice_client.get(reverse("track-download", args=[track.pk]))
    assert response.status_code == 200
    copy = tmp_path / "download.mp3"
    copy.write_bytes(body(response))
    assert "blues" in mutagen.File(copy, easy=True)["genre"]
    assert s3_media.read(track.file.name) == data


def test_export_corrections_copies_audio_out_of_the_bucket(s3_track, user, tmp_path):
    track, data = s3_track
    out = tmp_path / "export"
    call_command("export_corrections", "--user", user.username, "--out", str(out), "--link")
    assert (out / "audio" / f"{track.pk}.mp3").read_bytes() == data  # --link falls back to a copy
    assert (out / "labels.csv").read_text().splitlines()[1] == f"audio/{track.pk}.mp3,blues"


def test_check_media_walks_the_bucket(s3_media, s3_track, user):
    track, _ = s3_track
    orphan = f"tracks/{user.pk}/nested/left-behind.mp3"
    s3_media.client.put_object(Bucket=s3_media.name, Key=orphan, Body=b"x" * 10)
    gone = Track.objects.create(owner=user, original_name="gone.mp3", file=f"tracks/{user.pk}/gone.mp3",
                                sha256="0" * 64, size=1, format="MP3")

    audit = media_audit(min_age=None)
    assert audit.orphans == [orphan]
    assert [m.name for m in audit.missing_audio] == [gone.file.name]

    fixed = media_fix(audit)
    assert (fixed.removed, fixed.marked_failed) == (1, 1)
    assert s3_media.keys() == {track.file.name}
    gone.refresh_from_db()
    assert gone.status == Track.Status.FAILED and gone.failure_reason == MISSING_AUDIO_REASON
    again = media_audit(min_age=None)
    assert again.clean and again.already_failed == 1


def test_deleting_a_track_deletes_its_objects(s3_media, s3_track, django_capture_on_commit_callbacks):
    track, _ = s3_track
    track.spectrogram.save("x.png", ContentFile(b"\x89PNG fake"), save=True)
    assert len(s3_media.keys()) == 2
    with django_capture_on_commit_callbacks(execute=True):
        track_delete(track=track)
    assert s3_media.keys() == set()


def test_no_temporary_copies_are_left_behind(s3_track, tmp_path, settings):
    track, _ = s3_track
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "spool")
    os.mkdir(settings.FILE_UPLOAD_TEMP_DIR)
    with open_for_decoding(track) as path:
        assert path.parent == Path(settings.FILE_UPLOAD_TEMP_DIR)
    assert os.listdir(settings.FILE_UPLOAD_TEMP_DIR) == []


def test_classifying_a_track_whose_object_is_gone_fails_it_with_a_reason_at_once(s3_media, s3_track):
    track, _ = s3_track
    Track.objects.filter(pk=track.pk).update(status=Track.Status.QUEUED)
    s3_media.client.delete_object(Bucket=s3_media.name, Key=track.file.name)
    assert tracks_classify(track_ids=[track.pk]) == {}  # nothing handed back for a retry
    track.refresh_from_db()
    assert track.status == Track.Status.FAILED and track.failure_reason == MISSING_AUDIO_REASON


def test_ready_says_whether_the_bucket_answers(s3_media, settings):
    from rest_framework.test import APIClient

    assert APIClient().get("/api/v1/ready/").json()["checks"]["storage"] == "ok"
    for broken in ({"bucket_name": "no-such-bucket"}, {"endpoint_url": "http://127.0.0.1:9"}):
        default = settings.STORAGES["default"]
        settings.STORAGES = {**settings.STORAGES, "default": {**default, "OPTIONS": {**default["OPTIONS"], **broken}}}
        response = APIClient().get("/api/v1/ready/")
        assert response.status_code == 503 and response.json()["checks"]["storage"] == "failed", broken
