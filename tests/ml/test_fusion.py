"""The fusion model: zero-shot prior plus a correction, its head fit, and its bundle round trip."""
import numpy as np
import pytest
import torch
import yaml

from ml.bundle import load_model, save_bundle
from ml.head import fit_head
from ml.models import build_model
from tests.ml.conftest import REPO

FUSION = yaml.safe_load((REPO / "ml" / "config" / "fusion.yaml").read_text())


def fusion_config(**params) -> dict:
    arch = {"name": "fusion_genre", "params": {**FUSION["architecture"]["params"], **params}}
    return {"name": "t", "version": "t-1", "architecture": arch, "features": FUSION["features"],
            "labels": FUSION["labels"], "tags": [f"tag{i}" for i in range(50)], "weights": "model.pth"}


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model(fusion_config()).eval()


def test_every_label_has_prior_classes_and_electronic_is_one():
    assert "electronic" in FUSION["labels"]
    config = fusion_config(prior={k: v for k, v in FUSION["architecture"]["params"]["prior"].items() if k != "reggae"})
    with pytest.raises(ValueError, match="reggae"):
        build_model(config)


def _prior_of(rule: str) -> dict[str, float]:
    logits = torch.full((1, 527), -20.0)
    logits[0, 241] = 2.0   # Techno: electronic
    logits[0, 239] = 0.0   # Electronic music: electronic
    logits[0, 237] = 0.5   # Classical music
    model = build_model(fusion_config(prior_rule=rule))
    return dict(zip(FUSION["labels"], model.prior(logits)[0].tolist()))


def test_the_shipped_prior_is_the_chance_that_any_of_a_labels_classes_applies():
    assert FUSION["architecture"]["params"]["prior_rule"] == "noisy_or"
    prior = _prior_of("noisy_or")
    # Techno p = 0.881 and Electronic music p = 0.5: either applies with 1 - 0.119 * 0.5 = 0.9404
    p_techno = 1 / (1 + np.exp(-2.0))
    union = 1 - (1 - p_techno) * 0.5
    assert prior["electronic"] == pytest.approx(np.log(union / (1 - union)), abs=1e-4)
    assert prior["classical"] == pytest.approx(0.5, abs=1e-4)      # one class: its own logit
    assert prior["jazz"] == pytest.approx(np.log(2) - 20, abs=0.01)  # Jazz and Swing, both at -20


def test_bundles_without_a_rule_keep_the_strongest_class():
    params = {k: v for k, v in FUSION["architecture"]["params"].items() if k != "prior_rule"}
    model = build_model({**fusion_config(), "architecture": {"name": "fusion_genre", "params": params}})
    assert model.prior_rule == "max"
    prior = _prior_of("max")
    assert prior["electronic"] == 2.0 and prior["classical"] == 0.5 and prior["jazz"] == -20.0
    with pytest.raises(ValueError, match="prior_rule"):
        build_model(fusion_config(prior_rule="mean"))


def test_untrained_head_is_the_prior_and_batches_equal_single_windows(model):
    rng = np.random.default_rng(0)
    waves = torch.from_numpy((0.1 * rng.standard_normal((3, FUSION["features"]["segment_samples"]))).astype(np.float32))
    with torch.no_grad():
        batch = model(waves)
        single = [model(w[None]) for w in waves]
        prior = model.prior(model.backbones(waves)["audioset"])
    torch.testing.assert_close(batch["logits"], prior)  # W = 0, b = 0, scale 1
    for key in ("logits", "tags", "embedding"):
        torch.testing.assert_close(batch[key], torch.cat([s[key] for s in single]), atol=1e-4, rtol=1e-4)


def test_head_fit_learns_a_correction_and_a_strong_pull_keeps_the_prior(model):
    torch.manual_seed(1)
    n, labels = 240, FUSION["labels"]
    y = np.arange(n) % 3 + labels.index("pop")     # pop, reggae, rock
    outputs = {"audioset": torch.zeros(n, 527),     # a flat prior: no zero-shot opinion at all
               "MSD_musicnn": torch.randn(n, 200), "MTT_musicnn": torch.randn(n, 200), "efficientat": torch.randn(n, 384)}
    outputs["MSD_musicnn"][:, 0] += torch.as_tensor(3.0 * (y - y.mean()))  # one feature tells them apart
    fit_head(model, outputs, y, l2=1e-3)
    with torch.no_grad():
        pred = model.classify(outputs).argmax(1).numpy()
    assert (pred == y).mean() > 0.95
    fit_head(model, outputs, y, l2=1e6, l2_bias=1e6)
    assert model.head.linear.weight.abs().max() < 1e-3   # held at the prior


def test_round_trip_keeps_every_weight(tmp_path):
    torch.manual_seed(0)
    config = fusion_config()
    model = build_model(config).eval()
    with torch.no_grad():
        model.head.linear.weight.normal_()
        model.head.mean.normal_()
    save_bundle(tmp_path, model, config)
    loaded, loaded_config = load_model(tmp_path)
    assert loaded_config["labels"] == FUSION["labels"]
    state = torch.load(tmp_path / "model.pth", weights_only=True)
    assert not any("window" in k or "mel" in k.split(".")[-1] or "kernel" in k for k in state)  # front ends are rebuilt
    x = 0.1 * torch.randn(2, FUSION["features"]["segment_samples"])
    with torch.no_grad():
        a, b = model(x), loaded(x)
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_gives_the_cpu_numbers(model):
    import copy
    x = 0.1 * torch.randn(2, FUSION["features"]["segment_samples"])
    tf32 = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False  # compare in full float32
    try:
        with torch.no_grad():
            cpu, gpu = model(x), copy.deepcopy(model).cuda()(x.cuda())
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = tf32
    for key in cpu:
        torch.testing.assert_close(gpu[key].cpu(), cpu[key], atol=1e-3, rtol=1e-3)
