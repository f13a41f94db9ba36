"""ml.evaluate on any bundle: a held-out split of a user's CSV (the fusion path is in test_crossval)."""
import json

import pytest
import yaml

from ml import evaluate, train
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
    assert metrics["data"]["split"] == "test"
    report = metrics["model"]["labels"]  # one source: the CSV's name
    assert report["clips"] == 2 and sum(map(sum, report["confusion_matrix"]["matrix"])) == 2
    assert 0 <= report["accuracy"] <= 1 and "baselines" not in metrics  # baselines need a fusion bundle
    assert metrics["model_version"] == load_config(bundle)["version"]
    assert (bundle / "confusion_matrix.png").stat().st_size > 0
    assert SELECTION in metrics["caveats"]  # a recipe picked among others says so next to its score
    with pytest.raises(SystemExit, match="used in training"):
        evaluate.main(["--bundle", str(bundle), "--data", str(user_csv), "--split", "train", "--device", "cpu"])
