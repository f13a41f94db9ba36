"""Score a bundle on labelled clips it never saw, per source, beside the baselines.

    python -m ml.evaluate --bundle models/saved_models --data held_out.csv [more.csv ...] \\
        [--split test] [--train-data gtzan.csv emotify.csv] [--out DIR]

The model predicts each clip through ``ml.inference`` (the product's own path). For a fusion
bundle the zero-shot baselines are scored on the same clips, and with ``--train-data`` (the CSVs
the bundle was trained on) the probe baseline is fitted on those and scored too. Refuses rows the
bundle was trained on. Writes performance_metrics.json and confusion_matrix.png to --out
(default: the bundle).
"""
from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from tqdm import tqdm

from .audio import AudioError
from .bank import EVAL, FeatureBank
from .bundle import CONFUSION_PNG, METRICS, write_json
from .inference import Classifier
from .scoring import BASELINE_METHODS, Baselines, by_source, clip_report
from .sources import Clip, counts, file_digest, read_clips, select, sources


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


def predict_clips(clf: Classifier, clips: list[Clip]) -> tuple[list[Clip], list[str], list[str]]:
    """Track-level predictions through the inference API; undecodable clips are listed, not scored."""
    scored, predicted, failed = [], [], []
    for c in tqdm(clips, desc="model", leave=False):
        try:
            predicted.append(clf.predict(c.path).genre)
        except AudioError as err:
            failed.append(f"{c.path.name}: {err}")
            continue
        scored.append(c)
    return scored, predicted, failed


def write_metrics(out, metrics: dict) -> None:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / METRICS, metrics)
    print(f"wrote {out / METRICS}")


def used_in_training(config: dict, data: list[str], split: str | None) -> list[str]:
    """The given CSVs whose rows (or whose ``split``) the bundle was trained on."""
    trained = config.get("data", {})
    files = trained.get("file_digests", {})
    splits = trained.get("splits") or []
    return [d for d in data if files.get(Path(d).name) == file_digest(d) and (split is None or not splits or split in splits)]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--data", required=True, nargs="+", help="held-out CSVs (file,genre[,split,source,artist,id3_genre])")
    ap.add_argument("--split", default=None, help="score only the rows of this split")
    ap.add_argument("--train-data", nargs="*", default=[], help="the bundle's training CSVs, to fit the probe baseline")
    ap.add_argument("--out", default=None, help="where to write the metrics and PNG (default: the bundle)")
    ap.add_argument("--cache", default=None, help="folder caching backbone outputs")
    ap.add_argument("--device", default="auto")
    args = ap.parse_args(argv)

    clf = Classifier.from_bundle(args.bundle, args.device)
    clashes = used_in_training(clf.config, args.data, args.split)
    if clashes:
        raise SystemExit(f"{', '.join(clashes)} (split {args.split}) was used in training this bundle: refusing to score on it")
    test = [c for c in read_clips(*args.data) if args.split is None or c.split == args.split]
    if not test:
        raise SystemExit(f"no rows to score in {args.data} (split {args.split})")
    unknown = {c.genre for c in test} - set(clf.labels)
    if unknown:
        raise SystemExit(f"genres the bundle does not know: {sorted(unknown)}")

    scored, predicted, failed = predict_clips(clf, test)
    metrics = {
        "model_version": clf.version, "model_name": clf.name,
        "evaluated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data": {"files": [Path(d).name for d in args.data], "sha256_16": file_digest(*args.data), "split": args.split,
                 "sources": {s: counts([c for c in scored if c.source == s]) for s in sources(scored)}},
        "protocol": f"track-level prediction through ml.inference (up to {clf.max_segments} windows per clip, "
                    "mean of window probabilities), scored per source on clips the bundle never saw",
        "model": by_source(scored, predicted, clf.labels),
        "all_sources": clip_report(scored, predicted, clf.labels),
    }
    if clf.config["architecture"]["name"] == "fusion_genre":
        metrics["baselines"] = baseline_reports(clf, scored, args)
        metrics["baseline_methods"] = BASELINE_METHODS
    caveats = []
    if clf.config.get("training", {}).get("model_selection"):
        caveats.append(clf.config["training"]["model_selection"])
    if failed:
        caveats.append(f"{len(failed)} clips could not be decoded and were skipped: {failed}")
    metrics["caveats"] = caveats
    out = Path(args.out or args.bundle)
    write_metrics(out, metrics)
    pooled = metrics["all_sources"]
    draw_confusion(np.array(pooled["confusion_matrix"]["matrix"]), clf.labels, out / CONFUSION_PNG,
                   f"{clf.version} on {', '.join(metrics['data']['files'])} (acc {pooled['accuracy']:.2f})")
    for source, rep in metrics["model"].items():
        lenient = f", lenient {rep['lenient_accuracy']:.3f}" if "lenient_accuracy" in rep else ""
        print(f"{source}: accuracy {rep['accuracy']:.3f}{lenient}, macro-F1 {rep['macro_f1']:.3f} ({rep['clips']} clips)")


def baseline_reports(clf: Classifier, clips: list[Clip], args) -> dict:
    """The baselines on the same clips, from the bundle's own frozen backbones."""
    bank = FeatureBank(clf.model, clf.config, clf.device, args.cache, identity=clf.config.get("pretrained"))
    base = Baselines(clf.model, clf.labels, clf.tags, clf.config.get("zero_shot_tags", {}))
    outs = bank.outputs(clips, EVAL)
    names = lambda probs: [clf.labels[int(np.argmax(p))] for p in probs]  # noqa: E731
    reports = {"zero_shot_audioset": by_source(clips, names(map(base.zero_shot_audioset, outs)), clf.labels),
               "zero_shot_tags": by_source(clips, names(map(base.zero_shot_tags, outs)), clf.labels)}
    if args.train_data:
        train = select(read_clips(*args.train_data), clf.config.get("data", {}).get("splits"))
        index = {g: i for i, g in enumerate(clf.labels)}
        probe = base.fit_probe(bank.outputs(train, EVAL), [index[c.genre] for c in train])
        reports["probe"] = by_source(clips, names(map(probe, outs)), clf.labels)
    return reports


if __name__ == "__main__":
    main()
