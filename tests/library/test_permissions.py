"""Who may see what: anonymous users log in first, other users' tracks are a 404 everywhere."""
import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

LIST_URLS = [
    ("home", []), ("playlists", []), ("playlist-detail", ["rock"]), ("playlist-m3u", ["rock"]),
    ("dashboard", []), ("model-info", []), ("model-confusion-matrix", []),
    ("library-export-csv", []), ("library-export-json", []),
]
TRACK_GET_URLS = ["track-download", "track-delete"]
TRACK_POST_URLS = ["track-genre", "track-delete", "track-reclassify"]


@pytest.mark.parametrize("name,args", LIST_URLS)
def test_anonymous_is_sent_to_login(client, name, args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", sorted({*TRACK_GET_URLS, *TRACK_POST_URLS}))
def test_anonymous_track_actions_go_to_login(client, make_track, user, name):
    track = make_track(user)
    method = client.post if name in TRACK_POST_URLS else client.get
    response = method(reverse(name, args=[track.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_anonymous_cannot_reclassify_library(client):
    response = client.post(reverse("library-reclassify"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", TRACK_GET_URLS)
def test_other_users_track_is_404_on_get(client, make_track, user, other_user, name):
    track = make_track(user)
    client.force_login(other_user)
    assert client.get(reverse(name, args=[track.pk])).status_code == 404


@pytest.mark.parametrize("name", TRACK_POST_URLS)
def test_other_users_track_is_404_on_post(client, make_track, user, other_user, name, bundle_dir):
    track = make_track(user, genre="rock")
    client.force_login(other_user)
    response = client.post(reverse(name, args=[track.pk]), {"genre": "jazz"})
    assert response.status_code == 404
    track.refresh_from_db()
    assert track.user_genre == "" and track.status == "done"


def test_unknown_track_is_404(alice_client):
    assert alice_client.get(reverse("track-download", args=["00000000-0000-0000-0000-000000000000"])).status_code == 404


def test_lists_never_show_other_users_tracks(client, make_track, user, other_user, bundle_dir):
    make_track(user, title="Alice Rock Song", genre="rock")
    make_track(other_user, title="Mallory Secret", genre="rock")
    make_track(other_user, title="Mallory Jazz", genre="jazz")
    client.force_login(user)
    pages = [
        client.get(reverse("home")),
        client.get(reverse("home"), {"genre": "jazz"}),
        client.get(reverse("playlists")),
        client.get(reverse("playlist-detail", args=["rock"])),
        client.get(reverse("dashboard")),
    ]
    for response in pages:
        assert response.status_code == 200
        assert "Mallory" not in response.content.decode()
    assert "jazz" not in pages[2].content.decode()  # mallory's genre is no playlist of alice
    assert client.get(reverse("playlist-detail", args=["jazz"])).status_code == 404
    assert client.get(reverse("playlist-m3u", args=["jazz"])).status_code == 404
    m3u = client.get(reverse("playlist-m3u", args=["rock"])).content.decode()
    csv_text = b"".join(client.get(reverse("library-export-csv")).streaming_content).decode()
    json_text = b"".join(client.get(reverse("library-export-json")).streaming_content).decode()
    for text in (m3u, csv_text, json_text):
        assert "Alice Rock Song" in text
        assert "Mallory" not in text
