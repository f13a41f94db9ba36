"""Batch inference: several queued tracks per model call, each track still its own job.

With the real shipped model: a batch gives every track what classifying it alone gives (to 1e-4
on every probability), a file that cannot be decoded fails alone with its reason while the
others finish, and a job claims other queued tracks so that none is taken twice.
"""
import hashlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from classifier import queue, tasks
from classifier.models import Prediction, Track
from classifier.services import classification
from classifier.services.uploads import track_upload
from tests.conftest import wait_for_track

pytestmark = pytest.mark.django_db


def not_audio(owner, name="broken.mp3"):
    """A stored track whose bytes are text: it passes as a row but no decoder reads it."""
    content = f"definitely not audio ({name})".encode() * 100
    track = Track(owner=owner, original_name=name, sha256=hashlib.sha256(content).hexdigest(),
                  size=len(content), format="MP3")
    track.file.save(name, ContentFile(content), save=False)
    track.save()
    return track


@pytest.fixture
def batch_audio(audio_file):
    """Four different clips (formats, lengths, kinds) as {name: path}."""
    clips = {"tune.mp3": dict(kind="music", seconds=8), "tone.flac": dict(kind="tone", seconds=5),
             "hiss.wav": dict(kind="noise", seconds=4, seed=3), "clicks.ogg": dict(kind="clicks", seconds=6)}
    return {name: audio_file(name, **kwargs) for name, kwargs in clips.items()}


def assert_same_as_alone(track, path):
    """The stored prediction equals what the real model says of the file on its own."""
    alone = classification.classifier().predict(path)
    stored = Prediction.objects.get(track=track)
    assert stored.genre == alone.genre
    assert stored.probabilities.keys() == alone.probabilities.keys()
    for genre, probability in alone.probabilities.items():
        assert stored.probabilities[genre] == pytest.approx(probability, abs=1e-4), genre
    assert stored.confidence == pytest.approx(alone.confidence, abs=1e-4)
    assert [s["genre"] for s in stored.timeline] == [s.genre for s in alone.timeline]
    assert stored.uncertain is alone.uncertain


def upload(owner, path):
    return track_upload(owner=owner, upload=SimpleUploadedFile(path.name, path.read_bytes())).track


def test_a_batch_gives_each_track_what_classifying_it_alone_gives(user, batch_audio):
    tracks = {name: upload(user, path) for name, path in batch_audio.items()}
    broken = not_audio(user)

    errors = classification.tracks_classify(track_ids=[t.pk for t in tracks.values()] + [broken.pk])

    assert errors == {}
    for name, track in tracks.items():
        track.refresh_from_db()
        assert track.status == Track.Status.DONE, (name, track.failure_reason)
        assert track.spectrogram and track.spectrogram.storage.exists(track.spectrogram.name)
        assert_same_as_alone(track, batch_audio[name])
    broken.refresh_from_db()
    assert broken.status == Track.Status.FAILED
    assert broken.failure_reason.startswith("The audio could not be decoded")
    assert not Prediction.objects.filter(track=broken).exists()


def test_a_track_whose_outcome_cannot_be_stored_is_handed_back_and_the_others_finish(
        user, stored_track, monkeypatch):
    keep, lose = stored_track("keep.wav", seconds=3), stored_track("lose.wav", seconds=3, seed=1)
    store = classification._store_result

    def database_hiccup_for_one(track, result, png):
        if track.pk == lose.pk:
            raise OSError("disk full")
        store(track, result, png)

    monkeypatch.setattr(classification, "_store_result", database_hiccup_for_one)
    errors = classification.tracks_classify(track_ids=[keep.pk, lose.pk])

    assert list(errors) == [str(lose.pk)] and isinstance(errors[str(lose.pk)], OSError)
    keep.refresh_from_db()
    lose.refresh_from_db()
    assert keep.status == Track.Status.DONE
    # Nothing recorded for it: left to the caller, which hands it back to the queue.
    assert lose.status == Track.Status.PROCESSING and not Prediction.objects.filter(track=lose).exists()
    assert not lose.spectrogram


def test_a_job_claims_queued_tracks_once_oldest_first(user, make_user, stored_track):
    leader = stored_track("leader.wav", seconds=1)
    others = [stored_track(f"q{i}.wav", owner=make_user(f"u{i}") if i == 2 else user, seconds=1, seed=i + 1)
              for i in range(4)]
    done = stored_track("done.wav", seconds=1, seed=9)
    Track.objects.filter(pk=done.pk).update(status=Track.Status.DONE)

    first = classification.tracks_claim_queued(exclude=leader.pk, limit=2)
    second = classification.tracks_claim_queued(exclude=leader.pk, limit=10)

    assert first == [others[0].pk, others[1].pk]  # any owner's, oldest first
    assert second == [others[2].pk, others[3].pk]  # never one taken already, nor the leader
    assert classification.tracks_claim_queued(exclude=leader.pk, limit=3) == []
    statuses = dict(Track.objects.values_list("pk", "status"))
    assert all(statuses[t.pk] == Track.Status.PROCESSING for t in others)
    assert statuses[leader.pk] == Track.Status.QUEUED and statuses[done.pk] == Track.Status.DONE


def test_released_tracks_are_queued_again_with_a_job_of_their_own(
        user, stored_track, monkeypatch, django_capture_on_commit_callbacks):
    claimed, finished = stored_track("a.wav", seconds=1), stored_track("b.wav", seconds=1, seed=1)
    Track.objects.filter(pk=claimed.pk).update(status=Track.Status.PROCESSING)
    Track.objects.filter(pk=finished.pk).update(status=Track.Status.DONE)
    sent = []
    monkeypatch.setattr(queue, "_send", lambda name, *args, queue=None: sent.append((name, args, queue)))

    with django_capture_on_commit_callbacks(execute=True):
        classification.tracks_release(track_ids=[claimed.pk, finished.pk])

    assert Track.objects.get(pk=claimed.pk).status == Track.Status.QUEUED
    assert Track.objects.get(pk=finished.pk).status == Track.Status.DONE  # finished: left alone
    assert sent == [(queue.CLASSIFY_TRACK, (str(claimed.pk),), queue.classify_queue())]


def test_a_job_classifies_its_track_and_the_queued_ones_in_one_model_call(
        user, stored_track, monkeypatch, settings):
    settings.CLASSIFY_BATCH_SIZE = 3
    leader = stored_track("leader.wav", seconds=3)
    mates = [stored_track(f"mate{i}.wav", seconds=3, seed=i + 1) for i in range(3)]
    model = classification.classifier()
    calls = []
    predict_many = model.predict_many
    monkeypatch.setattr(model, "predict_many", lambda paths, **kw: calls.append(len(paths)) or predict_many(paths, **kw))

    tasks.classify_track.apply(args=[str(leader.pk)])

    assert calls == [3]  # the leader and the two oldest queued tracks, together
    statuses = dict(Track.objects.values_list("pk", "status"))
    assert statuses[leader.pk] == statuses[mates[0].pk] == statuses[mates[1].pk] == Track.Status.DONE
    assert statuses[mates[2].pk] == Track.Status.QUEUED  # left for its own job

    # A retried job runs alone: its track failed before and must not hold others up.
    tasks.classify_track.apply(args=[str(mates[2].pk)], retries=1)
    assert calls == [3, 1]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_classifies_queued_tracks_in_a_batch_and_a_broken_file_fails_alone(
        celery_worker, user, batch_audio):
    seen = len(celery_worker.log)
    # One transaction: every job is sent when it commits, so the first job finds the rest queued.
    with transaction.atomic():
        tracks = {name: upload(user, path) for name, path in list(batch_audio.items())[:3]}
        broken = not_audio(user)
        classification.track_queue_classification(track_id=broken.pk)

    for name, track in tracks.items():
        track = wait_for_track(track.pk, worker=celery_worker)
        assert track.status == Track.Status.DONE, (name, track.failure_reason)
        assert_same_as_alone(track, batch_audio[name])
    broken = wait_for_track(broken.pk, worker=celery_worker)
    assert broken.status == Track.Status.FAILED
    assert broken.failure_reason.startswith("The audio could not be decoded")
    # The CPU worker's default batch (4) took all four at once; their own jobs found them taken.
    batches = [line for line in celery_worker.log[seen:] if "classified a batch of" in line]
    assert len(batches) == 1 and "classified a batch of 4 track(s)" in batches[0], celery_worker.output()
    assert Prediction.objects.filter(track__in=list(tracks.values())).count() == 3


def test_classification_jobs_go_to_the_classify_queue_when_one_is_set(settings, monkeypatch):
    sent = []
    monkeypatch.setattr(queue.current_app, "send_task", lambda name, **kw: sent.append((name, kw["queue"])))
    default = queue.default_queue()

    settings.CLASSIFY_QUEUE = ""
    queue.queue_classification("t1")
    assert queue.worker_queues() == [default]

    settings.CLASSIFY_QUEUE = "gpu"  # a GPU worker takes these with -Q gpu --concurrency 1
    queue.queue_classification("t2")
    queue.queue_webhook_delivery(7)  # everything else stays on the default queue
    assert sent == [(queue.CLASSIFY_TRACK, default), (queue.CLASSIFY_TRACK, "gpu"), (queue.DELIVER_WEBHOOK, default)]
    assert queue.worker_queues() == [default, "gpu"]  # what runapp's all-in-one worker consumes
