"""The library page: search, filters, sorting, pagination and its query budget."""
import pytest
from django.urls import reverse

from classifier.models import Prediction, Track
from classifier.services.tracks import tracks_store_listed_genre
from tests.library.conftest import prediction_fields

pytestmark = pytest.mark.django_db


def titles(response):
    return [track.display_title for track in response.context["page"].object_list]


def test_empty_library_tells_what_to_do(alice_client):
    response = alice_client.get(reverse("home"))
    assert response.status_code == 200
    assert "Upload your first tracks" in response.content.decode()


def test_search_matches_title_artist_and_album(alice_client, make_track, user):
    make_track(user, title="Blue Train", artist="Coltrane", album="Blue Train", genre="jazz")
    make_track(user, title="Paranoid", artist="Black Sabbath", album="Paranoid", genre="metal")
    make_track(user, title="So What", artist="Miles Davis", album="Kind of Blue", genre="jazz")
    assert sorted(titles(alice_client.get(reverse("home"), {"q": "blue"}))) == ["Blue Train", "So What"]
    assert titles(alice_client.get(reverse("home"), {"q": "sabbath"})) == ["Paranoid"]
    assert titles(alice_client.get(reverse("home"), {"q": "nothing like this"})) == []


def test_filter_by_effective_genre_and_status(alice_client, make_track, user):
    make_track(user, title="A", genre="rock")
    make_track(user, title="B", genre="rock", user_genre="blues")  # the user's genre wins
    make_track(user, title="C", genre="blues")
    make_track(user, title="D", genre="", status=Track.Status.QUEUED)
    make_track(user, title="E", genre="", status=Track.Status.FAILED)
    assert sorted(titles(alice_client.get(reverse("home"), {"genre": "blues"}))) == ["B", "C"]
    assert titles(alice_client.get(reverse("home"), {"genre": "rock"})) == ["A"]
    assert titles(alice_client.get(reverse("home"), {"status": "queued"})) == ["D"]
    assert titles(alice_client.get(reverse("home"), {"status": "failed", "genre": "rock"})) == []
    # Nonsense filter values fall back to "any" instead of erroring.
    assert len(titles(alice_client.get(reverse("home"), {"status": "bogus", "sort": "bogus"}))) == 5


def test_genre_source_is_shown(alice_client, make_track, user):
    make_track(user, title="Mine", genre="rock", user_genre="blues")
    make_track(user, title="Model's", genre="rock")
    html = alice_client.get(reverse("home")).content.decode()
    assert html.count("set by you") == 1
    assert ">model<" in html


def test_sorts(alice_client, make_track, user):
    make_track(user, title="b", artist="Zed", confidence=0.5)
    make_track(user, title="a", artist="Yan", confidence=0.9)
    make_track(user, title="c", artist="Xi", confidence=0.7)
    make_track(user, title="d", genre="", status=Track.Status.QUEUED)
    assert titles(alice_client.get(reverse("home"))) == ["d", "c", "a", "b"]
    assert titles(alice_client.get(reverse("home"), {"sort": "title"})) == ["a", "b", "c", "d"]
    assert titles(alice_client.get(reverse("home"), {"sort": "artist"})) == ["d", "c", "a", "b"]
    # Unclassified tracks have no confidence and go last.
    assert titles(alice_client.get(reverse("home"), {"sort": "confidence"})) == ["a", "c", "b", "d"]


def bulk_library(owner, count):
    tracks = Track.objects.bulk_create([
        Track(owner=owner, original_name=f"t{i:05d}.mp3", file=f"tracks/{owner.pk}/{i}.mp3", sha256=f"{i:064d}",
              size=1, format="MP3", title=f"Track {i:05d}", artist=f"Artist {i % 37}", status=Track.Status.DONE)
        for i in range(count)
    ])
    genres = ["rock", "jazz", "pop", "metal"]
    Prediction.objects.bulk_create([
        Prediction(track=track, **prediction_fields(genres[i % 4], (i % 100) / 100))
        for i, track in enumerate(tracks)
    ])
    tracks_store_listed_genre(Track.objects.filter(owner=owner))  # bulk_create sends no signals


def test_pagination_keeps_filters_and_stays_in_range(alice_client, user):
    bulk_library(user, 120)
    first = alice_client.get(reverse("home"), {"genre": "rock", "sort": "title"})
    page = first.context["page"]
    assert page.paginator.count == 30 and page.paginator.num_pages == 1
    everything = alice_client.get(reverse("home"), {"sort": "title", "page": "2"})
    assert everything.context["page"].number == 2
    assert titles(everything)[0] == "Track 00050"
    assert "sort=title&amp;page=3" in everything.content.decode()
    # Out-of-range or junk page numbers give a real page, never a 404 or 500.
    assert alice_client.get(reverse("home"), {"page": "999"}).context["page"].number == 3
    assert alice_client.get(reverse("home"), {"page": "abc"}).context["page"].number == 1


def test_thousand_tracks_take_a_fixed_number_of_queries(alice_client, user, bundle_dir, django_assert_max_num_queries):
    bulk_library(user, 1000)
    # session + user + count + page + genre list + outdated count (+ the artists and the albums a
    # search matches): nothing per track.
    with django_assert_max_num_queries(9):
        response = alice_client.get(reverse("home"), {"sort": "confidence", "page": "4", "q": "track"})
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 50
    with django_assert_max_num_queries(7):
        alice_client.get(reverse("home"), {"genre": "jazz"})


def test_outdated_tracks_are_flagged_and_rerun(alice_client, make_track, user, bundle_dir, django_capture_on_commit_callbacks):
    old = make_track(user, title="Old", version="1.0")
    make_track(user, title="Current")
    html = alice_client.get(reverse("home")).content.decode()
    assert "1 track was classified by an older model" in html
    with django_capture_on_commit_callbacks() as callbacks:
        response = alice_client.post(reverse("library-reclassify"), {"scope": "outdated"})
    assert response.status_code == 302
    assert len(callbacks) == 1  # one classification queued: only the old track
    old.refresh_from_db()
    assert old.status == Track.Status.QUEUED
    assert Track.objects.get(title="Current").status == Track.Status.DONE
