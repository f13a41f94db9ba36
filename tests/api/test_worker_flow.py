"""End to end through a real Celery worker and the real model: upload with a token, poll until
done; webhooks for done and failed tracks, signed, and retried after a server error."""
import hashlib
import time

import pytest
from django.core.files.base import ContentFile

from classifier.models import Track, WebhookDelivery
from classifier.services.classification import track_queue_classification
from tests.api.test_tracks import upload
from tests.api.test_webhooks import verify

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def poll(fetch, done, timeout=240, worker=None):
    """Call fetch() until done(result) holds; fails with the worker's log after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = fetch()
        if done(result):
            return result
        time.sleep(0.5)
    raise AssertionError(f"gave up waiting after {timeout}s\n{worker.output() if worker else ''}")


def test_upload_and_poll_until_classified(celery_worker, api, audio_file, settings):
    response = upload(api, audio_file("e2e.mp3", kind="music", seconds=6))
    assert response.status_code == 202
    url = response["Location"]
    body = poll(lambda: api.get(url).json(), lambda b: b["status"] in ("done", "failed"), worker=celery_worker)
    assert body["status"] == "done", body["failure_reason"]
    prediction = body["prediction"]
    labels = api.get("/api/v1/model/").json()["labels"]
    assert prediction["genre"] in labels and body["genre"] == prediction["genre"]
    assert body["genre_source"] == "model"
    assert body["uncertain"] is prediction["uncertain"] and body["top_genres"][0]["genre"] == prediction["genre"]
    assert set(prediction["probabilities"]) == set(labels)
    assert sum(prediction["probabilities"].values()) == pytest.approx(1, abs=1e-3)
    assert prediction["timeline"] and prediction["tags"] and prediction["model_version"]
    assert prediction["silent"] is False  # generated music, well above the silence level
    # The embedding is served through "similar", not the detail.
    assert api.get(f"{url}similar/").json() == {"results": []}


def test_webhook_receives_a_signed_done_event(celery_worker, api, audio_file, receiver):
    server = receiver([200])
    hook = api.post("/api/v1/webhooks/", {"url": server.url}, format="json").json()
    track_id = upload(api, audio_file("hooked.wav", seconds=4)).json()["id"]
    requests = server.wait_for(1, timeout=240)
    assert requests, celery_worker.output()
    payload = verify(requests[0], hook["secret"])
    assert payload["event"] == "track.done"
    assert payload["track"]["id"] == track_id and payload["track"]["status"] == "done"
    assert payload["track"]["prediction"]["genre"] == payload["track"]["genre"]
    delivery = poll(lambda: WebhookDelivery.objects.get(webhook_id=hook["id"]),
                    lambda d: d.status != "pending", worker=celery_worker)
    assert delivery.status == "delivered" and [a["status"] for a in delivery.attempts] == [200]


def test_webhook_for_a_failed_track_is_retried_after_a_server_error(celery_worker, api, user, receiver):
    server = receiver([500, 200])
    hook = api.post("/api/v1/webhooks/", {"url": server.url}, format="json").json()
    # A stored file that is not audio: classification fails, which is an event too.
    content = b"definitely not audio" * 100
    track = Track(owner=user, original_name="broken.mp3", sha256=hashlib.sha256(content).hexdigest(),
                  size=len(content), format="MP3")
    track.file.save("broken.mp3", ContentFile(content), save=False)
    track.save()
    track_queue_classification(track_id=track.pk)  # outside a transaction: sent at once

    requests = server.wait_for(2, timeout=240)
    assert len(requests) == 2, celery_worker.output()
    first, second = (verify(r, hook["secret"]) for r in requests)
    assert first["event"] == second["event"] == "track.failed"
    assert second["track"]["id"] == str(track.pk) and second["track"]["failure_reason"]
    delivery = poll(lambda: WebhookDelivery.objects.get(webhook_id=hook["id"]),
                    lambda d: d.status != "pending", worker=celery_worker)
    assert delivery.status == "delivered"
    assert [a["status"] for a in delivery.attempts] == [500, 200]
    assert api.get(f"/api/v1/webhooks/{hook['id']}/deliveries/").json()[0]["status"] == "delivered"
