"""Recording-chain augmentations for genre training: change how a clip sounds, never its genre.

A genre data set usually comes from a few sources, and each has its own chain: studio EQ,
bandwidth, mastering compression, loudness, room, hiss and encoder. A classifier happily learns
those as shortcuts ("band-limited and hissy = blues") and then fails on music from another source.
Randomising the chain during training takes the shortcut away.

Every transform is ``fn(wave, sr, rng, **params) -> wave``: ``wave`` is mono float32 1-D in
[-1, 1] and comes back float32, finite, the same length, peak <= 1. Each random parameter is
drawn from ``rng`` unless given as a keyword (tests and ablations pin them). ``random_chain``
applies a random subset in the order a real chain would.
"""
from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from typing import Callable, Iterable

import numpy as np
import soundfile as sf
import soxr
from scipy import fft as sfft
from scipy import signal

Transform = Callable[..., np.ndarray]


# ----------------------------------------------------------------------------- shared helpers

def _transform(fn: Transform) -> Transform:
    """Common contract: float64 inside (no float32 rounding in filters), empty input passes
    through, and the output is cropped/padded to the input length, made finite and peak-limited."""

    @functools.wraps(fn)
    def wrapper(wave: np.ndarray, sr: int, rng: np.random.Generator, **params) -> np.ndarray:
        x = np.asarray(wave, dtype=np.float64)
        if x.ndim != 1:
            raise ValueError(f"{fn.__name__} expects a mono 1-D wave, got shape {x.shape}")
        if x.size == 0:
            return x.astype(np.float32)
        return _finish(fn(x, int(sr), rng, **params), x.size)

    return wrapper


def _finish(y: np.ndarray, n: int) -> np.ndarray:
    y = np.nan_to_num(np.asarray(y, dtype=np.float64)[:n], nan=0.0, posinf=0.0, neginf=0.0)
    y = np.pad(y, (0, n - y.size))
    peak = np.abs(y).max()
    if peak > 1.0:
        # a plain gain, not clipping: the transforms must not add distortion nobody asked for
        # (loudness soft-clips on purpose before it gets here)
        y = y / peak
    return y.astype(np.float32)


def _draw(value: float | None, rng: np.random.Generator, low: float, high: float) -> float:
    return float(rng.uniform(low, high)) if value is None else float(value)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x)))) if x.size else 0.0


def _match_rms(y: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Scale y to ref's RMS, so spectral/dynamic transforms don't also act as a gain change
    (that is loudness's job)."""
    r = _rms(y)
    return y * (_rms(ref) / r) if r > 0 else y


def _shape_spectrum(x: np.ndarray, sr: int, amplitude: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Zero-phase filtering by multiplying the spectrum with ``amplitude(freqs_hz)``.

    Zero-padded by 50 ms so the (short) impulse response of a smooth gain does not wrap around.
    """
    n = x.size
    size = sfft.next_fast_len(n + sr // 20, real=True)
    freqs = sfft.rfftfreq(size, 1.0 / sr)
    return sfft.irfft(sfft.rfft(x, size) * amplitude(freqs), size)[:n]


def _butter(x: np.ndarray, sr: int, btype: str, hz: float, order: int = 4) -> np.ndarray:
    """Causal Butterworth filter (real equipment is causal: its phase shift is part of the sound)."""
    return signal.sosfilt(signal.butter(order, hz, btype=btype, fs=sr, output="sos"), x)


# ----------------------------------------------------------------------------- transforms

@_transform
def eq_tilt(x, sr, rng, *, slope_db: float | None = None, pivot_hz: float = 1000.0) -> np.ndarray:
    """Spectral tilt of ``slope_db`` dB/octave (drawn in -6..+6) around ``pivot_hz``: dark vs
    bright mixes. The tilt stops 2 octaves either side of the pivot (at most +-12 dB), like a
    tilt EQ's shelves, so it never boosts rumble or the top octave without bound. Keeps the RMS."""
    slope = _draw(slope_db, rng, -6.0, 6.0)
    lo, hi = pivot_hz / 4, min(pivot_hz * 4, sr / 2)

    def gain(f):
        return 10.0 ** (slope * np.log2(np.clip(f, lo, hi) / pivot_hz) / 20.0)

    return _match_rms(_shape_spectrum(x, sr, gain), x)


@_transform
def band_limit(x, sr, rng, *, cutoff: float | None = None, highpass: float | None = None,
               order: int = 8) -> np.ndarray:
    """Low-pass at ``cutoff`` Hz (drawn in 4-8 kHz, kept below 0.9 x Nyquist) and, half the time,
    a high-pass at ``highpass`` Hz (drawn in 50-200 Hz; 0 = none): telephone, old record,
    cheap speaker. A low-pass that would not fit below Nyquist (low ``sr``) is skipped."""
    nyquist = sr / 2
    if cutoff is None:
        top = min(8000.0, 0.9 * nyquist)
        cutoff = rng.uniform(4000.0, top) if top > 4000.0 else None
    if highpass is None:
        highpass = rng.uniform(50.0, 200.0) if rng.random() < 0.5 else 0.0
    y = x
    if cutoff is not None and cutoff < 0.99 * nyquist:
        y = _butter(y, sr, "lowpass", cutoff, order)
    if highpass and highpass < 0.5 * nyquist:
        y = _butter(y, sr, "highpass", highpass, 2)  # gentle: small speakers roll off, not cut
    return y


CODECS = {  # name -> (bit-rate range kb/s, encoder args, container)
    "mp3": ((32, 96), ["-c:a", "libmp3lame"], "mp3"),
    "opus": ((16, 48), ["-c:a", "libopus", "-ar", "48000"], "ogg"),  # Opus only runs at 48/24/16/12/8 kHz
}


def _ffmpeg(args: list[str], data: bytes) -> bytes:
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", *args]
    done = subprocess.run(cmd, input=data, capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {done.stderr.decode(errors='replace').strip()[-500:]}")
    return done.stdout


def _align(y: np.ndarray, ref: np.ndarray, max_lag: int) -> np.ndarray:
    """Shift y by the lag (|lag| <= max_lag) that best correlates it with ref: codecs prepend
    encoder priming, and an MP3 written to a pipe has no LAME header telling the decoder to drop it."""
    n = ref.size
    y = np.pad(y, (0, max(0, n - y.size)))
    xc = signal.correlate(y, ref, mode="full", method="fft")  # index k <-> lag k - (n - 1)
    mid = n - 1
    window = xc[max(0, mid - max_lag): mid + max_lag + 1]
    if not np.any(window):
        return y[:n]  # silence: nothing to align
    lag = int(np.argmax(window)) + max(0, mid - max_lag) - mid
    return y[lag:lag + n] if lag >= 0 else np.concatenate([np.zeros(-lag), y[:n + lag]])


@_transform
def codec(x, sr, rng, *, kind: str | None = None, bitrate: int | None = None) -> np.ndarray:
    """Encode with ``kind`` ("mp3" at 32-96 kb/s or "opus" at 16-48 kb/s, drawn) and decode back,
    through ffmpeg pipes; the result is realigned to the input. Artefacts: band limits, pre-echo,
    swirling ("birdies") at low rates."""
    if shutil.which("ffmpeg") is None:
        raise RuntimeError("ffmpeg is needed for the codec augmentation")
    kind = kind or str(rng.choice(sorted(CODECS)))
    (low, high), encoder, container = CODECS[kind]
    kbps = int(bitrate if bitrate is not None else rng.integers(low, high + 1))
    raw = ["-f", "f32le", "-ac", "1", "-ar", str(sr)]
    encoded = _ffmpeg([*raw, "-i", "pipe:0", *encoder, "-b:a", f"{kbps}k", "-f", container, "pipe:1"],
                      x.astype("<f4").tobytes())
    decoded = _ffmpeg(["-f", container, "-i", "pipe:0", *raw, "pipe:1"], encoded)
    y = np.frombuffer(decoded, dtype="<f4").astype(np.float64)
    return _align(y, x, max_lag=4096 + sr // 10)  # MP3 priming is ~1105 samples at the coded rate


@_transform
def compress(x, sr, rng, *, threshold_db: float | None = None, ratio: float | None = None,
             time_ms: float | None = None) -> np.ndarray:
    """Feed-forward compressor: RMS envelope (one-pole, ``time_ms`` drawn in 5-50 ms), gain
    reduction above ``threshold_db`` (drawn in -12..0 dB relative to the clip's RMS, so quiet
    and loud clips are squashed alike) by ``ratio`` (2-8), then make-up gain back to the input
    RMS. One time constant instead of attack/release: the asymmetry is a detail that matters
    little for what a classifier sees, and it keeps the envelope a linear filter (no sample loop)."""
    threshold = _draw(threshold_db, rng, -12.0, 0.0) + 20 * np.log10(_rms(x) + 1e-12)
    ratio = _draw(ratio, rng, 2.0, 8.0)
    tau = _draw(time_ms, rng, 5.0, 50.0) / 1000.0
    a = np.exp(-1.0 / (tau * sr))
    power = signal.lfilter([1.0 - a], [1.0, -a], np.square(x))
    level_db = 10 * np.log10(np.maximum(power, 1e-12))
    gain_db = -np.maximum(level_db - threshold, 0.0) * (1.0 - 1.0 / ratio)
    return _match_rms(x * 10.0 ** (gain_db / 20.0), x)


@_transform
def loudness(x, sr, rng, *, gain_db: float | None = None) -> np.ndarray:
    """Gain of ``gain_db`` (drawn in -12..+6 dB); if that passes full scale, tanh soft clipping,
    like a hot master or an overdriven converter."""
    y = x * 10.0 ** (_draw(gain_db, rng, -12.0, 6.0) / 20.0)
    return np.tanh(y) if np.abs(y).max() > 1.0 else y


@_transform
def noise(x, sr, rng, *, snr_db: float | None = None, color: str | None = None) -> np.ndarray:
    """Add white or pink (1/f power, tape hiss / hum-ish) noise at ``snr_db`` (drawn in 20-40 dB)
    below the clip's RMS. Silence stays silence: there is no signal level to refer to."""
    snr = _draw(snr_db, rng, 20.0, 40.0)
    color = color or ("white", "pink")[int(rng.integers(2))]
    n = rng.standard_normal(x.size)
    if color == "pink":
        n = _shape_spectrum(n, sr, lambda f: 1.0 / np.sqrt(np.maximum(f, 20.0)))
    elif color != "white":
        raise ValueError(f"unknown noise color {color!r}")
    scale = _rms(x) * 10.0 ** (-snr / 20.0) / max(_rms(n), 1e-12)
    return x + scale * n


@_transform
def reverb(x, sr, rng, *, rt60: float | None = None, wet: float | None = None) -> np.ndarray:
    """Room: convolve with exponentially decaying noise (-60 dB after ``rt60`` s, drawn in
    0.2-1.2 s) and mix ``wet`` (0.1-0.4) of it, at the dry RMS, with the dry signal."""
    rt60 = _draw(rt60, rng, 0.2, 1.2)
    wet = _draw(wet, rng, 0.1, 0.4)
    t = np.arange(max(1, int(rt60 * sr))) / sr
    ir = rng.standard_normal(t.size) * 10.0 ** (-3.0 * t / rt60)  # 10^-3 = -60 dB at t = rt60
    tail = _match_rms(signal.fftconvolve(x, ir)[:x.size], x)
    return (1.0 - wet) * x + wet * tail


# ----------------------------------------------------------------------------- chain

# Registry in chain order: the room first, then the studio (EQ, bandwidth, compression,
# level/clipping), then hiss, and the encoder last because it is the last step of distribution.
AUGMENTATIONS: dict[str, Transform] = {
    "reverb": reverb,
    "eq_tilt": eq_tilt,
    "band_limit": band_limit,
    "compress": compress,
    "loudness": loudness,
    "noise": noise,
    "codec": codec,
}


def random_chain(wave: np.ndarray, sr: int, rng: np.random.Generator,
                 names: Iterable[str] | None = None, p: float = 0.5) -> np.ndarray:
    """Apply each named transform (default: all) with probability ``p``, in chain order.

    Deterministic for a given ``rng`` state: the draws happen in a fixed order (and the
    encoders are deterministic).
    """
    chosen = set(AUGMENTATIONS if names is None else names)
    unknown = chosen - set(AUGMENTATIONS)
    if unknown:
        raise ValueError(f"unknown augmentations: {sorted(unknown)}")
    y = np.asarray(wave, dtype=np.float32)
    for name, fn in AUGMENTATIONS.items():
        if name in chosen and rng.random() < p:
            y = fn(y, sr, rng)
    return _finish(y, np.asarray(wave).size)


def null_wave(rng: np.random.Generator, n: int) -> np.ndarray:
    """Silence or noise at a random level: non-music the model should be unsure about."""
    kind = rng.integers(3)
    if kind == 0:
        return np.zeros(n, np.float32)
    hiss = rng.standard_normal(n)
    if kind == 2:  # brown-ish: rumble rather than hiss
        hiss = np.cumsum(hiss)
        hiss -= np.linspace(hiss[0], hiss[-1], n)
        hiss /= hiss.std() + 1e-9
    return (hiss * 10 ** (rng.uniform(-70, -10) / 20)).astype(np.float32)


def tone_wave(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """A steady test signal at a random level: one sine, a held chord of 2-4 sines, or a
    logarithmic sweep. Not music in any genre, though its pure synthetic sound pulls the
    backbones toward "electronic"."""
    t = np.arange(n) / sr
    kind = rng.integers(3)
    if kind == 2:
        f0, f1 = rng.uniform(30, 300), rng.uniform(1000, min(12000, 0.45 * sr))
        rate = np.log(f1 / f0) / t[-1]
        wave = np.sin(2 * np.pi * f0 * np.expm1(rate * t) / rate)
    else:
        root = rng.uniform(50, 2000) if kind == 0 else rng.uniform(80, 600)
        steps = [0] if kind == 0 else rng.choice([0, 3, 4, 5, 7, 9, 12], size=rng.integers(2, 5), replace=False)
        wave = sum(np.sin(2 * np.pi * root * 2 ** (s / 12) * t + rng.uniform(0, 2 * np.pi)) for s in steps) / len(steps)
    return (wave * 10 ** (rng.uniform(-40, -6) / 20)).astype(np.float32)


# Words and voices for synthetic talk: what matters is the sound of speech (formants, syllable
# rhythm, pauses) in several voices and languages, not the meaning.
_WORDS = ("the weather today news report market city council morning evening traffic road "
          "we will now talk about how people live and work in the north and south of the country "
          "thank you for listening please call again after the break one two three four five").split()
_VOICES = ("en", "en-us", "en-gb-scotland", "en-gb-x-rp", "en-us+f3", "en+f2", "de", "fr", "es+f4", "it")


def speech_wave(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """``n`` samples of synthetic talk (espeak-ng) at a random voice, speed, pitch and level,
    over a little room noise: non-music the model must not call a genre."""
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng is needed for the speech windows (apt-get install espeak-ng)")
    text = " ".join(rng.choice(_WORDS, size=int(n / sr * 3) + 4))
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/talk.wav"
        subprocess.run(["espeak-ng", "-v", str(rng.choice(_VOICES)), "-s", str(rng.integers(120, 200)),
                        "-p", str(rng.integers(25, 75)), "-w", path, text], check=True, capture_output=True)
        talk, rate = sf.read(path, dtype="float32")
    talk = soxr.resample(talk, rate, sr).astype(np.float32)
    talk = np.resize(talk, n) if len(talk) < n else talk[:n]
    talk *= 10 ** (rng.uniform(-30, -6) / 20) / (np.abs(talk).max() + 1e-9)
    return _finish(talk + 10 ** (rng.uniform(-70, -45) / 20) * rng.standard_normal(n), n)
