"""The PyTorch port against the reference outputs of the original TensorFlow MusiCNN (MSD)."""
import numpy as np
import pytest
import soundfile as sf
import torch

from ml.checkpoint import read_checkpoint
from ml.features import LogMel
from ml.models import MusiCNN, load_tf_musicnn

FEATS = {"sample_rate": 16000, "n_fft": 512, "hop_length": 256, "n_mels": 96, "pad_mode": "constant"}
TAGS = ["indie", "electronic", "ambient", "rock", "experimental", "instrumental"]
REFERENCE = np.array([[0.1960, 0.1831, 0.1538, 0.1198, 0.1135, 0.1084],
                      [0.1940, 0.1812, 0.1559, 0.1219, 0.1130, 0.1115],
                      [0.1847, 0.1940, 0.1614, 0.1137, 0.1159, 0.1083]])


@pytest.fixture(scope="module")
def port(musicnn_checkpoint):
    model = MusiCNN()
    load_tf_musicnn(model, read_checkpoint(str(musicnn_checkpoint) + "/"))
    return model.eval()


@pytest.fixture(scope="module")
def reference_signal(tmp_path_factory):
    sr = 16000
    t = np.arange(10 * sr) / sr
    rng = np.random.default_rng(0)
    y = 0.1 * (0.3 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 330 * t)
               + 0.1 * np.sin(2 * np.pi * 440 * t) * (np.sin(2 * np.pi * 2 * t) > 0)
               + 0.02 * rng.standard_normal(len(t)))
    path = tmp_path_factory.mktemp("ref") / "ref.wav"
    sf.write(path, y.astype(np.float32), sr, subtype="PCM_16")
    return torch.from_numpy(sf.read(path, dtype="float32")[0])


def tag_probs(port, log_mel: torch.Tensor) -> np.ndarray:
    from musicnn.configuration import MSD_LABELS
    patches = torch.stack([log_mel[i * 187:(i + 1) * 187] for i in range(3)])
    with torch.no_grad():
        probs = torch.sigmoid(port(patches)["tags"]).numpy()
    return probs[:, [MSD_LABELS.index(t) for t in TAGS]]


def test_checkpoint_has_every_layer(musicnn_checkpoint):
    tensors = read_checkpoint(str(musicnn_checkpoint) + "/")
    assert tensors["conv2d/kernel"].shape == (7, 38, 1, 204)
    assert tensors["dense_1/kernel"].shape == (200, 50)


def test_port_matches_reference_with_original_quantisation(port, reference_signal):
    # The reference ran the original code, which takes the log in float16 arithmetic; reproducing
    # that quantisation isolates the network port, which must then match within 1e-4.
    power = LogMel(FEATS).mel(reference_signal).T.numpy().astype(np.float16)
    log_mel = torch.from_numpy(np.log10(10000 * power + 1).astype(np.float32))
    np.testing.assert_allclose(tag_probs(port, log_mel), REFERENCE, atol=1e-4)


def test_float32_front_end_stays_close_to_reference(port, reference_signal):
    # Our product front end keeps float32 (float16 overflows on loud input): off by <= ~1.2e-4.
    np.testing.assert_allclose(tag_probs(port, LogMel(FEATS)(reference_signal)), REFERENCE, atol=2e-4)


def test_frequency_max_shortcut_equals_normalising_the_whole_map():
    """Inference takes the frequency max before ReLU and batch norm (they are monotonic per
    channel); it must give exactly what normalising every bin first gives, also for channels
    whose scale is negative, where the max comes from the raw map's min."""
    torch.manual_seed(0)
    net = MusiCNN(n_mels=96, n_tags=50)
    for bn in [*net.timbral_bn, *net.temporal_bn]:
        with torch.no_grad():
            bn.weight.copy_(torch.randn_like(bn.weight))  # about half negative
            bn.bias.copy_(torch.randn_like(bn.bias))
            bn.running_mean.copy_(torch.randn_like(bn.running_mean))
            bn.running_var.copy_(torch.rand_like(bn.running_var) + 0.1)
    net.eval()
    y = torch.randn(3, 204, 40, 59)
    bn = net.timbral_bn[0]
    assert (bn.weight < 0).any() and (bn.weight > 0).any()
    with torch.no_grad():
        assert torch.equal(net._frequency_max(bn, y), bn(torch.relu(y)).amax(dim=3))
        mel = torch.randn(2, 187, 96)
        fast = net(mel)
        net.train()
        net.dropout.p = 0.0  # the slow path without dropout's randomness, batch norm left in eval
        for module in net.modules():
            if isinstance(module, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                module.eval()
        slow = net(mel)
    for key in ("tags", "penultimate", "pooled"):
        torch.testing.assert_close(fast[key], slow[key], rtol=0, atol=1e-5)
