"""What the player bar queues: the tracks behind a play button, as JSON (static/js/player.js)."""
import uuid

from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from classifier import selectors

# A radio is the track it starts from and this many that sound like it.
RADIO_SIMILAR = 24
SOURCES = ("track", "genre", "radio", "album", "artist")


class BadSource(ValueError):
    """The query string does not name one thing to play."""


def _track(user, value):
    try:
        track_id = uuid.UUID(value)
    except ValueError:
        raise BadSource(f"“{value}” is not a track id.") from None
    return selectors.track_get(user=user, track_id=track_id)


def queue_tracks(user, params) -> list:
    """The tracks one play button stands for, in playing order: `track` (one track), `genre`
    (the genre's playlist, most confident first), `radio` (a track, then the user's tracks
    that sound most like it), `album` (in disc and track order) or `artist` (album by album).
    Raises BadSource, or Http404 for a track, album or artist that is not the user's."""
    given = [name for name in SOURCES if params.get(name)]
    if len(given) != 1:
        raise BadSource("Say what to play with one of: " + ", ".join(SOURCES) + ".")
    source = given[0]
    value = params[source]
    if source == "genre":
        return list(selectors.playlist_tracks(user=user, genre=value))
    if source in ("album", "artist"):
        if not value.isdigit():
            raise BadSource(f"“{value}” is not an {source} id.")
        if source == "album":
            return list(selectors.album_tracks(user=user, album=selectors.album_get(user=user, album_id=int(value))))
        return list(selectors.artist_tracks(user=user, artist=selectors.artist_get(user=user, artist_id=int(value))))
    track = _track(user, value)
    if source == "track":
        return [track]
    similar = selectors.track_similar(user=user, track=track, limit=RADIO_SIMILAR)
    return [track, *(other for other, _score in similar)]


def queue_item(track) -> dict:
    """One entry of the queue: what the bar shows, the Media Session announces, and what it plays."""
    return {
        "id": str(track.pk),
        "title": track.display_title,
        "artist": track.artist,
        "album": track.album,
        "genre": track.genre,
        "duration": track.duration,
        "url": reverse("track-detail", args=[track.pk]),
        "audio_url": reverse("track-audio", args=[track.pk]),
        "cover_url": reverse("track-cover", args=[track.pk]) if track.cover else None,
    }


@login_required
@require_safe
def player_tracks(request):
    try:
        tracks = queue_tracks(request.user, request.GET)
    except BadSource as err:
        return JsonResponse({"error": str(err)}, status=400)
    except Http404:
        return JsonResponse({"error": "No such track in your library."}, status=404)
    return JsonResponse({"tracks": [queue_item(track) for track in tracks]})
