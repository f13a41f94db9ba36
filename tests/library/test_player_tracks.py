"""The JSON behind every play button: what the player bar queues, in playing order, the owner's only."""
import pytest
from django.urls import reverse

from classifier import selectors
from classifier.views.presentation import genre_hues

pytestmark = pytest.mark.django_db

URL = reverse("player-tracks")


def ids(response):
    return [item["id"] for item in response.json()["tracks"]]


def test_one_track_as_the_bar_needs_it(alice_client, user, make_track):
    track = make_track(user, title="Blue in Green", artist="Miles", album="Kind of Blue", genre="jazz", duration=337.0)
    response = alice_client.get(URL, {"track": str(track.pk)})
    assert response.status_code == 200
    jazz_hue = genre_hues(selectors.installed_labels())["jazz"]  # the album grid's colour for jazz
    assert jazz_hue > 0
    assert response.json() == {"tracks": [{
        "id": str(track.pk), "title": "Blue in Green", "artist": "Miles", "album": "Kind of Blue", "genre": "jazz",
        "genre_uncertain": False, "placeholder": {"text": "jazz", "label": "No cover; genre jazz"}, "hue": jazz_hue, "duration": 337.0, "url": reverse("track-detail", args=[track.pk]),
        "audio_url": reverse("track-audio", args=[track.pk]), "cover_url": None,
    }]}
    # A guess the model was unsure of is marked, so the bar can say "jazz?".
    unsure = make_track(user, title="Maybe", genre="jazz", confidence=0.4, uncertain=True, runner_up="blues")
    item = alice_client.get(URL, {"track": str(unsure.pk)}).json()["tracks"][0]
    assert item["genre_uncertain"] is True
    assert item["placeholder"] == {"text": "jazz?", "label": "No cover; genre jazz, maybe"}


def test_a_genre_plays_like_its_playlist(alice_client, user, make_track):
    low = make_track(user, title="Low", genre="jazz", confidence=0.6)
    high = make_track(user, title="High", genre="jazz", confidence=0.9)
    mine = make_track(user, title="Mine", genre="rock", user_genre="jazz", confidence=0.7)
    make_track(user, title="Unsure", genre="jazz", confidence=0.4, uncertain=True, runner_up="blues")
    make_track(user, title="Rock", genre="rock")
    response = alice_client.get(URL, {"genre": "jazz"})
    assert ids(response) == [str(high.pk), str(mine.pk), str(low.pk)]
    assert alice_client.get(URL, {"genre": "polka"}).json() == {"tracks": []}


def test_a_radio_starts_with_its_track_then_the_most_alike(alice_client, user, make_track):
    seed = make_track(user, title="Seed", embedding=[1.0, 0.0, 0.0])
    near = make_track(user, title="Near", embedding=[0.9, 0.1, 0.0])
    far = make_track(user, title="Far", embedding=[0.0, 0.0, 1.0])
    middle = make_track(user, title="Middle", embedding=[0.6, 0.6, 0.0])
    assert ids(alice_client.get(URL, {"radio": str(seed.pk)})) == [str(seed.pk), str(near.pk), str(middle.pk), str(far.pk)]


def test_another_users_tracks_are_not_found(alice_client, other_user, make_track):
    theirs = make_track(other_user, title="Theirs", genre="jazz", embedding=[1.0, 0.0, 0.0])
    for source in ("track", "radio"):
        response = alice_client.get(URL, {source: str(theirs.pk)})
        assert response.status_code == 404
        assert response.json() == {"error": "No such track in your library."}
    assert alice_client.get(URL, {"genre": "jazz"}).json() == {"tracks": []}


def test_their_tracks_stay_out_of_my_radio(alice_client, user, other_user, make_track):
    seed = make_track(user, title="Seed", embedding=[1.0, 0.0, 0.0])
    make_track(other_user, title="Theirs", embedding=[1.0, 0.0, 0.0])
    assert ids(alice_client.get(URL, {"radio": str(seed.pk)})) == [str(seed.pk)]


@pytest.mark.parametrize("params", [{}, {"track": "nope"}, {"genre": "jazz", "radio": "x"}, {"album": "x"}])
def test_a_request_that_names_nothing_to_play_is_a_clear_400(alice_client, params):
    response = alice_client.get(URL, params)
    assert response.status_code == 400
    assert response.json()["error"]


def test_anonymous_visitors_log_in_first(client):
    response = client.get(URL, {"genre": "jazz"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
