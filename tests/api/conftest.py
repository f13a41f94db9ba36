"""API fixtures: token-authenticated clients, tracks made in the database, a webhook receiver."""
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from classifier.services.tokens import token_create
# Tracks with predictions written straight to the database, shared with the library tests.
from tests.library.conftest import LABELS, make_track  # noqa: F401

# The worker subprocess reads its settings from the environment when it starts: retry webhook
# deliveries after a fraction of a second instead of the production 30 s.
os.environ.setdefault("WEBHOOK_RETRY_BACKOFF", "0.2")
# The tests' receivers listen on 127.0.0.1; the worker inherits this, the test process gets the
# `local_webhooks` fixture below.
os.environ.setdefault("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true")


@pytest.fixture(autouse=True)
def local_webhooks(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True


@pytest.fixture(autouse=True)
def _fresh_throttles():
    # Throttle counters live in the cache; one test's requests must not limit the next.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def bundle_dir(tmp_path, settings):
    """A model bundle folder (config and metrics, no weights) installed as MODEL_BUNDLE_DIR."""
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "model_config.json").write_text(json.dumps({
        "name": "test-genre-model", "version": "2.0", "labels": LABELS,
        "architecture": {"name": "musicnn_genre"}, "features": {"sample_rate": 16000},
    }))
    (folder / "performance_metrics.json").write_text(json.dumps({"model": {"accuracy": 0.8125}}))
    settings.MODEL_BUNDLE_DIR = folder
    return folder


@pytest.fixture
def token_client():
    """token_client(user) → (APIClient sending a fresh Bearer token of `user`, ApiToken)."""

    def make(user, name="tests"):
        token, secret = token_create(user=user, name=name)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        client.secret = secret
        client.token = token
        return client

    return make


@pytest.fixture
def api(user, token_client):
    return token_client(user)


@pytest.fixture
def other_api(other_user, token_client):
    return token_client(other_user)


def assert_error(response, status, code=None):
    """The one error format: {"error": {"code", "message", "details"}}."""
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


class Receiver:
    """A tiny HTTP server on 127.0.0.1 (or `host`) that records each request and answers from
    `statuses` (the last status repeats), or by calling respond(handler) when given."""

    def __init__(self, statuses=(200,), host="127.0.0.1", port=0, respond=None):
        self.statuses = list(statuses)
        self.requests: list[dict] = []
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.arrived:
                    index = len(receiver.requests)
                    # HTTPMessage: header names are looked up case-insensitively, as HTTP says.
                    receiver.requests.append({"path": self.path, "headers": self.headers, "body": body})
                    receiver.arrived.notify_all()
                if respond is not None:
                    respond(self)
                    return
                status = receiver.statuses[min(index, len(receiver.statuses) - 1)]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.port = self.server.server_port
        self.url = f"http://{host}:{self.port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count, timeout=60):
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)
        return self.requests

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    """receiver(statuses=(200,), host=..., port=..., respond=...) → a running Receiver, stopped
    after the test."""
    made = []

    def make(statuses=(200,), **kwargs):
        made.append(Receiver(statuses, **kwargs))
        return made[-1]

    yield make
    for server in made:
        server.close()
