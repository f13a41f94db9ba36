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
import torchaudio
from torch import nn

from ..features import LogMel, non_persistent
from .efficientat import EMBEDDING_DIM, N_CLASSES, SAMPLE_RATE, EfficientATFrontEnd, MN04
from .musicnn import MusiCNN

EFFICIENTAT = "efficientat"


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

    ``prior`` maps each label, in label order, to the AudioSet classes whose strongest logit is its
    zero-shot score; ``head_inputs`` names the backbone outputs the correction reads.
    """

    def __init__(self, labels: list[str], prior: dict[str, list[int]], musicnn_features: dict,
                 taggers: list[str] | tuple[str, ...] = ("MSD_musicnn",),
                 head_inputs: list[str] | tuple[str, ...] = ("MSD_musicnn",), n_tags: int = 50):
        super().__init__()
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
        # (labels, classes) 0/1 mask: a label's prior is the max logit over its classes.
        mask = torch.zeros(len(labels), N_CLASSES, dtype=torch.bool)
        for i, lab in enumerate(labels):
            mask[i, prior[lab]] = True
        self.register_buffer("prior_mask", mask, persistent=False)
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
        masked = audioset_logits[:, None, :].masked_fill(~self.prior_mask, float("-inf"))
        return masked.amax(dim=2)

    def head_input(self, outputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.cat([outputs[n] for n in self.head_inputs], dim=1)

    def classify(self, outputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """Genre logits from backbone outputs (also from cached ones, during training)."""
        return self.head(self.head_input(outputs), self.prior(outputs["audioset"]))

    def forward(self, wave: torch.Tensor) -> dict[str, torch.Tensor]:
        out = self.backbones(wave)
        return {"logits": self.classify(out), "tags": out["tags"], "embedding": out[self.tagger_names[0]],
                "audioset": out["audioset"]}
