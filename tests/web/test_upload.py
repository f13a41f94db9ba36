"""The upload view: JSON for upload.js, HTML for the plain form, and every way a file is refused."""
import io

import numpy as np
import pytest
import soundfile as sf
from django.test import Client
from django.urls import reverse

from classifier.models import Track
from tests.web.conftest import post_upload

pytestmark = pytest.mark.django_db


def stored_files(media_dir):
    return sorted(p for p in (media_dir / "tracks").rglob("*") if p.is_file()) if (media_dir / "tracks").exists() else []


@pytest.mark.parametrize("name, fmt", [("tone.wav", "WAV"), ("song.mp3", "MP3")])
def test_audio_is_accepted_and_queued(alice_client, user, audio_file, name, fmt):
    path = audio_file(name, seconds=3)
    response = post_upload(alice_client, path)

    assert response.status_code == 201
    [entry] = response.json()["files"]
    track = Track.objects.get(owner=user)
    assert entry == {
        "name": name, "ok": True, "created": True, "track_id": str(track.pk),
        "url": reverse("track-detail", args=[track.pk]), "status": "queued",
        "message": f"{name} is uploaded and queued for classification.", "code": "created",
    }
    assert track.format == fmt
    assert track.size == path.stat().st_size
    assert track.duration == pytest.approx(3, abs=0.2)
    assert open(track.file.path, "rb").read() == path.read_bytes()


def test_upload_page_has_a_drop_zone_and_a_multiple_file_chooser(alice_client):
    html = alice_client.get(reverse("upload")).content.decode()
    assert 'id="drop-zone"' in html
    assert 'type="file"' in html and " multiple " in html
    assert 'accept="audio/*,.mp3,.wav,.flac,.ogg,.opus,.m4a,.aac,.aif,.aiff"' in html
    assert 'enctype="multipart/form-data"' in html
    assert "js/upload.js" in html


def test_plain_form_post_of_several_files_lists_each_result(alice_client, user, audio_file, tmp_path):
    good = audio_file("good.flac", seconds=2)
    bad = tmp_path / "notes.mp3"
    bad.write_text("shopping list: milk, eggs\n" * 50)
    response = post_upload(alice_client, good, bad, as_json=False)

    assert response.status_code == 201  # at least one got in; each line says how it went
    html = response.content.decode()
    track = Track.objects.get(owner=user)
    assert "good.flac is uploaded and queued for classification." in html
    assert reverse("track-detail", args=[track.pk]) in html
    assert "notes.mp3 is not an audio file we can read" in html
    assert Track.objects.count() == 1


def test_a_text_file_named_mp3_is_refused_and_nothing_is_stored(alice_client, tmp_path, media_dir):
    before = stored_files(media_dir)
    fake = tmp_path / "song.mp3"
    fake.write_bytes(b"This is not music at all. " * 200)
    response = post_upload(alice_client, fake)

    assert response.status_code == 400
    [entry] = response.json()["files"]
    assert entry["ok"] is False
    assert entry["code"] == "invalid_audio"
    assert entry["message"].startswith("song.mp3 is not an audio file we can read")
    assert entry["track_id"] is None
    assert not Track.objects.exists()
    assert stored_files(media_dir) == before


def test_an_empty_file_is_refused(alice_client, tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    response = post_upload(alice_client, empty)
    assert response.status_code == 400
    assert response.json()["files"][0]["message"] == "empty.wav is empty."
    assert not Track.objects.exists()


def test_decodable_audio_in_a_format_we_do_not_accept_is_refused(alice_client, tmp_path):
    # Sun .au: soundfile reads it fine, but it is not one of the formats the product supports.
    path = tmp_path / "old.au"
    sf.write(path, np.full((22050, 1), 0.2, np.float32), 22050, format="AU")
    response = post_upload(alice_client, path)

    assert response.status_code == 400
    [entry] = response.json()["files"]
    assert entry["code"] == "unsupported_format"
    assert entry["message"] == "old.au is AU audio; GenreWeb accepts WAV, MP3, FLAC, OGG/Opus, M4A/AAC or AIFF."
    assert not Track.objects.exists()


def test_a_request_over_the_limit_is_refused_before_its_body_is_read(alice_client, settings, audio_file, media_dir):
    settings.UPLOAD_MAX_BYTES = 20_000
    before = stored_files(media_dir)
    path = audio_file("long.wav", seconds=3)  # ~530 kB, far over limit + multipart slack
    response = post_upload(alice_client, path)

    assert response.status_code == 413
    [entry] = response.json()["files"]
    assert entry["code"] == "request_too_large"
    assert "larger than the 19.5\xa0KB limit" in entry["message"]
    assert not Track.objects.exists()
    assert stored_files(media_dir) == before


class ExplodingInput(io.RawIOBase):
    """A request body that fails the test if anyone reads it."""

    def read(self, *args):
        raise AssertionError("the upload view read the body of an oversized request")

    readline = read


def test_the_content_length_check_does_not_touch_the_body(user, settings):
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    client = Client(enforce_csrf_checks=True)  # CSRF middleware would otherwise parse the body
    client.force_login(user)
    response = client.generic(
        "POST", reverse("upload"), b"x", content_type="multipart/form-data; boundary=xyz",
        headers={"accept": "application/json"},
        **{"wsgi.input": ExplodingInput(), "CONTENT_LENGTH": str(50 * 1024 * 1024)},
    )
    assert response.status_code == 413
    assert response.json()["files"][0]["code"] == "request_too_large"


def test_a_file_over_the_limit_in_a_small_enough_request_is_refused_by_the_upload_handler(
        alice_client, user, settings, audio_file, media_dir):
    path = audio_file("mid.wav", seconds=1, channels=1)  # ~88 kB
    settings.UPLOAD_MAX_BYTES = path.stat().st_size - 1000  # request fits in limit + slack, the file does not
    before = stored_files(media_dir)
    response = post_upload(alice_client, path)

    assert response.status_code == 413
    [entry] = response.json()["files"]
    assert entry["name"] == "mid.wav"
    assert entry["code"] == "file_too_large"
    assert entry["message"].startswith("mid.wav is larger than the ")
    assert not Track.objects.exists()
    assert stored_files(media_dir) == before


def test_a_duplicate_upload_points_to_the_existing_track(alice_client, user, audio_file):
    path = audio_file("twice.mp3", seconds=2)
    first = post_upload(alice_client, path).json()["files"][0]
    second_response = post_upload(alice_client, path)

    assert second_response.status_code == 200
    second = second_response.json()["files"][0]
    assert second["ok"] is True
    assert second["created"] is False
    assert second["code"] == "duplicate"
    assert second["track_id"] == first["track_id"]
    assert second["url"] == first["url"]
    assert "already in your library" in second["message"]
    assert Track.objects.filter(owner=user).count() == 1


def test_the_same_file_from_two_users_makes_two_tracks(alice_client, make_user, login_client, audio_file):
    path = audio_file("shared.wav", seconds=1)
    bob_client = login_client(make_user("bob"))
    assert post_upload(alice_client, path).status_code == 201
    assert post_upload(bob_client, path).status_code == 201
    assert Track.objects.count() == 2


def test_posting_no_file_is_a_clear_400(alice_client):
    response = alice_client.post(reverse("upload"), {}, headers={"accept": "application/json"})
    assert response.status_code == 400
    assert response.json()["files"][0]["message"] == "Choose at least one audio file to upload."

    html = alice_client.post(reverse("upload"), {})
    assert html.status_code == 400
    assert "Choose at least one audio file to upload." in html.content.decode()


def test_a_malformed_multipart_body_is_a_400_not_a_500(alice_client):
    response = alice_client.generic(
        "POST", reverse("upload"), b"--nope\r\nthis is not multipart", content_type="multipart/form-data",
        headers={"accept": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["files"][0]["code"] == "malformed_upload"


def test_upload_needs_a_csrf_token(user, audio_file):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    path = audio_file("csrf.wav", seconds=1)
    assert post_upload(client, path).status_code == 403
    assert not Track.objects.exists()

    client.get(reverse("upload"))  # sets the CSRF cookie, as the page does for upload.js
    token = client.cookies["csrftoken"].value
    response = post_upload(client, path, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201
    assert Track.objects.count() == 1
