"""Our EfficientAT mn04 port against the upstream reference outputs in shared/notes/efficientat-mn04.md."""
from pathlib import Path

import numpy as np
import pytest
import torch

from ml.models.efficientat import (HOP_LENGTH, MIN_SAMPLES, MN04, SAMPLE_RATE, EfficientATFrontEnd,
                                   load_mn04, read_audioset_labels)

WEIGHTS_DIR = Path(__file__).resolve().parents[3] / "shared" / "models" / "efficientat-mn04"
TOL = 1e-4  # the notes' bound for a faithful float32 port (measured gap ~1e-6; table rounding 5e-5)

# Upstream pipeline on each 10-s reference signal: top-8 (index, label, probability), embedding[:5],
# embedding L2 norm and sum, logits[:3].
REFERENCE = {
    1: {"top8": [(501, "Sine wave", 0.3339), (137, "Music", 0.2014), (503, "Chirp tone", 0.0776),
                 (394, "Busy signal", 0.0313), (214, "Singing bowl", 0.0243),
                 (138, "Musical instrument", 0.0235), (500, "Silence", 0.0187), (158, "Synthesizer", 0.0174)],
        "embedding": [-0.2736, 0.4029, -0.0865, 0.3283, 0.2281], "l2": 4.9795, "sum": -44.6060,
        "logits": [-5.0813, -7.6374, -8.4562]},
    2: {"top8": [(137, "Music", 0.7343), (163, "Drum machine", 0.2863), (158, "Synthesizer", 0.1522),
                 (159, "Sampler", 0.1458), (239, "Electronic music", 0.1399),
                 (138, "Musical instrument", 0.0879), (241, "Techno", 0.0709), (502, "Harmonic", 0.0446)],
        "embedding": [-0.2937, 0.0804, -0.2063, -0.1662, -0.1974], "l2": 4.6687, "sum": -47.2437,
        "logits": [-4.6062, -7.2498, -8.8941]},
}


def reference_signal(which: int) -> torch.Tensor:
    """The notes' 10-s signals, built in float64 and cast to float32 (no WAV round trip)."""
    t = np.arange(10 * SAMPLE_RATE) / SAMPLE_RATE
    if which == 1:  # two steady tones, a gated third, a little noise
        rng = np.random.default_rng(0)
        y = 0.1 * (0.3 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 330 * t)
                   + 0.1 * np.sin(2 * np.pi * 440 * t) * (np.sin(2 * np.pi * 2 * t) > 0)
                   + 0.02 * rng.standard_normal(len(t)))
    else:  # a 110-Hz sawtooth over noise bursts decaying every 0.5 s
        rng = np.random.default_rng(1)
        saw = sum(np.sin(2 * np.pi * 110 * k * t) / k for k in range(1, 11))
        y = 0.05 * saw + 0.2 * np.exp(-(t % 0.5) / 0.03) * rng.standard_normal(len(t))
    return torch.from_numpy(y.astype(np.float32))


@pytest.fixture(scope="module")
def weights_dir() -> Path:
    if not (WEIGHTS_DIR / "mn04_as_mAP_432.pt").is_file():
        pytest.skip(f"EfficientAT mn04 weights not found in {WEIGHTS_DIR}")
    return WEIGHTS_DIR


@pytest.fixture(scope="module")
def model(weights_dir) -> MN04:
    return load_mn04(weights_dir / "mn04_as_mAP_432.pt")


@pytest.fixture(scope="module")
def front_end() -> EfficientATFrontEnd:
    return EfficientATFrontEnd()


@pytest.fixture(scope="module")
def signals() -> torch.Tensor:
    return torch.stack([reference_signal(1), reference_signal(2)])


def run(model, front_end, waveforms: torch.Tensor) -> dict[str, torch.Tensor]:
    with torch.no_grad():
        return model(front_end(waveforms))


@pytest.fixture(scope="module")
def single_runs(model, front_end, signals) -> dict[int, dict[str, torch.Tensor]]:
    """Each signal as its own batch of one, as the reference was computed."""
    outputs = [run(model, front_end, y[None]) for y in signals]
    return {i + 1: {k: v[0] for k, v in out.items()} for i, out in enumerate(outputs)}


@pytest.mark.parametrize("which", [1, 2])
def test_matches_upstream_reference(which, single_runs, weights_dir):
    ref, out = REFERENCE[which], single_runs[which]
    labels = read_audioset_labels(weights_dir / "class_labels_indices.csv")
    top = torch.sigmoid(out["logits"]).topk(8)
    assert [(i, labels[i]) for i in top.indices.tolist()] == [(i, name) for i, name, _ in ref["top8"]]
    np.testing.assert_allclose(top.values, [p for _, _, p in ref["top8"]], rtol=0, atol=TOL)
    emb = out["embedding"]
    np.testing.assert_allclose(emb[:5], ref["embedding"], rtol=0, atol=TOL)
    assert emb.norm().item() == pytest.approx(ref["l2"], abs=TOL)
    assert emb.sum().item() == pytest.approx(ref["sum"], abs=TOL)
    np.testing.assert_allclose(out["logits"][:3], ref["logits"], rtol=0, atol=TOL)


def test_batch_equals_single_runs(model, front_end, signals, single_runs):
    batch = run(model, front_end, signals)
    for key in ("logits", "embedding"):
        single = torch.stack([single_runs[1][key], single_runs[2][key]])
        torch.testing.assert_close(batch[key], single, rtol=0, atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu(weights_dir, signals, single_runs):
    cuda_model = load_mn04(weights_dir / "mn04_as_mAP_432.pt").to("cuda")
    cuda_front_end = EfficientATFrontEnd().to("cuda")
    # cuDNN convolutions default to TF32 (10-bit mantissa); compare the port itself in full float32.
    tf32 = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = False
    try:
        out = run(cuda_model, cuda_front_end, signals.cuda())
    finally:
        torch.backends.cudnn.allow_tf32 = tf32
    for key in ("logits", "embedding"):
        cpu = torch.stack([single_runs[1][key], single_runs[2][key]])
        torch.testing.assert_close(out[key].cpu(), cpu, rtol=0, atol=TOL)


@pytest.mark.parametrize("n", [MIN_SAMPLES, 32_000, 32_001, 96_321])
def test_front_end_shape(front_end, n):
    assert front_end(torch.randn(2, n)).shape == (2, 1, 128, 1 + (n - 1) // HOP_LENGTH)


def test_front_end_floor_and_short_input(front_end):
    floor = (np.log(1e-5) + 4.5) / 5  # silence: ln(0 + 1e-5), normalised
    np.testing.assert_allclose(front_end(torch.zeros(1, 3200)), floor, rtol=0, atol=1e-6)
    with pytest.raises(ValueError):
        front_end(torch.zeros(1, MIN_SAMPLES - 1))


def test_mel_bank(front_end):
    bank = front_end.mel_bank
    assert bank.shape == (128, 513)
    for m, weight in ((0, 0.1886), (1, 0.8114)):  # the two lowest filters fall between bins 0 and 2
        assert bank[m].nonzero().flatten().tolist() == [1]
        assert bank[m, 1].item() == pytest.approx(weight, abs=1e-4)
    assert (bank[:, 512] == 0).all()                  # Kaldi's bank leaves out the Nyquist bin
    assert (bank.sum(1) > 0).all()
    # fmax 15 kHz: the last weighted bin is 479 (14968.75 Hz); bin 480 sits exactly on the last right
    # edge, where float32 rounding (upstream's too) leaves a 9e-6 crumb.
    assert (bank > 1e-4).nonzero()[:, 1].max().item() == 479


def test_front_end_constants_stay_out_of_state_dict(front_end):
    assert {name for name, _ in front_end.named_buffers()} == {"window", "mel_bank"}
    assert front_end.state_dict() == {}


@pytest.mark.parametrize("frames", [2, 37])
def test_network_takes_any_length(frames):
    out = MN04().eval()(torch.randn(2, 1, 128, frames))
    assert out["logits"].shape == (2, 527) and out["embedding"].shape == (2, 384)


def test_parameter_count():
    assert sum(p.numel() for p in MN04().parameters()) == 983_599
