"""Genres, playlists (JSON and M3U), stats, the model description and the health probes."""
import json

import pytest
from rest_framework.test import APIClient

from classifier.services import health
from tests.api.conftest import LABELS, assert_error
from tests.library.test_stream_links import stream_link_track

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(user, other_user, make_track):
    return {
        "rock_high": make_track(user, title="Loud", artist="Amp", genre="rock", confidence=0.95, duration=200.4),
        "rock_low": make_track(user, title="Soft", genre="rock", confidence=0.55),
        # Corrected to jazz by the user: counts as jazz, not rock.
        "jazz": make_track(user, title="Swing", genre="rock", confidence=0.7, user_genre="jazz"),
        "failed": make_track(user, title="Broken", genre="", status="failed"),
        "theirs": make_track(other_user, title="Theirs", genre="rock", confidence=0.99),
    }


def test_genres_lists_every_label_with_effective_counts(api, library, bundle_dir):
    body = api.get("/api/v1/genres/").json()
    assert [row["genre"] for row in body] == LABELS
    counts = {row["genre"]: row["count"] for row in body}
    assert counts["rock"] == 2 and counts["jazz"] == 1 and counts["pop"] == 0


def test_playlists_index(api, library):
    body = api.get("/api/v1/playlists/").json()
    assert [(p["genre"], p["count"]) for p in body] == [("rock", 2), ("jazz", 1)]
    assert body[0]["url"] == "http://testserver/api/v1/playlists/rock/"
    assert body[0]["m3u_url"].endswith("/api/v1/playlists/rock/?format=m3u")


def test_playlist_json_is_ordered_by_confidence(api, library):
    body = api.get("/api/v1/playlists/rock/").json()
    assert [t["title"] for t in body["results"]] == ["Loud", "Soft"]
    assert [t["title"] for t in api.get("/api/v1/playlists/jazz/").json()["results"]] == ["Swing"]


@pytest.mark.parametrize("how", [{"HTTP_ACCEPT": "audio/x-mpegurl"}, {"QUERY_STRING": "format=m3u"}])
def test_playlist_as_m3u(api, library, how):
    response = api.get("/api/v1/playlists/rock/", **how)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("audio/x-mpegurl")
    lines = response.content.decode().splitlines()
    assert lines[:2] == ["#EXTM3U", "#PLAYLIST:GenreWeb · rock"]
    assert lines[2] == "#EXTINF:200,Amp - Loud"
    assert [stream_link_track(lines[3]), stream_link_track(lines[5])] == [library["rock_high"], library["rock_low"]]
    assert len(lines) == 6


def test_m3u_filename_is_escaped(api, user, make_track):
    # A user genre may hold quotes and non-ASCII; they must not break the header.
    make_track(user, title="Odd", user_genre='Música "live"')
    response = api.get("/api/v1/playlists/Música \"live\"/", {"format": "m3u"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == "inline; filename*=utf-8''M%C3%BAsica%20%22live%22.m3u"


def test_playlist_of_an_unknown_genre_is_404(api, library, bundle_dir):
    assert_error(api.get("/api/v1/playlists/polka/"), 404, "unknown_genre")
    # A model label without tracks is an empty playlist, not an error.
    assert api.get("/api/v1/playlists/pop/").json()["results"] == []


def test_stats(api, library):
    body = api.get("/api/v1/stats/").json()
    assert body["total"] == 4 and body["corrected"] == 1
    assert body["by_status"] == {"queued": 0, "processing": 0, "done": 3, "failed": 1}
    assert body["average_confidence"] == pytest.approx((0.95 + 0.55 + 0.7) / 3)
    assert body["by_genre"] == [{"genre": "rock", "count": 2}, {"genre": "jazz", "count": 1}]


def test_uncertain_guesses_count_apart_in_stats_and_stay_out_of_playlists(api, library, user, make_track):
    maybe = make_track(user, title="Maybe", genre="rock", confidence=0.4, runner_up="metal", uncertain=True)
    body = api.get("/api/v1/stats/").json()
    assert body["uncertain"] == 1
    assert body["by_genre"] == [{"genre": "rock", "count": 2}, {"genre": "jazz", "count": 1}]
    assert [(p["genre"], p["count"]) for p in api.get("/api/v1/playlists/").json()] == [("rock", 2), ("jazz", 1)]
    assert str(maybe.pk) not in {t["id"] for t in api.get("/api/v1/playlists/rock/").json()["results"]}
    # The genre list counts what ?genre= finds, and that keeps the stored best guess.
    # It says how many of those are guesses, which is what the stats and playlists leave out.
    rock = next(row for row in api.get("/api/v1/genres/").json() if row["genre"] == "rock")
    assert rock == {"genre": "rock", "count": 3, "uncertain": 1}
    assert str(maybe.pk) in {t["id"] for t in api.get("/api/v1/tracks/?genre=rock").json()["results"]}


def test_model_description_lists_the_labels_of_the_bundle_in_use(api, bundle_dir):
    # A bundle with one more genre: the labels come from it, none are built in.
    config = json.loads((bundle_dir / "model_config.json").read_text())
    (bundle_dir / "model_config.json").write_text(json.dumps({**config, "labels": [*LABELS, "electronic"]}))
    assert api.get("/api/v1/model/").json()["labels"] == [*LABELS, "electronic"]
    assert [row["genre"] for row in api.get("/api/v1/genres/").json()] == [*LABELS, "electronic"]


def test_model_description_without_loading_weights(api, bundle_dir, settings):
    settings.INFERENCE_DEVICE = "cpu"
    body = api.get("/api/v1/model/").json()
    assert body["name"] == "test-genre-model" and body["version"] == "2.0"
    assert body["labels"] == LABELS and body["device"] == "cpu" and body["sample_rate"] == 16000
    assert body["metrics"] == {"model": {"accuracy": 0.8125}}


def test_model_of_the_real_bundle(api, settings):
    config = json.loads((settings.MODEL_BUNDLE_DIR / "model_config.json").read_text())
    body = api.get("/api/v1/model/").json()
    assert body["version"] == config["version"] and body["labels"] == config["labels"]
    assert body["sample_rate"] == config["features"]["sample_rate"]


def test_model_missing_is_503(api, settings, tmp_path):
    settings.MODEL_BUNDLE_DIR = tmp_path / "nothing"
    assert_error(api.get("/api/v1/model/"), 503, "model_unavailable")


def test_health_needs_no_auth():
    response = APIClient().get("/api/v1/health/")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_ready_checks_database_broker_model_and_storage(db):
    response = APIClient().get("/api/v1/ready/")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok",
                               "checks": {"database": "ok", "broker": "ok", "model": "ok", "storage": "ok"}}


def test_ready_is_503_naming_the_missing_model(db, settings, tmp_path):
    settings.MODEL_BUNDLE_DIR = tmp_path
    response = APIClient().get("/api/v1/ready/")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "broker": "ok", "model": "failed", "storage": "ok"}


def test_ready_is_503_when_the_broker_is_unreachable(db, monkeypatch):
    from celery import current_app

    # A port nothing listens on: the probe must give up quickly and say which check failed.
    monkeypatch.setattr(current_app.conf, "broker_write_url", "redis://127.0.0.1:9/0")
    # Without REDIS_URL the settings name the embedded broker's transport class, which wins over
    # a URL; Celery reads it under the settings' own (CELERY_) name.
    monkeypatch.setitem(current_app.conf, "CELERY_BROKER_TRANSPORT", None)
    response = APIClient().get("/api/v1/ready/")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "failed"
    assert response.json()["checks"]["database"] == "ok"
    assert health.BROKER_TIMEOUT <= 5
