"""End to end with the real Celery worker and the installed model: sign up, upload through the
upload view, let the worker classify, read the result pages. Nothing here is mocked."""
import os
import signal
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings as django_settings
from django.core.files import File
from django.urls import reverse

from classifier.models import Prediction, Track
from classifier.services.classification import track_reclassify
from classifier.tasks import classify_track
from tests.audiogen import truncate
from tests.conftest import start_worker, wait_for_track
from tests.web.conftest import post_upload

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not (Path(django_settings.MODEL_BUNDLE_DIR) / "model_config.json").exists(),
                       reason="no model bundle installed in MODEL_BUNDLE_DIR"),
]


def wait_for_log(worker, text, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(text in line for line in worker.log):
            return
        time.sleep(0.2)
    raise AssertionError(f"worker never logged {text!r}\n{worker.output()}")


def signed_up_client(client, password, username="newcomer"):
    response = client.post(reverse("signup"), {
        "username": username, "email": f"{username}@example.com", "password1": password, "password2": password,
    })
    assert response.status_code == 302, response.content.decode()
    return client


def test_signup_upload_classify_and_read_the_result(transactional_db, celery_worker, client, password, audio_file):
    signed_up_client(client, password)
    response = post_upload(client, audio_file("first-song.mp3", seconds=12))
    assert response.status_code == 201
    [entry] = response.json()["files"]
    assert entry["status"] == "queued"

    track = wait_for_track(entry["track_id"], worker=celery_worker)
    assert track.status == "done", track.failure_reason
    prediction = Prediction.objects.get(track=track)

    html = client.get(entry["url"]).content.decode()
    assert f">{prediction.genre}</span>" in html
    if prediction.uncertain:  # below the bundle's threshold: the page names the top two instead
        assert 'class="uncertain-badge"' in html and "% confident" not in html
    else:
        assert f"{round(prediction.confidence * 100, 1)}% confident" in html
    for label, p in prediction.probabilities.items():
        assert f'<span class="bar-label">{label}</span>' in html
        assert f'<span class="bar-value">{round(p * 100, 1)}%</span>' in html
    assert 'class="timeline-segment"' in html
    assert reverse("track-spectrogram", args=[track.pk]) in html
    assert 'data-status="done"' in html  # nothing left for js/track.js to wait for

    status = client.get(reverse("track-status", args=[track.pk])).json()
    assert status["status"] == "done"
    assert status["prediction"]["genre"] == prediction.genre
    assert status["prediction"]["uncertain"] is prediction.uncertain
    assert sum(status["prediction"]["probabilities"].values()) == pytest.approx(1, abs=1e-3)
    assert status["prediction"]["timeline"]

    png = client.get(reverse("track-spectrogram", args=[track.pk]))
    assert png.status_code == 200
    assert b"".join(png.streaming_content).startswith(b"\x89PNG")
    assert entry["url"] in client.get(reverse("home")).content.decode()


def damaged_flac(audio_file):
    """A FLAC cut in half: its header is whole (so probing in the upload request succeeds) and
    its last frame is not (so decoding in the worker fails)."""
    return truncate(audio_file("damaged.flac", seconds=4))


def test_audio_that_probes_but_cannot_be_decoded_ends_failed_with_a_reason(
        transactional_db, celery_worker, client, password, audio_file):
    signed_up_client(client, password)
    response = post_upload(client, damaged_flac(audio_file))
    assert response.status_code == 201  # the header is fine, so the upload is accepted
    entry = response.json()["files"][0]

    track = wait_for_track(entry["track_id"], worker=celery_worker)
    assert track.status == "failed"
    assert track.failure_reason.startswith("The audio could not be decoded")
    assert not Prediction.objects.filter(track=track).exists()

    html = client.get(entry["url"]).content.decode()
    assert "This track could not be classified" in html
    assert "The audio could not be decoded" in html
    status = client.get(reverse("track-status", args=[track.pk])).json()
    assert status == {**status, "status": "failed", "failure_reason": track.failure_reason, "prediction": None}


def test_classifying_again_keeps_exactly_one_prediction_and_a_duplicate_job_changes_nothing(
        transactional_db, celery_worker, client, password, audio_file):
    signed_up_client(client, password)
    entry = post_upload(client, audio_file("again.wav", seconds=6)).json()["files"][0]
    track = wait_for_track(entry["track_id"], worker=celery_worker)
    assert track.status == "done", track.failure_reason
    first = Prediction.objects.get(track=track)

    # The user's "classify again": the model runs once more, and the prediction is replaced.
    track_reclassify(track=track)
    track = wait_for_track(track.pk, worker=celery_worker)
    assert track.status == "done", track.failure_reason
    again = Prediction.objects.get(track=track)
    assert again.pk == first.pk
    assert again.classified_at > first.classified_at

    # A second delivery of a job (a re-sent message, a sweep's job) finds the track done.
    duplicate = classify_track.delay(str(track.pk))
    wait_for_log(celery_worker, f"Task classifier.classify_track[{duplicate.id}] succeeded")
    assert Prediction.objects.filter(track=track).count() == 1
    assert Prediction.objects.get(track=track).classified_at == again.classified_at
    assert Track.objects.get(pk=track.pk).status == "done"


# --- Redelivery after a worker is killed ----------------------------------------------------

def _isolated_redis_url(url: str) -> str:
    """The same Redis server, another database: the short visibility timeout below restores every
    unacknowledged message of the database it runs on, and must not touch other sessions' jobs."""
    parts = urlsplit(url)
    current = parts.path.lstrip("/") or "0"
    return urlunsplit(parts._replace(path="/15" if current != "15" else "/14"))


def _stored_track(owner, path) -> Track:
    """A saved Track whose job is NOT queued, so only this test's workers ever see it.
    (track_upload would queue it on the session worker's queue.)"""
    import hashlib

    track = Track(owner=owner, original_name=path.name, sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                  size=path.stat().st_size, format="MP3")
    with open(path, "rb") as handle:
        track.file.save(path.name, File(handle), save=False)
    track.save()
    return track


@pytest.mark.skipif(not django_settings.REDIS_URL, reason="redelivery after a lost worker needs the Redis broker")
def test_a_job_whose_worker_was_killed_is_redelivered_and_finishes(
        transactional_db, settings, monkeypatch, media_dir, user, audio_file):
    broker = _isolated_redis_url(settings.REDIS_URL)
    queue = f"{settings.CELERY_TASK_DEFAULT_QUEUE}-redelivery"
    monkeypatch.setenv("REDIS_URL", broker)
    monkeypatch.setenv("CELERY_QUEUE", queue)
    settings.CELERY_TASK_DEFAULT_QUEUE = queue  # start_worker consumes from this queue
    # Long enough that loading the model, predicting and drawing the spectrogram take seconds.
    track = _stored_track(user, audio_file("long.mp3", seconds=300))

    first = start_worker(media_dir)
    try:
        with classify_track.app.connection_for_write(broker) as connection:
            job = classify_track.apply_async(args=[str(track.pk)], queue=queue, connection=connection)
        wait_for_log(first, f"Task classifier.classify_track[{job.id}] received", timeout=120)
        wait_for_track(track.pk, ("processing",), timeout=120, worker=first)
        # SIGKILL the whole process group (main process and its pool child): no chance to ack or requeue.
        os.killpg(first.process.pid, signal.SIGKILL)
        first.process.wait(30)
    finally:
        first.stop(signal.SIGKILL)

    interrupted = Track.objects.get(pk=track.pk)
    assert interrupted.status == "processing", "the job finished before the worker was killed"
    assert not Prediction.objects.filter(track=track).exists()

    # The message is still in Redis' "unacked" set. A worker with a 2 s visibility timeout puts it
    # back on the queue within one restore cycle (kombu checks every 10 s) and runs it again.
    monkeypatch.setenv("CELERY_VISIBILITY_TIMEOUT", "2")
    second = start_worker(media_dir)
    try:
        finished = wait_for_track(track.pk, ("done", "failed"), timeout=300, worker=second)
        assert finished.status == "done", finished.failure_reason
        wait_for_log(second, f"Task classifier.classify_track[{job.id}] received", timeout=30)
    finally:
        second.stop()
        _forget_queue(broker, queue)
    assert Prediction.objects.filter(track=track).count() == 1


def _forget_queue(broker: str, queue: str) -> None:
    """Drop what kombu left in Redis for this test's throw-away queue."""
    import redis

    client = redis.Redis.from_url(broker)
    client.delete(queue, f"_kombu.binding.{queue}")
    client.close()
