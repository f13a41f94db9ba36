"""Tracks over the API: upload, list/filter/search/order, detail, genre, delete, reclassify,
audio, similar; and that another user's tracks are 404 everywhere."""
import datetime
import uuid
from pathlib import Path

import pytest
import yaml
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from classifier.models import Prediction, Track
from classifier.services.uploads import track_upload
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db


def upload(client, *paths, **extra):
    handles = [open(path, "rb") for path in paths]
    try:
        return client.post("/api/v1/tracks/", {"file": handles}, format="multipart", **extra)
    finally:
        for handle in handles:
            handle.close()


@pytest.fixture
def stored(user, audio_file):
    """stored(name, owner=user) → a Track stored from real generated audio via the upload service."""

    def make(name="song.wav", owner=None, seed=0, **audio):
        path = audio_file(name, seconds=2, seed=seed, **audio)
        return track_upload(owner=owner or user, upload=SimpleUploadedFile(name, path.read_bytes())).track

    return make


# --- Upload ---------------------------------------------------------------------------------------


def test_upload_one_file_is_202_with_location(api, user, audio_file):
    response = upload(api, audio_file("first.flac", seconds=2))
    assert response.status_code == 202, response.content
    body = response.json()
    track = Track.objects.get(pk=body["id"])
    assert track.owner == user and track.format == "FLAC"
    assert body["status"] == "queued" and body["duplicate"] is False
    assert response["Location"] == body["url"] == f"http://testserver/api/v1/tracks/{track.pk}/"


def test_duplicate_upload_is_200_with_the_existing_track(api, audio_file):
    path = audio_file("same.wav", seconds=2)
    first = upload(api, path).json()
    again = upload(api, path)
    assert again.status_code == 200
    assert again.json()["id"] == first["id"] and again.json()["duplicate"] is True
    assert Track.objects.count() == 1


def test_upload_several_files_reports_each(api, audio_file, tmp_path):
    bad = tmp_path / "notes.mp3"
    bad.write_text("these are not sounds")
    response = upload(api, audio_file("a.mp3", seconds=2), audio_file("b.ogg", seconds=2, seed=1), bad)
    assert response.status_code == 202
    body = response.json()
    assert sorted(t["original_name"] for t in body["tracks"]) == ["a.mp3", "b.ogg"]
    assert body["errors"] == [{"file": "notes.mp3", "code": "invalid_audio", "message": body["errors"][0]["message"]}]
    assert "notes.mp3" in body["errors"][0]["message"]
    assert Track.objects.count() == 2


def test_non_audio_is_400_in_the_error_format(api, tmp_path):
    fake = tmp_path / "song.wav"
    fake.write_bytes(b"RIFF not really a wave file" * 10)
    error = assert_error(upload(api, fake), 400, "invalid_audio")
    assert error["details"] == {"file": "song.wav"}
    assert not Track.objects.exists()


def test_missing_file_field_is_400(api):
    assert_error(api.post("/api/v1/tracks/", {"other": "x"}, format="multipart"), 400, "no_file")


def test_json_body_is_415(api):
    assert_error(api.post("/api/v1/tracks/", {"file": "x"}, format="json"), 415, "unsupported_media_type")


def test_oversize_file_is_413(api, audio_file, settings):
    settings.UPLOAD_MAX_BYTES = 10_000
    error = assert_error(upload(api, audio_file("big.wav", seconds=2)), 413, "file_too_large")
    assert "big.wav" in error["message"]
    assert not Track.objects.exists()


def test_oversize_request_is_refused_from_content_length(api, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    response = api.post("/api/v1/tracks/", data=b"x" * 100, content_type="multipart/form-data; boundary=zz",
                        CONTENT_LENGTH=str(10**9))
    assert_error(response, 413, "request_too_large")


def test_non_numeric_content_length_is_not_a_500(api, audio_file):
    # Unparseable Content-Length reads as an empty body (as Django does), so: no file, 400.
    response = upload(api, audio_file("song.wav"), CONTENT_LENGTH="abc")
    assert_error(response, 400, "no_file")
    assert not Track.objects.exists()


def test_all_files_oversize_in_a_batch_is_413(api, audio_file, settings):
    settings.UPLOAD_MAX_BYTES = 10_000
    response = upload(api, audio_file("a.wav", seconds=2), audio_file("b.wav", seconds=2, seed=3))
    error = assert_error(response, 413, "upload_rejected")
    assert {e["file"] for e in error["details"]["errors"]} == {"a.wav", "b.wav"}


# --- List, filters, search, ordering --------------------------------------------------------------


@pytest.fixture
def library(user, other_user, make_track):
    return {
        "rock": make_track(user, title="Stone", artist="The Rocks", album="Hard", genre="rock", confidence=0.9),
        "jazz": make_track(user, title="Blue Night", artist="Miles", genre="jazz", confidence=0.6),
        # The user says pop although the model heard rock.
        "pop": make_track(user, title="Sugar", artist="the rocks", genre="rock", confidence=0.4, user_genre="pop"),
        "old": make_track(user, title="Ancient", genre="blues", version="0.1"),
        "queued": make_track(user, title="Waiting", genre="", status=Track.Status.QUEUED),
        "theirs": make_track(other_user, title="Stone", artist="The Rocks", genre="rock"),
    }


def ids(response):
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["results"]}


def test_list_shows_only_own_tracks_paginated(api, library):
    body = api.get("/api/v1/tracks/").json()
    assert body["count"] == 5
    assert str(library["theirs"].pk) not in {t["id"] for t in body["results"]}
    page = api.get("/api/v1/tracks/?page_size=2").json()
    assert len(page["results"]) == 2 and page["next"] and page["count"] == 5
    last = api.get("/api/v1/tracks/?page_size=2&page=3").json()
    assert len(last["results"]) == 1 and last["next"] is None
    assert_error(api.get("/api/v1/tracks/?page=9"), 404, "not_found")


def test_genre_filter_uses_the_effective_genre(api, library):
    assert ids(api.get("/api/v1/tracks/?genre=rock")) == {str(library["rock"].pk)}
    assert ids(api.get("/api/v1/tracks/?genre=pop")) == {str(library["pop"].pk)}


def test_other_filters(api, library):
    assert ids(api.get("/api/v1/tracks/?status=queued")) == {str(library["queued"].pk)}
    assert ids(api.get("/api/v1/tracks/?artist=THE ROCKS")) == {str(library["rock"].pk), str(library["pop"].pk)}
    assert ids(api.get("/api/v1/tracks/?model_version=0.1")) == {str(library["old"].pk)}
    Track.objects.filter(pk=library["old"].pk).update(created_at=timezone.now() - datetime.timedelta(days=3))
    since = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    assert str(library["old"].pk) not in ids(api.get("/api/v1/tracks/", {"created_since": since}))


@pytest.mark.parametrize("query", ["status=nope", "created_since=yesterday"])
def test_invalid_filters_are_400(api, library, query):
    error = assert_error(api.get(f"/api/v1/tracks/?{query}"), 400, "invalid")
    assert query.split("=")[0] in error["details"]


def test_search_and_ordering(api, library):
    assert ids(api.get("/api/v1/tracks/?search=night")) == {str(library["jazz"].pk)}
    assert ids(api.get("/api/v1/tracks/?search=hard")) == {str(library["rock"].pk)}
    # An untagged track is found by its file name, as the library page finds it.
    Track.objects.filter(pk=library["old"].pk).update(title="", original_name="field-recording-07.wav")
    assert ids(api.get("/api/v1/tracks/?search=recording-07")) == {str(library["old"].pk)}
    ordered = api.get("/api/v1/tracks/?ordering=-confidence&status=done").json()["results"]
    confidences = [t["confidence"] for t in ordered]
    assert confidences == sorted(confidences, reverse=True)
    titles = [t["title"] for t in api.get("/api/v1/tracks/?ordering=title").json()["results"]]
    assert titles == sorted(titles)


# --- Detail, PATCH, DELETE ------------------------------------------------------------------------


def test_detail_has_status_metadata_prediction_and_genres(api, library):
    body = api.get(f"/api/v1/tracks/{library['pop'].pk}/").json()
    assert body["status"] == "done" and body["failure_reason"] == ""
    assert body["title"] == "Sugar" and body["artist"] == "the rocks"
    assert body["user_genre"] == "pop" and body["genre"] == "pop" and body["genre_source"] == "user"
    prediction = body["prediction"]
    assert prediction["genre"] == "rock" and prediction["confidence"] == pytest.approx(0.4)
    assert set(prediction["probabilities"]) == set(prediction["probabilities"]) and "jazz" in prediction["probabilities"]
    assert prediction["timeline"][0]["genre"] == "rock"
    assert prediction["tags"]["rock"] == pytest.approx(0.9)
    assert {"model_version", "device"} <= set(prediction)
    queued = api.get(f"/api/v1/tracks/{library['queued'].pk}/").json()
    assert queued["prediction"] is None and queued["genre"] == "" and queued["genre_source"] == ""


def test_an_uncertain_track_says_so_and_names_its_top_two(api, user, make_track):
    track = make_track(user, title="Maybe", genre="metal", confidence=0.4, runner_up="rock", uncertain=True)
    top_two = [{"genre": "metal", "probability": pytest.approx(0.4)},
               {"genre": "rock", "probability": pytest.approx(0.35)}]
    body = api.get(f"/api/v1/tracks/{track.pk}/").json()
    assert body["uncertain"] is True and body["top_genres"] == top_two
    assert body["genre"] == "metal" and body["genre_source"] == "model"  # the stored best guess
    assert body["prediction"]["uncertain"] is True and body["prediction"]["top_genres"] == top_two
    [listed] = api.get("/api/v1/tracks/").json()["results"]
    assert listed["uncertain"] is True and listed["top_genres"] == top_two


def test_a_confident_or_user_set_genre_is_not_uncertain(api, library):
    sure = api.get(f"/api/v1/tracks/{library['rock'].pk}/").json()
    assert sure["uncertain"] is False and sure["prediction"]["uncertain"] is False
    assert [g["genre"] for g in sure["top_genres"]] == ["rock", "blues"]  # the rest tie: alphabetical
    assert sure["top_genres"][0]["probability"] == pytest.approx(0.9)
    queued = api.get(f"/api/v1/tracks/{library['queued'].pk}/").json()
    assert queued["uncertain"] is False and queued["top_genres"] is None
    # The user's own genre wins: the track is not uncertain, though the model still was.
    Prediction.objects.filter(track=library["pop"]).update(uncertain=True)
    mine = api.get(f"/api/v1/tracks/{library['pop'].pk}/").json()
    assert mine["genre"] == "pop" and mine["uncertain"] is False and mine["prediction"]["uncertain"] is True


def test_detail_carries_the_style_hints_highest_first(api, user, make_track):
    hinted = make_track(user, title="Hinted", genre="rock")
    Prediction.objects.filter(track=hinted).update(styles={"ska": 0.03, "folk": 0.62, "soul/R&B": 0.2})
    styles = api.get(f"/api/v1/tracks/{hinted.pk}/").json()["prediction"]["styles"]
    assert styles == {"folk": pytest.approx(0.62), "soul/R&B": pytest.approx(0.2), "ska": pytest.approx(0.03)}
    assert list(styles) == ["folk", "soul/R&B", "ska"]  # all of them, low ones too: the client decides
    plain = make_track(user, title="Plain", genre="rock")  # stored without any, as before they existed
    assert api.get(f"/api/v1/tracks/{plain.pk}/").json()["prediction"]["styles"] == {}


def test_style_hints_are_in_the_schema_as_unvalidated_probabilities(client):
    styles = yaml.safe_load(client.get("/api/v1/schema/").content)["components"]["schemas"]["Prediction"]["properties"]["styles"]
    assert styles["type"] == "object"
    assert styles["additionalProperties"]["type"] == "number"
    assert styles["additionalProperties"]["minimum"] == 0 and styles["additionalProperties"]["maximum"] == 1
    assert "Not validated" in styles["description"] and "never as it" in styles["description"]


def test_uncertain_and_top_genres_are_in_the_schema(client):
    components = yaml.safe_load(client.get("/api/v1/schema/").content)["components"]["schemas"]
    for name in ("Track", "TrackDetail", "Prediction"):
        fields = components[name]["properties"]
        assert fields["uncertain"]["type"] == "boolean" and fields["uncertain"]["description"]
        assert fields["top_genres"]["items"] == {"$ref": "#/components/schemas/TopGenre"}
    assert set(components["TopGenre"]["required"]) == {"genre", "probability"}


def test_patch_sets_and_clears_the_user_genre(api, library):
    url = f"/api/v1/tracks/{library['rock'].pk}/"
    response = api.patch(url, {"user_genre": "jazz"}, format="json")
    assert response.status_code == 200
    assert response.json()["genre"] == "jazz" and response.json()["genre_source"] == "user"
    assert Track.objects.get(pk=library["rock"].pk).user_genre == "jazz"
    # The model's own answer is untouched.
    assert Prediction.objects.get(track=library["rock"]).genre == "rock"
    cleared = api.patch(url, {"user_genre": ""}, format="json").json()
    assert cleared["genre"] == "rock" and cleared["genre_source"] == "model" and cleared["user_genre"] == ""


@pytest.mark.parametrize("body", [{"user_genre": "polka"}, {"user_genre": "x" * 65}])
def test_patch_rejects_unknown_genres(api, library, body):
    error = assert_error(api.patch(f"/api/v1/tracks/{library['rock'].pk}/", body, format="json"), 400, "invalid")
    assert "user_genre" in error["details"]
    assert Track.objects.get(pk=library["rock"].pk).user_genre == ""


def test_patch_without_fields_is_refused(api, library):
    error = assert_error(api.patch(f"/api/v1/tracks/{library['rock'].pk}/", {}, format="json"), 400, "invalid")
    assert error["details"] == {"non_field_errors": ["Send at least one field to change."]}


def test_delete_removes_the_track_and_its_files(api, stored, django_capture_on_commit_callbacks):
    track = stored("gone.wav")
    name = track.file.name
    assert default_storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete(f"/api/v1/tracks/{track.pk}/")
    assert response.status_code == 204
    assert not Track.objects.filter(pk=track.pk).exists()
    assert not default_storage.exists(name)
    assert_error(api.get(f"/api/v1/tracks/{track.pk}/"), 404, "not_found")


# --- Reclassify, audio, similar -------------------------------------------------------------------


def test_reclassify_queues_the_track_again(api, library, django_capture_on_commit_callbacks):
    url = f"/api/v1/tracks/{library['rock'].pk}/reclassify/"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.post(url)
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    assert len(callbacks) == 1  # the classification task, sent once the request commits
    track = Track.objects.get(pk=library["rock"].pk)
    assert track.status == "queued" and track.prediction.genre == "rock"
    assert_error(api.post(url), 409, "already_queued")


def test_audio_streams_with_range_support(api, stored):
    track = stored("play.wav")
    data = Path(track.file.path).read_bytes()
    full = api.get(f"/api/v1/tracks/{track.pk}/audio/", HTTP_ACCEPT="audio/*")
    assert full.status_code == 200 and b"".join(full.streaming_content) == data
    part = api.get(f"/api/v1/tracks/{track.pk}/audio/", HTTP_RANGE="bytes=10-19")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 10-19/{len(data)}"
    assert b"".join(part.streaming_content) == data[10:20]
    assert api.get(f"/api/v1/tracks/{track.pk}/audio/", HTTP_RANGE=f"bytes={len(data) + 5}-").status_code == 416


def test_similar_ranks_by_embedding_cosine(api, user, other_user, make_track):
    seed = make_track(user, title="Seed", embedding=[1.0, 0.0, 0.0])
    near = make_track(user, title="Near", embedding=[0.8, 0.6, 0.0])
    far = make_track(user, title="Far", embedding=[0.0, 0.0, 1.0])
    make_track(other_user, title="Theirs", embedding=[1.0, 0.0, 0.0])
    body = api.get(f"/api/v1/tracks/{seed.pk}/similar/").json()
    assert [r["track"]["id"] for r in body["results"]] == [str(near.pk), str(far.pk)]
    assert body["results"][0]["similarity"] == pytest.approx(0.8)
    assert len(api.get(f"/api/v1/tracks/{seed.pk}/similar/?limit=1").json()["results"]) == 1
    assert_error(api.get(f"/api/v1/tracks/{seed.pk}/similar/?limit=0"), 400, "invalid")
    assert_error(api.get(f"/api/v1/tracks/{seed.pk}/similar/?limit=abc"), 400, "invalid")


# --- Isolation --------------------------------------------------------------------------------------


@pytest.mark.parametrize("method,suffix", [
    ("get", ""), ("patch", ""), ("delete", ""), ("get", "audio/"), ("get", "similar/"), ("post", "reclassify/"),
])
def test_another_users_track_is_404_everywhere(other_api, stored, method, suffix):
    track = stored("mine.wav")
    Track.objects.filter(pk=track.pk).update(status=Track.Status.DONE)
    response = getattr(other_api, method)(f"/api/v1/tracks/{track.pk}/{suffix}", {"user_genre": "rock"},
                                          format="json")
    assert_error(response, 404, "not_found")
    track.refresh_from_db()
    assert track.status == "done" and track.user_genre == ""
    assert default_storage.exists(track.file.name)


def test_unknown_track_id_is_404(api):
    assert_error(api.get(f"/api/v1/tracks/{uuid.uuid4()}/"), 404, "not_found")
