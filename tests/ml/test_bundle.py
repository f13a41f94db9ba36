import pytest
import torch

from ml.bundle import load_model, save_bundle
from ml.features import segment_samples
from ml.models import build_model

FEATS = {"sample_rate": 16000, "n_fft": 512, "hop_length": 256, "n_mels": 96, "segment_frames": 187,
         "max_segments": 4}


def config_for(arch: dict, tags: int) -> dict:
    return {"name": "t", "version": "t-1", "architecture": arch, "features": FEATS,
            "labels": ["a", "b", "c"], "tags": [f"tag{i}" for i in range(tags)], "weights": "model.pth"}


@pytest.mark.parametrize("arch,tags", [
    ({"name": "musicnn_genre", "params": {"head_hidden": 16}}, 50),
    ({"name": "musicnn_genre", "params": {"head_hidden": 0, "taggers": ["MSD_musicnn", "MTT_musicnn"]}}, 50),
    ({"name": "scratch_cnn", "params": {"channels": [4, 8]}}, 0),
])
def test_round_trip_gives_identical_outputs(tmp_path, arch, tags):
    torch.manual_seed(0)
    config = config_for(arch, tags)
    model = build_model(config).eval()
    for m in model.modules():  # non-trivial batch-norm statistics must survive the trip too
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    save_bundle(tmp_path, model, config)
    loaded, loaded_config = load_model(tmp_path)
    assert loaded_config == config
    x = 0.1 * torch.randn(2, segment_samples(FEATS))  # every model takes waveform windows
    with torch.no_grad():
        a, b = model(x), loaded(x)
    assert a.keys() == b.keys() and "logits" in a
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)
    assert a["logits"].shape == (2, 3)


def test_unknown_architecture_is_refused():
    with pytest.raises(ValueError, match="unknown architecture"):
        build_model(config_for({"name": "nope"}, 0))
