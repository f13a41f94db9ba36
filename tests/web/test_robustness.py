"""Bad input and bad luck end in a clear message or a `failed` track, never a 500, a track stuck
in `queued`, or a file left behind."""
from datetime import timedelta

import mutagen
import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from classifier import tasks
from classifier.models import Track
from classifier.services import classification
from classifier.services.uploads import UploadRejected, track_upload
from genreweb import celery_app


def upload(user, path):
    return track_upload(owner=user, upload=SimpleUploadedFile(path.name, path.read_bytes()))


def test_audio_longer_than_the_limit_is_refused_before_it_is_stored(user, audio_file, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")  # a folder of its own, to see that nothing lands
    settings.UPLOAD_MAX_MINUTES = 0.05  # 3 seconds
    with pytest.raises(UploadRejected) as refused:
        upload(user, audio_file("long.wav", seconds=5))
    assert refused.value.code == "too_long"
    assert "minutes" in refused.value.message
    assert not Track.objects.exists()
    assert not list((tmp_path / "media").glob("**/*.*"))


def test_nul_characters_in_tags_become_separators(user, audio_file):
    path = audio_file("tagged.flac", seconds=1)
    tags = mutagen.File(path)
    tags["title"] = "Night\x00Drive"
    tags["artist"] = "\x00"
    tags.save()
    track = upload(user, path).track
    assert track.title == "Night Drive"  # NUL separates values in ID3; PostgreSQL text cannot hold it
    assert track.artist == ""


@pytest.mark.parametrize("url", ["/library/?q=%00", "/playlists/%00/", "/api/v1/tracks/?search=%00"])
def test_a_nul_in_the_address_is_a_400(alice_client, url):
    response = alice_client.get(url)
    assert response.status_code == 400
    if url.startswith("/api/"):
        assert response.json()["error"]["code"] == "bad_request"


def test_a_broker_that_cannot_be_reached_fails_the_track_with_a_reason(
        user, audio_file, monkeypatch, django_capture_on_commit_callbacks):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(celery_app, "send_task", broker_down)  # what classifier.queue sends with
    with django_capture_on_commit_callbacks(execute=True):
        track = upload(user, audio_file("offline.wav", seconds=1)).track
    track.refresh_from_db()
    assert track.status == Track.Status.FAILED
    assert "task queue could not be reached" in track.failure_reason
    assert track.file.storage.exists(track.file.name)  # the upload itself is kept


def test_a_classification_over_the_time_limit_fails_the_track(user, audio_file, monkeypatch):
    track = upload(user, audio_file("slow.wav", seconds=1)).track

    def too_slow(*, track_ids):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(tasks, "tracks_classify", too_slow)
    tasks.classify_track.apply(args=[str(track.pk)])
    track.refresh_from_db()
    assert track.status == Track.Status.FAILED
    assert "took longer than" in track.failure_reason


def test_a_track_deleted_during_classification_leaves_no_spectrogram(
        user, audio_file, monkeypatch, settings, tmp_path):
    """The result arrives after the user deleted the track: nothing of it may stay on disk."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    track = upload(user, audio_file("gone.wav", seconds=4)).track
    real = classification.classifier()

    class DeletesTheTrackFirst:
        version, device = real.version, real.device

        def predict_many(self, paths, **kwargs):
            Track.objects.filter(pk=track.pk).delete()
            return real.predict_many(paths, **kwargs)

        def spectrogram(self, path):
            return real.spectrogram(path)

    monkeypatch.setattr(classification, "classifier", DeletesTheTrackFirst)
    with pytest.raises(Exception):
        classification.track_classify(track_id=track.pk)
    assert not list((tmp_path / "media").glob("spectrograms/**/*.*"))


def _age(track, seconds):
    Track.objects.filter(pk=track.pk).update(updated_at=timezone.now() - timedelta(seconds=seconds))


def test_a_busy_track_is_not_queued_twice_but_an_abandoned_one_is(
        alice_client, user, audio_file, settings, django_capture_on_commit_callbacks):
    track = upload(user, audio_file("busy.wav", seconds=1)).track
    Track.objects.filter(pk=track.pk).update(status=Track.Status.PROCESSING)
    url = reverse("track-reclassify", args=[track.pk])

    with django_capture_on_commit_callbacks() as queued:
        response = alice_client.post(url, follow=True)
    assert "already waiting for or being classified" in response.content.decode()
    assert not queued

    _age(track, 2 * settings.CLASSIFY_TIME_LIMIT + 60)  # its worker died long ago
    with django_capture_on_commit_callbacks() as queued:
        alice_client.post(url)
    track.refresh_from_db()
    assert track.status == Track.Status.QUEUED
    assert len(queued) == 1
