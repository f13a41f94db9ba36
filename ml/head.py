"""Fitting the fusion model's genre head on cached backbone outputs.

The head (``PriorHead``) is ``prior_scale * prior + W @ standardised(features) + b``. It is fitted
full-batch with L-BFGS on window-level outputs: class-balanced cross-entropy (each genre weighs the
same, however many clips it has), non-music windows aiming at the uniform distribution, and an L2
pull of W and b toward zero, so the head only departs from the zero-shot prior where the labelled
clips agree. ``l2`` is the recipe's main knob, chosen on held-out sources.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .augment import null_wave, speech_wave, tone_wave
from .bank import FeatureBank
from .features import segment_samples
from .models.fusion import GenreFusion


def stack(outputs: list[dict[str, np.ndarray]], labels: list[int] | np.ndarray) -> tuple[dict[str, torch.Tensor], np.ndarray]:
    """Per-clip window outputs -> one tensor per output name, and each window's label."""
    names = outputs[0].keys()
    merged = {n: torch.from_numpy(np.concatenate([o[n] for o in outputs])) for n in names}
    y = np.concatenate([np.full(len(o["audioset"]), lab) for o, lab in zip(outputs, labels)])
    return merged, y


def targets(y: np.ndarray, n_labels: int) -> torch.Tensor:
    """One-hot rows; label -1 (non-music) becomes the uniform distribution."""
    out = torch.full((len(y), n_labels), 1.0 / n_labels)
    known = y >= 0
    out[known] = F.one_hot(torch.as_tensor(y[known]), n_labels).float()
    return out


def balanced_weights(y: np.ndarray) -> torch.Tensor:
    """Per-window weights that give every group (each genre, and non-music) the same total, summing to 1."""
    groups = np.where(y < 0, y.max() + 1, y)
    freq = np.bincount(groups).astype(np.float64)
    w = 1.0 / freq[groups]
    return torch.as_tensor(w / w.sum(), dtype=torch.float32)


def fit_head(model: GenreFusion, outputs: dict[str, torch.Tensor], y: np.ndarray, *, l2: float,
             l2_bias: float | None = None, max_iter: int = 300) -> dict:
    """Fit ``model.head`` in place on window outputs with labels ``y`` (-1: non-music)."""
    head = model.head
    X = model.head_input(outputs).float()
    prior = model.prior(outputs["audioset"]).float()
    with torch.no_grad():
        head.mean.copy_(X.mean(0))
        head.std.copy_(X.std(0).clamp_min(1e-3))
        head.linear.weight.zero_()
        head.linear.bias.zero_()
        head.prior_scale.fill_(1.0)
    Z = (X - head.mean) / head.std
    T, w = targets(y, prior.shape[1]), balanced_weights(y)
    l2_bias = l2 if l2_bias is None else l2_bias
    params = [head.linear.weight, head.linear.bias, head.prior_scale]
    opt = torch.optim.LBFGS(params, lr=1, max_iter=max_iter, history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        logits = head.prior_scale * prior + Z @ head.linear.weight.T + head.linear.bias
        loss = -(w[:, None] * T * F.log_softmax(logits, dim=1)).sum()
        loss = loss + l2 / 2 * head.linear.weight.pow(2).sum() + l2_bias / 2 * head.linear.bias.pow(2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        loss = opt.step(closure)
    return {"loss": round(loss.item(), 5), "prior_scale": round(head.prior_scale.item(), 4), "windows": int(len(y))}


@torch.no_grad()
def window_logits(model: GenreFusion, outputs: dict[str, np.ndarray]) -> torch.Tensor:
    return model.classify({k: torch.from_numpy(v) for k, v in outputs.items()}).float()


def train_view(recipe: dict, seed: int) -> dict:
    """The bank view a recipe trains on: dense crops and their recording-chain variants."""
    return {"kind": "train", "hop_s": recipe.get("hop_s", 3.0), "copies": recipe.get("copies", 1),
            "augment": recipe.get("augment"), "p": recipe.get("augment_p", 0.5), "seed": seed}


def null_outputs(bank: FeatureBank, recipe: dict, seed: int) -> dict[str, np.ndarray] | None:
    """Backbone outputs of the recipe's ``null_windows`` of silence or noise, ``speech_windows`` of
    synthetic talk and ``tone_windows`` of test tones: non-music the head must stay unsure about
    (None when it names none)."""
    rng = np.random.default_rng(seed)
    size, sr = segment_samples(bank.feats), bank.feats["sample_rate"]
    waves = [null_wave(rng, size) for _ in range(recipe.get("null_windows", 0))]
    waves += [speech_wave(rng, size, sr) for _ in range(recipe.get("speech_windows", 0))]
    waves += [tone_wave(rng, size, sr) for _ in range(recipe.get("tone_windows", 0))]
    return bank.run(waves) if waves else None


def fit_recipe(model: GenreFusion, outputs: list[dict[str, np.ndarray]], labels: list[int],
               null: dict[str, np.ndarray] | None, recipe: dict) -> dict:
    """Fit the head on the training windows of some clips (plus non-music windows)."""
    X, y = stack(outputs + ([null] if null is not None else []), list(labels) + ([-1] if null is not None else []))
    return fit_head(model, X, y, l2=recipe["l2"], l2_bias=recipe.get("l2_bias"))
