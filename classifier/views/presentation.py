"""Shaping a Track and its Prediction for templates and the status JSON (read-only, no queries).

Times and percentages are formatted in templates with the `mmss`/`percent` filters of library_tags."""
from django.urls import reverse

TOP_TAGS = 10


def _hues(labels) -> dict[str, int]:
    # One hue per label, in the bundle's label order, so a genre has the same colour everywhere.
    labels = list(labels)
    return {label: round(i * 360 / max(len(labels), 1)) for i, label in enumerate(labels)}


def prediction_display(prediction, duration=None) -> dict:
    """Bars (sorted by probability), timeline segments as % of the track, and the top tags."""
    hues = _hues(prediction.probabilities)
    bars = [
        {"label": label, "probability": p, "percent": round(p * 100, 1), "hue": hues[label]}
        for label, p in sorted(prediction.probabilities.items(), key=lambda item: -item[1])
    ]
    # The model looks at windows spread over the track; scale to the whole track so gaps show.
    length = max([duration or 0, *(segment["end"] for segment in prediction.timeline)]) or 1
    timeline = [
        {
            **segment,
            "left": round(segment["start"] / length * 100, 3),
            "width": round((segment["end"] - segment["start"]) / length * 100, 3),
            "hue": hues.get(segment["genre"], 0),
            "percent": round(segment["confidence"] * 100),
        }
        for segment in prediction.timeline
    ]
    tags = sorted(prediction.tags.items(), key=lambda item: -item[1])[:TOP_TAGS]
    return {
        "bars": bars,
        "timeline": timeline,
        "timeline_genres": [bar for bar in bars if any(s["genre"] == bar["label"] for s in timeline)],
        "timeline_length": length,
        "tags": [{"tag": tag, "score": score, "percent": round(score * 100)} for tag, score in tags],
        "percent": round(prediction.confidence * 100, 1),
    }


def track_status_payload(track) -> dict:
    """What track.js polls: the status, the failure reason and, once done, the prediction."""
    payload = {
        "id": str(track.pk),
        "status": track.status,
        "status_display": track.get_status_display(),
        "failure_reason": track.failure_reason,
        "genre": track.genre,
        "genre_source": track.genre_source,
        "url": reverse("track-detail", args=[track.pk]),
        "prediction": None,
    }
    prediction = getattr(track, "prediction", None)
    if track.status == track.Status.DONE and prediction is not None:
        payload["prediction"] = {
            "genre": prediction.genre,
            "confidence": prediction.confidence,
            "probabilities": prediction.probabilities,
            "timeline": prediction.timeline,
            "tags": dict(sorted(prediction.tags.items(), key=lambda item: -item[1])[:TOP_TAGS]),
            "model_version": prediction.model_version,
            "classified_at": prediction.classified_at.isoformat(),
        }
        if track.spectrogram:
            payload["spectrogram_url"] = reverse("track-spectrogram", args=[track.pk])
    return payload
