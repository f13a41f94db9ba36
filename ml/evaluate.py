"""Evaluate a bundle on a held-out split, against a classical MFCC baseline.

    python -m ml.evaluate --bundle models/saved_models --data /path/to/gtzan.csv --split valid [--out DIR]

Writes performance_metrics.json and confusion_matrix.png (to --out, default the bundle).
The baseline (logistic regression on MFCC + spectral statistics) is trained on the same
training rows as the bundle and scored on the same split.
"""
from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path

import librosa
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from tqdm import tqdm

from .audio import AudioError, load_audio
from .bundle import CONFUSION_PNG, METRICS, write_json
from .sources import Clip, counts, file_digest, read_clips, select
from .inference import Classifier

PRODUCT_BAR = 0.85


def scores(y_true: list[int], y_pred: list[int], labels: list[str]) -> dict:
    """Accuracy, macro P/R/F1 over the genres present in the split, per-genre scores with support."""
    present = sorted(set(y_true))
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=present, average="macro", zero_division=0)
    pg, rg, fg, sg = precision_recall_fscore_support(y_true, y_pred, labels=range(len(labels)), zero_division=0)
    return {
        "accuracy": round(float(np.mean(np.array(y_true) == np.array(y_pred))), 4),
        "macro_precision": round(float(p), 4), "macro_recall": round(float(r), 4), "macro_f1": round(float(f), 4),
        "per_genre": {lab: {"precision": round(float(pg[i]), 4), "recall": round(float(rg[i]), 4),
                            "f1": round(float(fg[i]), 4), "support": int(sg[i])} for i, lab in enumerate(labels)},
    }


def handcrafted_features(wave: np.ndarray, sr: int) -> np.ndarray:
    """Clip-level MFCC and spectral statistics: the classical genre-recognition recipe."""
    mfcc = librosa.feature.mfcc(y=wave, sr=sr, n_mfcc=20)
    frames = [mfcc, librosa.feature.delta(mfcc),
              librosa.feature.spectral_centroid(y=wave, sr=sr), librosa.feature.spectral_bandwidth(y=wave, sr=sr),
              librosa.feature.spectral_rolloff(y=wave, sr=sr), librosa.feature.spectral_contrast(y=wave, sr=sr),
              librosa.feature.spectral_flatness(y=wave), librosa.feature.zero_crossing_rate(wave),
              librosa.feature.rms(y=wave), librosa.feature.chroma_stft(y=wave, sr=sr)]
    stacked = np.concatenate(frames, axis=0)
    return np.concatenate([stacked.mean(axis=1), stacked.std(axis=1)])


def baseline(train: list[Clip], test: list[Clip], labels: list[str], sr: int) -> tuple[list[int], dict]:
    index = {g: i for i, g in enumerate(labels)}
    feats = lambda clips, desc: np.stack([handcrafted_features(load_audio(c.path, sr), sr)  # noqa: E731
                                          for c in tqdm(clips, desc=desc, leave=False)])
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, class_weight="balanced", max_iter=5000))
    clf.fit(feats(train, "baseline train"), [index[c.genre] for c in train])
    pred = clf.predict(feats(test, "baseline test")).tolist()
    return pred, {"method": "standardised MFCC(20)+delta, spectral centroid/bandwidth/rolloff/contrast/flatness, "
                            "ZCR, RMS, chroma (mean and std per clip) -> logistic regression "
                            "(C=0.1, class-balanced), scikit-learn", "train_clips": counts(train)}


def draw_confusion(matrix: np.ndarray, labels: list[str], path: Path, title: str) -> None:
    """Row-normalised shading with counts in the cells; Pillow only, no plotting stack."""
    cell, left, top = 44, 90, 70
    n = len(labels)
    img = Image.new("RGB", (left + n * cell + 20, top + n * cell + 20), "white")
    d = ImageDraw.Draw(img)
    font = ImageFont.load_default()
    d.text((10, 8), title, fill="black", font=font)
    d.text((left, 30), "predicted ->", fill="black", font=font)
    d.text((10, top - 18), "true", fill="black", font=font)
    rows = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, rows, out=np.zeros(matrix.shape, float), where=rows > 0)
    for j, lab in enumerate(labels):
        d.text((left + j * cell + 2, top - 18), lab[:7], fill="black", font=font)
    for i, lab in enumerate(labels):
        d.text((10, top + i * cell + cell // 2 - 6), lab, fill="black", font=font)
        for j in range(n):
            shade = int(255 - 200 * share[i, j])
            x, y = left + j * cell, top + i * cell
            d.rectangle([x, y, x + cell, y + cell], fill=(shade, shade, 255), outline="grey")
            if matrix[i, j]:
                d.text((x + cell // 2 - 6, y + cell // 2 - 6), str(int(matrix[i, j])),
                       fill="white" if share[i, j] > 0.6 else "black", font=font)
    img.save(path)


def predict_clips(clf: Classifier, clips: list[Clip]) -> tuple[list[int], list[int], list[str]]:
    """Track-level predictions through the inference API; undecodable clips are listed, not scored."""
    index = {g: i for i, g in enumerate(clf.labels)}
    y_true, y_pred, failed = [], [], []
    for c in tqdm(clips, desc="model", leave=False):
        try:
            pred = clf.predict(c.path)
        except AudioError as err:
            failed.append(f"{c.path.name}: {err}")
            continue
        y_true.append(index[c.genre])
        y_pred.append(index[pred.genre])
    return y_true, y_pred, failed


def report(clf: Classifier, *, data: dict, protocol: str, scored: tuple[list[int], list[int]],
           base: tuple[list[int], list[int]], base_info: dict, caveats: list[str]) -> tuple[dict, np.ndarray]:
    """The performance_metrics.json document for ``clf`` and its confusion matrix.

    ``scored`` and ``base`` are (true, predicted) label indices of the model and the baseline.
    """
    labels = clf.labels
    model_scores, base_scores = scores(*scored, labels), scores(*base, labels)
    matrix = confusion_matrix(*scored, labels=range(len(labels)))
    met = model_scores["accuracy"] >= PRODUCT_BAR
    metrics = {
        "model_version": clf.version,
        "model_name": clf.name,
        "evaluated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data": data,
        "protocol": protocol,
        "model": {**model_scores, "confusion_matrix": {"labels": labels, "rows": "true", "columns": "predicted",
                                                       "matrix": matrix.tolist()}},
        "baseline": {**base_info, **base_scores},
        "advantage_over_baseline": {"accuracy": round(model_scores["accuracy"] - base_scores["accuracy"], 4),
                                    "macro_f1": round(model_scores["macro_f1"] - base_scores["macro_f1"], 4)},
        "product_bar": {"accuracy": PRODUCT_BAR, "met": met,
                        "statement": ("meets" if met else "BELOW") + f" the {PRODUCT_BAR:.0%} accuracy product bar "
                                     f"({model_scores['accuracy']:.1%}, {data['split']})"},
        "caveats": caveats,
    }
    return metrics, matrix


def common_caveats(clf: Classifier, support: dict[str, int], failed: list[str]) -> list[str]:
    """The caveats every report carries: how the recipe was chosen (a recipe picked by its score on
    the scored clips reads optimistic), tiny data, absent genres, thin training genres, failures."""
    selection = clf.config.get("training", {}).get("model_selection")
    caveats = [selection] if selection else []
    caveats.append("Tiny data: per-genre figures rest on a handful of clips each and move a lot with one clip.")
    absent = [g for g in clf.labels if g not in support]
    if absent:
        caveats.append(f"Genres absent from the scored clips, so untested here: {', '.join(absent)}; "
                       "macro averages cover only the genres present.")
    data = clf.config.get("data", {})
    fit = {g: n + data.get("clips_early_stopping", {}).get(g, 0) for g, n in data.get("clips_fit", {}).items()}
    thin = [g for g in clf.labels if fit.get(g, 0) < 5]
    if thin:
        caveats.append(f"Genres with fewer than 5 training clips: {', '.join(thin)}; expect weak recall for them.")
    if failed:
        caveats.append(f"{len(failed)} clips could not be decoded and were skipped: {failed}")
    return caveats


def write_report(out, metrics: dict, matrix: np.ndarray, labels: list[str], title: str) -> None:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / METRICS, metrics)
    draw_confusion(matrix, labels, out / CONFUSION_PNG, title)
    model, base = metrics["model"], metrics["baseline"]
    print(f"model    acc {model['accuracy']:.3f}  macro-F1 {model['macro_f1']:.3f}")
    print(f"baseline acc {base['accuracy']:.3f}  macro-F1 {base['macro_f1']:.3f}")
    print(metrics["product_bar"]["statement"])
    print(f"wrote {out / METRICS} and {out / CONFUSION_PNG}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--data", required=True, help="CSV with file,genre,split")
    ap.add_argument("--split", default="valid")
    ap.add_argument("--out", default=None, help="where to write the metrics and PNG (default: the bundle)")
    ap.add_argument("--device", default="auto")
    args = ap.parse_args(argv)

    clf = Classifier.from_bundle(args.bundle, args.device)
    clips = read_clips(args.data)
    test = [c for c in clips if c.split == args.split]
    train_splits = clf.config.get("data", {}).get("splits") or []
    if not test:
        raise SystemExit(f"no rows with split {args.split!r} in {args.data}")
    if args.split in train_splits or not all(c.split for c in select(clips, train_splits)):
        raise SystemExit(f"split {args.split!r} was used in training this bundle: refusing to score on it")
    train = select(clips, train_splits)

    y_true, y_pred, failed = predict_clips(clf, test)
    base_pred, base_info = baseline(train, test, clf.labels, clf.sample_rate)
    index = {g: i for i, g in enumerate(clf.labels)}
    support = counts(test)
    held_out = (f"Scored on the '{args.split}' split only ({len(test)} clips); it shares no artist with the "
                "training rows and was not used for training (early stopping used an inner hold-out of the "
                "training rows).")
    data = {"file": Path(args.data).name, "sha256_16": file_digest(args.data), "split": args.split,
            "clips": len(test), "clips_per_genre": support,
            "genres_absent": [g for g in clf.labels if g not in support], "training_splits": train_splits}
    metrics, matrix = report(
        clf, data=data, scored=(y_true, y_pred), base=([index[c.genre] for c in test], base_pred),
        protocol=f"track-level prediction through ml.inference (up to {clf.max_segments} windows per clip, "
                 "mean of window probabilities)",
        base_info=base_info, caveats=[held_out, *common_caveats(clf, support, failed)])
    write_report(args.out or args.bundle, metrics, matrix, clf.labels,
                 f"{clf.version} on {Path(args.data).name}:{args.split} (acc {metrics['model']['accuracy']:.2f})")


if __name__ == "__main__":
    main()
