"""ml.calibration on logits whose right answers are known."""
import numpy as np
import pytest
import torch

from ml.calibration import clip_probs, expected_calibration_error, fit_temperature, uncertain_threshold


def overconfident(n=400, seed=0):
    """Clips of one window whose logits are 3x too sharp: the true temperature is 3."""
    rng = np.random.default_rng(seed)
    true_logits = rng.normal(size=(n, 4)) * 1.5
    p = torch.softmax(torch.tensor(true_logits), dim=1).numpy()
    y = np.array([rng.choice(4, p=row) for row in p])
    return [torch.tensor(3.0 * row[None], dtype=torch.float32) for row in true_logits], y


def test_temperature_recovers_the_sharpening_and_lowers_ece():
    logits, y = overconfident()
    t = fit_temperature(logits, y)
    assert 2.3 < t < 3.9
    before = expected_calibration_error(clip_probs(logits, 1.0), y)
    after = expected_calibration_error(clip_probs(logits, t), y)
    assert after < before / 2


def test_ece_of_known_cases():
    probs = torch.tensor([[0.9, 0.1], [0.9, 0.1]])
    assert expected_calibration_error(probs, np.array([0, 0])) == pytest.approx(0.1)   # right, said 0.9
    assert expected_calibration_error(probs, np.array([1, 1])) == pytest.approx(0.9)   # wrong, said 0.9


def test_clip_probability_is_the_mean_of_window_softmaxes():
    w = torch.tensor([[2.0, 0.0], [0.0, 2.0]])
    assert clip_probs([w], 1.0)[0].tolist() == pytest.approx([0.5, 0.5])
    assert clip_probs([w], 2.0)[0].tolist() == pytest.approx([0.5, 0.5])


def test_threshold_is_the_lowest_reaching_the_target():
    conf = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    correct = np.array([1, 1, 1, 1, 0, 0, 0], bool)
    got = uncertain_threshold(conf, correct, target=0.9)
    assert got["uncertain_below"] == pytest.approx(0.61)  # 0.61..0.70 leaves four right answers certain
    assert got["accuracy_when_certain"] == 1.0 and got["share_certain"] == pytest.approx(4 / 7, abs=1e-3)
    never = uncertain_threshold(conf, np.zeros(7, bool), target=0.9)
    assert never["uncertain_below"] == 0.9 and never["accuracy_when_certain"] == 0.0
