"""Read-side queries. Every query is scoped to one owner: another user's track is a 404."""
from django.conf import settings
from django.db.models import Avg, Count, F, Q, Value
from django.db.models.functions import Coalesce, NullIf
from django.shortcuts import get_object_or_404

from classifier.models import Track


def track_list(*, user):
    """The user's tracks, newest first, with their predictions in the same query."""
    return Track.objects.filter(owner=user).select_related("prediction")


def track_get(*, user, track_id) -> Track:
    """The user's track or Http404, also for ids that exist but belong to someone else."""
    return get_object_or_404(track_list(user=user), pk=track_id)


# --- Library, playlists and statistics ----------------------------------------------------

def effective_genre():
    """SQL for Track.genre: the user's own genre when set, else the model's."""
    return Coalesce(NullIf("user_genre", Value("")), "prediction__genre")


def track_list_with_genre(*, user):
    return track_list(user=user).annotate(effective_genre=effective_genre())


LIBRARY_SORTS = {
    "newest": ("-created_at",),
    "title": ("title", "original_name", "-created_at"),
    "artist": ("artist", "title", "-created_at"),
    "confidence": (F("prediction__confidence").desc(nulls_last=True), "-created_at"),
}


def library_tracks(*, user, search="", genre="", status="", sort="newest"):
    """The user's tracks filtered for the library page (one query, predictions joined)."""
    tracks = track_list_with_genre(user=user)
    if search:
        tracks = tracks.filter(
            Q(title__icontains=search) | Q(artist__icontains=search) | Q(album__icontains=search)
            | Q(original_name__icontains=search)
        )
    if genre:
        tracks = tracks.filter(effective_genre=genre)
    if status:
        tracks = tracks.filter(status=status)
    return tracks.order_by(*LIBRARY_SORTS.get(sort, LIBRARY_SORTS["newest"]))


def uncertain_guess() -> Q:
    """Tracks whose genre is the model's and the model was unsure of it: they show its top two
    instead of one genre (Track.genre_uncertain, in SQL). A user's own genre is never uncertain."""
    return Q(user_genre="", prediction__uncertain=True)


def genre_counts(*, user, certain_only=False) -> list[dict]:
    """[{"genre", "count"}] for every genre in the user's library, largest first.

    All of them match what filtering by genre finds (an uncertain track keeps its top genre in
    the database); `certain_only` leaves the uncertain guesses out, as playlists do."""
    tracks = Track.objects.filter(owner=user)
    if certain_only:
        tracks = tracks.exclude(uncertain_guess())
    rows = (
        tracks
        .annotate(g=effective_genre())
        .exclude(g__isnull=True)
        .values("g")
        .annotate(count=Count("pk"))
        .order_by("-count", "g")
    )
    return [{"genre": row["g"], "count": row["count"]} for row in rows]


def playlist_tracks(*, user, genre):
    """The user's tracks of one (effective) genre, most confident first. A guess the model was
    unsure of is left out: a genre playlist should hold tracks of that genre, not maybes."""
    return (
        track_list_with_genre(user=user)
        .filter(effective_genre=genre)
        .exclude(uncertain_guess())
        .order_by(F("prediction__confidence").desc(nulls_last=True), "title", "pk")
    )


def library_stats(*, user) -> dict:
    """Counts per status, how many carry a user genre, how many are uncertain guesses, and the
    average model confidence."""
    totals = Track.objects.filter(owner=user).aggregate(
        total=Count("pk"),
        corrected=Count("pk", filter=~Q(user_genre="")),
        uncertain=Count("pk", filter=uncertain_guess()),
        average_confidence=Avg("prediction__confidence"),
        **{status: Count("pk", filter=Q(status=status)) for status in Track.Status.values},
    )
    return {
        "total": totals["total"],
        "corrected": totals["corrected"],
        "uncertain": totals["uncertain"],
        "average_confidence": totals["average_confidence"],
        "by_status": {status: totals[status] for status in Track.Status.values},
    }


def tracks_least_confident(*, user, limit=10):
    return (
        track_list_with_genre(user=user)
        .filter(status=Track.Status.DONE, prediction__isnull=False)
        .order_by("prediction__confidence", "pk")[:limit]
    )


def tracks_outdated(*, user, version):
    """Classified tracks whose prediction came from another model version than `version`."""
    return track_list(user=user).filter(prediction__isnull=False).exclude(prediction__model_version=version)


def track_similar(*, user, track, limit=5) -> list[tuple[Track, float]]:
    """The user's tracks closest to `track` by cosine similarity of the (L2-normalised) embeddings."""
    prediction = getattr(track, "prediction", None)
    if prediction is None or not prediction.embedding:
        return []
    import numpy as np  # only this read needs it

    target = np.asarray(prediction.embedding, dtype=np.float32)
    rows = list(
        Track.objects.filter(owner=user, prediction__isnull=False)
        .exclude(pk=track.pk)
        .values_list("pk", "prediction__embedding")
    )
    rows = [(pk, emb) for pk, emb in rows if emb and len(emb) == target.size]
    if not rows:
        return []
    scores = np.asarray([emb for _, emb in rows], dtype=np.float32) @ target
    best = np.argsort(-scores)[:limit]
    by_pk = track_list_with_genre(user=user).in_bulk([rows[i][0] for i in best])
    return [(by_pk[rows[i][0]], float(scores[i])) for i in best if rows[i][0] in by_pk]


def installed_bundle() -> dict | None:
    """bundle_info() of the configured model, or None while no model is installed."""
    from ml.inference import bundle_info

    try:
        return bundle_info(settings.MODEL_BUNDLE_DIR)
    except (FileNotFoundError, ValueError):
        return None


def bundle_labels(bundle: dict | None) -> list[str]:
    """A bundle's genre labels, in its order ([] for no bundle). The only reader of the labels:
    they grow with new bundles, so no page or endpoint keeps a list of its own."""
    return list(bundle["config"].get("labels", [])) if bundle else []


def installed_labels() -> list[str]:
    """The installed model's genre labels, in its order ([] while no model is installed)."""
    return bundle_labels(installed_bundle())


def installed_version() -> str | None:
    bundle = installed_bundle()
    return bundle["config"].get("version") if bundle else None


# --- API tokens and webhooks ----------------------------------------------------------------

def api_token_list(*, user):
    from classifier.models import ApiToken

    return ApiToken.objects.filter(user=user)


def api_token_get(*, user, token_id):
    return get_object_or_404(api_token_list(user=user), pk=token_id)


def webhook_list(*, user):
    from classifier.models import Webhook

    return Webhook.objects.filter(owner=user)


def webhook_list_with_recent_deliveries(*, user, limit=5):
    """Webhooks, each with `recent_deliveries` (its newest `limit`) in one query for all of them."""
    from django.db.models import Prefetch

    from classifier.models import WebhookDelivery

    # A sliced Prefetch (window function, Django 4.2+) instead of one query per webhook.
    recent = Prefetch("deliveries", queryset=WebhookDelivery.objects.order_by("-created_at")[:limit],
                      to_attr="recent_deliveries")
    return webhook_list(user=user).prefetch_related(recent)


def webhook_get(*, user, webhook_id):
    return get_object_or_404(webhook_list(user=user), pk=webhook_id)


def webhook_deliveries(*, webhook, limit=50):
    return webhook.deliveries.all()[:limit]
