import tracemalloc

import librosa
import numpy as np
import pytest
import torch

from ml.audio import collect_windows
from ml.features import LogMel, fit_length, plan_windows, segment_samples, segment_seconds

FEATS = {"sample_rate": 16000, "n_fft": 512, "hop_length": 256, "n_mels": 96, "mel_scale": "slaney",
         "mel_norm": "slaney", "pad_mode": "constant", "log_multiplier": 10000.0, "segment_frames": 187}


def test_segment_length_gives_exact_frames():
    n = segment_samples(FEATS)
    assert LogMel(FEATS)(torch.zeros(n)).shape == (187, 96)


def test_short_track_is_one_padded_window():
    assert plan_windows(1.2, 3.0, 8) == [(0.0, 1.2)]
    padded = fit_length(torch.arange(5.0), 12)
    assert padded.tolist() == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1]  # repeat-pad, as musicnn trained


def test_exact_multiple_covers_track_without_overlap():
    seg = segment_seconds(FEATS)
    wins = plan_windows(4 * seg, seg, 8)
    assert len(wins) == 4
    assert wins[0][0] == 0 and wins[-1][1] == pytest.approx(4 * seg)
    assert all(a[1] == pytest.approx(b[0]) for a, b in zip(wins, wins[1:]))


def test_partial_last_segment_ends_at_track_end():
    wins = plan_windows(10.0, 3.0, 8)
    assert len(wins) == 4 and wins[-1] == (7.0, 10.0)


def test_long_track_gets_bounded_evenly_spread_windows():
    wins = plan_windows(3600.0, 3.0, 8)
    assert len(wins) == 8
    assert wins[0][0] == 0 and wins[-1][1] == pytest.approx(3600.0)
    gaps = np.diff([s for s, _ in wins])
    assert np.allclose(gaps, gaps[0])


def test_one_hour_stream_is_windowed_in_bounded_memory():
    sr, block = 16000, 16000 * 10
    produced = []

    def hour_of_blocks():  # 1 h at 16 kHz float32 would be 230 MB if held at once
        for i in range(360):
            produced.append(i)
            yield np.full(block, i, np.float32)

    wins = plan_windows(3600.0, 3.0, 8)
    tracemalloc.start()
    out = collect_windows(hour_of_blocks(), sr, wins)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(produced) == 360
    assert peak < 10 * block * 4  # a few blocks plus the windows: < 3 % of the hour
    assert [len(w) for w in out] == [48000] * 8
    assert out[-1][-1] == 359  # the last window reaches the end of the stream


def test_logmel_matches_librosa():
    rng = np.random.default_rng(1)
    t = np.arange(16000 * 2) / 16000
    y = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(len(t))).astype(np.float32)
    ref = librosa.feature.melspectrogram(y=y, sr=16000, n_fft=512, hop_length=256, n_mels=96).T
    ref = np.log10(10000 * ref + 1)
    ours = LogMel(FEATS)(torch.from_numpy(y)).numpy()
    assert ours.dtype == np.float32 and ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, atol=2e-3, rtol=1e-3)


def test_logmel_batched_equals_single():
    x = torch.randn(3, 8000)
    mel = LogMel(FEATS)
    torch.testing.assert_close(mel(x), torch.stack([mel(row) for row in x]))
