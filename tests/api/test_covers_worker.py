"""A tagged file with a cover, end to end through the API and a real worker with the real model:
its tags and cover survive classification, the album it names lists it with its cover, and the
download with the genre written in still carries the cover."""
import io

import pytest
from django.test import Client
from PIL import Image

from classifier.models import Track
from classifier.services.metadata import read_metadata
from tests.api.test_tracks import upload
from tests.api.test_worker_flow import poll
from tests.tagging import cover_image, write_tagged

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_tagged_upload_keeps_tags_and_cover_through_classification(celery_worker, api, tmp_path):
    tags = {"title": "Night Drive", "artist": "Ana Ray", "album": "Coastline", "track": "4", "year": "2021"}
    path = write_tagged(tmp_path / "night.m4a", tags, cover_image(640, 640, colour=(230, 180, 20)), seconds=6)
    response = upload(api, path)
    assert response.status_code == 202
    body = poll(lambda: api.get(response["Location"]).json(), lambda b: b["status"] in ("done", "failed"),
                worker=celery_worker)
    assert body["status"] == "done", body["failure_reason"]
    assert (body["title"], body["artist"], body["album"], body["track_number"], body["year"]) == (
        "Night Drive", "Ana Ray", "Coastline", 4, 2021)

    cover = api.get(body["cover_url"])
    assert cover.status_code == 200 and cover["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(b"".join(cover.streaming_content))) as image:
        assert image.size == (300, 300)
    album = api.get(f"/api/v1/albums/{body['album_id']}/").json()
    assert [track["id"] for track in album["tracks"]] == [body["id"]]
    assert album["cover_url"] == body["cover_url"] and album["genres"][0]["genre"] == body["genre"]

    download = tmp_path / "download.m4a"
    download.write_bytes(_download(body["id"]))
    written = read_metadata(download)
    assert written.genre == body["genre"] and written.covers is not None


def _download(track_id) -> bytes:
    # The tagged download is a page route: the same user, logged in through the session.
    client = Client()
    client.force_login(Track.objects.get(pk=track_id).owner)
    response = client.get(f"/tracks/{track_id}/download/")
    assert response.status_code == 200
    return b"".join(response.streaming_content)
