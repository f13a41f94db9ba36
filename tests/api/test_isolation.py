"""Isolation, exhaustively: every route that takes an id, pk or slug, page and API alike, found by
walking the URL resolver, tried as another user and as an anonymous visitor with GET and every
mutating method. The answer is 404 (or a login/401/403 for the anonymous), never the owner's data,
and nothing of the owner's changes.

A new route whose URL takes a kwarg this file cannot fill fails `test_every_id_taking_route_is_
covered`: add a fixture object for it in OWNED below (and an INT_PK_KIND word if it is an int pk).
"""
import io
import json
from dataclasses import dataclass

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from PIL import Image
from rest_framework.test import APIClient

from classifier import selectors
from classifier.models import ApiToken, Prediction, Track, Webhook, WebhookDelivery
from classifier.services.tokens import token_create
from classifier.services.uploads import track_upload
from tests.audiogen import write_audio, write_tags
from tests.library.conftest import prediction_fields

pytestmark = pytest.mark.django_db

SECRET = "Victim Secret"  # in every text the owner's objects carry
SECRET_NAME = "victim-secret-file.mp3"
METHODS = ["get", "post", "put", "patch", "delete"]
# Whatever a mutating request might try to set.
PAYLOAD = {"genre": "rock", "user_genre": "rock", "title": "hacked", "artist": "hacked", "album": "hacked",
           "name": "hacked", "url": "https://attacker.example/hook", "description": "hacked", "active": False}


@dataclass(frozen=True)
class Route:
    name: str  # as reverse() takes it, namespace included
    pattern: str
    kwargs: dict  # URL kwarg -> converter class name ("regex" for a bare named group)
    api: bool


def _walk(resolver, prefix="", namespace=""):
    for entry in resolver.url_patterns:
        groups = dict(entry.pattern.regex.groupindex)
        converters = {name: type(entry.pattern.converters[name]).__name__ if name in entry.pattern.converters
                      else "regex" for name in groups}
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":  # Django's admin has its own staff-only permissions
                continue
            space = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            for route in _walk(entry, pattern, space):
                yield Route(route.name, route.pattern, {**converters, **route.kwargs}, route.api)
        else:
            name = f"{namespace}{entry.name}" if entry.name else ""
            yield Route(name, pattern, converters, pattern.startswith("api/"))


ALL_ROUTES = list(_walk(get_resolver()))
ID_ROUTES = [route for route in ALL_ROUTES if route.kwargs]


# --- The owner's objects, one per kind of URL kwarg -------------------------------------------


@dataclass
class Owned:
    user: object
    track: Track
    token: ApiToken
    webhook: Webhook
    genre: str
    secrets: list  # byte strings that must never reach another user or an anonymous visitor


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 16), (10, 200, 30)).save(out, format="PNG")
    return out.getvalue()


# An int pk is a token, a webhook (and its deliveries), an album or an artist: the route's name says.
INT_PK_KIND = {"token": "token", "webhook": "webhook", "album": "album", "artist": "artist"}


def _int_pk(owned: Owned, route: Route):
    kinds = {kind for word, kind in INT_PK_KIND.items() if word in route.name}
    if len(kinds) != 1:
        pytest.fail(f"{route.name} ({route.pattern}) takes an int pk of no known kind: add it to INT_PK_KIND")
    return _BY_KIND[kinds.pop()](owned)


_BY_KIND = {
    "token": lambda owned: owned.token.pk,
    "webhook": lambda owned: owned.webhook.pk,
    # Albums and artists are made from the tags of the owner's upload.
    "album": lambda owned: Track.objects.get(pk=owned.track.pk).album_ref_id,
    "artist": lambda owned: Track.objects.get(pk=owned.track.pk).artist_ref_id,
}

# (URL kwarg, converter) -> the owner's value for it. Unknown pairs fail the walk.
OWNED = {
    ("pk", "UUIDConverter"): lambda owned, route: owned.track.pk,
    ("track_id", "UUIDConverter"): lambda owned, route: owned.track.pk,
    ("pk", "IntConverter"): _int_pk,
    ("album_id", "IntConverter"): lambda owned, route: _BY_KIND["album"](owned),
    ("artist_id", "IntConverter"): lambda owned, route: _BY_KIND["artist"](owned),
    ("genre", "PathConverter"): lambda owned, route: owned.genre,
    ("genre", "StringConverter"): lambda owned, route: owned.genre,
    # Django's password reset link: the owner's uid with a token that is not theirs.
    ("uidb64", "StringConverter"): lambda owned, route: urlsafe_base64_encode(force_bytes(owned.user.pk)),
    ("token", "StringConverter"): lambda owned, route: "set-password",
}
# Routes whose kwarg is a name anyone may ask about (a genre): another user gets their own (empty)
# view of it, or a 404, never the owner's tracks.
SHARED_NAMES = {"genre", "uidb64", "token"}


def route_kwargs(owned: Owned, route: Route) -> dict:
    kwargs = {}
    for name, converter in route.kwargs.items():
        if (name, converter) not in OWNED:
            pytest.fail(f"{route.name or route.pattern} takes <{converter}:{name}>, which the isolation walk "
                        f"cannot fill: add the owner's object for it to OWNED in {__name__}")
        kwargs[name] = OWNED[name, converter](owned, route)
    return kwargs


@pytest.fixture
def owned(make_user, tmp_path):
    """alice's library: a real uploaded track (tags, prediction, spectrogram), a token, a webhook
    with a delivery. Every text in it carries SECRET."""
    alice = make_user("alice")
    path = write_tags(write_audio(tmp_path / SECRET_NAME, seconds=2), title=f"{SECRET} Title",
                      artist=f"{SECRET} Artist", album=f"{SECRET} Album")
    track = track_upload(owner=alice, upload=SimpleUploadedFile(SECRET_NAME, path.read_bytes())).track
    Prediction.objects.create(track=track, **prediction_fields("jazz", 0.9))
    track.spectrogram.save("s.png", ContentFile(_png()), save=False)
    Track.objects.filter(pk=track.pk).update(status=Track.Status.DONE, spectrogram=track.spectrogram.name)
    token, _ = token_create(user=alice, name=f"{SECRET} token")
    webhook = Webhook.objects.create(owner=alice, url="https://victim-secret.example/hook",
                                     description=f"{SECRET} hook", secret="s" * 32)
    WebhookDelivery.objects.create(webhook=webhook, event="track.done", track_id=track.pk,
                                   payload={"track": {"title": f"{SECRET} Title"}}, status="failed",
                                   attempts=[{"at": "2026-01-01T00:00:00Z", "status": 500, "error": f"{SECRET} error",
                                              "ms": 5}])
    secrets = [SECRET.encode(), SECRET.lower().replace(" ", "-").encode(), path.read_bytes()[-2048:], _png()]
    return Owned(alice, Track.objects.get(pk=track.pk), token, webhook, "jazz", secrets)


def _snapshot(owned: Owned) -> dict:
    track = Track.objects.filter(pk=owned.track.pk).values().first()
    return {
        "track": track,
        "prediction": Prediction.objects.filter(track_id=owned.track.pk).values("genre", "confidence").first(),
        "file": track and owned.track.file.storage.exists(track["file"]),
        "token": ApiToken.objects.filter(pk=owned.token.pk).values().first(),
        "webhook": Webhook.objects.filter(pk=owned.webhook.pk).values().first(),
        "deliveries": list(WebhookDelivery.objects.filter(webhook_id=owned.webhook.pk).values("pk", "status")),
    }


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _send(client, method, url):
    cache.clear()  # throttle counters: hundreds of requests here must not turn into 429s
    if method in ("get", "delete"):
        return getattr(client, method)(url)
    if method == "post":
        return client.post(url, PAYLOAD)
    return client.generic(method.upper(), url, json.dumps(PAYLOAD), content_type="application/json")


def _clients(route: Route, stranger):
    anonymous = APIClient() if route.api else Client()
    if route.api:
        other = APIClient()
        other.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(user=stranger, name='mallory')[1]}")
    else:
        other = Client()
        other.force_login(stranger)
    return anonymous, other


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize("route", ID_ROUTES, ids=[route.name or route.pattern for route in ID_ROUTES])
def test_another_users_ids_are_404_and_anonymous_visitors_must_log_in(route, owned, make_user):
    url = reverse(route.name, kwargs=route_kwargs(owned, route))
    stranger = make_user("mallory")
    anonymous, other = _clients(route, stranger)
    shared = set(route.kwargs) <= SHARED_NAMES
    before = _snapshot(owned)
    for method in METHODS:
        for who, client in (("anonymous", anonymous), ("another user", other)):
            response = _send(client, method, url)
            status = response.status_code
            where = f"{method.upper()} {url} as {who}: {status}"
            body = _body(response)
            assert not any(secret in body for secret in owned.secrets), f"{where} shows the owner's data"
            assert status < 500, where
            if shared:
                continue  # a name like a genre: any answer without the owner's data will do
            if who == "anonymous":
                assert status in (401, 403, 404, 405) or _is_login_redirect(response), where
            else:
                assert status in (404, 405), where
    assert _snapshot(owned) == before, f"a request to {url} by someone else changed the owner's objects"


def test_every_id_taking_route_is_covered():
    """The walk above finds the routes itself; this fails as soon as one takes a kwarg it cannot
    fill, so a new route is covered the day it is added (or this test says what to add)."""
    names = {route.name for route in ALL_ROUTES}
    assert {"track-detail", "track-audio", "track-download", "track-spectrogram", "playlist-m3u",
            "developer-token-revoke", "developer-webhook-delete", "api:track-detail", "api:track-audio",
            "api:track-similar", "api:playlist-detail", "api:token-detail", "api:webhook-deliveries"} <= names
    unknown = [f"{route.name or route.pattern}: <{converter}:{name}>" for route in ID_ROUTES
               for name, converter in route.kwargs.items() if (name, converter) not in OWNED]
    assert not unknown, "routes the isolation walk cannot fill; add them to OWNED: " + ", ".join(unknown)
    unnamed = [route.pattern for route in ID_ROUTES if not route.name]
    assert not unnamed, f"id-taking routes without a name cannot be walked: {unnamed}"
    int_pks = [route.name for route in ID_ROUTES if route.kwargs.get("pk") == "IntConverter"
               and len({kind for word, kind in INT_PK_KIND.items() if word in route.name}) != 1]
    assert not int_pks, f"int pk routes of no known kind (add to INT_PK_KIND): {int_pks}"


# Routes that take an id in the query string instead of the path (the walk cannot see those).
QUERY_IDS = {
    "player-tracks": {"track": lambda o: o.track.pk, "radio": lambda o: o.track.pk, "genre": lambda o: o.genre,
                      "album": _BY_KIND["album"], "artist": _BY_KIND["artist"]},
}


@pytest.mark.parametrize("name,param", [(name, param) for name, params in QUERY_IDS.items() for param in params])
def test_ids_in_the_query_string_are_404_for_anyone_else(name, param, owned, make_user):
    url = f"{reverse(name)}?{param}={QUERY_IDS[name][param](owned)}"
    other = Client()
    other.force_login(make_user("mallory"))
    owner = Client()
    owner.force_login(owned.user)
    assert owned.secrets[0] in owner.get(url).content  # the control: the owner gets the data
    anonymous = Client().get(url)
    assert _is_login_redirect(anonymous)
    response = other.get(url)
    assert response.status_code == (200 if param == "genre" else 404), response.content[:300]
    assert not any(secret in response.content for secret in owned.secrets)


# --- Lists that mix tracks: similar, playlists ---------------------------------------------------


def test_similar_tracks_and_playlists_never_include_another_users_tracks(owned, make_user, tmp_path):
    """mallory's track sounds exactly like alice's (same embedding, same genre): still only hers."""
    mallory = make_user("mallory")
    path = write_audio(tmp_path / "mine.wav", seconds=2, seed=9)
    mine = track_upload(owner=mallory, upload=SimpleUploadedFile("mine.wav", path.read_bytes())).track
    alices = Prediction.objects.get(track=owned.track)
    Prediction.objects.create(track=mine, **prediction_fields("jazz", 0.9, embedding=alices.embedding))
    Track.objects.filter(pk=mine.pk).update(status=Track.Status.DONE)
    second = track_upload(owner=mallory, upload=SimpleUploadedFile(
        "second.wav", write_audio(tmp_path / "second.wav", seconds=2, seed=10).read_bytes())).track
    Prediction.objects.create(track=second, **prediction_fields("jazz", 0.8, embedding=alices.embedding))
    Track.objects.filter(pk=second.pk).update(status=Track.Status.DONE)

    similar = selectors.track_similar(user=mallory, track=Track.objects.get(pk=mine.pk), limit=50)
    assert [track.pk for track, _ in similar] == [second.pk]
    assert [t.pk for t in selectors.playlist_tracks(user=mallory, genre="jazz")] == [mine.pk, second.pk]

    api = APIClient()
    api.force_authenticate(mallory)
    body = api.get(f"/api/v1/tracks/{mine.pk}/similar/?limit=50").json()
    assert [item["track"]["id"] for item in body["results"]] == [str(second.pk)]
    client = Client()
    client.force_login(mallory)
    pages = [client.get(reverse("track-detail", args=[mine.pk])), client.get(reverse("playlist-detail", args=["jazz"])),
             client.get(reverse("playlist-m3u", args=["jazz"])), api.get("/api/v1/playlists/jazz/"),
             api.get("/api/v1/playlists/jazz/?format=m3u"), api.get("/api/v1/tracks/"), client.get(reverse("home"))]
    for response in pages:
        assert response.status_code == 200
        assert not any(secret in response.content for secret in owned.secrets)
        assert str(owned.track.pk).encode() not in response.content


# --- Media are never public ----------------------------------------------------------------------


def test_stored_media_are_not_served_from_any_public_url(owned, make_user):
    """The files exist in MEDIA_ROOT, but no URL maps onto that folder: only the owner-checked
    views stream them."""
    stored = [owned.track.file.name, owned.track.spectrogram.name]
    assert all(owned.track.file.storage.exists(name) for name in stored)
    media_url = "/" + (django_settings.MEDIA_URL or "/media/").strip("/") + "/"
    candidates = {prefix + name for name in stored
                  for prefix in {media_url, "/media/", "/static/", "/static/../media/", "/"}}
    owner = Client()
    owner.force_login(owned.user)
    stranger = Client()
    stranger.force_login(make_user("mallory"))
    for url in sorted(candidates):
        for who, client in (("anonymous", Client()), ("another user", stranger), ("the owner", owner)):
            response = client.get(url)
            assert response.status_code in (302, 404), f"GET {url} as {who}: {response.status_code}"
            assert not any(secret in _body(response) for secret in owned.secrets), f"GET {url} as {who}"


@pytest.mark.parametrize("name", ["track-detail", "track-audio", "track-download", "track-spectrogram",
                                  "api:track-detail", "api:track-audio", "api:track-download", "api:token-detail",
                                  "api:webhook-detail", "api:webhook-deliveries", "playlist-m3u"])
def test_the_owner_gets_what_the_walk_looks_for(name, owned):
    """The control: the same requests as the owner do return the data the walk checks for, so
    the walk above would see a leak."""
    route = next(route for route in ID_ROUTES if route.name == name)
    client = APIClient() if route.api else Client()
    client.force_login(owned.user)
    response = client.get(reverse(name, kwargs=route_kwargs(owned, route)))
    assert response.status_code == 200
    body = _body(response)
    assert any(secret in body for secret in owned.secrets), body[:300]
