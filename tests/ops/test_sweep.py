"""The sweep that finds lost jobs again, and the claim that keeps a track from being classified
twice: unit level, on the real database and broker, with the real model for the jobs."""
import os
import time
from datetime import timedelta

import pytest
from celery import current_app
from django.utils import timezone
from kombu import Queue

from classifier import queue
from classifier.models import Prediction, Track
from classifier.services.recovery import temp_files_remove_stale, track_claim, tracks_requeue_stale
from classifier.tasks import classify_track
from tests.library.conftest import make_track  # noqa: F401 (fixture)
from tests.conftest import saved_track
from tests.live import ROOT

pytestmark = pytest.mark.django_db


@pytest.fixture
def job_queue(settings, request):
    """A queue of this test's own on the real broker; returns a function that takes the
    classification jobs sent to it so far, as track ids."""
    name = f"{settings.CELERY_TASK_DEFAULT_QUEUE}-sweep-{request.node.name[:40]}"
    settings.CELERY_TASK_DEFAULT_QUEUE = name  # Celery reads its CELERY_* settings from Django's
    settings.CLASSIFY_QUEUE = ""  # classification jobs go to the default queue

    def taken() -> list[str]:
        ids = []
        with current_app.connection_for_read() as connection:
            bound = Queue(name, channel=connection.default_channel)
            while (message := bound.get(no_ack=True)) is not None:
                assert message.headers["task"] == queue.CLASSIFY_TRACK
                ids.extend(message.decode()[0])  # the body is (args, kwargs, embed); jobs carry ids only
        return ids

    yield taken
    taken()


def aged(track: Track, seconds: float) -> Track:
    """The track as if its status last changed `seconds` ago."""
    Track.objects.filter(pk=track.pk).update(updated_at=timezone.now() - timedelta(seconds=seconds))
    track.refresh_from_db()
    return track


def track_with(make_track, owner, status, seconds_ago, **extra) -> Track:
    return aged(make_track(owner, title=f"{status} {seconds_ago}", genre="", status=status, **extra), seconds_ago)


def test_the_sweep_queues_again_only_tracks_left_past_their_timeout(
        make_track, user, settings, job_queue, django_capture_on_commit_callbacks):
    settings.TRACK_QUEUED_TIMEOUT = 600
    settings.TRACK_PROCESSING_TIMEOUT = 900
    lost_queued = track_with(make_track, user, Track.Status.QUEUED, 601)
    lost_processing = track_with(make_track, user, Track.Status.PROCESSING, 901)
    waiting = track_with(make_track, user, Track.Status.QUEUED, 590)
    working = track_with(make_track, user, Track.Status.PROCESSING, 800)
    finished = [track_with(make_track, user, Track.Status.DONE, 10_000),
                track_with(make_track, user, Track.Status.FAILED, 10_000)]

    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):  # as in the worker, where nothing wraps it
        requeued = tracks_requeue_stale()

    assert sorted(requeued) == sorted([lost_queued.pk, lost_processing.pk])
    assert sorted(job_queue()) == sorted([str(lost_queued.pk), str(lost_processing.pk)])
    for track in (lost_queued, lost_processing):
        track.refresh_from_db()
        assert track.status == Track.Status.QUEUED
        assert track.updated_at >= before  # its queued timeout starts again
    for track in (waiting, working, *finished):
        assert Track.objects.get(pk=track.pk).updated_at == track.updated_at  # untouched

    # The next sweep leaves them to the jobs just sent: each lost track is queued again once.
    with django_capture_on_commit_callbacks(execute=True):
        assert tracks_requeue_stale() == []
    assert job_queue() == []


def test_a_job_claims_a_queued_track_once(make_track, user, settings):
    settings.TRACK_PROCESSING_TIMEOUT = 900
    track = track_with(make_track, user, Track.Status.QUEUED, 5)

    assert track_claim(track_id=track.pk) is True
    assert Track.objects.get(pk=track.pk).status == Track.Status.PROCESSING
    # A second job for it (a duplicate, a sweep's job) finds it held by a live job.
    assert track_claim(track_id=track.pk) is False
    # The same job again (a retry, or the broker handing it back after its worker died) goes on.
    assert track_claim(track_id=track.pk, rerun=True) is True


def test_a_job_takes_over_a_track_whose_holder_is_long_gone(make_track, user, settings):
    settings.TRACK_PROCESSING_TIMEOUT = 900
    abandoned = track_with(make_track, user, Track.Status.PROCESSING, 901)

    assert track_claim(track_id=abandoned.pk) is True
    assert Track.objects.get(pk=abandoned.pk).updated_at > abandoned.updated_at
    assert track_claim(track_id=abandoned.pk) is False  # now held again


@pytest.mark.parametrize("status", [Track.Status.DONE, Track.Status.FAILED])
def test_a_job_leaves_a_finished_track_alone(make_track, user, status):
    track = track_with(make_track, user, status, 10_000)
    assert track_claim(track_id=track.pk) is False
    assert track_claim(track_id=track.pk, rerun=True) is False
    assert Track.objects.get(pk=track.pk).updated_at == track.updated_at


def test_a_job_for_a_deleted_track_does_nothing(make_track, user):
    track = track_with(make_track, user, Track.Status.QUEUED, 5)
    track_id = track.pk
    track.delete()
    assert track_claim(track_id=track_id) is False


def test_a_duplicate_job_stores_no_second_prediction(user, audio_file, settings):
    settings.CLASSIFY_BATCH_SIZE = 1
    track = saved_track(user, audio_file("twice.flac", seconds=4))

    classify_track.apply(args=[str(track.pk)], throw=True)  # the real task, in this process
    first = Prediction.objects.get(track=track)
    track.refresh_from_db()
    assert track.status == Track.Status.DONE

    classify_track.apply(args=[str(track.pk)], throw=True)  # the same job delivered twice

    assert Prediction.objects.filter(track=track).count() == 1
    again = Prediction.objects.get(track=track)
    assert (again.pk, again.classified_at) == (first.pk, first.classified_at)  # not classified again
    assert Track.objects.get(pk=track.pk).spectrogram.name == track.spectrogram.name


def test_a_job_for_a_track_another_job_holds_does_nothing(user, audio_file, settings):
    settings.CLASSIFY_BATCH_SIZE = 1
    track = saved_track(user, audio_file("held.wav", seconds=4))
    assert track_claim(track_id=track.pk)  # another worker is on it

    classify_track.apply(args=[str(track.pk)], throw=True)

    assert Track.objects.get(pk=track.pk).status == Track.Status.PROCESSING
    assert not Prediction.objects.filter(track=track).exists()


def test_celery_beat_sends_the_sweep_every_interval(settings):
    from genreweb import celery_app

    [entry] = [e for e in celery_app.conf.beat_schedule.values() if e["task"] == queue.REQUEUE_STALE_TRACKS]
    assert entry["schedule"] == settings.TRACK_SWEEP_INTERVAL
    assert entry["options"]["expires"] == settings.TRACK_SWEEP_INTERVAL
    assert queue.REQUEUE_STALE_TRACKS in celery_app.tasks


def test_docker_compose_runs_one_beat_beside_the_workers():
    import yaml

    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    beat = services["beat"]
    assert beat["command"][:4] == ["celery", "-A", "genreweb", "beat"]
    assert beat["image"] == services["worker"]["image"]
    for key in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY"):
        assert beat["environment"][key] == services["worker"]["environment"][key], key
    assert "deploy" not in beat  # one scheduler: never scaled, no GPU


def test_a_processing_timeout_within_the_time_limit_is_refused_at_start_up(tmp_path):
    from tests.ops.test_settings import run_settings

    # A job may still be running until the hard time limit, CLASSIFY_TIME_LIMIT + 30 s.
    result = run_settings(tmp_path, CLASSIFY_TIME_LIMIT="600", TRACK_PROCESSING_TIMEOUT="300")
    assert result.returncode != 0
    assert "ImproperlyConfigured: TRACK_PROCESSING_TIMEOUT=300 must be at least 660" in result.stderr


def test_the_sweep_removes_only_our_temporary_files_that_nothing_wrote_for_an_hour(tmp_path, settings):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    names = ["tmpa1b2.upload.mp3", "genreweb-c3d4.flac", "tmpe5f6.upload.wav", "notes.txt"]
    for name in names:
        (tmp_path / name).write_bytes(b"half")
    hour_ago = time.time() - 3601
    for name in ("tmpa1b2.upload.mp3", "genreweb-c3d4.flac", "notes.txt"):
        os.utime(tmp_path / name, (hour_ago, hour_ago))

    assert temp_files_remove_stale() == 2
    # Left: an upload still being written, and a file that is not ours.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "tmpe5f6.upload.wav"]

