"""The entries of a downloaded M3U playlist play in a player that has no login: each is a signed
link to one track's audio (classifier.services.streaming), which nothing else opens."""
import time
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.test import Client
from django.urls import resolve, reverse
from rest_framework.test import APIClient

from classifier.models import Prediction, Track
from classifier.services.streaming import SALT
from tests.library.conftest import prediction_fields

pytestmark = pytest.mark.django_db


def stream_link_track(url: str) -> Track:
    """The track an M3U entry plays, as an anonymous player would get it (and a check it does)."""
    match = resolve(urlsplit(url).path)
    assert match.url_name == "track-stream", url
    from classifier.services.streaming import track_from_stream_token

    return track_from_stream_token(match.kwargs["token"])


def entries(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


@pytest.fixture
def rock_track(upload_track, user):
    return upload_track(user, "anthem.flac", genre="rock", seconds=3)


def audio_bytes(response) -> bytes:
    return b"".join(response.streaming_content)


def test_every_entry_of_the_pages_and_the_apis_m3u_plays_without_a_login(alice_client, rock_track, user):
    api = APIClient()
    api.force_authenticate(user)
    page_m3u = alice_client.get(reverse("playlist-m3u", args=["rock"])).content.decode()
    api_m3u = api.get("/api/v1/playlists/rock/", {"format": "m3u"}).content.decode()
    stored = rock_track.file.open("rb").read()
    for url in entries(page_m3u) + entries(api_m3u):
        assert url.startswith("http://testserver/stream/")
        player = Client()  # no session, no token: VLC or a phone's music app
        response = player.get(urlsplit(url).path)
        assert response.status_code == 200 and response["Content-Type"] == "audio/flac"
        assert audio_bytes(response) == stored
        # Players seek with ranges.
        part = player.get(urlsplit(url).path, HTTP_RANGE="bytes=0-99")
        assert part.status_code == 206 and audio_bytes(part) == stored[:100]


def test_the_playlist_pages_say_how_long_a_playlist_file_plays(alice_client, rock_track, settings):
    settings.STREAM_LINK_DAYS = 3
    overview = " ".join(alice_client.get(reverse("playlists")).content.decode().split())
    assert "An M3U file plays in any music player (VLC, a phone's music app) for 3 days" in overview
    assert 'title="Plays in any music player for 3 days">Download M3U' in alice_client.get(
        reverse("playlist-detail", args=["rock"])).content.decode()


def test_a_forged_changed_or_foreign_token_opens_nothing(alice_client, rock_track, user, make_user, upload_track):
    url = urlsplit(entries(alice_client.get(reverse("playlist-m3u", args=["rock"])).content.decode())[0]).path
    token = resolve(url).kwargs["token"]
    other = upload_track(make_user("mallory"), "theirs.flac", genre="rock", seconds=2, seed=5)
    # The same claims for someone else's track, signed without the key, or with another purpose's salt.
    forged = [
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        signing.dumps({"track": str(other.pk), "owner": user.pk}, salt=SALT, compress=True),  # not the owner
        signing.dumps({"track": str(rock_track.pk), "owner": user.pk}, salt="another-purpose"),
        signing.dumps({"track": str(rock_track.pk), "owner": user.pk}, salt=SALT, key="not-our-secret-key"),
        "not-a-token",
    ]
    for bad in forged:
        response = Client().get(reverse("track-stream", args=[bad]))
        assert response.status_code == 404, bad
    assert Client().get(url).status_code == 200  # the control


def test_a_link_ends_after_its_days_and_with_its_track(alice_client, rock_track, settings, monkeypatch):
    url = urlsplit(entries(alice_client.get(reverse("playlist-m3u", args=["rock"])).content.decode())[0]).path
    now = time.time()
    monkeypatch.setattr(signing.time, "time", lambda: now + (settings.STREAM_LINK_DAYS - 1) * 86400)
    assert Client().get(url).status_code == 200
    monkeypatch.setattr(signing.time, "time", lambda: now + (settings.STREAM_LINK_DAYS + 1) * 86400)
    assert Client().get(url).status_code == 404
    monkeypatch.undo()
    Prediction.objects.filter(track=rock_track).delete()
    rock_track.delete()
    assert Client().get(url).status_code == 404
