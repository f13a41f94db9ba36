"""Smoke runs of the training CLI on a user-style CSV (file,genre,split) of synthetic clips."""
import csv

import pytest
import soundfile as sf
import torch
import yaml

from ml import train
from ml.bundle import load_model
from ml.inference import Classifier
from tests.ml.conftest import music_like, tone

BASE = yaml.safe_load(open(train.__file__.replace("train.py", "config/musicnn_head.yaml")))


@pytest.fixture(scope="module")
def user_csv(tmp_path_factory):
    root = tmp_path_factory.mktemp("user")
    (root / "clips").mkdir()
    rows = []
    for i in range(4):
        for genre, make in (("tones", lambda s: tone(300 + 50 * s, 4.0, 22050)),
                            ("beats", lambda s: music_like(4.0, 22050, seed=s))):
            name = f"clips/{genre}{i}.wav"
            sf.write(root / name, make(i), 22050)
            rows.append({"file": name, "genre": genre, "split": "train" if i < 3 else "test"})
    with open(root / "labels.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, ["file", "genre", "split"])
        writer.writeheader()
        writer.writerows(rows)
    return root / "labels.csv"


def write_config(tmp_path, arch, extra_train):
    cfg = {**BASE, "name": "smoke", "architecture": arch,
           "train": {**BASE["train"], "max_epochs": 2, "patience": 1, "holdout_fraction": 0.34, **extra_train},
           "head_priors": {"toy": {"beats": ["dance", "Hip-Hop"], "tones": []}}}
    if arch["name"] != "musicnn_genre":
        cfg.pop("pretrained")
    path = tmp_path / "smoke.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.parametrize("arch,extra", [
    ({"name": "scratch_cnn", "params": {"channels": [4, 8]}}, {"steps_per_epoch": 1, "batch_size": 4, "null_fraction": 0.5}),
    ({"name": "musicnn_genre", "params": {"head_hidden": 0}}, {"crop_hop_s": 2.0, "null_crops": 4, "head_prior": None}),
    ({"name": "musicnn_genre", "params": {"head_hidden": 0}}, {"crop_hop_s": 2.0, "null_crops": 4, "head_prior": "toy"}),
])
def test_train_writes_a_loadable_bundle(tmp_path, user_csv, arch, extra, monkeypatch):
    if arch["name"] == "musicnn_genre":
        pytest.importorskip("musicnn", reason="musicnn package needed for the pretrained start")
    monkeypatch.chdir(tmp_path)  # TensorBoard runs/ goes here
    out = tmp_path / "bundle"
    train.main(["--config", str(write_config(tmp_path, arch, extra)), "--data", str(user_csv),
                "--out", str(out), "--splits", "train", "--device", "cpu"])
    model, config = load_model(out)
    assert config["labels"] == ["beats", "tones"]
    assert config["data"]["splits"] == ["train"]
    assert sum(config["data"]["clips_fit"].values()) + sum(config["data"]["clips_early_stopping"].values()) == 6
    assert any((tmp_path / "runs").iterdir())
    if extra.get("head_prior"):
        assert config["training"]["head_prior_tags"]["beats"] == ["dance", "Hip-Hop"]
    pred = Classifier(model, config, torch.device("cpu")).predict(user_csv.parent / "clips/tones3.wav")
    assert abs(sum(pred.probabilities.values()) - 1) < 1e-5
