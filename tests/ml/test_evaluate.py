"""The evaluation CLIs on synthetic clips: a held-out split, and cross-validation of a recipe."""
import json

import pytest
import yaml

from ml import crossval, evaluate, train
from ml.bundle import load_config
from tests.ml.conftest import write_config

ARCH = {"name": "musicnn_genre", "params": {"head_hidden": 0, "taggers": ["MSD_musicnn"]}}
EXTRA = {"crop_hop_s": 2.0, "null_crops": 4, "head_prior": None}
SELECTION = "Two recipes were compared on these folds."


@pytest.fixture
def recipe(tmp_path, monkeypatch):
    pytest.importorskip("musicnn", reason="musicnn package needed for the pretrained start")
    monkeypatch.chdir(tmp_path)  # TensorBoard runs/ goes here
    path = write_config(tmp_path, ARCH, EXTRA)
    path.write_text(yaml.safe_dump({**yaml.safe_load(path.read_text()), "model_selection": SELECTION}))
    return path


def trained(recipe, user_csv, out, splits):
    train.main(["--config", str(recipe), "--data", str(user_csv), "--out", str(out), "--splits", splits,
                "--device", "cpu"])
    return out


def test_evaluate_scores_the_held_out_split_and_refuses_a_trained_one(tmp_path, recipe, user_csv):
    bundle = trained(recipe, user_csv, tmp_path / "bundle", "train")
    evaluate.main(["--bundle", str(bundle), "--data", str(user_csv), "--split", "test", "--device", "cpu"])
    metrics = json.loads((bundle / "performance_metrics.json").read_text())
    assert metrics["data"]["split"] == "test" and metrics["data"]["clips"] == 2
    assert metrics["data"]["training_splits"] == ["train"]
    assert sum(map(sum, metrics["model"]["confusion_matrix"]["matrix"])) == 2
    assert 0 <= metrics["model"]["accuracy"] <= 1 and "accuracy" in metrics["baseline"]
    assert metrics["model_version"] == load_config(bundle)["version"]
    assert (bundle / "confusion_matrix.png").stat().st_size > 0
    assert SELECTION in metrics["caveats"]  # a recipe picked among others says so next to its score
    assert not any("model selection" in c for c in metrics["caveats"])  # and never claims the opposite
    with pytest.raises(SystemExit, match="used in training"):
        evaluate.main(["--bundle", str(bundle), "--data", str(user_csv), "--split", "train", "--device", "cpu"])


def test_crossval_scores_every_clip_with_a_model_that_never_saw_it(tmp_path, recipe, user_csv):
    bundle = trained(recipe, user_csv, tmp_path / "bundle", "train,test")
    work = tmp_path / "folds"
    crossval.main(["--config", str(recipe), "--data", str(user_csv), "--bundle", str(bundle),
                   "--work", str(work), "--device", "cpu"])
    metrics = json.loads((bundle / "performance_metrics.json").read_text())
    folds = metrics["data"]["folds"]
    assert set(folds) == {"train", "test"}
    assert folds["test"]["trained_on"] == ["train"] and folds["train"]["trained_on"] == ["test"]
    assert (folds["train"]["clips"], folds["test"]["clips"]) == (6, 2)
    # each fold model was trained without the fold it scored
    assert load_config(work / "test")["data"]["splits"] == ["train"]
    assert load_config(work / "train")["data"]["splits"] == ["test"]
    assert metrics["data"]["clips"] == 8
    assert sum(map(sum, metrics["model"]["confusion_matrix"]["matrix"])) == 8
    pooled = (folds["train"]["accuracy"] * 6 + folds["test"]["accuracy"] * 2) / 8
    assert metrics["model"]["accuracy"] == pytest.approx(pooled, abs=1e-3)
    assert metrics["model_version"] == load_config(bundle)["version"]
    assert "out-of-fold" in metrics["caveats"][0]
    assert SELECTION in metrics["caveats"]


def test_crossval_refuses_a_bundle_the_recipe_did_not_train_on_every_fold(tmp_path, recipe, user_csv):
    bundle = trained(recipe, user_csv, tmp_path / "bundle", "train")
    with pytest.raises(SystemExit, match="not on the folds"):
        crossval.main(["--config", str(recipe), "--data", str(user_csv), "--bundle", str(bundle),
                       "--folds", "train,test", "--device", "cpu"])
    both = trained(recipe, user_csv, tmp_path / "both", "train,test")
    (tmp_path / "other").mkdir()
    other = write_config(tmp_path / "other", ARCH, {**EXTRA, "lr": 0.1})
    with pytest.raises(SystemExit, match="recipe or seed differs"):
        crossval.main(["--config", str(other), "--data", str(user_csv), "--bundle", str(both), "--device", "cpu"])
