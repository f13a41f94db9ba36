"""MusiCNN (Pons & Serra, 2019) in PyTorch, plus a genre head on its features.

Layer names mirror the TF checkpoint's order so the loader's mapping stays readable.
The pretrained MSD weights are ISC-licensed; see models/saved_models/LICENSE-musicnn.txt.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..features import LogMel

_TF_BN_EPS = 1e-3  # TensorFlow's batch-norm default, not PyTorch's 1e-5


def _bn2d(ch):
    return nn.BatchNorm2d(ch, eps=_TF_BN_EPS)


def _bn1d(ch):
    return nn.BatchNorm1d(ch, eps=_TF_BN_EPS)


class MusiCNN(nn.Module):
    """Log-mel patch (B, T, n_mels) -> tag logits, 200-d penultimate, pooled mid-end (1506-d)."""

    def __init__(self, n_mels: int = 96, n_tags: int = 50, timbral_filters: int = 204,
                 temporal_filters: int = 51, mid_filters: int = 64, dense_units: int = 200):
        super().__init__()
        self.input_bn = _bn2d(1)
        # Timbral: tall-in-frequency filters, 'same' in time, 'valid' in frequency.
        self.timbral = nn.ModuleList([
            nn.Conv2d(1, timbral_filters, (7, int(0.4 * n_mels))),
            nn.Conv2d(1, timbral_filters, (7, int(0.7 * n_mels))),
        ])
        self.timbral_bn = nn.ModuleList([_bn2d(timbral_filters) for _ in range(2)])
        self.temporal_sizes = (128, 64, 32)
        self.temporal = nn.ModuleList([nn.Conv2d(1, temporal_filters, (k, 1)) for k in self.temporal_sizes])
        self.temporal_bn = nn.ModuleList([_bn2d(temporal_filters) for _ in self.temporal_sizes])
        front = 2 * timbral_filters + 3 * temporal_filters
        self.mid = nn.ModuleList([nn.Conv1d(front, mid_filters, 7, padding=3),
                                  nn.Conv1d(mid_filters, mid_filters, 7, padding=3),
                                  nn.Conv1d(mid_filters, mid_filters, 7, padding=3)])
        self.mid_bn = nn.ModuleList([_bn1d(mid_filters) for _ in range(3)])
        self.pooled_dim = 2 * (front + 3 * mid_filters)
        self.pool_bn = _bn1d(self.pooled_dim)
        self.dense = nn.Linear(self.pooled_dim, dense_units)
        self.dense_bn = _bn1d(dense_units)
        self.tag_dense = nn.Linear(dense_units, n_tags)
        self.dropout = nn.Dropout(0.5)

    def forward(self, mel: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.input_bn(mel.unsqueeze(1))                       # (B, 1, T, F)
        front = []
        padded = F.pad(x, (0, 0, 3, 3))                           # 'same' in time for the 7-frame kernels
        for conv, bn in zip(self.timbral, self.timbral_bn):
            front.append(self._frequency_max(bn, conv(padded)))   # -> (B, C, T)
        for k, conv, bn in zip(self.temporal_sizes, self.temporal, self.temporal_bn):
            y = conv(F.pad(x, (0, 0, (k - 1) // 2, k // 2)))      # TF 'same': extra pad after
            front.append(self._frequency_max(bn, y))
        front = torch.cat(front, dim=1)                           # (B, 561, T)
        out1 = self.mid_bn[0](F.relu(self.mid[0](front)))
        out2 = self.mid_bn[1](F.relu(self.mid[1](out1))) + out1
        out3 = self.mid_bn[2](F.relu(self.mid[2](out2))) + out2
        mid = torch.cat([front, out1, out2, out3], dim=1)         # (B, 753, T)
        # (max, mean) pairs channel by channel, as the TF flatten lays them out
        pooled = torch.stack([mid.amax(dim=2), mid.mean(dim=2)], dim=2).flatten(1)
        pooled = self.pool_bn(pooled)
        penultimate = self.dense_bn(F.relu(self.dense(self.dropout(pooled))))
        tags = self.tag_dense(self.dropout(penultimate))
        return {"tags": tags, "penultimate": penultimate, "pooled": pooled}

    def _frequency_max(self, bn: nn.BatchNorm2d, y: torch.Tensor) -> torch.Tensor:
        """``bn(relu(y)).amax(dim=3)``, the max over frequency of a front-end map (B, C, T, F).

        In eval mode ReLU and the batch norm's per-channel affine map are monotonic, so the max
        of the result is the image of the raw map's max where a channel's scale is positive and
        of its min where it is negative: the same numbers, without normalising the whole map
        (a quarter of the tagger's CPU time)."""
        if self.training:  # batch statistics come from the whole map
            return bn(F.relu(y)).amax(dim=3)
        lo, hi = torch.aminmax(y, dim=3)
        rising = (bn.weight >= 0)[None, :, None]  # the sign of weight / sqrt(var + eps)
        return bn(F.relu(torch.where(rising, hi, lo)).unsqueeze(3)).squeeze(3)


class MusiCNNGenre(nn.Module):
    """Frozen-feature genre model: one or more pretrained MusiCNN taggers + a genre head.

    ``taggers`` names the checkpoints in order. The first is the primary: its tags and its
    penultimate layer are the model's ``tags`` and ``embedding``. The head reads every tagger's
    [penultimate, pooled mid-end] features, concatenated in that order. With ``features`` (a
    bundle's front-end config) it takes waveforms, else log-mel patches.
    """

    def __init__(self, n_labels: int, n_tags: int = 50, n_mels: int = 96, head_hidden: int = 0,
                 dropout: float = 0.5, taggers: list[str] | tuple[str, ...] = ("MSD_musicnn",),
                 features: dict | None = None):
        super().__init__()
        self.frontend = LogMel(features) if features else nn.Identity()
        self.tagger_names = list(taggers)
        # the primary keeps the attribute name "backbone", so single-tagger bundles load as before
        self.backbone = MusiCNN(n_mels=n_mels, n_tags=n_tags)
        self.extra = nn.ModuleDict({name: MusiCNN(n_mels=n_mels, n_tags=n_tags) for name in self.tagger_names[1:]})
        self.tagger_dim = self.backbone.dense_bn.num_features + self.backbone.pooled_dim
        dim = self.tagger_dim * len(self.tagger_names)
        self.feature_dim = dim
        if head_hidden:
            self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(dim, head_hidden), nn.ReLU(),
                                      nn.Dropout(dropout), nn.Linear(head_hidden, n_labels))
        else:
            self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(dim, n_labels))

    def taggers(self) -> dict[str, MusiCNN]:
        """Checkpoint name -> tagger network, primary first."""
        return {self.tagger_names[0]: self.backbone, **self.extra}

    def tag_prior(self, labels: list[str], tags: dict[str, list[str]],
                  genre_tags: dict[str, dict[str, list[str]]]) -> torch.Tensor:
        """Linear-head weights (n_labels, feature_dim) that score each genre by the mean of its
        tags' logits (``dense_1`` rows, bias left out) on each tagger's penultimate features, and
        zero on the pooled mid-ends. ``tags`` gives each tagger's tag names, ``genre_tags`` each
        tagger's genre -> tag mapping; a tagger left out, or a genre without tags, adds nothing.
        Unscaled: tag logits already span a few units, a sensible softmax range; with several
        taggers the genre's score is the sum of their votes."""
        unknown_taggers = set(genre_tags) - set(self.tagger_names)
        if unknown_taggers:
            raise ValueError(f"head prior names unknown taggers {sorted(unknown_taggers)}")
        prior = torch.zeros(len(labels), self.feature_dim)
        for k, (name, net) in enumerate(self.taggers().items()):
            mapping = genre_tags.get(name, {})
            unknown = set(mapping) - set(labels)
            missing = {t for ts in mapping.values() for t in ts} - set(tags.get(name, []))
            if unknown or missing:
                raise ValueError(f"head prior for {name} names unknown genres {sorted(unknown)} / tags {sorted(missing)}")
            rows = net.tag_dense.weight.detach()                       # (n_tags, 200)
            for i, genre in enumerate(labels):
                idx = [tags[name].index(t) for t in mapping.get(genre) or []]
                if idx:
                    prior[i, k * self.tagger_dim:k * self.tagger_dim + rows.shape[1]] = rows[idx].mean(dim=0)
        return prior

    def features(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        mel = self.frontend(x)
        out = self.backbone(mel)
        parts = [out["penultimate"], out["pooled"]]
        for net in self.extra.values():
            extra = net(mel)
            parts += [extra["penultimate"], extra["pooled"]]
        out["head_input"] = torch.cat(parts, dim=1)
        return out

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        out = self.features(x)
        return {"logits": self.head(out["head_input"]), "tags": out["tags"],
                "embedding": out["penultimate"]}


def load_tf_musicnn(backbone: MusiCNN, tensors: dict) -> None:
    """Copy a TF-1 MusiCNN checkpoint (from :func:`ml.checkpoint.read_checkpoint`) into ``backbone``."""
    t = lambda name: torch.from_numpy(tensors[name])  # noqa: E731

    def conv(module, idx):
        name = "conv2d" if idx == 0 else f"conv2d_{idx}"
        kernel = t(f"{name}/kernel")                     # (h=time, w=freq, in, out)
        if module.weight.dim() == 3:                     # mid-end 1-D conv stored as (7, C, 1, out)
            kernel = kernel[:, :, 0, :].permute(2, 1, 0)
        else:
            kernel = kernel.permute(3, 2, 0, 1)
        module.weight.data.copy_(kernel)
        module.bias.data.copy_(t(f"{name}/bias"))

    def bn(module, idx):
        name = "batch_normalization" if idx == 0 else f"batch_normalization_{idx}"
        module.weight.data.copy_(t(f"{name}/gamma"))
        module.bias.data.copy_(t(f"{name}/beta"))
        module.running_mean.copy_(t(f"{name}/moving_mean"))
        module.running_var.copy_(t(f"{name}/moving_variance"))

    b = backbone
    convs = [*b.timbral, *b.temporal, *b.mid]
    bns = [b.input_bn, *b.timbral_bn, *b.temporal_bn, *b.mid_bn, b.pool_bn, b.dense_bn]
    for i, m in enumerate(convs):
        conv(m, i)
    for i, m in enumerate(bns):
        bn(m, i)
    b.dense.weight.data.copy_(t("dense/kernel").T)
    b.dense.bias.data.copy_(t("dense/bias"))
    b.tag_dense.weight.data.copy_(t("dense_1/kernel").T)
    b.tag_dense.bias.data.copy_(t("dense_1/bias"))
