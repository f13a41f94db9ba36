"""Smoke runs of the training CLI on a user-style CSV (file,genre,split) of synthetic clips."""
from pathlib import Path

import pytest
import torch

from ml import train
from ml.bundle import load_model
from ml.checkpoint import read_checkpoint
from ml.inference import Classifier
from tests.ml.conftest import write_config


def musicnn_root():
    import musicnn
    return Path(musicnn.__file__).parent


@pytest.mark.parametrize("arch,extra", [
    ({"name": "scratch_cnn", "params": {"channels": [4, 8]}}, {"steps_per_epoch": 1, "batch_size": 4, "null_fraction": 0.5}),
    ({"name": "musicnn_genre", "params": {"head_hidden": 0, "taggers": ["MSD_musicnn"]}},
     {"crop_hop_s": 2.0, "null_crops": 4, "head_prior": None}),
    ({"name": "musicnn_genre", "params": {"head_hidden": 0, "taggers": ["MSD_musicnn", "MTT_musicnn"]}},
     {"crop_hop_s": 2.0, "null_crops": 4, "head_prior": "toy"}),
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
        assert config["training"]["head_prior_tags"]["MSD_musicnn"]["beats"] == ["dance", "Hip-Hop"]
    if arch["name"] == "musicnn_genre":
        taggers = arch["params"]["taggers"]
        assert config["pretrained"]["checkpoints"] == taggers
        assert "Hip-Hop" in config["tags"]  # the primary (MSD) tagger's tags are the model's tags
        for name, net in model.taggers().items():  # every tagger holds its own pretrained weights
            kernel = read_checkpoint(f"{musicnn_root() / name}/")["dense_1/kernel"]
            assert torch.equal(net.tag_dense.weight, torch.from_numpy(kernel).T)
    pred = Classifier(model, config, torch.device("cpu")).predict(user_csv.parent / "clips/tones3.wav")
    assert abs(sum(pred.probabilities.values()) - 1) < 1e-5
