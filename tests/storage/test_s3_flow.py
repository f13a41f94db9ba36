"""The whole path on object storage: browser and API uploads into an S3-compatible bucket (a real
server on 127.0.0.1), a real worker (given the same STORAGE_URL) classifies them with the real
model, then the track page, its cover, seeking in the audio, the spectrogram, the tagged download and
the CSV export, and deleting. Nothing may touch MEDIA_ROOT, and the worker leaves no temporary copy."""
import mutagen
import pytest
from celery import current_app
from django.urls import reverse
from mutagen.id3 import ID3
from rest_framework.test import APIClient

from classifier.models import Track
from classifier.services.tokens import token_create
from tests.conftest import start_worker, wait_for_track
from tests.tagging import cover_image, write_tagged
from tests.web.conftest import post_upload

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def s3_worker(s3_media, settings, monkeypatch, tmp_path):
    """A worker of its own on a queue of its own, so the session's worker (local media) never
    takes these jobs; its temporary folder is one the test can inspect."""
    queue = f"{settings.CELERY_TASK_DEFAULT_QUEUE}-s3"
    monkeypatch.setattr(current_app.conf, "task_default_queue", queue)
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    settings.CLASSIFY_QUEUE = queue
    spool = tmp_path / "worker-tmp"
    spool.mkdir()
    worker = start_worker(settings.MEDIA_ROOT, queue=queue,
                          extra_env={"CELERY_QUEUE": queue, "CLASSIFY_QUEUE": queue, "TMPDIR": str(spool),
                                     "UPLOAD_TEMP_DIR": str(spool)})
    worker.spool = spool
    yield worker
    worker.stop()


def test_upload_classify_stream_download_and_delete_on_s3(s3_media, s3_worker, settings, user, alice_client,
                                                         audio_file, tmp_path):
    # Tagged, with an embedded cover: its thumbnails go to the bucket too.
    form_file = write_tagged(tmp_path / "through the form.mp3", {"title": "Harbour Form", "artist": "Ana Ray"},
                             cover_image(400, 400), seconds=6, seed=1)
    response = post_upload(alice_client, form_file)
    assert response.status_code == 201, response.content
    form_id = response.json()["files"][0]["track_id"]

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(user=user, name='s3')[1]}")
    api_file = audio_file("through the api.flac", kind="music", seconds=5, seed=2)
    with api_file.open("rb") as handle:
        response = api.post("/api/v1/tracks/", {"file": handle}, format="multipart")
    assert response.status_code == 202, response.content
    api_id = response.json()["id"]

    tracks = [wait_for_track(pk, worker=s3_worker) for pk in (form_id, api_id)]
    for track, source in zip(tracks, (form_file, api_file)):
        assert track.status == Track.Status.DONE, track.failure_reason
        # Audio and spectrogram are objects in the bucket, the audio byte for byte.
        assert {track.file.name, track.spectrogram.name} <= s3_media.keys()
        assert s3_media.read(track.file.name) == source.read_bytes()
        assert s3_media.read(track.spectrogram.name).startswith(b"\x89PNG")
    track, data = tracks[0], form_file.read_bytes()
    assert track.title == "Harbour Form" and track.cover and track.cover_small
    assert {track.cover.name, track.cover_small.name} <= s3_media.keys()
    assert len(s3_media.keys()) == 6

    page = alice_client.get(reverse("track-detail", args=[track.pk]))
    assert page.status_code == 200 and track.prediction.genre in page.content.decode()
    cover = alice_client.get(reverse("track-cover", args=[track.pk]))
    assert cover.status_code == 200 and cover["Content-Type"] == "image/jpeg"
    jpeg = body(cover)
    assert jpeg.startswith(b"\xff\xd8") and jpeg == s3_media.read(track.cover.name)

    audio_url = reverse("track-audio", args=[track.pk])
    seek = alice_client.get(audio_url, headers={"range": "bytes=2000-5999"})
    assert seek.status_code == 206 and seek["Content-Range"] == f"bytes 2000-5999/{len(data)}"
    assert body(seek) == data[2000:6000]
    api_seek = api.get(f"/api/v1/tracks/{tracks[1].pk}/audio/", headers={"range": "bytes=-512"})
    assert api_seek.status_code == 206 and body(api_seek) == api_file.read_bytes()[-512:]
    image = alice_client.get(reverse("track-spectrogram", args=[track.pk]))
    assert image.status_code == 200 and body(image).startswith(b"\x89PNG")

    download = alice_client.get(reverse("track-download", args=[track.pk]))
    assert download.status_code == 200
    copy = tmp_path / "download.mp3"
    copy.write_bytes(body(download))
    assert mutagen.File(copy, easy=True)["genre"] == [track.genre]
    assert ID3(copy).getall("APIC")  # the file written back keeps its cover
    export = b"".join(alice_client.get(reverse("library-export-csv")).streaming_content).decode()
    assert "through the form.mp3" in export and "through the api.flac" in export

    assert not any(p.is_file() for p in tmp_path.joinpath("media-unused").rglob("*"))  # MEDIA_ROOT untouched
    assert list(s3_worker.spool.glob("genreweb-*")) == []  # the decoder's copies were removed

    assert alice_client.post(reverse("track-delete", args=[track.pk])).status_code == 302
    assert api.delete(f"/api/v1/tracks/{tracks[1].pk}/").status_code == 204
    assert s3_media.keys() == set()  # audio and spectrograms went with their tracks
