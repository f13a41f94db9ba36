"""Shaping a Track and its Prediction for templates and the status JSON (read-only, no queries).

Times and percentages are formatted in templates with the `mmss`/`percent` filters of library_tags."""
from django.urls import reverse

TOP_TAGS = 10
# Style hints are unvalidated zero-shot guesses: below this they are mostly noise, so not shown.
STYLE_HINT_MIN = 0.2


def genre_hues(labels) -> dict[str, int]:
    # One hue per label, in the bundle's label order, so a genre has the same colour everywhere.
    labels = list(labels)
    return {label: round(i * 360 / max(len(labels), 1)) for i, label in enumerate(labels)}


def cover_placeholder(genre: str, *, unsure: bool = False, failed: bool = False) -> dict:
    """What a placeholder for a missing cover says, on the pages and in the player bar: the genre,
    a guess with its question mark (as the pages say "maybe"), or why there is none."""
    text = f"{genre}?" if genre and unsure else genre or ("no genre" if failed else "no genre yet")
    label = "No cover" + (f"; genre {genre}" + (", maybe" if unsure else "") if genre else "")
    return {"text": text, "label": label}


def prediction_display(prediction, duration=None, labels=()) -> dict:
    """Bars (sorted by probability), the top two genres (what an uncertain prediction shows),
    timeline segments as % of the track, the top tags, and the style hints that reach
    STYLE_HINT_MIN (highest first; none for predictions without them).

    `labels` are the installed bundle's: colours follow its order, so a track classified before
    the bundle gained a genre shows each genre in the same colour as a new one."""
    hues = genre_hues(dict.fromkeys([*labels, *prediction.probabilities]))
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
    styles = sorted(((name, p) for name, p in prediction.styles.items() if p >= STYLE_HINT_MIN),
                    key=lambda item: -item[1])
    top_two = [{"label": guess.genre, "percent": round(guess.probability * 100, 1), "hue": hues[guess.genre]}
               for guess in prediction.top_two]
    return {
        "bars": bars,
        "top_two": top_two,
        "timeline": timeline,
        "timeline_genres": [bar for bar in bars if any(s["genre"] == bar["label"] for s in timeline)],
        "timeline_length": length,
        # The share of the track the windows leave out (shown in grey, and said in the legend).
        "timeline_unheard": round(max(0.0, 100 - sum(segment["width"] for segment in timeline))),
        "tags": [{"tag": tag, "score": score, "percent": round(score * 100)} for tag, score in tags],
        "styles": [{"style": name, "probability": p, "percent": round(p * 100)} for name, p in styles],
        "percent": round(prediction.confidence * 100, 1),
    }


def track_status_summary(track) -> dict:
    """The status, the failure reason and, once done, the genre with the top two guesses: what the
    upload page polls for every track it sent."""
    summary = {
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
        summary["prediction"] = {
            "genre": prediction.genre,
            "confidence": prediction.confidence,
            "uncertain": prediction.uncertain,
            "top_genres": [guess._asdict() for guess in prediction.top_two],
        }
    return summary


def track_status_payload(track) -> dict:
    """What track.js polls: the summary and, once done, the whole prediction."""
    payload = track_status_summary(track)
    if payload["prediction"] is not None:
        prediction = track.prediction
        payload["prediction"].update({
            "probabilities": prediction.probabilities,
            "timeline": prediction.timeline,
            "tags": dict(sorted(prediction.tags.items(), key=lambda item: -item[1])[:TOP_TAGS]),
            "model_version": prediction.model_version,
            "classified_at": prediction.classified_at.isoformat(),
        })
        if track.spectrogram:
            payload["spectrogram_url"] = reverse("track-spectrogram", args=[track.pk])
    return payload
