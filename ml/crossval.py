"""Cross-validate a training recipe over artist-disjoint splits and report it for a bundle.

    python -m ml.crossval --config ml/config/musicnn_head.yaml --data /path/to/gtzan.csv \\
        --bundle models/saved_models [--folds train,valid] [--work DIR]

A bundle trained on every labelled row leaves no clip to score it on. Its recipe is measured
instead: each fold (a split of the CSV: the splits must share no artist) is held out in turn,
the same config and seed train a model on the other folds, and that model predicts the held-out
clips. The pooled out-of-fold predictions, with the MFCC baseline scored the same way, become the
bundle's performance_metrics.json. It checks that the bundle was trained with this config on
exactly these folds, so the figures describe the weights they are shipped with.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import yaml

from . import train
from .sources import counts, file_digest, read_clips
from .evaluate import baseline, common_caveats, predict_clips, report, scores, write_report
from .inference import Classifier


def check_bundle(config: dict, cfg: dict, folds: list[str]) -> None:
    """The bundle must come from this recipe, trained on exactly the cross-validated folds."""
    training = config.get("training", {})
    trained_on = sorted(config.get("data", {}).get("splits") or [])
    problems = []
    if trained_on != sorted(folds):
        problems.append(f"it was trained on splits {trained_on}, not on the folds {sorted(folds)}")
    if training.get("recipe") != cfg["train"] or training.get("seed") != cfg["seed"]:
        problems.append("its training recipe or seed differs from the config")
    if config.get("features") != cfg["features"] or config.get("architecture") != cfg["architecture"]:
        problems.append("its features or architecture differ from the config")
    if problems:
        raise SystemExit("the bundle does not match this cross-validation: " + "; ".join(problems))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True, help="the recipe the bundle was trained with")
    ap.add_argument("--data", required=True, help="CSV with file,genre,split")
    ap.add_argument("--bundle", required=True, help="bundle trained on all folds; its metrics are written here")
    ap.add_argument("--folds", default=None, help="comma-separated splits (default: the bundle's training splits)")
    ap.add_argument("--work", default=None, help="where the fold models go (default: a temporary folder)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args(argv)

    cfg = yaml.safe_load(Path(args.config).read_text())
    clf = Classifier.from_bundle(args.bundle, args.device)
    folds = args.folds.split(",") if args.folds else list(clf.config.get("data", {}).get("splits") or [])
    if len(folds) < 2:
        raise SystemExit("cross-validation needs at least two folds (splits)")
    check_bundle(clf.config, cfg, folds)
    clips = read_clips(args.data)
    missing = [f for f in folds if not any(c.split == f for c in clips)]
    if missing or any(not c.split for c in clips):
        raise SystemExit(f"cross-validation needs a split on every row and rows in every fold (empty: {missing})")
    index = {g: i for i, g in enumerate(clf.labels)}

    work = Path(args.work or tempfile.mkdtemp(prefix="crossval-"))
    y_true, y_pred, y_base, base_pred, failed, per_fold, base_info = [], [], [], [], [], {}, {}
    for fold in folds:
        rest = [f for f in folds if f != fold]
        test = [c for c in clips if c.split == fold]
        train_clips = [c for c in clips if c.split in rest]
        print(f"fold {fold}: training on {','.join(rest)} ({len(train_clips)} clips), scoring {len(test)} clips")
        train.main(["--config", args.config, "--data", args.data, "--splits", ",".join(rest),
                    "--out", str(work / fold), "--device", args.device, "--threads", str(args.threads)])
        fold_clf = Classifier.from_bundle(work / fold, args.device)
        if fold_clf.labels != clf.labels:  # predictions are compared as label indices
            raise SystemExit(f"fold {fold} model has labels {fold_clf.labels}, the bundle {clf.labels}")
        true, pred, fold_failed = predict_clips(fold_clf, test)
        fold_base, base_info = baseline(train_clips, test, clf.labels, clf.sample_rate)
        fold_true = [index[c.genre] for c in test]
        y_true, y_pred, failed = y_true + true, y_pred + pred, failed + fold_failed
        y_base, base_pred = y_base + fold_true, base_pred + fold_base
        per_fold[fold] = {"trained_on": rest, "training_clips": counts(train_clips), "clips": len(test),
                          "accuracy": scores(true, pred, clf.labels)["accuracy"],
                          "baseline_accuracy": scores(fold_true, fold_base, clf.labels)["accuracy"]}
        untrained = sorted(set(clf.labels) - {c.genre for c in train_clips})
        if untrained:
            per_fold[fold]["genres_not_trained"] = untrained

    support = counts([c for c in clips if c.split in folds])
    data = {"file": Path(args.data).name, "sha256_16": file_digest(args.data),
            "split": f"out-of-fold, {len(folds)}-fold cross-validation over {', '.join(folds)}",
            "clips": len(y_base), "clips_per_genre": support, "folds": per_fold, "training_splits": folds}
    caveats = [
        f"The shipped weights were trained on every labelled clip ({', '.join(folds)}), so no clip is left to "
        "score them on. These figures are out-of-fold predictions of the same recipe (same config and seed): "
        "each fold was scored by a model trained without it. The folds share no artist, and early stopping "
        "used an inner hold-out of each model's training rows, never the scored fold.",
        "A fold model sees fewer clips than the shipped one (genres with few clips in the other folds are "
        "learned from a handful, or not at all), so these figures are expected to be conservative for it.",
        *common_caveats(clf, support, failed),
    ]
    metrics, matrix = report(
        clf, data=data, scored=(y_true, y_pred), base=(y_base, base_pred), base_info={
            **base_info, "train_clips": "the other folds, as for the model"},
        protocol=f"artist-disjoint cross-validation: each fold held out in turn and predicted through ml.inference "
                 f"(up to {clf.max_segments} windows per clip, mean of window probabilities) by the recipe "
                 "trained on the remaining folds; figures pool the out-of-fold predictions",
        caveats=caveats)
    write_report(args.bundle, metrics, matrix, clf.labels,
                 f"{clf.version}: {len(folds)}-fold CV on {Path(args.data).name} "
                 f"(acc {metrics['model']['accuracy']:.2f})")


if __name__ == "__main__":
    main()
