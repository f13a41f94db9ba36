"""The library page, a genre playlist and the API's track list cost the same number of queries
for a full page of tracks as for a handful: nothing is fetched per track (bench/bench_web.py
prints the counts at 10,000 tracks)."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

pytestmark = pytest.mark.django_db

PAGES = {
    "library": lambda: reverse("home"),
    "playlist": lambda: reverse("playlist-detail", args=["rock"]),
    "api track list": lambda: "/api/v1/tracks/",
}


def queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def fill(make_track, owner, count, start=0):
    """Tracks of every kind a page shows: model and user genres, unsure guesses, older models,
    failed ones, with artists and albums."""
    for i in range(start, start + count):
        if i % 7 == 6:
            make_track(owner, title=f"Failed {i}", genre="", status="failed")
            continue
        make_track(owner, title=f"Song {i}", artist=f"Artist {i % 3}", album=f"Album {i % 4}", genre="rock",
                   confidence=0.5 + (i % 5) / 10, user_genre="rock" if i % 5 == 0 else "",
                   version="1.0" if i % 4 == 0 else "2.0", uncertain=i % 6 == 1, runner_up="pop")


@pytest.mark.parametrize("page", list(PAGES))
def test_queries_per_page_do_not_grow_with_the_tracks(page, user, alice_client, make_track):
    url = PAGES[page]()
    fill(make_track, user, 3)
    few = queries_for(alice_client, url)
    fill(make_track, user, 57, start=3)  # more than a page of the library (50) and the API (50)
    many = queries_for(alice_client, url)
    assert many == few, f"{page}: {few} queries for 3 tracks, {many} for 60"
