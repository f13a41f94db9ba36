"""Webhooks: CRUD and validation over the API, isolation, and delivery (signature, attempts,
which answers are retried) against a real HTTP server on 127.0.0.1."""
import hashlib
import hmac
import json
import time

import pytest

from classifier.models import Track, Webhook, WebhookDelivery
from classifier.services.webhooks import WebhookRetry, webhook_create, webhook_deliver, webhook_track_finished
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db


def verify(request, secret):
    """What a receiver does: recompute the signature from the raw body; returns the payload."""
    parts = dict(item.split("=", 1) for item in request["headers"]["X-GenreWeb-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + request["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)
    assert abs(int(parts["t"]) - time.time()) < 600
    return json.loads(request["body"])


# --- API --------------------------------------------------------------------------------------------


def test_webhook_crud(api):
    created = api.post("/api/v1/webhooks/", {"url": "https://example.com/in", "description": "CI"}, format="json")
    assert created.status_code == 201
    hook = created.json()
    assert hook["active"] is True and len(hook["secret"]) == 64
    url = f"/api/v1/webhooks/{hook['id']}/"
    assert api.get("/api/v1/webhooks/").json()["results"][0]["id"] == hook["id"]
    patched = api.patch(url, {"active": False, "url": "http://127.0.0.1:9999/x"}, format="json").json()
    assert patched["active"] is False and patched["url"] == "http://127.0.0.1:9999/x"
    assert patched["secret"] == hook["secret"]
    assert api.get(f"{url}deliveries/").json() == []
    assert api.delete(url).status_code == 204
    assert not Webhook.objects.exists()


@pytest.mark.parametrize("url", ["ftp://example.com/x", "javascript:alert(1)", "not a url", "", "https://"])
def test_webhook_url_must_be_http_or_https(api, url):
    error = assert_error(api.post("/api/v1/webhooks/", {"url": url}, format="json"), 400, "invalid")
    assert "url" in error["details"]
    assert not Webhook.objects.exists()


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/hook", "http://localhost/hook", "http://10.1.2.3/",
                                 "http://169.254.169.254/latest/meta-data/", "http://[::1]/hook"])
def test_webhooks_cannot_point_into_the_servers_own_network(api, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    error = assert_error(api.post("/api/v1/webhooks/", {"url": url}, format="json"), 400, "invalid")
    assert "public hosts" in str(error["details"])
    assert not Webhook.objects.exists()


def test_a_webhook_whose_host_turned_private_is_not_called(pending, receiver, settings):
    server = receiver([204])
    delivery = pending(server.url)  # saved while private addresses were allowed
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    webhook_deliver(delivery_id=delivery.pk)
    assert server.requests == []
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert "public hosts" in delivery.attempts[-1]["error"]


def test_patch_with_a_bad_url_is_400(api, user):
    hook = webhook_create(owner=user, url="https://example.com/")
    assert_error(api.patch(f"/api/v1/webhooks/{hook.pk}/", {"url": "ftp://x.org"}, format="json"), 400, "invalid")
    hook.refresh_from_db()
    assert hook.url == "https://example.com/"


@pytest.mark.parametrize("method,suffix", [("get", ""), ("patch", ""), ("delete", ""), ("get", "deliveries/")])
def test_another_users_webhook_is_404(other_api, user, method, suffix):
    hook = webhook_create(owner=user, url="https://example.com/")
    response = getattr(other_api, method)(f"/api/v1/webhooks/{hook.pk}/{suffix}", {"active": False}, format="json")
    assert_error(response, 404, "not_found")
    assert Webhook.objects.get(pk=hook.pk).active is True
    assert other_api.get("/api/v1/webhooks/").json()["results"] == []


# --- Events and delivery (in this process) -----------------------------------------------------------


def test_finished_track_records_a_delivery_per_active_webhook(user, other_user, make_track,
                                                              django_capture_on_commit_callbacks):
    active = webhook_create(owner=user, url="https://example.com/a")
    webhook_create(owner=user, url="https://example.com/b", active=False)
    webhook_create(owner=other_user, url="https://example.com/c")
    track = make_track(user, title="Done", genre="jazz")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        webhook_track_finished(track_id=track.pk)
    delivery = WebhookDelivery.objects.get()
    assert delivery.webhook == active and delivery.event == "track.done"
    assert delivery.payload["track"]["id"] == str(track.pk)
    assert delivery.payload["track"]["genre"] == "jazz"
    assert len(callbacks) == 1  # the task is queued only once the delivery row is committed


def test_unfinished_tracks_send_nothing(user, make_track):
    webhook_create(owner=user, url="https://example.com/a")
    webhook_track_finished(track_id=make_track(user, genre="", status=Track.Status.QUEUED).pk)
    assert not WebhookDelivery.objects.exists()


@pytest.fixture
def pending(user, make_track):
    def make(url):
        hook = webhook_create(owner=user, url=url)
        track = make_track(user, title="Signed", genre="rock")
        return WebhookDelivery.objects.create(webhook=hook, event="track.done", track_id=track.pk,
                                              payload={"event": "track.done", "track": {"id": str(track.pk)}})

    return make


def test_delivery_is_signed_and_recorded(pending, receiver):
    server = receiver([204])
    delivery = pending(server.url)
    webhook_deliver(delivery_id=delivery.pk)
    payload = verify(server.requests[0], delivery.webhook.secret)
    assert payload["event"] == "track.done" and payload["track"]["id"] == delivery.payload["track"]["id"]
    assert "sent_at" in payload
    assert server.requests[0]["headers"]["Content-Type"] == "application/json"
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.delivered_at
    assert [a["status"] for a in delivery.attempts] == [204]


def test_server_errors_are_retried_and_client_errors_are_not(pending, receiver):
    server = receiver([503, 400])
    delivery = pending(server.url)
    with pytest.raises(WebhookRetry):
        webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    webhook_deliver(delivery_id=delivery.pk)  # 400: the receiver refuses it; retrying will not help
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert [a["status"] for a in delivery.attempts] == [503, 400]


def test_unreachable_receiver_is_retried_then_given_up(pending, receiver):
    server = receiver()
    url = server.url
    server.close()  # nothing listens there any more
    delivery = pending(url)
    with pytest.raises(WebhookRetry):
        webhook_deliver(delivery_id=delivery.pk)
    webhook_deliver(delivery_id=delivery.pk, final_attempt=True)
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert len(delivery.attempts) == 2 and delivery.attempts[0]["status"] is None and delivery.attempts[0]["error"]


def test_redirects_are_not_followed(pending, receiver):
    server = receiver([302])
    delivery = pending(server.url)
    webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "failed" and len(server.requests) == 1
