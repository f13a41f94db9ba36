"""Scores of clip-level predictions, per source, and the baselines every report carries.

A source is scored only on the genres it has. Clips whose file carries its own genre tag also get
a lenient score (the prediction may be the label or what the tag supports), always named as such.
Baselines are scored on exactly the clips, folds and held-out sources the model is:

- ``zero_shot_audioset``: AudioSet's own genre classes (EfficientAT logits, the model's prior), no training;
- ``zero_shot_tags``: the MSD tagger's tags mapped to genres by hand, no training;
- ``probe``: standardised, class-balanced logistic regression on the taggers' frozen penultimate
  features, fitted on the same training clips (clean windows, no augmentation, no tricks).
"""
from __future__ import annotations

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .calibration import clip_probs
from .sources import Clip

Outputs = dict[str, np.ndarray]  # one clip's backbone outputs per window


def scores(y_true: list[int], y_pred: list[int], labels: list[str]) -> dict:
    """Accuracy, macro P/R/F1 over the genres present, per-genre scores with support."""
    present = sorted(set(y_true))
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=present, average="macro", zero_division=0)
    pg, rg, fg, sg = precision_recall_fscore_support(y_true, y_pred, labels=range(len(labels)), zero_division=0)
    return {
        "accuracy": round(float(np.mean(np.array(y_true) == np.array(y_pred))), 4),
        "macro_precision": round(float(p), 4), "macro_recall": round(float(r), 4), "macro_f1": round(float(f), 4),
        "per_genre": {lab: {"precision": round(float(pg[i]), 4), "recall": round(float(rg[i]), 4),
                            "f1": round(float(fg[i]), 4), "support": int(sg[i])}
                      for i, lab in enumerate(labels) if sg[i]},
    }


def clip_report(clips: list[Clip], predicted: list[str], labels: list[str]) -> dict:
    """Strict scores and confusion matrix of predicted labels; lenient accuracy where files carry tags."""
    index = {g: i for i, g in enumerate(labels)}
    y_true, y_pred = [index[c.genre] for c in clips], [index[p] for p in predicted]
    out = {"clips": len(clips), **scores(y_true, y_pred, labels),
           "confusion_matrix": {"labels": labels, "rows": "true", "columns": "predicted",
                                "matrix": confusion_matrix(y_true, y_pred, labels=range(len(labels))).tolist()}}
    if any(c.also for c in clips):
        out["lenient_accuracy"] = round(float(np.mean([c.accepts(p, lenient=True) for c, p in zip(clips, predicted)])), 4)
    return out


def by_source(clips: list[Clip], predicted: list[str], labels: list[str]) -> dict[str, dict]:
    out = {}
    for source in sorted({c.source for c in clips}):
        idx = [i for i, c in enumerate(clips) if c.source == source]
        out[source] = clip_report([clips[i] for i in idx], [predicted[i] for i in idx], labels)
    return out


def zero_shot_tag_logits(tags: list[str], genre_tags: dict[str, list[str]], labels: list[str]) -> np.ndarray:
    """(labels, tags) averaging matrix: a genre's score is the mean logit of its tags; a genre without
    tags gets a very low score, so it is never predicted (it has no zero-shot evidence)."""
    unknown = {t for ts in genre_tags.values() for t in ts} - set(tags)
    if unknown:
        raise ValueError(f"zero-shot mapping names unknown tags {sorted(unknown)}")
    m = np.zeros((len(labels), len(tags)), np.float32)
    for i, lab in enumerate(labels):
        for t in genre_tags.get(lab, []):
            m[i, tags.index(t)] = 1.0 / len(genre_tags[lab])
    return m


class Baselines:
    """The three baselines, each giving a clip's label probabilities from its window outputs."""

    PROBE_INPUTS = ("MSD_musicnn", "MTT_musicnn")

    def __init__(self, model, labels: list[str], tags: list[str], genre_tags: dict[str, list[str]]):
        self.model, self.labels = model, labels
        self.tag_matrix = zero_shot_tag_logits(tags, genre_tags, labels)
        self.no_tags = self.tag_matrix.sum(axis=1) == 0
        self.probe_inputs = [n for n in self.PROBE_INPUTS if n in model.tagger_names]

    def zero_shot_audioset(self, out: Outputs) -> np.ndarray:
        with torch.no_grad():
            return clip_probs([self.model.prior(torch.from_numpy(out["audioset"]))], 1.0)[0].numpy()

    def zero_shot_tags(self, out: Outputs) -> np.ndarray:
        logits = out["tags"] @ self.tag_matrix.T
        logits[:, self.no_tags] = -1e4
        return clip_probs([torch.from_numpy(logits)], 1.0)[0].numpy()

    def fit_probe(self, outputs: list[Outputs], y: list[int]):
        X = np.concatenate([self._probe_x(o) for o in outputs])
        yw = np.concatenate([np.full(len(o["audioset"]), lab) for o, lab in zip(outputs, y)])
        clf = make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=5000))
        clf.fit(X, yw)

        def predict(out: Outputs) -> np.ndarray:
            p = np.zeros(len(self.labels))
            p[clf.classes_] = clf.predict_proba(self._probe_x(out)).mean(axis=0)
            return p
        return predict

    def _probe_x(self, out: Outputs) -> np.ndarray:
        return np.concatenate([out[n] for n in self.probe_inputs], axis=1)


BASELINE_METHODS = {
    "zero_shot_audioset": "EfficientAT mn04_as AudioSet genre logits (the model's prior: a label's AudioSet classes "
                          "combined by the bundle's prior_rule), mean window softmax; no training",
    "zero_shot_tags": "MSD MusiCNN tags mapped to genres by hand (mean logit of a genre's tags; genres without a "
                      "tag are never predicted), mean window softmax; no training",
    "probe": "standardised, class-balanced logistic regression (scikit-learn defaults) on the MusiCNN taggers' "
             "frozen 200-d penultimate features of clean windows, fitted on the same training clips as the model",
}
