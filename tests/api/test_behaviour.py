"""Cross-cutting behaviour: idempotency keys, throttling, the OpenAPI schema and docs."""
import datetime

import pytest
import yaml
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from classifier.models import IdempotencyKey, Track, Webhook
from tests.api.conftest import assert_error
from tests.api.test_tracks import upload

pytestmark = pytest.mark.django_db


# --- Idempotency ------------------------------------------------------------------------------------


def test_same_idempotency_key_replays_the_first_response(api, audio_file):
    path = audio_file("once.wav", seconds=2)
    first = upload(api, path, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 202
    again = upload(api, path, HTTP_IDEMPOTENCY_KEY="k-1")
    # Replayed verbatim: still 202 and "duplicate": false, not the 200 a fresh duplicate upload gets.
    assert again.status_code == 202
    assert again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    assert Track.objects.count() == 1


def test_replay_does_not_repeat_side_effects(api):
    body = {"url": "https://example.com/hook"}
    first = api.post("/api/v1/webhooks/", body, format="json", HTTP_IDEMPOTENCY_KEY="hook-1")
    second = api.post("/api/v1/webhooks/", body, format="json", HTTP_IDEMPOTENCY_KEY="hook-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert Webhook.objects.count() == 1
    # Without a key, each POST acts.
    api.post("/api/v1/webhooks/", body, format="json")
    assert Webhook.objects.count() == 2


def test_client_errors_are_replayed_too(api):
    first = api.post("/api/v1/webhooks/", {"url": "ftp://x"}, format="json", HTTP_IDEMPOTENCY_KEY="bad")
    assert_error(first, 400)
    second = api.post("/api/v1/webhooks/", {"url": "https://ok.example"}, format="json", HTTP_IDEMPOTENCY_KEY="bad")
    assert second.status_code == 400 and second.json() == first.json()
    assert not Webhook.objects.exists()


def test_keys_are_per_user(api, other_api):
    api.post("/api/v1/webhooks/", {"url": "https://a.example"}, format="json", HTTP_IDEMPOTENCY_KEY="same")
    theirs = other_api.post("/api/v1/webhooks/", {"url": "https://b.example"}, format="json",
                            HTTP_IDEMPOTENCY_KEY="same")
    assert theirs.status_code == 201 and theirs.json()["url"] == "https://b.example"
    assert Webhook.objects.count() == 2


def test_key_reused_for_another_endpoint_is_422(api):
    api.post("/api/v1/webhooks/", {"url": "https://a.example"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert_error(api.post("/api/v1/tokens/", {"name": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k"),
                 422, "idempotency_key_reused")


def test_key_reused_with_another_file_or_body_is_422_and_nothing_is_stored(api, audio_file):
    assert upload(api, audio_file("tone.wav", seconds=2), HTTP_IDEMPOTENCY_KEY="k-files").status_code == 202
    other = upload(api, audio_file("chord.wav", seconds=3, seed=1), HTTP_IDEMPOTENCY_KEY="k-files")
    assert_error(other, 422, "idempotency_key_reused")
    assert list(Track.objects.values_list("original_name", flat=True)) == ["tone.wav"]

    first = api.post("/api/v1/webhooks/", {"url": "https://example.com/a"}, format="json", HTTP_IDEMPOTENCY_KEY="k-json")
    assert first.status_code == 201
    other = api.post("/api/v1/webhooks/", {"url": "https://example.com/b"}, format="json", HTTP_IDEMPOTENCY_KEY="k-json")
    assert_error(other, 422, "idempotency_key_reused")
    assert list(Webhook.objects.values_list("url", flat=True)) == ["https://example.com/a"]


def test_key_still_running_is_409(api, user):
    IdempotencyKey.objects.create(user=user, key="busy", method="POST", path="/api/v1/webhooks/")
    assert_error(api.post("/api/v1/webhooks/", {"url": "https://a.example"}, format="json",
                          HTTP_IDEMPOTENCY_KEY="busy"), 409, "idempotency_key_in_use")


def test_abandoned_in_flight_key_is_taken_over(api, user):
    # A request killed mid-flight (SIGKILL, gunicorn timeout) never stored nor released its key.
    IdempotencyKey.objects.create(user=user, key="killed", method="POST", path="/api/v1/webhooks/")
    IdempotencyKey.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=10))
    again = api.post("/api/v1/webhooks/", {"url": "https://a.example"}, format="json",
                     HTTP_IDEMPOTENCY_KEY="killed")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Webhook.objects.count() == 1
    # Stored now: the next repeat replays it.
    replay = api.post("/api/v1/webhooks/", {"url": "https://a.example"}, format="json",
                      HTTP_IDEMPOTENCY_KEY="killed")
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert Webhook.objects.count() == 1


def test_recent_in_flight_key_is_still_409(api, user):
    IdempotencyKey.objects.create(user=user, key="busy", method="POST", path="/api/v1/webhooks/")
    IdempotencyKey.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=1))
    assert_error(api.post("/api/v1/webhooks/", {"url": "https://a.example"}, format="json",
                          HTTP_IDEMPOTENCY_KEY="busy"), 409, "idempotency_key_in_use")
    assert not Webhook.objects.exists()


def test_key_is_released_when_the_request_dies_with_a_base_exception(api, user, monkeypatch):
    from classifier.api import views

    def killed(**kwargs):
        raise SystemExit(1)  # what gunicorn raises in a worker it times out

    monkeypatch.setattr(views, "webhook_create", killed)
    with pytest.raises(SystemExit):
        api.post("/api/v1/webhooks/", {"url": "https://a.example"}, format="json", HTTP_IDEMPOTENCY_KEY="die")
    assert not IdempotencyKey.objects.filter(key="die").exists()


def test_keys_expire_after_24_hours(api):
    api.post("/api/v1/webhooks/", {"url": "https://a.example"}, format="json", HTTP_IDEMPOTENCY_KEY="old")
    IdempotencyKey.objects.update(created_at=timezone.now() - datetime.timedelta(hours=25))
    again = api.post("/api/v1/webhooks/", {"url": "https://a.example"}, format="json", HTTP_IDEMPOTENCY_KEY="old")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Webhook.objects.count() == 2


def test_overlong_key_is_400(api):
    assert_error(api.post("/api/v1/webhooks/", {"url": "https://a.example"}, format="json",
                          HTTP_IDEMPOTENCY_KEY="k" * 300), 400, "invalid_idempotency_key")


# --- Throttling ---------------------------------------------------------------------------------------


@pytest.fixture
def rates(settings):
    def set_rates(**rates):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates},
        }

    return set_rates


def test_requests_over_the_rate_get_429_with_retry_after(api, other_api, user, token_client, rates):
    rates(client="3/minute")
    for _ in range(3):
        assert api.get("/api/v1/stats/").status_code == 200
    error = assert_error(api.get("/api/v1/tracks/"), 429, "throttled")
    assert "seconds" in error["message"]
    retry_after = int(api.get("/api/v1/stats/")["Retry-After"])
    assert 0 < retry_after <= 60
    # Each token has a budget of its own: another user's, and the same user's second token.
    assert other_api.get("/api/v1/stats/").status_code == 200
    assert token_client(user, name="second app").get("/api/v1/stats/").status_code == 200


def test_uploads_have_their_own_rate(api, rates, tmp_path):
    rates(uploads="1/hour")
    junk = tmp_path / "junk.mp3"
    junk.write_text("no")
    assert_error(upload(api, junk), 400)
    assert_error(upload(api, junk), 429, "throttled")
    assert api.get("/api/v1/tracks/").status_code == 200


def test_password_logins_are_throttled(user, rates):
    rates(login="2/hour")
    client = Client()
    for _ in range(2):
        assert client.post("/api/v1/auth/token/", {"username": "alice", "password": "x"}, content_type="application/json").status_code == 400
    assert_error(client.post("/api/v1/auth/token/", {"username": "alice", "password": "x"}, content_type="application/json"), 429, "throttled")


# --- Schema and docs ------------------------------------------------------------------------------------


def _api_routes():
    """Every URL pattern under /api/v1/, written the way the OpenAPI schema writes paths."""
    import re

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                yield "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route).replace("{pk}", "{id}")

    return {route for route in walk(get_resolver().url_patterns, "") if route.startswith("/api/v1/")}


def test_schema_generates_and_lists_every_path(client):
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    expected = _api_routes() - {"/api/v1/schema/"}
    assert len(expected) >= 17
    assert paths == expected
    # Every operation documents its responses, and authenticated ones their 401.
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation["responses"], (path, method)
            if path not in {"/api/v1/health/", "/api/v1/ready/", "/api/v1/auth/token/"}:
                assert "401" in operation["responses"], (path, method)
    upload_op = schema["paths"]["/api/v1/tracks/"]["post"]
    assert {"202", "200", "400", "413"} <= set(upload_op["responses"])
    assert "Idempotency-Key" in {p["name"] for p in upload_op["parameters"]}
    list_params = {p["name"] for p in schema["paths"]["/api/v1/tracks/"]["get"]["parameters"]}
    assert {"genre", "status", "artist", "model_version", "created_since", "search", "ordering"} <= list_params


def test_every_list_answers_in_the_shape_the_schema_documents(api, client, make_track, user):
    """A client generated from the schema must get what it expects: a paginated object where one
    is documented, a plain array where an array is (every GET without path parameters)."""
    make_track(user, title="Swing", genre="jazz")
    schema = yaml.safe_load(client.get("/api/v1/schema/").content)
    checked = 0
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if not get or "{" in path or path == "/api/v1/schema/":
            continue
        documented = get["responses"]["200"]["content"].get("application/json", {}).get("schema", {})
        answer = api.get(path)
        assert answer.status_code == 200, path
        if documented.get("type") == "array":
            assert isinstance(answer.json(), list), path
            checked += 1
        elif documented.get("$ref", "").startswith("#/components/schemas/Paginated"):
            body = answer.json()
            assert isinstance(body, dict) and set(body) >= {"count", "next", "previous", "results"}, path
            checked += 1
    assert checked >= 6  # tracks, albums, artists, tokens, webhooks (paginated); genres, playlists (arrays)


def test_swagger_ui_is_served_without_a_cdn(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui" in html
    assert "cdn." not in html and "jsdelivr" not in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    asset = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert asset.status_code == 200


def test_unknown_api_urls_answer_in_the_error_format(api):
    assert_error(api.get("/api/v1/nothing-here/"), 404, "not_found")
    error = assert_error(api.get("/api/v1/tracks"), 404, "not_found")
    assert "/api/v1/tracks/" in error["message"]
