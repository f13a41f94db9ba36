"""EfficientAT ``mn04_as``: a pretrained AudioSet tagger (527 classes) and its log-mel front end.

Our own PyTorch port, written from the facts in ``shared/notes/efficientat-mn04.md``, of the model in
Schmid, Koutini & Widmer, "Efficient Large-Scale Audio Tagging via Transformer-to-CNN Knowledge
Distillation" (ICASSP 2023, arXiv 2211.04772): a MobileNetV3-Large layout at width 0.4, trained on
AudioSet by distillation from a PaSST ensemble (mAP 0.432, ~0.98 M parameters).

The released weights (``mn04_as_mAP_432.pt``) are MIT-licensed, "Copyright (c) 2022 Florian Schmid":
their ``LICENSE`` file must travel with them and with anything derived from them. The AudioSet label
names come from Google's AudioSet ontology (CC BY-SA 4.0).

Pipeline: waveform (B, N) at 32 kHz -> ``EfficientATFrontEnd`` -> (B, 1, 128, T) -> ``MN04`` ->
``{"logits": (B, 527), "embedding": (B, 384)}``; ``sigmoid(logits)`` gives multi-label probabilities.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

SAMPLE_RATE = 32000       # the rate the model was trained at; resample anything else first
N_FFT = 1024
HOP_LENGTH = 320          # 10 ms: 10 s of audio -> 1000 frames, the training length
WIN_LENGTH = 800          # 25 ms, zero-padded to N_FFT
N_MELS = 128
F_MIN, F_MAX = 0.0, 15000.0  # eval values; training jittered them (fmin in [0, 10), fmax in [14001, 16000])
PREEMPHASIS = 0.97
LOG_OFFSET = 1e-5
NORM_SHIFT, NORM_SCALE = 4.5, 5.0  # (ln(mel) + 4.5) / 5: the fixed normalisation the weights expect
MIN_SAMPLES = N_FFT // 2 + 2  # reflect padding of 512 needs the pre-emphasised signal (N - 1) > 512 long

N_CLASSES = 527
EMBEDDING_DIM = 384
BN_EPS, BN_MOMENTUM = 1e-3, 0.01  # upstream's BatchNorm settings (momentum only matters for fine-tuning)


def _kaldi_mel(freq):
    # Evaluated as written, in float32 for tensors, like the torchaudio bank the weights were trained
    # with: ours equals it bit for bit (including a 9e-6 rounding crumb on bin 480 = f_max exactly).
    log = torch.log if torch.is_tensor(freq) else math.log
    return 1127.0 * log(1.0 + freq / 700.0)


def kaldi_mel_bank(n_mels: int = N_MELS, n_fft: int = N_FFT, sample_rate: int = SAMPLE_RATE,
                   f_min: float = F_MIN, f_max: float = F_MAX) -> torch.Tensor:
    """(n_mels, n_fft // 2 + 1) triangles linear in Kaldi mel, peak 1, no area normalisation.

    Kaldi leaves out the Nyquist bin, so its column is zero.
    """
    lo, hi = _kaldi_mel(f_min), _kaldi_mel(f_max)
    delta = (hi - lo) / (n_mels + 1)
    edges = lo + delta * torch.arange(n_mels + 2, dtype=torch.float32)
    left, centre, right = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    mel = _kaldi_mel(torch.arange(n_fft // 2, dtype=torch.float32) * (sample_rate / n_fft))[None, :]
    bank = torch.clamp(torch.minimum((mel - left) / (centre - left), (right - mel) / (right - centre)), min=0)
    return F.pad(bank, (0, 1))


class EfficientATFrontEnd(nn.Module):
    """Waveform (B, N) float32 at 32 kHz -> normalised log-mel (B, 1, 128, 1 + (N - 1) // 320)."""

    def __init__(self):
        super().__init__()
        # Symmetric Hann (both ends 0), centred in the FFT frame; non-persistent buffers follow .to()
        # but stay out of state_dict, since they are fixed functions of the constants above.
        window = F.pad(torch.hann_window(WIN_LENGTH, periodic=False), ((N_FFT - WIN_LENGTH) // 2,) * 2)
        self.register_buffer("window", window, persistent=False)
        self.register_buffer("mel_bank", kaldi_mel_bank(), persistent=False)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        if waveform.dim() != 2 or waveform.shape[1] < MIN_SAMPLES:
            raise ValueError(f"expected (batch, samples >= {MIN_SAMPLES}), got {tuple(waveform.shape)}")
        x = waveform[:, 1:] - PREEMPHASIS * waveform[:, :-1]  # 'valid' pre-emphasis: one sample shorter
        spec = torch.stft(x, N_FFT, HOP_LENGTH, window=self.window, center=True, pad_mode="reflect",
                          return_complex=True)
        power = torch.view_as_real(spec).pow(2).sum(-1)        # re^2 + im^2, (B, 513, T)
        mel = torch.matmul(self.mel_bank, power)               # (B, 128, T)
        return ((torch.log(mel + LOG_OFFSET) + NORM_SHIFT) / NORM_SCALE).unsqueeze(1)


RE, HS = nn.ReLU, nn.Hardswish

# Inverted-residual blocks features.1..15: MobileNetV3-Large at width 0.4 with upstream's rounding to
# multiples of 8 already applied. Columns: expanded channels E, kernel k, stride, SE squeeze size S
# (0 = no SE), output channels, activation. Each block's input is the previous block's output.
STEM_CHANNELS = 8
BLOCKS = (
    (8, 3, 1, 0, 8, RE),     # E == in: no expand conv
    (24, 3, 2, 0, 16, RE),
    (32, 3, 1, 0, 16, RE),
    (32, 5, 2, 8, 16, RE),
    (48, 5, 1, 16, 16, RE),
    (48, 5, 1, 16, 16, RE),
    (96, 3, 2, 0, 32, HS),
    (80, 3, 1, 0, 32, HS),
    (72, 3, 1, 0, 32, HS),
    (72, 3, 1, 0, 32, HS),
    (192, 3, 1, 48, 48, HS),
    (272, 3, 1, 72, 48, HS),
    (272, 5, 2, 72, 64, HS),
    (384, 5, 1, 96, 64, HS),
    (384, 5, 1, 96, 64, HS),
)
HEAD_HIDDEN = 512


def conv_bn(c_in: int, c_out: int, kernel: int = 1, stride: int = 1, groups: int = 1,
            act: type[nn.Module] | None = None) -> nn.Sequential:
    """Conv (no bias, 'same' padding) -> BN (-> activation): keys ``0.weight`` and ``1.*``."""
    layers = [nn.Conv2d(c_in, c_out, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
              nn.BatchNorm2d(c_out, eps=BN_EPS, momentum=BN_MOMENTUM)]
    return nn.Sequential(*layers, act()) if act else nn.Sequential(*layers)


class SqueezeExcite(nn.Module):
    """Channel gate: mean over (freq, time) -> Linear -> ReLU -> Linear -> logistic sigmoid."""

    def __init__(self, channels: int, squeeze: int):
        super().__init__()
        self.fc1 = nn.Linear(channels, squeeze)
        self.fc2 = nn.Linear(squeeze, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = torch.sigmoid(self.fc2(F.relu(self.fc1(x.mean((2, 3))))))
        return x * gate[:, :, None, None]


class ConcurrentSE(nn.Module):
    """Upstream's container for parallel SE variants, max-aggregated. mn04 has only the channel one,
    for which the max is the identity; the wrapper exists so the checkpoint keys line up."""

    def __init__(self, channels: int, squeeze: int):
        super().__init__()
        self.conc_se_layers = nn.ModuleList([SqueezeExcite(channels, squeeze)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conc_se_layers[0](x)


class InvertedResidual(nn.Module):
    """[expand 1x1] -> depthwise kxk (strided) -> [SE] -> project 1x1 (no activation) [+ input]."""

    def __init__(self, c_in: int, expanded: int, kernel: int, stride: int, squeeze: int, c_out: int,
                 act: type[nn.Module]):
        super().__init__()
        layers = [conv_bn(c_in, expanded, act=act)] if expanded != c_in else []
        layers.append(conv_bn(expanded, expanded, kernel, stride, groups=expanded, act=act))
        if squeeze:
            layers.append(ConcurrentSE(expanded, squeeze))
        layers.append(conv_bn(expanded, c_out))
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return x + y if self.residual else y


class MN04(nn.Module):
    """Log-mel (B, 1, 128, T), any T >= 1 -> {"logits": (B, 527), "embedding": (B, 384)}.

    Module names match the released state_dict (``features.*``, ``classifier.*``) so it loads strictly.
    """

    def __init__(self):
        super().__init__()
        layers = [conv_bn(1, STEM_CHANNELS, 3, stride=2, act=HS)]
        c_in = STEM_CHANNELS
        for expanded, kernel, stride, squeeze, c_out, act in BLOCKS:
            layers.append(InvertedResidual(c_in, expanded, kernel, stride, squeeze, c_out, act))
            c_in = c_out
        layers.append(conv_bn(c_in, EMBEDDING_DIM, act=HS))
        self.features = nn.Sequential(*layers)
        # Indices 2 and 5 carry the checkpoint's Linear layers, hence the keyless modules around them.
        self.classifier = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                        nn.Linear(EMBEDDING_DIM, HEAD_HIDDEN), nn.Hardswish(),
                                        nn.Dropout(0.2), nn.Linear(HEAD_HIDDEN, N_CLASSES))

    def forward(self, logmel: torch.Tensor) -> dict[str, torch.Tensor]:
        embedding = self.classifier[:2](self.features(logmel))  # global mean over (freq, time)
        return {"logits": self.classifier[2:](embedding), "embedding": embedding}


def load_mn04(path: str | Path) -> MN04:
    """The pretrained network from a plain state_dict file, strictly loaded, on CPU, in eval mode."""
    model = MN04()
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True), strict=True)
    return model.eval()


def read_audioset_labels(csv_path: str | Path) -> list[str]:
    """Display names from ``class_labels_indices.csv`` (index,mid,display_name) in logit order."""
    with open(csv_path, newline="", encoding="utf-8") as fh:
        rows = sorted((int(row["index"]), row["display_name"]) for row in csv.DictReader(fh))
    if [i for i, _ in rows] != list(range(len(rows))):
        raise ValueError(f"{csv_path}: indices are not 0..{len(rows) - 1}")
    return [name for _, name in rows]
