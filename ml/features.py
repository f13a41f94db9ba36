"""Log-mel front end and segment planning, parameterised by a bundle's ``features`` config.

Config keys (stored once, in model_config.json): sample_rate, n_fft, hop_length, n_mels,
mel_scale, mel_norm, log_multiplier, segment_frames, max_segments.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torchaudio
from torch import nn


def non_persistent(module: nn.Module) -> nn.Module:
    """Keep a module's buffers (windows, filter banks: fixed functions of its settings) out of
    state_dicts, so bundles hold only learned weights; they still follow ``.to(device)``."""
    for m in module.modules():
        for name, buf in list(m._buffers.items()):
            m.register_buffer(name, buf, persistent=False)
    return module


class LogMel(nn.Module):
    """Waveform (..., samples) -> log10(k * mel power + 1) as (..., frames, n_mels), float32.

    Written with torchaudio so it runs on the model's device (GPU included).
    """

    def __init__(self, cfg: dict):
        super().__init__()
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=cfg["sample_rate"], n_fft=cfg["n_fft"], hop_length=cfg["hop_length"],
            n_mels=cfg["n_mels"], power=2.0, center=True,
            pad_mode=cfg.get("pad_mode", "constant"),  # librosa >= 0.10 pads with zeros
            mel_scale=cfg.get("mel_scale", "slaney"), norm=cfg.get("mel_norm", "slaney"))
        non_persistent(self.mel)
        self.log_multiplier = float(cfg.get("log_multiplier", 10000.0))

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        spec = self.mel(wave.float())
        # float32 throughout: the original float16 cast overflows to inf on loud input
        return torch.log10(self.log_multiplier * spec + 1.0).transpose(-1, -2)


def segment_samples(cfg: dict) -> int:
    """Samples in one analysed window: ``segment_samples`` where given, else exactly
    ``segment_frames`` centred STFT frames."""
    return cfg.get("segment_samples") or (cfg["segment_frames"] - 1) * cfg["hop_length"]


def segment_seconds(cfg: dict) -> float:
    return segment_samples(cfg) / cfg["sample_rate"]


def plan_windows(duration: float, seg_len: float, max_windows: int | None = None) -> list[tuple[float, float]]:
    """Choose the (start, end) windows, in seconds, to analyse for a track of ``duration``.

    - shorter than one segment: one window over the whole track (padded later);
    - otherwise consecutive segments covering the track, the last one moved back to end at
      the track's end (so it is full of music instead of padding);
    - if that would be more than ``max_windows``, that many windows spread evenly from the
      first to the last second, keeping inference time bounded for any track length.
    """
    if duration <= seg_len:
        return [(0.0, max(duration, 0.0))]
    count = math.ceil(duration / seg_len - 1e-9)
    if max_windows is not None and count > max_windows:
        count = max_windows
        step = (duration - seg_len) / (count - 1) if count > 1 else 0.0
    else:
        step = seg_len
    starts = [min(i * step, duration - seg_len) for i in range(count)]
    return [(s, s + seg_len) for s in starts]


def fit_length(wave: torch.Tensor, length: int) -> torch.Tensor:
    """Crop or repeat-pad the last axis to ``length`` samples (musicnn trained with repeat-pad)."""
    n = wave.shape[-1]
    if n >= length:
        return wave[..., :length]
    if n == 0:
        return wave.new_zeros(*wave.shape[:-1], length)
    reps = math.ceil(length / n)
    return wave.repeat(*([1] * (wave.dim() - 1)), reps)[..., :length]


def to_batch(waves: list[np.ndarray], n: int, device) -> torch.Tensor:
    """Mono windows, each cropped or repeat-padded to ``n`` samples, as one (B, n) float32 batch."""
    return torch.stack([fit_length(torch.from_numpy(np.asarray(w, np.float32)), n) for w in waves]).to(device)
