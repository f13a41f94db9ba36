"""ml.augment: every transform keeps the wave contract and does what its name says."""
import shutil

import numpy as np
import pytest

from ml import augment
from ml.augment import AUGMENTATIONS, band_limit, codec, compress, eq_tilt, loudness, noise, random_chain, reverb

HAVE_FFMPEG = shutil.which("ffmpeg") is not None
needs_ffmpeg = pytest.mark.skipif(not HAVE_FFMPEG, reason="ffmpeg not installed")
RATES = (16000, 32000)


def music(sr: int, seconds: float = 3.0, seed: int = 0) -> np.ndarray:
    """Two alternating chords with harmonics, a click every 250 ms and a little noise, peak 0.5."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    chords = np.array([[220.0, 277.2, 329.6], [196.0, 246.9, 293.7]])[(t * 2).astype(int) % 2]
    y = sum(0.1 / h * np.sin(2 * np.pi * h * chords[:, k] * t) for k in range(3) for h in (1, 2, 3, 4))
    y = y + (np.mod(t, 0.25) < 0.005) * rng.standard_normal(t.size) * 0.5 + 0.01 * rng.standard_normal(t.size)
    return (0.5 * y / np.abs(y).max()).astype(np.float32)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def db(ratio: float) -> float:
    return 10 * np.log10(ratio)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def band_energy(x: np.ndarray, sr: int, low: float = 0.0, high: float = np.inf) -> float:
    freqs = np.fft.rfftfreq(x.size, 1 / sr)
    return float(np.sum(np.abs(np.fft.rfft(x.astype(np.float64))[(freqs >= low) & (freqs < high)]) ** 2))


def assert_contract(y: np.ndarray, x: np.ndarray) -> None:
    assert y.dtype == np.float32 and y.shape == x.shape
    assert np.all(np.isfinite(y))
    assert np.abs(y).max(initial=0.0) <= 1.0


def transforms():
    return [pytest.param(name, marks=needs_ffmpeg) if name == "codec" else name for name in AUGMENTATIONS]


@pytest.mark.parametrize("sr", RATES)
@pytest.mark.parametrize("name", transforms())
def test_contract_change_and_determinism(name, sr):
    x = music(sr)
    fn = AUGMENTATIONS[name]
    y = fn(x, sr, rng(1))
    assert_contract(y, x)
    assert np.linalg.norm(y - x) / np.linalg.norm(x) > 0.005  # it did something
    assert np.array_equal(y, fn(x, sr, rng(1)))


@pytest.mark.parametrize("name", transforms())
def test_edge_inputs(name):
    sr = 16000
    full_scale = music(sr) * 2.0  # peaks at exactly 1.0
    for x in (full_scale, np.zeros(sr, np.float32), music(sr)[:64], np.zeros(0, np.float32)):
        assert_contract(AUGMENTATIONS[name](x, sr, rng()), x)
    with pytest.raises(ValueError):
        AUGMENTATIONS[name](np.zeros((2, 100), np.float32), sr, rng())


@pytest.mark.parametrize("sr", RATES)
def test_band_limit_removes_the_top(sr):
    x = music(sr)
    y = band_limit(x, sr, rng(), cutoff=5000, highpass=0)
    # beyond the transition band (the -3 dB point is the cutoff itself) the top is gone...
    assert db(band_energy(x, sr, 5500) / band_energy(y, sr, 5500)) > 20
    # ...and the pass band is untouched
    assert abs(db(band_energy(y, sr, 0, 2500) / band_energy(x, sr, 0, 2500))) < 0.5


def test_band_limit_high_pass_and_low_rates():
    sr = 16000
    x = music(sr)
    y = band_limit(x, sr, rng(), cutoff=7000, highpass=200)
    assert db(band_energy(x, sr, 0, 100) / band_energy(y, sr, 0, 100)) > 10
    # at 8 kHz a 4-8 kHz low-pass does not fit below Nyquist: skipped, not an error
    low = music(8000)
    assert np.array_equal(band_limit(low, 8000, rng(), highpass=0), low)


@pytest.mark.parametrize("sr", RATES)
def test_eq_tilt_moves_the_balance_the_right_way(sr):
    x = music(sr)

    def treble_over_bass(w):
        return db(band_energy(w, sr, 2000) / band_energy(w, sr, 0, 500))

    assert treble_over_bass(eq_tilt(x, sr, rng(), slope_db=6)) - treble_over_bass(x) > 10
    assert treble_over_bass(eq_tilt(x, sr, rng(), slope_db=-6)) - treble_over_bass(x) < -10
    assert np.allclose(eq_tilt(x, sr, rng(), slope_db=0), x, atol=1e-5)


@needs_ffmpeg
@pytest.mark.parametrize("sr", RATES)
@pytest.mark.parametrize("kind,bitrate", [("mp3", 32), ("opus", 16)])
def test_codec_round_trip_is_aligned_and_close(sr, kind, bitrate):
    x = music(sr)
    y = codec(x, sr, rng(), kind=kind, bitrate=bitrate)
    assert_contract(y, x)
    assert np.corrcoef(x, y)[0, 1] > 0.8
    # realigned: no small shift correlates better than none (the encoder delay is gone)
    lags = np.arange(-64, 65)
    assert lags[np.argmax([np.dot(np.roll(y, lag), x) for lag in lags])] == 0


def test_codec_without_ffmpeg_says_so(monkeypatch):
    monkeypatch.setattr(augment.shutil, "which", lambda _: None)
    with pytest.raises(RuntimeError, match="ffmpeg is needed for the codec augmentation"):
        codec(music(16000), 16000, rng())


def test_compress_narrows_the_dynamic_range():
    sr = 16000
    x = music(sr)
    x[x.size // 2:] *= 0.1  # second half 20 dB quieter
    half = x.size // 2
    y = compress(x, sr, rng(), threshold_db=-6, ratio=8, time_ms=10)
    before = db(rms(x[:half]) ** 2 / rms(x[half:]) ** 2)
    after = db(rms(y[:half]) ** 2 / rms(y[half:]) ** 2)
    assert before == pytest.approx(20, abs=0.5)
    assert after < 15
    assert db(rms(y) ** 2 / rms(x) ** 2) == pytest.approx(0, abs=0.5)  # make-up gain


def test_loudness_gain_and_soft_clip():
    sr = 16000
    x = music(sr)
    assert db(rms(loudness(x, sr, rng(), gain_db=-6)) ** 2 / rms(x) ** 2) == pytest.approx(-6, abs=0.01)
    hot = loudness(x, sr, rng(), gain_db=9)  # peak 0.5 -> 1.4: soft-clipped, not wrapped or cut
    assert np.abs(hot).max() < 1.0
    assert 5 < db(rms(hot) ** 2 / rms(x) ** 2) < 9
    for seed in range(5):  # drawn gains stay in -12..+6 dB
        assert -12.01 < db(rms(loudness(x, sr, rng(seed))) ** 2 / rms(x) ** 2) < 6.01


@pytest.mark.parametrize("color", ["white", "pink"])
@pytest.mark.parametrize("snr_db", [20.0, 35.0])
def test_noise_at_the_requested_snr(color, snr_db):
    sr = 32000
    x = music(sr)
    added = noise(x, sr, rng(), snr_db=snr_db, color=color).astype(np.float64) - x
    assert db(rms(x) ** 2 / rms(added) ** 2) == pytest.approx(snr_db, abs=0.2)
    # pink: power falls with frequency, so far more per Hz in 100-1000 Hz than in 4-14 kHz
    per_hz_tilt = db((band_energy(added, sr, 100, 1000) / 900) / (band_energy(added, sr, 4000, 14000) / 10000))
    assert per_hz_tilt > 8 if color == "pink" else abs(per_hz_tilt) < 1


def test_noise_snr_is_drawn_in_range_and_silence_stays_silent():
    sr = 16000
    x = music(sr)
    for seed in range(5):
        added = noise(x, sr, rng(seed)).astype(np.float64) - x
        assert 19.8 < db(rms(x) ** 2 / rms(added) ** 2) < 40.2
    assert not noise(np.zeros(sr, np.float32), sr, rng()).any()


def test_reverb_adds_a_decaying_tail():
    sr = 16000
    x = music(sr)
    x[-sr // 2:] = 0.0  # the last half second is silent: only the tail can be there
    y = reverb(x, sr, rng(), rt60=1.0, wet=0.4)
    tail = y[-sr // 2:]
    assert rms(tail[:1600]) > 0.01 * rms(x)  # the room rings on...
    assert db(rms(tail[:1600]) ** 2 / rms(tail[-1600:]) ** 2) > 10  # ...and dies away
    assert np.corrcoef(x, y)[0, 1] > 0.7  # still the same music


def test_chain_is_deterministic_and_keeps_the_contract():
    sr = 16000
    x = music(sr)
    names = None if HAVE_FFMPEG else [n for n in AUGMENTATIONS if n != "codec"]
    y = random_chain(x, sr, rng(7), names=names, p=1.0)
    assert_contract(y, x)
    assert np.array_equal(y, random_chain(x, sr, rng(7), names=names, p=1.0))
    assert not np.array_equal(y, random_chain(x, sr, rng(8), names=names, p=1.0))
    assert np.array_equal(random_chain(x, sr, rng(7), p=0.0), x)
    for seed in range(4):  # p = 0.5 picks a random subset
        assert_contract(random_chain(x, sr, rng(seed), names=names), x)


def test_chain_rejects_unknown_names():
    with pytest.raises(ValueError, match="wah_wah"):
        random_chain(music(16000), 16000, rng(), names=["eq_tilt", "wah_wah"])


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_speech_wave_is_talk_of_the_asked_length_and_repeatable():
    from ml.augment import speech_wave
    a = speech_wave(np.random.default_rng(3), 48000, 16000)
    b = speech_wave(np.random.default_rng(3), 48000, 16000)
    assert a.shape == (48000,) and a.dtype == np.float32 and np.isfinite(a).all()
    assert 1e-3 < np.abs(a).max() <= 1.0
    assert (np.abs(a) > 1e-3).mean() > 0.3  # mostly voiced, not a click in silence
    np.testing.assert_array_equal(a, b)


def test_tone_wave_is_a_steady_tone_chord_or_sweep_of_the_asked_length_and_repeatable():
    from ml.augment import tone_wave
    sr, n = 32000, 96000
    for seed in range(12):
        a, b = tone_wave(np.random.default_rng(seed), n, sr), tone_wave(np.random.default_rng(seed), n, sr)
        np.testing.assert_array_equal(a, b)
        assert a.shape == (n,) and a.dtype == np.float32 and np.isfinite(a).all()
        assert 10 ** (-41 / 20) < np.abs(a).max() <= 10 ** (-6 / 20) + 1e-6
        # Tonal, not noise: a few spectral lines (or one moving line) hold most of the energy
        # of each 64 ms frame, where white noise spreads it over half the bins.
        frames = a[: n // 2048 * 2048].reshape(-1, 2048) * np.hanning(2048)
        power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
        top = np.sort(power, axis=1)[:, -40:].sum(axis=1) / power.sum(axis=1)
        assert top.min() > 0.9, (seed, top.min())
