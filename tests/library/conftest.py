"""Library fixtures: tracks made straight in the database, and a small model bundle folder
(config and metrics only: the pages read those files, they never load the weights)."""
import hashlib
import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from classifier.models import Prediction, Track
from classifier.services.uploads import track_upload

LABELS = ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"]
VERSION = "2.0"


def prediction_fields(genre, confidence, version=VERSION, embedding=None, uncertain=False, runner_up=""):
    """A stored prediction's fields; `runner_up` comes second, just below `confidence`."""
    second = {runner_up: confidence - 0.05} if runner_up else {}
    rest = (1 - confidence - sum(second.values())) / (len(LABELS) - 1 - len(second))
    return {
        "genre": genre,
        "confidence": confidence,
        "uncertain": uncertain,
        "probabilities": {label: rest for label in LABELS} | second | {genre: confidence},
        "timeline": [{"start": 0.0, "end": 5.0, "genre": genre, "confidence": confidence}],
        "tags": {"rock": 0.9, "guitar": 0.8, "male vocals": 0.5, "beat": 0.4, "80s": 0.3, "sad": 0.1},
        "embedding": embedding or [1.0, 0.0, 0.0],
        "model_version": version,
        "device": "cpu",
        "seconds": 0.5,
    }


@pytest.fixture
def make_track(db):
    """make_track(owner, title=..., genre="rock", confidence=0.8, ...) → Track (no real file);
    uncertain=True, runner_up="jazz" for a prediction the model was unsure of."""

    def make(owner, title="Song", artist="", album="", genre="rock", confidence=0.8, user_genre="",
             status=Track.Status.DONE, version=VERSION, embedding=None, duration=61.0, uncertain=False,
             runner_up=""):
        key = uuid.uuid4().hex
        track = Track.objects.create(
            owner=owner, original_name=f"{title}.mp3", file=f"tracks/{owner.pk}/{key}.mp3",
            sha256=hashlib.sha256(key.encode()).hexdigest(), size=1000, format="MP3",
            title=title, artist=artist, album=album, duration=duration, status=status, user_genre=user_genre,
        )
        if genre:
            Prediction.objects.create(track=track, **prediction_fields(genre, confidence, version, embedding,
                                                                      uncertain, runner_up))
        return track

    return make


@pytest.fixture
def upload_track(audio_file):
    """upload_track(owner, "song.flac", genre="jazz") → a Track stored through the upload
    service from real generated audio, with a prediction written beside it."""

    def make(owner, name="song.mp3", genre="jazz", confidence=0.7, seed=0, **audio):
        path = audio_file(name, seed=seed, **audio)
        outcome = track_upload(owner=owner, upload=SimpleUploadedFile(name, path.read_bytes()))
        track = outcome.track
        if genre:
            Prediction.objects.create(track=track, **prediction_fields(genre, confidence))
            Track.objects.filter(pk=track.pk).update(status=Track.Status.DONE)
            track.refresh_from_db()
        return track

    return make


@pytest.fixture(autouse=True)
def bundle_dir(tmp_path, settings):
    """A model bundle folder with a config and metrics, installed as MODEL_BUNDLE_DIR for every
    test here, so the results do not depend on which model happens to be installed."""
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "model_config.json").write_text(json.dumps({
        "name": "test-genre-model", "version": VERSION, "labels": LABELS,
        "architecture": {"name": "musicnn_genre", "params": {"head_hidden": 0}},
        "train": {"batch_size": 64, "lr": 0.001},
    }))
    # Shaped like what ml's evaluation writes: facts, then one section of scores per model.
    (folder / "performance_metrics.json").write_text(json.dumps({
        "model_version": VERSION, "evaluated_at": "2026-01-01T00:00:00+00:00",
        "data": {"file": "gtzan.csv", "split": "valid", "clips": 69, "clips_per_genre": {"blues": 10, "rock": 2}},
        "model": {"accuracy": 0.8125, "macro_f1": 0.79,
                  "per_genre": {label: {"precision": 0.8, "recall": 0.7, "f1": 0.75, "support": 3} for label in LABELS},
                  "confusion_matrix": {"labels": LABELS, "matrix": [[1] * 10] * 10}},
        "baseline": {"method": "MFCC + logistic regression", "accuracy": 0.5},
        "caveats": ["Scored on 69 clips.", "Tiny data, per-genre figures move a lot."],
    }))
    settings.MODEL_BUNDLE_DIR = folder
    return folder
