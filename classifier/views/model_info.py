"""What model is installed: straight from the bundle's own files (config, metrics, confusion matrix).

The metrics file is written by the ml package and may grow; the page shows whatever it finds:
plain values as facts, {genre: {metric: value}} tables as tables, other dicts as sections.
"""
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import render

from classifier import selectors

PER_GENRE_KEYS = ("per_genre", "per_class", "per_label")
# Shown in their own sections (the summary table, targets, notes), or too detailed for the page:
# they stay in performance_metrics.json.
OWN_SECTIONS = ("summary", "targets", "below_a_baseline", "baselines", "within_source", "leave_one_source_out")


def _text(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".")
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value) if all(not isinstance(v, (list, dict)) for v in value) else f"{len(value)} items"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items())
    return "—" if value is None else str(value)


def _facts(data: dict, skip=()) -> list[tuple[str, str]]:
    """Key/value pairs for a <dl>; nested dicts one level deep are folded into "key.sub"."""
    facts = []
    for key, value in data.items():
        if key in skip:
            continue
        if isinstance(value, dict) and value and all(not isinstance(v, dict) for v in value.values()) and len(value) <= 12:
            facts.append((key.replace("_", " "), _text(value)))
        elif isinstance(value, dict):
            facts.extend((f"{key.replace('_', ' ')} · {k}", v) for k, v in _facts(value))
        else:
            facts.append((key.replace("_", " "), _text(value)))
    return facts


def _per_genre(section: dict):
    for key in PER_GENRE_KEYS:
        table = section.get(key)
        if isinstance(table, dict) and table and all(isinstance(v, dict) for v in table.values()):
            columns = list(dict.fromkeys(c for row in table.values() for c in row))
            return {"columns": columns,
                    "rows": [(genre, [_text(row.get(c)) for c in columns]) for genre, row in table.items()]}
    return None


def _score_section(title: str, section: dict) -> dict:
    return {
        "title": title,
        "facts": [(k.replace("_", " "), _text(v)) for k, v in section.items() if isinstance(v, (int, float, str))],
        "per_genre": _per_genre(section),
    }


def summary_table(metrics: dict) -> dict | None:
    """The metrics' summary rows (model and each baseline on the same clips) as one table."""
    rows = metrics.get("summary")
    if not isinstance(rows, list) or not rows:
        return None
    baselines = list(metrics.get("baselines") or {})
    return {"baselines": [(b.replace("_", " "), _text(metrics["baselines"][b])) for b in baselines],
            "rows": [{"measured": r.get("measured"), "scoring": r.get("scoring"), "clips": r.get("clips"),
                      "model": _text(r.get("model")), "values": [_text(r.get(b)) for b in baselines],
                      "best": all((r.get("model") or 0) > (r.get(b) or 0) for b in baselines)} for r in rows]}


def _percent(value) -> int | None:
    return round(value * 100) if isinstance(value, (int, float)) else None


def in_short(metrics: dict) -> dict:
    """The page's first lines, for someone who only wants to know how far to trust a genre: the
    range of the held-out accuracies in the summary, and what "uncertain" means and how often."""
    scores = [row["model"] for row in metrics.get("summary") or [] if isinstance(row.get("model"), (int, float))]
    calibration = metrics.get("calibration") or {}
    share_certain = calibration.get("share_certain")
    return {
        "accuracy_low": _percent(min(scores)) if scores else None,
        "accuracy_high": _percent(max(scores)) if scores else None,
        "uncertain_below": _percent(calibration.get("uncertain_below")),
        "share_uncertain": _percent(1 - share_certain) if isinstance(share_certain, (int, float)) else None,
        "accuracy_when_certain": _percent(calibration.get("accuracy_when_certain")),
    }


def metrics_sections(metrics: dict) -> tuple[list, list]:
    """(scores, information): dicts holding numbers become score sections, the rest facts.
    The caveats are left out here: the page lists them one per line."""
    scores, info = [], []
    metrics = {k: v for k, v in metrics.items() if k not in OWN_SECTIONS}
    top = {k: v for k, v in metrics.items() if not isinstance(v, dict) and k != "caveats"}
    if any(isinstance(v, float) for v in top.values()) or _per_genre(metrics):
        scores.append(_score_section("Scores", metrics))
    else:
        info.extend(_facts(top))
    for key, value in metrics.items():
        if not isinstance(value, dict) or key in PER_GENRE_KEYS:
            continue
        if any(isinstance(v, float) for v in value.values()) or _per_genre(value):
            scores.append(_score_section(key.replace("_", " ").capitalize(), value))
        else:
            info.extend((f"{key} · {k}", v) for k, v in _facts(value))
    return scores, info


@login_required
def model_info(request):
    bundle = selectors.installed_bundle()
    if bundle is None:
        return render(request, "model/info.html", {"bundle": None})
    config, metrics = bundle["config"], bundle["metrics"] or {}
    scores, evaluation = metrics_sections(metrics)
    training = config.get("training") or config.get("train") or {}
    return render(request, "model/info.html", {
        "bundle": bundle,
        "config": config,
        "metrics": metrics,
        "scores": scores,
        "evaluation": evaluation,
        "caveats": [_text(c) for c in metrics.get("caveats") or []],
        "summary": summary_table(metrics),
        "in_short": in_short(metrics),
        "targets": [{"what": t.get("what"), "value": t.get("value"), "target": t.get("target"), "met": t.get("met")}
                    for t in metrics.get("targets") or []],
        "below_baseline": [_text(n) for n in metrics.get("below_a_baseline") or []],
        "architecture": [("name", (config.get("architecture") or {}).get("name", "—")),
                         *_facts((config.get("architecture") or {}).get("params", {}))],
        "features": _facts(config.get("features", {})),
        "training": _facts(training),
        "data": _facts(config.get("data") or config.get("dataset") or {}),
        "pretrained": _facts(config.get("pretrained") or {}),
        "labels": selectors.bundle_labels(bundle),
        "has_confusion_matrix": bool(bundle["confusion_matrix_png"]),
    })


@login_required
def confusion_matrix(request):
    bundle = selectors.installed_bundle()
    if not bundle or not bundle["confusion_matrix_png"]:
        raise Http404("This model has no confusion matrix.")
    return FileResponse(open(bundle["confusion_matrix_png"], "rb"), content_type="image/png")
