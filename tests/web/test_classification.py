"""track_classify with the real model stores what the model said, its uncertainty included
(the model's threshold is moved to either end so the outcome does not depend on the audio)."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from classifier.models import Prediction
from classifier.services import classification
from classifier.services.uploads import track_upload

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("uncertain_below, uncertain", [(0.0, False), (1.01, True)])
def test_track_classify_stores_whether_the_model_was_sure(
        alice_client, user, audio_file, monkeypatch, uncertain_below, uncertain):
    # 0 is below any probability, 1.01 above every one: the real model's own rule decides.
    monkeypatch.setattr(classification.classifier(), "uncertain_below", uncertain_below)
    path = audio_file("tune.wav", seconds=4)
    track = track_upload(owner=user, upload=SimpleUploadedFile(path.name, path.read_bytes())).track

    classification.track_classify(track_id=track.pk)

    prediction = Prediction.objects.get(track=track)
    assert prediction.uncertain is uncertain
    assert prediction.top_two[0].genre == prediction.genre
    assert prediction.top_two[0].probability >= prediction.top_two[1].probability
    html = alice_client.get(reverse("track-detail", args=[track.pk])).content.decode()
    assert ('class="uncertain-badge"' in html) is uncertain
    assert ("% confident" in html) is not uncertain
