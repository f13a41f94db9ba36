"""Genre from two kinds of frozen pretrained listeners, with a small learned correction.

- EfficientAT ``mn04_as`` (AudioSet, 2 M YouTube clips) hears the window at 32 kHz. Its AudioSet
  genre logits give each label a zero-shot score (the *prior*), and its 384-d embedding is a feature.
- MusiCNN taggers (Million Song Dataset, MagnaTagATune) hear the same window at 16 kHz; their 200-d
  penultimate layers are features, and the first tagger's tags and penultimate layer are the
  model's ``tags`` and ``embedding`` (so "more like this" stays comparable with older bundles).

The genre logits are ``prior_scale * prior + W @ standardised(features) + b``. Training pulls W and
b toward zero, so the head only corrects the prior where labelled data insists: a few hundred clips
from two sources cannot teach recording-independent genre, but they can fix what AudioSet's
labels miss.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
import torchaudio
from torch import nn

from ..features import LogMel, non_persistent
from .efficientat import EMBEDDING_DIM, N_CLASSES, SAMPLE_RATE, EfficientATFrontEnd, MN04
from .musicnn import MusiCNN

EFFICIENTAT = "efficientat"
# How a group of AudioSet classes (a genre's, a style's) scores: "noisy_or", the chance that any of
# them applies, reading AudioSet's independent multi-label outputs as such; "max", the strongest
# class alone, what bundles before noisy_or used (and still get: their config names no rule).
GROUP_RULES = ("max", "noisy_or")


def class_mask(groups: list[list[int]]) -> torch.Tensor:
    """(groups, classes) boolean mask from each group's AudioSet class indices."""
    mask = torch.zeros(len(groups), N_CLASSES, dtype=torch.bool)
    for i, ids in enumerate(groups):
        mask[i, ids] = True
    return mask


def group_logits(audioset_logits: torch.Tensor, mask: torch.Tensor, rule: str) -> torch.Tensor:
    """(B, classes) AudioSet logits -> (B, groups) logits of each group of classes, by ``rule``."""
    if rule == "max":
        return audioset_logits[:, None, :].masked_fill(~mask, float("-inf")).amax(dim=2)
    # log P(none applies) = sum of log(1 - sigmoid) over the group; the clamp keeps the log finite
    log_none = F.logsigmoid(-audioset_logits)[:, None, :].masked_fill(~mask, 0.0).sum(dim=2).clamp(max=-1e-30)
    return torch.log(-torch.expm1(log_none)) - log_none


class PriorHead(nn.Module):
    """Zero-shot prior plus a linear correction on standardised features."""

    def __init__(self, n_labels: int, dim: int):
        super().__init__()
        self.linear = nn.Linear(dim, n_labels)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)
        self.prior_scale = nn.Parameter(torch.ones(()))
        # Feature standardisation, fitted with the head on its training windows.
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))

    def forward(self, features: torch.Tensor, prior: torch.Tensor) -> torch.Tensor:
        return self.prior_scale * prior + self.linear((features - self.mean) / self.std)


class GenreFusion(nn.Module):
    """Waveform windows (B, samples) at 32 kHz -> {"logits", "tags", "embedding"}.

    ``prior`` maps each label, in label order, to the AudioSet classes that give its zero-shot score,
    combined by ``prior_rule`` (``GROUP_RULES``); ``head_inputs`` names the backbone outputs the
    correction reads.
    """

    def __init__(self, labels: list[str], prior: dict[str, list[int]], musicnn_features: dict,
                 taggers: list[str] | tuple[str, ...] = ("MSD_musicnn",),
                 head_inputs: list[str] | tuple[str, ...] = ("MSD_musicnn",), n_tags: int = 50,
                 prior_rule: str = "max"):
        super().__init__()
        if prior_rule not in GROUP_RULES:
            raise ValueError(f"prior_rule must be one of {GROUP_RULES}, not {prior_rule!r}")
        self.prior_rule = prior_rule
        missing = [lab for lab in labels if not prior.get(lab)]
        if missing or any(not 0 <= i < N_CLASSES for ids in prior.values() for i in ids):
            raise ValueError(f"every label needs AudioSet classes 0..{N_CLASSES - 1} (missing: {missing})")
        self.tagger_names, self.head_inputs = list(taggers), list(head_inputs)
        unknown = set(self.head_inputs) - {EFFICIENTAT, *self.tagger_names}
        if unknown:
            raise ValueError(f"head_inputs names unknown backbones {sorted(unknown)}")
        self.effat_front = EfficientATFrontEnd()
        self.effat = MN04()
        self.to_musicnn_rate = non_persistent(torchaudio.transforms.Resample(SAMPLE_RATE, musicnn_features["sample_rate"]))
        self.musicnn_mel = LogMel(musicnn_features)
        self.musicnn = nn.ModuleDict({name: MusiCNN(n_mels=musicnn_features["n_mels"], n_tags=n_tags)
                                      for name in self.tagger_names})
        self.register_buffer("prior_mask", class_mask([prior[lab] for lab in labels]), persistent=False)
        dims = {EFFICIENTAT: EMBEDDING_DIM, **{n: net.dense_bn.num_features for n, net in self.musicnn.items()}}
        self.head = PriorHead(len(labels), sum(dims[n] for n in self.head_inputs))

    def taggers(self) -> dict[str, MusiCNN]:
        """Checkpoint name -> MusiCNN tagger, primary first (as MusiCNNGenre.taggers)."""
        return dict(self.musicnn)

    def backbones(self, wave: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every frozen output a head can read: AudioSet logits, embeddings, the primary tagger's tags."""
        effat = self.effat(self.effat_front(wave))
        out = {"audioset": effat["logits"], EFFICIENTAT: effat["embedding"]}
        mel = self.musicnn_mel(self.to_musicnn_rate(wave))
        for k, (name, net) in enumerate(self.musicnn.items()):
            tagger = net(mel)
            out[name] = tagger["penultimate"]
            if k == 0:
                out["tags"] = tagger["tags"]
        return out

    def prior(self, audioset_logits: torch.Tensor) -> torch.Tensor:
        return group_logits(audioset_logits, self.prior_mask, self.prior_rule)

    def head_input(self, outputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.cat([outputs[n] for n in self.head_inputs], dim=1)

    def classify(self, outputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """Genre logits from backbone outputs (also from cached ones, during training)."""
        return self.head(self.head_input(outputs), self.prior(outputs["audioset"]))

    def forward(self, wave: torch.Tensor) -> dict[str, torch.Tensor]:
        out = self.backbones(wave)
        return {"logits": self.classify(out), "tags": out["tags"], "embedding": out[self.tagger_names[0]],
                "audioset": out["audioset"]}
