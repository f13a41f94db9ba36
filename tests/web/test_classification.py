"""track_classify with the real model stores what the model said, its uncertainty and style hints
included (the model's threshold is moved to either end so the outcome does not depend on the audio)."""
import dataclasses

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from classifier.models import Prediction
from classifier.services import classification
from classifier.services.uploads import track_upload

pytestmark = pytest.mark.django_db


def record_predictions(monkeypatch, model, **changes):
    """Let the real model predict, apply `changes` to its Predictions, and keep each one returned."""
    said, predict_many = [], model.predict_many

    def recording(paths, **kwargs):
        said.extend(dataclasses.replace(p, **changes) for p in predict_many(paths, **kwargs))
        return said[-len(paths):]

    monkeypatch.setattr(model, "predict_many", recording)
    return said


@pytest.mark.parametrize("uncertain_below, uncertain", [(0.0, False), (1.01, True)])
def test_track_classify_stores_whether_the_model_was_sure(
        alice_client, user, audio_file, monkeypatch, uncertain_below, uncertain):
    # 0 is below any probability, 1.01 above every one: the real model's own rule decides.
    model = classification.classifier()
    monkeypatch.setattr(model, "uncertain_below", uncertain_below)
    said = record_predictions(monkeypatch, model)
    path = audio_file("tune.wav", seconds=4)
    track = track_upload(owner=user, upload=SimpleUploadedFile(path.name, path.read_bytes())).track

    classification.track_classify(track_id=track.pk)

    prediction = Prediction.objects.get(track=track)
    assert prediction.uncertain is uncertain
    # Whatever style hints the installed bundle gives ({} for one without them), stored as given.
    [result] = said
    assert prediction.styles == result.styles
    assert prediction.top_two[0].genre == prediction.genre
    assert prediction.top_two[0].probability >= prediction.top_two[1].probability
    html = alice_client.get(reverse("track-detail", args=[track.pk])).content.decode()
    assert ('class="uncertain-badge"' in html) is uncertain
    assert ("% confident" in html) is not uncertain


def test_track_classify_stores_the_style_hints_and_the_page_shows_them(alice_client, user, audio_file, monkeypatch):
    # The real model's result, with style hints as a bundle that has them would add.
    styles = {"folk": 0.71, "punk": 0.05}
    said = record_predictions(monkeypatch, classification.classifier(), styles=styles)
    path = audio_file("tune.wav", seconds=4)
    track = track_upload(owner=user, upload=SimpleUploadedFile(path.name, path.read_bytes())).track

    classification.track_classify(track_id=track.pk)

    [result] = said
    prediction = Prediction.objects.get(track=track)
    assert prediction.styles == styles and prediction.genre == result.genre
    html = alice_client.get(reverse("track-detail", args=[track.pk])).content.decode()
    hints = html[html.index('class="style-hints"'):]
    assert '<span>folk</span> <span class="tag-score">71%</span>' in hints
    assert "<span>punk</span>" not in html
