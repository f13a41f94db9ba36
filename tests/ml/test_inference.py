import json
import math
import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf

from ml.inference import AudioError, Prediction, bundle_info, get_classifier
from tests.ml.conftest import SHIPPED_BUNDLE, tone


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


def speech_file(tmp_path):
    """Spoken words from espeak-ng (installed by make test): talk, not music."""
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng is not installed")
    path = tmp_path / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(path), "Good evening. Here is the weather for tomorrow: clouds in the "
                    "morning, some sun in the afternoon, and a light wind from the west."], check=True)
    return path


def noise_file(tmp_path):
    path = tmp_path / "noise.wav"
    sf.write(path, 0.2 * np.random.default_rng(0).standard_normal(22050 * 10).astype(np.float32), 22050)
    return path


def tone_file(tmp_path):
    """A test tone, then a held chord: steady synthetic sound, no genre (a sine was 'electronic', 0.77)."""
    path = tmp_path / "tones.wav"
    chord = sum(tone(f, 10, 22050) for f in (261.6, 329.6, 392.0)) / 3
    sf.write(path, np.concatenate([tone(440, 10, 22050), chord]), 22050)
    return path


@pytest.mark.parametrize("make", [speech_file, noise_file, tone_file, lambda tmp_path: None],
                         ids=["speech", "noise", "tones", "silence"])
def test_non_music_is_uncertain(shipped_classifier, silence_file, tmp_path, make):
    # Silence, noise, talk and test tones carry no genre: the page must say "uncertain", not name one.
    made = make(tmp_path)
    pred = shipped_classifier.predict(made or silence_file)
    check_distribution(pred, shipped_classifier.labels)
    assert pred.uncertain and pred.confidence < shipped_classifier.uncertain_below
    # Only silence is said to be silent: talk, noise and tones are sound, just not music.
    assert pred.silent == (made is None)


def test_a_quiet_recording_is_not_silent_but_a_near_silent_one_is(shipped_classifier, tmp_path):
    t = np.arange(22050 * 6) / 22050
    tone = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    for gain_db, silent in [(-40, False), (-55, False), (-66, True), (-90, True)]:
        path = tmp_path / f"tone{gain_db}.wav"
        sf.write(path, tone * 10 ** (gain_db / 20), 22050, subtype="FLOAT")  # RMS: gain - 3 dBFS
        assert shipped_classifier.predict(path).silent is silent, gain_db


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
    """Stale metrics (from other weights or data, or with figures that do not add up) would mislead."""
    config, metrics = shipped_classifier.config, bundle_info(SHIPPED_BUNDLE)["metrics"]
    assert metrics["model_version"] == config["version"]
    assert metrics["data"]["sha256_16"] == config["data"]["sha256_16"]  # measured on what it was trained on
    assert metrics["data"]["sources"] == config["data"]["sources"]
    for source, report in metrics["within_source"]["model"].items():  # every clip scored once, out of fold
        assert report["clips"] == sum(config["data"]["sources"][source].values())
        assert sum(map(sum, report["confusion_matrix"]["matrix"])) == report["clips"]
    for source, held_out in metrics["leave_one_source_out"].items():
        assert source not in held_out["trained_on"]
    assert config["calibration"] == {k: metrics["calibration"][k] for k in ("temperature", "uncertain_below")}
    assert shipped_classifier.labels == config["labels"] and "electronic" in config["labels"]

def test_many_tracks_in_one_model_call_equal_one_by_one(shipped_classifier, music_file, silence_file,
                                                        format_files, text_file):
    paths = [music_file, text_file, format_files["mp3"], silence_file, format_files["m4a"]]
    batch = shipped_classifier.predict_many(paths)
    assert isinstance(batch[1], AudioError)  # a bad file fails alone, in its place
    for path, got in zip(paths, batch):
        if path == text_file:
            continue
        alone = shipped_classifier.predict(path)
        assert got.genre == alone.genre and got.uncertain == alone.uncertain
        for label, p in alone.probabilities.items():
            assert got.probabilities[label] == pytest.approx(p, abs=1e-4)
        assert [(s.start, s.end, s.genre) for s in got.timeline] == [(s.start, s.end, s.genre) for s in alone.timeline]
        np.testing.assert_allclose(got.embedding, alone.embedding, atol=1e-4)
        for style, p in alone.styles.items():
            assert got.styles[style] == pytest.approx(p, abs=1e-4)
