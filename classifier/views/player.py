"""What the player bar queues: the tracks behind a play button, as JSON (static/js/player.js)."""
import uuid

from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from classifier import selectors
from classifier.views.presentation import cover_placeholder, genre_hues

# ?<source>=<value>: how the value is read, what it names (for messages), and the tracks it
# stands for in playing order. Another user's track, album or artist is a 404 (selectors).
SOURCES = {
    "track": (uuid.UUID, "track", lambda user, pk: [selectors.track_get(user=user, track_id=pk)]),
    "radio": (uuid.UUID, "track", lambda user, pk: selectors.radio_tracks(
        user=user, track=selectors.track_get(user=user, track_id=pk))),
    "album": (int, "album", lambda user, pk: selectors.album_tracks(
        user=user, album=selectors.album_get(user=user, album_id=pk))),
    "artist": (int, "artist", lambda user, pk: selectors.artist_tracks(
        user=user, artist=selectors.artist_get(user=user, artist_id=pk))),
    "genre": (str, "genre", lambda user, genre: selectors.playlist_tracks(user=user, genre=genre)),
}


def queue_item(track, hues: dict[str, int]) -> dict:
    """One entry of the queue: what the bar shows, the Media Session announces, and what it plays.
    `hues` colour the bar's no-cover placeholder as the album grid's (presentation.genre_hues)."""
    return {
        "id": str(track.pk),
        "title": track.display_title,
        "artist": track.artist,
        "album": track.album,
        "genre": track.genre,
        "genre_uncertain": track.genre_uncertain,
        # what the bar's placeholder says when there is no cover, worded as the pages word it
        "placeholder": cover_placeholder(track.genre, unsure=track.genre_uncertain,
                                         failed=track.status == track.Status.FAILED),
        "hue": hues.get(track.genre, 0),
        "duration": track.duration,
        "url": reverse("track-detail", args=[track.pk]),
        "audio_url": reverse("track-audio", args=[track.pk]),
        "cover_url": reverse("track-cover", args=[track.pk]) if track.cover else None,
    }


def _error(message, status):
    return JsonResponse({"error": message}, status=status)


@login_required
@require_safe
def player_tracks(request):
    """?track=<id>, ?radio=<track id>, ?album=<id>, ?artist=<id> or ?genre=<name>: exactly one."""
    given = [name for name in SOURCES if request.GET.get(name)]
    if len(given) != 1:
        return _error("Say what to play with one of: " + ", ".join(SOURCES) + ".", 400)
    source = given[0]
    parse, noun, tracks_of = SOURCES[source]
    try:
        value = parse(request.GET[source])
    except ValueError:
        return _error(f"“{request.GET[source]}” is not {'an' if noun[0] in 'aeiou' else 'a'} {noun} id.", 400)
    try:
        tracks = list(tracks_of(request.user, value))
    except Http404:
        return _error(f"No such {noun} in your library.", 404)
    hues = genre_hues(selectors.installed_labels())
    return JsonResponse({"tracks": [queue_item(track, hues) for track in tracks]})
