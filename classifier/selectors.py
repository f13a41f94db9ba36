"""Read-side queries. Every query is scoped to one owner: another user's track is a 404."""
import operator
from collections import Counter, defaultdict
from functools import reduce

from django.conf import settings
from django.db.models import Avg, BooleanField, Count, ExpressionWrapper, F, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from classifier.models import Album, Artist, Prediction, Track


def track_list(*, user):
    """The user's tracks, newest first, with their predictions in the same query."""
    return Track.objects.filter(owner=user).select_related("prediction")


def track_list_by_ids(*, user, track_ids) -> list[Track]:
    """Those of the given tracks that are the user's (others' and unknown ids are left out)."""
    return list(track_list(user=user).filter(pk__in=track_ids).defer(*LIST_DEFERRED))


def track_get(*, user, track_id) -> Track:
    """The user's track or Http404, also for ids that exist but belong to someone else."""
    return get_object_or_404(track_list(user=user), pk=track_id)


# --- Library, playlists and statistics ----------------------------------------------------

def effective_genre():
    """SQL for Track.genre: the user's own genre when set, else the model's (NULL: none)."""
    return F("listed_genre")


# What lists of tracks never show but a prediction mostly consists of (the embedding alone is a
# few KB of JSON per row): left out of track_list_with_genre, which every list page and the API
# list use. The track page and the exports read whole predictions through track_list().
LIST_DEFERRED = ("prediction__embedding", "prediction__timeline", "prediction__tags", "prediction__styles")


def track_list_with_genre(*, user):
    """track_list() with `effective_genre`, for lists: the heavy prediction fields are deferred."""
    return track_list(user=user).defer(*LIST_DEFERRED).annotate(effective_genre=effective_genre())


LIBRARY_SORTS = {
    "newest": ("-created_at",),
    "title": ("title", "original_name", "-created_at"),
    "artist": ("artist", "title", "-created_at"),
    "confidence": (F("prediction__confidence").desc(nulls_last=True), "-created_at"),
}


# What a search looks in, on the library page and in the API: the tags, and the file name for
# tracks that have none.
SEARCH_FIELDS = ["title", "artist", "album", "album_artist", "original_name"]
# The library's status filter also finds the guesses the model was unsure of: tracks waiting for
# their owner to decide a genre (they stay out of genre playlists until then).
UNSURE = "uncertain"


def library_tracks(*, user, search="", genre="", status="", sort="newest"):
    """The user's tracks filtered for the library page (one query, predictions joined)."""
    tracks = track_list_with_genre(user=user)
    if search:
        tracks = tracks.filter(reduce(operator.or_, (Q(**{f"{field}__icontains": search}) for field in SEARCH_FIELDS)))
    if genre:
        tracks = tracks.filter(effective_genre=genre)
    if status == UNSURE:
        tracks = tracks.filter(uncertain_guess())
    elif status:
        tracks = tracks.filter(status=status)
    return tracks.order_by(*LIBRARY_SORTS.get(sort, LIBRARY_SORTS["newest"]))



def uncertain_guess() -> Q:
    """Tracks whose genre is the model's and the model was unsure of it: they show its top two
    instead of one genre (Track.genre_uncertain, in SQL). A user's own genre is never uncertain."""
    return Q(listed_uncertain=True)


def genre_counts(*, user, certain_only=False) -> list[dict]:
    """[{"genre", "count", "uncertain"}] for every genre in the user's library, largest first.

    A count matches what filtering by genre finds: an uncertain track keeps its top genre in the
    database, and `uncertain` says how many of the count are such guesses, so a page can say why
    it differs from a playlist's. `certain_only` leaves them out ([{"genre", "count"}]), as
    playlists do."""
    tracks = Track.objects.filter(owner=user)
    # COUNT(*), not COUNT(id): SQLite then reads the (owner, listed_genre, listed_uncertain) index
    # alone, not every row (1 ms instead of 10 at 10,000 tracks).
    counts = {"count": Count("*")}
    if certain_only:
        tracks = tracks.exclude(uncertain_guess())
    else:
        counts["uncertain"] = Count("pk", filter=uncertain_guess())
    rows = tracks.annotate(g=effective_genre()).exclude(g__isnull=True).values("g").annotate(**counts)
    return [{"genre": row.pop("g"), **row} for row in rows.order_by("-count", "g")]


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
    # "< or >" rather than "!=", in a subquery: ranges of the index on model_version find the
    # (usually no) older predictions without joining every track of the library to its own.
    older = Prediction.objects.filter(Q(model_version__lt=version) | Q(model_version__gt=version))
    return track_list(user=user).filter(pk__in=older.values("track_id"))


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


# A radio is the track it starts from and this many that sound like it.
RADIO_SIMILAR = 24


def radio_tracks(*, user, track, similar=RADIO_SIMILAR) -> list[Track]:
    """A radio started from `track`: the track, then the user's tracks that sound most like it."""
    return [track, *(other for other, _score in track_similar(user=user, track=track, limit=similar))]


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


# --- Artists, albums and genres ---------------------------------------------------------------

# Disc, then track number; tracks without a number after all the numbered ones, by title. A track
# without a disc number is on disc 1, so numbering the disc of one track moves nothing.
ALBUM_ORDER = (ExpressionWrapper(Q(track_number__isnull=True), output_field=BooleanField()).asc(),
               Coalesce("disc_number", 1).asc(), "track_number", "title", "original_name", "pk")
# Tags of the installed taggers that describe a mood rather than a style, era or voice (the MSD
# tagger's vocabulary, compared case-insensitively).
MOOD_TAGS = frozenset({"beautiful", "chill", "chillout", "mellow", "sexy", "catchy", "party", "sad", "happy",
                       "easy listening", "relaxing", "romantic", "dark", "energetic", "calm", "melancholic",
                       "upbeat", "aggressive", "dreamy", "epic"})
# A mood the model gives under this on average was hardly heard in the genre ("sad 0%"): not shown.
MOOD_MIN = 0.05


def album_list(*, user, search=""):
    """The user's albums by title, each with its track count, latest year and `cover_track_id`:
    the first track (in album order) that has a cover, or None."""
    first_cover = Track.objects.filter(album_ref=OuterRef("pk")).exclude(cover="").order_by(*ALBUM_ORDER)
    albums = (
        Album.objects.filter(owner=user).select_related("artist")
        .annotate(track_count=Count("tracks"), year=Max("tracks__year"),
                  cover_track_id=Subquery(first_cover.values("pk")[:1]))
    )
    if search:
        albums = albums.filter(Q(title__icontains=search) | Q(artist__name__icontains=search))
    return albums.order_by("key", "artist_key")


def album_get(*, user, album_id) -> Album:
    """The user's album (annotated as in album_list) or Http404, also for another user's."""
    return get_object_or_404(album_list(user=user), pk=album_id)


def album_tracks(*, user, album):
    """The album's tracks in disc and track order, with their genres."""
    return track_list_with_genre(user=user).filter(album_ref=album).order_by(*ALBUM_ORDER)


def library_in_album_order(*, user):
    """Every track of the user, artist by artist and album by album, each album in disc and
    track order: how a download of the whole library is filed."""
    return track_list_with_genre(user=user).order_by("album_artist", "artist", "album", *ALBUM_ORDER)


def artist_list(*, user, search=""):
    """The user's artists by name, with how many tracks they play and albums they head."""
    artists = Artist.objects.filter(owner=user).annotate(
        track_count=Count("tracks", distinct=True), album_count=Count("albums", distinct=True))
    if search:
        artists = artists.filter(name__icontains=search)
    return artists.order_by("key")


def artist_get(*, user, artist_id) -> Artist:
    return get_object_or_404(artist_list(user=user), pk=artist_id)


def artist_albums(*, user, artist):
    """Albums the artist heads or plays a track on."""
    played_on = Track.objects.filter(artist_ref=artist, album_ref__isnull=False).values("album_ref")
    return album_list(user=user).filter(Q(artist=artist) | Q(pk__in=played_on))


def artist_tracks(*, user, artist):
    """Tracks the artist plays or that are on an album they head, in album order."""
    return (track_list_with_genre(user=user)
            .filter(Q(artist_ref=artist) | Q(album_ref__artist=artist))
            .order_by("album_ref__key", *ALBUM_ORDER))


def genre_mix(tracks) -> list[dict]:
    """[{"genre", "count", "percent", "uncertain"}] of the effective genres among `tracks` (a
    queryset of track_list_with_genre), largest first; tracks without a genre yet are left out.
    A guess the model was unsure of counts under that guess, and `uncertain` says how many did."""
    rows = (tracks.order_by().exclude(effective_genre__isnull=True)
            .values("effective_genre").annotate(count=Count("pk"), uncertain=Count("pk", filter=uncertain_guess()))
            .order_by("-count", "effective_genre"))
    total = sum(row["count"] for row in rows)
    return [{"genre": row["effective_genre"], "count": row["count"], "percent": round(100 * row["count"] / total),
             "uncertain": row["uncertain"]} for row in rows]


def album_top_genres(*, user, album_ids) -> dict:
    """{album id: its most common effective genre} for the given albums (one query): what a
    missing cover's placeholder says."""
    rows = (track_list_with_genre(user=user).order_by().filter(album_ref__in=list(album_ids))
            .exclude(effective_genre__isnull=True)
            .values("album_ref", "effective_genre").annotate(count=Count("pk")))
    best = {}
    for row in sorted(rows, key=lambda row: (-row["count"], row["effective_genre"])):
        best.setdefault(row["album_ref"], row["effective_genre"])
    return best


def _genre_moods(tracks, limit) -> dict:
    """{genre: its top `limit` mood tags as [{"tag", "score", "percent"}]}, each tag's score the
    mean over the genre's classified tracks. Streams the tags: memory stays flat however large
    the library."""
    totals, counts = defaultdict(Counter), Counter()
    rows = tracks.filter(prediction__isnull=False).values_list("effective_genre", "prediction__tags")
    for genre, tags in rows.iterator(chunk_size=2000):
        counts[genre] += 1
        for tag, score in (tags or {}).items():
            if tag.casefold() in MOOD_TAGS:
                totals[genre][tag.casefold()] += score
    moods = {}
    for genre, total in totals.items():
        ranked = sorted(((tag, value / counts[genre]) for tag, value in total.items() if value / counts[genre] >= MOOD_MIN),
                        key=lambda i: (-i[1], i[0]))
        moods[genre] = [{"tag": tag, "score": score, "percent": round(score * 100)} for tag, score in ranked[:limit]]
    return moods


def genre_overview(*, user, top_artists=6, top_albums=4, top_moods=5) -> list[dict]:
    """Per genre of the user's library, largest first: its track count, its artists and albums
    with the most tracks of it, and the mood tags the model heard most in it. Counted as the
    genre playlists are built (uncertain guesses left out), so the numbers match what plays."""
    genres = genre_counts(user=user, certain_only=True)
    tracks = track_list_with_genre(user=user).order_by().exclude(uncertain_guess()).exclude(effective_genre__isnull=True)
    artists, albums = defaultdict(list), defaultdict(list)
    artist_rows = (tracks.filter(artist_ref__isnull=False).values("effective_genre", "artist_ref", "artist_ref__name")
                   .annotate(count=Count("pk")).order_by("-count", "artist_ref__key"))
    for row in artist_rows:
        if len(artists[row["effective_genre"]]) < top_artists:
            artists[row["effective_genre"]].append(
                {"id": row["artist_ref"], "name": row["artist_ref__name"], "count": row["count"]})
    album_rows = (tracks.filter(album_ref__isnull=False).values("effective_genre", "album_ref")
                  .annotate(count=Count("pk")).order_by("-count", "album_ref__key"))
    for row in album_rows:
        if len(albums[row["effective_genre"]]) < top_albums:
            albums[row["effective_genre"]].append(row["album_ref"])
    by_id = album_list(user=user).in_bulk([pk for ids in albums.values() for pk in ids])
    moods = _genre_moods(tracks, top_moods)
    return [{
        **row,
        "artists": artists[row["genre"]],
        "albums": [by_id[pk] for pk in albums[row["genre"]] if pk in by_id],
        "moods": moods.get(row["genre"], []),
    } for row in genres]


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
