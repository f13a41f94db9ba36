"""Re-running an older model's tracks through the real worker and the installed model."""
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from classifier.models import Prediction, Track
from classifier.selectors import installed_bundle
from classifier.services.uploads import track_upload
from tests.conftest import wait_for_track

# Read before the autouse fixture swaps in the small test bundle.
INSTALLED = Path(django_settings.MODEL_BUNDLE_DIR)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def real_model(settings):
    if not (INSTALLED / "model_config.json").is_file():
        pytest.skip(f"no trained model bundle in {INSTALLED}")
    settings.MODEL_BUNDLE_DIR = INSTALLED
    return installed_bundle()["config"]["version"]


def test_outdated_tracks_are_classified_again_by_the_installed_model(client, user, audio_file, real_model, celery_worker):
    path = audio_file("old.flac", seconds=4)
    track = track_upload(owner=user, upload=SimpleUploadedFile("old.flac", path.read_bytes())).track
    track = wait_for_track(track.pk, worker=celery_worker)
    assert track.status == Track.Status.DONE
    # Pretend an earlier model classified it, and the user had filed it under their own genre.
    Prediction.objects.filter(track=track).update(model_version="old-model-1")
    Track.objects.filter(pk=track.pk).update(user_genre="blues")

    client.force_login(user)
    assert "1 track was classified by an older model" in client.get(reverse("home")).content.decode()
    response = client.post(reverse("library-reclassify"), {"scope": "outdated"})
    assert response.status_code == 302
    track = wait_for_track(track.pk, statuses=("done",), worker=celery_worker)
    track.refresh_from_db()
    assert track.prediction.model_version == real_model
    assert track.user_genre == "blues"  # a new prediction never loses the user's genre
    assert "older model" not in client.get(reverse("home")).content.decode()
