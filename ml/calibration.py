"""Honest probabilities: temperature scaling, expected calibration error, the "uncertain" threshold.

All three are fitted on held-out predictions (clips scored by models that never saw them), never on
the clips a model trained on, whose probabilities are overconfident by construction.
"""
from __future__ import annotations

import numpy as np
import torch


def clip_probs(window_logits: list[torch.Tensor], temperature: float) -> torch.Tensor:
    """(clips, labels): each clip's mean of window softmaxes at ``temperature`` (as inference does)."""
    return torch.stack([torch.softmax(w / temperature, dim=1).mean(dim=0) for w in window_logits])


def nll(probs: torch.Tensor, y: np.ndarray) -> float:
    return float(-torch.log(probs[torch.arange(len(y)), torch.as_tensor(y)].clamp_min(1e-9)).mean())


def fit_temperature(window_logits: list[torch.Tensor], y: np.ndarray,
                    grid: np.ndarray = np.exp(np.linspace(np.log(0.2), np.log(10.0), 161))) -> float:
    """The temperature minimising held-out clip-level NLL. A grid rather than gradient steps: one
    scalar, a cheap objective, and no way to land on a poor local solution."""
    losses = [nll(clip_probs(window_logits, t), y) for t in grid]
    return float(grid[int(np.argmin(losses))])


def expected_calibration_error(probs: torch.Tensor, y: np.ndarray, bins: int = 10) -> float:
    """Mean |accuracy - confidence| of the top label over equal-width confidence bins, weighted by bin size."""
    conf, pred = probs.max(dim=1)
    conf, correct = conf.numpy(), (pred.numpy() == y)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    return float(sum(abs(correct[which == b].mean() - conf[which == b].mean()) * (which == b).mean()
                     for b in range(bins) if (which == b).any()))


def uncertain_threshold(confidence: np.ndarray, correct: np.ndarray, target: float = 0.9,
                        candidates: np.ndarray = np.arange(30, 91) / 100) -> dict:
    """The lowest top-probability threshold at which the held-out clips stated as certain
    (confidence >= threshold) are right at least ``target`` of the time; the highest candidate if
    none reaches it. Returns the threshold with the accuracy and share of clips it leaves certain."""
    chosen = candidates[-1]
    for t in candidates:
        sure = confidence >= t
        if sure.any() and correct[sure].mean() >= target:
            chosen = t
            break
    return {"uncertain_below": float(chosen), "target_accuracy_when_certain": target,
            **certain_at(confidence, correct, chosen),
            "curve": {f"{t:.1f}": certain_at(confidence, correct, t) for t in np.arange(3, 10) / 10}}


def certain_at(confidence: np.ndarray, correct: np.ndarray, threshold: float) -> dict:
    """Share of clips stated as certain at ``threshold``, and how often those are right."""
    sure = confidence >= threshold
    return {"share_certain": round(float(sure.mean()), 4),
            "accuracy_when_certain": round(float(correct[sure].mean()), 4) if sure.any() else None}
