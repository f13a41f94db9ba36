"""Webhooks: CRUD and validation over the API, isolation, and delivery (signature, attempts,
which answers are retried) against real HTTP(S) servers on loopback addresses; where a delivery
connects (DNS rebinding, redirects, internal addresses) and how much of an answer it reads."""
import hashlib
import hmac
import json
import os
import socket
import ssl
import subprocess
import sys
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
    assert delivery.payload["track"]["url"] == f"/api/v1/tracks/{track.pk}/"  # no SITE_URL: a path
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


# --- Where deliveries connect: pinned addresses, redirects, capped answers ----------------------------
#
# 127.0.0.2 stands in for a public address (WEBHOOK_ALLOWED_NETWORKS lets exactly it through);
# 127.0.0.1 is the server's own loopback, which no delivery may reach. Both are real servers, so
# a test sees where a delivery actually connected.

HOOK_HOST = "hooks.example.test"
PUBLIC_STAND_IN = "127.0.0.2"


@pytest.fixture
def public_only(settings):
    """Production's rule (nothing private), except the one stand-in address."""
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    settings.WEBHOOK_ALLOWED_NETWORKS = [f"{PUBLIC_STAND_IN}/32"]


class FakeDNS:
    """Answers lookups of chosen names with chosen addresses, one answer per lookup (the last
    repeats); every other name, numeric ones included, resolves as usual."""

    def __init__(self, monkeypatch):
        self.real = socket.getaddrinfo
        self.answers: dict[str, list[str]] = {}
        self.lookups: list[str] = []
        # socket.create_connection looks names up through this module attribute too, so a
        # client that resolved the name a second time would get the second answer.
        monkeypatch.setattr(socket, "getaddrinfo", self.getaddrinfo)

    def set(self, name, *addresses):
        self.answers[name] = list(addresses)
        self.lookups = []

    def getaddrinfo(self, host, port, *args, **kwargs):
        if host in self.answers:
            answers = self.answers[host]
            address = answers[min(self.lookups.count(host), len(answers) - 1)]
            self.lookups.append(host)
            return self.real(address, port, *args, **kwargs)
        return self.real(host, port, *args, **kwargs)


@pytest.fixture
def dns(monkeypatch):
    return FakeDNS(monkeypatch)


@pytest.fixture
def twin_receivers(receiver):
    """(public, internal): receivers on 127.0.0.2 and 127.0.0.1 at the same port, so one URL
    could reach either, depending only on the address the client connects to."""
    for _ in range(20):
        public = receiver([204], host=PUBLIC_STAND_IN)
        try:
            return public, receiver([204], host="127.0.0.1", port=public.port)
        except OSError:  # that port is taken on 127.0.0.1: try another
            continue
    pytest.fail("no port free on both 127.0.0.1 and 127.0.0.2")


def _default_settings(*names) -> dict:
    """These settings as a fresh process without any WEBHOOK_* variable reads them (this test
    process has the tests' own values)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBHOOK_")}
    probe = ("import json; from django.conf import settings as s; "
             f"print(json.dumps({{n: getattr(s, n) for n in {list(names)!r}}}))")
    result = subprocess.run([sys.executable, "-c", probe], env={**env, "DJANGO_SETTINGS_MODULE": "genreweb.settings"},
                            capture_output=True, text=True, timeout=120, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_default_settings_refuse_loopback(settings, pending, receiver):
    server = receiver([204])
    delivery = pending(server.url)  # saved while the tests allow loopback
    defaults = _default_settings("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "WEBHOOK_ALLOWED_NETWORKS")
    assert defaults == {"WEBHOOK_ALLOW_PRIVATE_NETWORKS": False, "WEBHOOK_ALLOWED_NETWORKS": []}
    for name, value in defaults.items():
        setattr(settings, name, value)
    webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "failed" and "public hosts" in delivery.attempts[-1]["error"]
    assert server.requests == []


def test_the_public_stand_in_is_delivered_to(public_only, pending, receiver):
    server = receiver([204], host=PUBLIC_STAND_IN)
    delivery = pending(server.url)
    webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and len(server.requests) == 1


def test_dns_rebinding_cannot_reach_loopback(public_only, pending, dns, twin_receivers):
    public, internal = twin_receivers
    dns.set(HOOK_HOST, PUBLIC_STAND_IN)
    delivery = pending(f"http://{HOOK_HOST}:{public.port}/hook")
    # The delivery's check is told the public address; any later lookup would be told loopback.
    dns.set(HOOK_HOST, PUBLIC_STAND_IN, "127.0.0.1")
    webhook_deliver(delivery_id=delivery.pk)
    assert internal.requests == []
    assert len(public.requests) == 1
    assert public.requests[0]["headers"]["Host"] == f"{HOOK_HOST}:{public.port}"
    assert dns.lookups == [HOOK_HOST]  # one lookup: the connection used the address that was checked
    delivery.refresh_from_db()
    assert delivery.status == "delivered"


def test_a_host_that_now_resolves_to_loopback_is_not_called(public_only, pending, dns, twin_receivers):
    public, internal = twin_receivers
    dns.set(HOOK_HOST, PUBLIC_STAND_IN)
    delivery = pending(f"http://{HOOK_HOST}:{public.port}/hook")
    dns.set(HOOK_HOST, "127.0.0.1")
    webhook_deliver(delivery_id=delivery.pk)
    assert internal.requests == [] and public.requests == []
    delivery.refresh_from_db()
    assert delivery.status == "failed" and "127.0.0.1" in delivery.attempts[-1]["error"]


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:{port}/internal"])
def test_redirects_into_the_servers_network_are_refused(public_only, pending, twin_receivers, receiver, target):
    _, internal = twin_receivers
    location = target.format(port=internal.port)

    def redirect(handler):
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    server = receiver(host=PUBLIC_STAND_IN, respond=redirect)
    delivery = pending(server.url)
    webhook_deliver(delivery_id=delivery.pk)
    assert len(server.requests) == 1 and internal.requests == []
    delivery.refresh_from_db()
    attempt = delivery.attempts[-1]
    assert delivery.status == "failed" and attempt["status"] == 302
    assert location in attempt["error"] and "not followed" in attempt["error"]


@pytest.mark.parametrize("url", [
    "http://[::ffff:127.0.0.1]/", "http://[::ffff:a9fe:a9fe]/", "http://[64:ff9b::7f00:1]/",
    "http://[2002:7f00:1::]/", "http://[fe80::1]/", "http://[ff02::1]/", "http://[::]/", "http://0.0.0.0/",
    "http://224.0.1.1/", "http://240.0.0.1/", "http://100.64.0.1/", "http://192.168.1.1/", "http://172.16.0.1/",
    "http://[fd00::1]/",
])
def test_every_kind_of_internal_address_is_refused(api, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    error = assert_error(api.post("/api/v1/webhooks/", {"url": url}, format="json"), 400, "invalid")
    assert "public hosts" in str(error["details"])
    assert not Webhook.objects.exists()


@pytest.mark.parametrize("url", ["http://8.8.8.8/hook", "https://[2606:4700:4700::1111]/hook"])
def test_public_addresses_are_accepted(api, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    assert api.post("/api/v1/webhooks/", {"url": url}, format="json").status_code == 201


def test_a_huge_answer_is_read_only_up_to_the_cap(public_only, settings, pending, receiver):
    settings.WEBHOOK_RESPONSE_MAX_BYTES = 4096
    total = 64 * 1024 * 1024
    sent = []

    def flood(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", str(total))
        handler.end_headers()
        chunk = b"x" * 65536
        try:
            for _ in range(total // len(chunk)):
                handler.wfile.write(chunk)
                sent.append(len(chunk))
        except OSError:  # the client hung up: what we want
            pass

    server = receiver(host=PUBLIC_STAND_IN, respond=flood)
    delivery = pending(server.url)
    webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    attempt = delivery.attempts[-1]
    assert delivery.status == "delivered" and attempt["status"] == 200
    assert attempt["response"] == "x" * 4096 and attempt["response_truncated"] is True
    server.close()  # waits for the handler, so `sent` is final
    assert sum(sent) < total


def test_a_receiver_that_drips_its_answer_is_cut_off_at_the_timeout(public_only, settings, pending, receiver):
    settings.WEBHOOK_TIMEOUT = 1.0

    def drip(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "600")
        handler.end_headers()
        try:
            for _ in range(600):  # a byte every 0.1 s: a minute if nobody hangs up
                handler.wfile.write(b"y")
                handler.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass

    server = receiver(host=PUBLIC_STAND_IN, respond=drip)
    delivery = pending(server.url)
    webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    attempt = delivery.attempts[-1]
    assert delivery.status == "delivered" and attempt["response_truncated"] is True
    assert 0 < len(attempt["response"]) < 600


def test_a_short_answer_is_kept_whole(public_only, pending, receiver):
    def answer(handler):
        body = b'{"ok": true}\x00'  # NUL: PostgreSQL's jsonb could not store it
        handler.send_response(202)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    delivery = pending(receiver(host=PUBLIC_STAND_IN, respond=answer).url)
    webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.attempts[-1]["response"] == '{"ok": true}'
    assert delivery.attempts[-1]["response_truncated"] is False


# --- HTTPS: the pinned address, the certificate checked against the host name -------------------------


def _self_signed(folder, name):
    """A certificate for `name` (and its key), which the test makes the only trusted one."""
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


@pytest.fixture
def tls_receiver(receiver, tmp_path, monkeypatch):
    """tls_receiver(certificate name) → a Receiver on 127.0.0.2 speaking HTTPS with a certificate
    for that name; the client trusts that certificate (SSL_CERT_FILE) and nothing else."""

    def make(name):
        cert, key = _self_signed(tmp_path, name)
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        server = receiver([204], host=PUBLIC_STAND_IN)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.server.socket = context.wrap_socket(server.server.socket, server_side=True)
        return server

    return make


def test_https_connects_to_the_pinned_address_and_checks_the_certificate_for_the_name(
        public_only, pending, dns, tls_receiver):
    server = tls_receiver(HOOK_HOST)
    dns.set(HOOK_HOST, PUBLIC_STAND_IN)
    delivery = pending(f"https://{HOOK_HOST}:{server.port}/hook")
    dns.set(HOOK_HOST, PUBLIC_STAND_IN, "127.0.0.1")
    webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "delivered", delivery.attempts
    assert dns.lookups == [HOOK_HOST] and len(server.requests) == 1


def test_https_with_a_certificate_for_another_name_is_refused(public_only, pending, dns, tls_receiver):
    server = tls_receiver("elsewhere.example.test")
    dns.set(HOOK_HOST, PUBLIC_STAND_IN)
    delivery = pending(f"https://{HOOK_HOST}:{server.port}/hook")
    with pytest.raises(WebhookRetry):
        webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert server.requests == []
    assert "certificate" in delivery.attempts[-1]["error"].lower()


def test_payload_links_to_the_track_on_the_site_url(user, make_track, settings, django_capture_on_commit_callbacks):
    settings.SITE_URL = "https://genre.example.org"
    webhook_create(owner=user, url="https://example.com/a")
    track = make_track(user, title="Done", genre="jazz")
    with django_capture_on_commit_callbacks(execute=False):
        webhook_track_finished(track_id=track.pk)
    url = WebhookDelivery.objects.get().payload["track"]["url"]
    assert url == f"https://genre.example.org/api/v1/tracks/{track.pk}/"
