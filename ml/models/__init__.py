"""Model registry: ``build_model(config)`` turns a bundle's model_config into an nn.Module.

Every model takes mono waveform windows (B, samples) at the bundle's ``features.sample_rate``,
computes its own front end, and returns a dict with ``logits`` (genre scores, no softmax),
``embedding`` and, where it has them, ``tags`` (tag logits).
"""
from __future__ import annotations

from torch import nn

from .fusion import GenreFusion
from .musicnn import MusiCNN, MusiCNNGenre, load_tf_musicnn
from .scratch import ScratchCNN


def _musicnn_genre(config: dict, params: dict) -> nn.Module:
    return MusiCNNGenre(n_labels=len(config["labels"]), n_tags=len(config["tags"]),
                        n_mels=config["features"]["n_mels"], features=config["features"], **params)


def _scratch_cnn(config: dict, params: dict) -> nn.Module:
    return ScratchCNN(n_labels=len(config["labels"]), features=config["features"], **params)


def _fusion_genre(config: dict, params: dict) -> nn.Module:
    return GenreFusion(labels=config["labels"], n_tags=len(config["tags"]), **params)


MODELS = {"fusion_genre": _fusion_genre, "musicnn_genre": _musicnn_genre, "scratch_cnn": _scratch_cnn}


def build_model(config: dict) -> nn.Module:
    """Build the (untrained) model that ``config["architecture"]`` names."""
    arch = config["architecture"]
    try:
        builder = MODELS[arch["name"]]
    except KeyError:
        raise ValueError(f"unknown architecture {arch['name']!r}; known: {sorted(MODELS)}") from None
    return builder(config, dict(arch.get("params", {})))


__all__ = ["MODELS", "build_model", "GenreFusion", "MusiCNN", "MusiCNNGenre", "ScratchCNN", "load_tf_musicnn"]
