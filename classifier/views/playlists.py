"""Genre playlists: an overview, a page that plays one genre in order, and an M3U export."""
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render

from classifier import selectors
from classifier.paging import IdFirstPaginator
from classifier.services.exports import m3u_playlist


@login_required
def playlist_list(request):
    # Counted as the playlists are built: without the guesses the model was unsure of.
    genres = selectors.genre_counts(user=request.user, certain_only=True)
    left_out = selectors.library_stats(user=request.user)["uncertain"]
    return render(request, "playlists/list.html", {"genres": genres, "left_out": left_out,
                                                   "stream_link_days": settings.STREAM_LINK_DAYS})


def _tracks_or_404(request, genre):
    tracks = list(selectors.playlist_tracks(user=request.user, genre=genre))
    if not tracks:
        raise Http404("No tracks of this genre in your library.")
    return tracks


# A genre can hold thousands of tracks: the page lists them a page at a time, while its play
# buttons queue the whole genre (the player asks /player/tracks.json for it).
PAGE_SIZE = 100


@login_required
def playlist_detail(request, genre):
    page = IdFirstPaginator(selectors.playlist_tracks(user=request.user, genre=genre), PAGE_SIZE).get_page(
        request.GET.get("page"))
    if not page.paginator.count:
        raise Http404("No tracks of this genre in your library.")
    return render(request, "playlists/detail.html", {"genre": genre, "page": page, "offset": page.start_index() - 1,
                                                     "stream_link_days": settings.STREAM_LINK_DAYS})


@login_required
def playlist_m3u(request, genre):
    """Extended M3U whose entries are signed links, so any player can open it (services.streaming)."""
    text = m3u_playlist(_tracks_or_404(request, genre), title=f"GenreWeb · {genre}",
                        site=request.build_absolute_uri("/"))
    response = HttpResponse(text, content_type="audio/x-mpegurl; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_safe_name(genre)}.m3u"'
    return response


def _safe_name(genre: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in genre) or "playlist"
