import json
import math

import numpy as np
import pytest

from ml.inference import AudioError, Prediction, bundle_info, get_classifier
from tests.ml.conftest import SHIPPED_BUNDLE


def check_distribution(pred: Prediction, labels: list[str]) -> None:
    assert list(pred.probabilities) == labels
    assert math.isclose(sum(pred.probabilities.values()), 1.0, abs_tol=1e-5)
    assert pred.genre == max(pred.probabilities, key=pred.probabilities.get)
    assert pred.confidence == pytest.approx(pred.probabilities[pred.genre])


def test_shipped_bundle_predicts_music(shipped_classifier, music_file):
    pred = shipped_classifier.predict(music_file)
    check_distribution(pred, shipped_classifier.labels)
    assert pred.model_version == shipped_classifier.version and pred.device == "cpu"
    assert len(pred.tags) == 50 and list(pred.tags.values()) == sorted(pred.tags.values(), reverse=True)
    assert np.linalg.norm(pred.embedding) == pytest.approx(1.0, abs=1e-5)
    starts = [s.start for s in pred.timeline]
    assert starts == sorted(starts) and pred.timeline[-1].end == pytest.approx(20.0, abs=0.05)
    assert all(s.genre in shipped_classifier.labels for s in pred.timeline)
    assert json.loads(json.dumps(pred.to_dict()))["genre"] == pred.genre


def test_silence_gets_low_confidence(shipped_classifier, silence_file):
    # Silence carries no genre: the model must not be sure about it (10 labels: uniform is 0.1).
    pred = shipped_classifier.predict(silence_file)
    check_distribution(pred, shipped_classifier.labels)
    assert pred.confidence < 0.3  # music typically scores 0.6+; 0.1 would be uniform


def test_short_clip_still_predicts(shipped_classifier, format_files):
    pred = shipped_classifier.predict(format_files["mp3"])  # 2 s, shorter than one segment
    assert len(pred.timeline) == 1
    check_distribution(pred, shipped_classifier.labels)


def test_undecodable_file_raises_audio_error(shipped_classifier, text_file):
    with pytest.raises(AudioError):
        shipped_classifier.predict(text_file)


def test_spectrogram_is_bounded(shipped_classifier, music_file):
    spec = shipped_classifier.spectrogram(music_file, max_frames=100)
    assert spec.dtype == np.float32 and spec.shape[0] == 96 and 90 <= spec.shape[1] <= 100


def test_classifier_is_cached(shipped_classifier):
    assert get_classifier(SHIPPED_BUNDLE, "cpu") is shipped_classifier


def test_bundle_info_reads_without_weights(shipped_classifier):
    info = bundle_info(SHIPPED_BUNDLE)
    assert info["config"]["labels"] == shipped_classifier.labels
    assert isinstance(info["metrics"], dict)


def test_shipped_metrics_describe_the_shipped_weights(shipped_classifier):
    """Stale metrics (from other weights, or scored on clips the weights were trained on) would mislead."""
    config, metrics = shipped_classifier.config, bundle_info(SHIPPED_BUNDLE)["metrics"]
    assert metrics["model_version"] == config["version"]
    trained_on = config["data"]["splits"]
    assert metrics["data"]["training_splits"] == trained_on
    folds = metrics["data"].get("folds")
    if folds:  # cross-validated: every fold was scored by a model trained without it
        assert sorted(folds) == sorted(trained_on)
        assert all(fold not in f["trained_on"] for fold, f in folds.items())
    else:
        assert metrics["data"]["split"] not in trained_on
    matrix = metrics["model"]["confusion_matrix"]["matrix"]
    assert sum(map(sum, matrix)) == metrics["data"]["clips"]

