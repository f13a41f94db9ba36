"""Training, cross-source measurement and evaluation of the fusion recipe on synthetic sources."""
import csv
import json

import pytest
import soundfile as sf
import yaml

from ml import crossval, evaluate, train
from ml.bundle import load_config
from ml.inference import Classifier
from ml.sources import read_clips
from tests.ml.conftest import REPO, music_like, tone

EFFICIENTAT = REPO.parent / "shared" / "models" / "efficientat-mn04" / "mn04_as_mAP_432.pt"
SELECTION = "Recipes were compared on the held-out source."


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """Two sources of short clips, tones labelled classical and beats electronic: 'alpha' with
    artist-filtered splits, 'beta' with artists and each file's own genre tag."""
    root = tmp_path_factory.mktemp("sources")
    paths = {}
    for source, extra in (("alpha", ["split"]), ("beta", ["source", "artist", "id3_genre"])):
        rows = []
        (root / source).mkdir()
        for i in range(4):
            for genre, make in (("classical", lambda s: tone(300 + 40 * s, 4.0, 22050)),
                                ("electronic", lambda s: music_like(4.0, 22050, seed=s))):
                name = f"{source}/{genre}{i}.wav"
                sf.write(root / name, make(i + (10 if source == "beta" else 0)), 22050)
                rows.append({"file": name, "genre": genre, "split": "train" if i < 2 else "valid",
                             "source": source, "artist": f"{genre}-artist{i // 2}",
                             "id3_genre": "Electronic" if genre == "electronic" else "Classical"})
        paths[source] = root / f"{source}.csv"
        with open(paths[source], "w", newline="") as fh:
            w = csv.DictWriter(fh, ["file", "genre", *extra], extrasaction="ignore")
            w.writeheader()
            w.writerows(rows)
    return paths


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    pytest.importorskip("musicnn", reason="musicnn package needed for the pretrained taggers")
    if not EFFICIENTAT.is_file():
        pytest.skip(f"EfficientAT weights not found at {EFFICIENTAT}")
    cfg = yaml.safe_load((REPO / "ml" / "config" / "fusion.yaml").read_text())
    cfg["features"]["max_segments"] = 2
    cfg["train"].update(hop_s=1.5, null_windows=8, speech_windows=4, augment=["eq_tilt", "noise", "codec"])
    cfg["model_selection"] = SELECTION
    path = tmp_path_factory.mktemp("recipe") / "tiny.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, recipe, sources):
    out = tmp_path_factory.mktemp("bundle")
    cache = out.parent / "bank"
    train.main(["--config", str(recipe), "--data", str(sources["alpha"]), str(sources["beta"]), "--out", str(out),
                "--cache", str(cache), "--efficientat", str(EFFICIENTAT), "--device", "cpu",
                "--runs", str(out.parent / "runs")])
    return out


def test_train_writes_a_fusion_bundle_with_licences_and_sources(bundle, sources):
    config = load_config(bundle)
    assert config["architecture"]["name"] == "fusion_genre" and "electronic" in config["labels"]
    assert config["data"]["sources"] == {"alpha": {"classical": 4, "electronic": 4},
                                         "beta": {"classical": 4, "electronic": 4}}
    assert len(config["pretrained"]["efficientat_sha256_16"]) == 16
    assert "MIT" in (bundle / "LICENSE-efficientat.txt").read_text()
    assert "ISC" in (bundle / "LICENSE-musicnn.txt").read_text()
    pred = Classifier.from_bundle(bundle, "cpu").predict(sources["alpha"].parent / "alpha" / "electronic3.wav")
    assert list(pred.probabilities) == config["labels"]
    assert pred.genre in config["labels"] and len(pred.tags) == 50
    # style hints: every style the bundle names, a probability each, highest first
    assert list(pred.styles) == sorted(config["style_tags"], key=lambda k: -pred.styles[k])
    assert all(0 <= p <= 1 for p in pred.styles.values())


def test_crossval_scores_each_clip_with_a_model_that_never_saw_its_artist_or_source(
        bundle, recipe, sources, monkeypatch):
    calls = []
    original = crossval.Protocol.run

    def spy(self, train_idx, test_idx):
        calls.append(([self.clips[i] for i in train_idx], [self.clips[i] for i in test_idx]))
        return original(self, train_idx, test_idx)

    monkeypatch.setattr(crossval.Protocol, "run", spy)
    crossval.main(["--config", str(recipe), "--data", str(sources["alpha"]), str(sources["beta"]),
                   "--bundle", str(bundle), "--cache", str(bundle.parent / "bank"), "--folds", "2"])
    folds, loso = calls[:-2], calls[-2:]
    assert len(folds) == 4  # alpha's two splits, beta's two artist folds
    scored = [c.path for _, test in folds for c in test]
    assert sorted(scored) == sorted(c.path for c in read_clips(sources["alpha"], sources["beta"]))  # each once
    for trained, test in folds:
        assert not {(c.source, c.artist, c.split) for c in trained} & {(c.source, c.artist, c.split) for c in test}
    for trained, test in loso:
        assert {c.source for c in trained}.isdisjoint({c.source for c in test})

    metrics = json.loads((bundle / "performance_metrics.json").read_text())
    within = metrics["within_source"]
    assert set(within["model"]) == {"alpha", "beta"}
    assert within["model"]["beta"]["clips"] == 8 and "lenient_accuracy" in within["model"]["beta"]
    assert set(within["baselines"]) == {"zero_shot_audioset", "zero_shot_tags", "probe"}
    assert set(metrics["leave_one_source_out"]) == {"alpha", "beta"}
    assert metrics["leave_one_source_out"]["beta"]["trained_on"] == ["alpha"]
    cal = metrics["calibration"]
    assert cal["temperature"] > 0 and 0.3 <= cal["uncertain_below"] <= 0.9
    assert set(cal["per_source"]) == {"alpha", "beta"} and "ece_after" in cal["per_source"]["beta"]
    assert SELECTION in metrics["caveats"]
    # the calibration travels with the weights, for the product to use
    assert load_config(bundle)["calibration"] == {"temperature": cal["temperature"], "uncertain_below": cal["uncertain_below"]}
    assert Classifier.from_bundle(bundle, "cpu").uncertain_below == cal["uncertain_below"]


def test_crossval_refuses_a_bundle_trained_on_other_data(bundle, recipe, sources):
    with pytest.raises(SystemExit, match="not trained on every row"):
        crossval.main(["--config", str(recipe), "--data", str(sources["alpha"]), "--bundle", str(bundle)])


def test_evaluate_refuses_training_data_and_scores_held_out_clips_per_source(bundle, sources, tmp_path):
    with pytest.raises(SystemExit, match="used in training"):
        evaluate.main(["--bundle", str(bundle), "--data", str(sources["beta"]), "--device", "cpu"])
    held = tmp_path / "held.csv"
    sf.write(tmp_path / "t.wav", tone(500, 4.0, 22050), 22050)
    sf.write(tmp_path / "b.wav", music_like(4.0, 22050, seed=99), 22050)
    held.write_text("file,genre,source\nt.wav,classical,gamma\nb.wav,electronic,gamma\n")
    out = tmp_path / "report"
    evaluate.main(["--bundle", str(bundle), "--data", str(held), "--train-data", str(sources["alpha"]),
                   str(sources["beta"]), "--out", str(out), "--device", "cpu"])
    metrics = json.loads((out / "performance_metrics.json").read_text())
    assert metrics["model"]["gamma"]["clips"] == 2
    assert set(metrics["baselines"]) == {"zero_shot_audioset", "zero_shot_tags", "probe"}
    assert (out / "confusion_matrix.png").stat().st_size > 0
