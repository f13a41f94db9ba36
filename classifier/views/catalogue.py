"""Artists, albums and genres pages, the covers they show, and editing a track's tags."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from classifier import selectors
from classifier.forms import TrackMetadataForm
from classifier.http import album_zip_response, cover_response
from classifier.services.catalogue import track_update_metadata
from classifier.views.presentation import genre_hues


ALBUMS_PER_PAGE = 60
ARTISTS_PER_PAGE = 200


def _page(request, items, size):
    # get_page() turns "?page=abc" or a page past the end into a real page instead of a 404.
    return Paginator(items, size).get_page(request.GET.get("page"))


def _hues():
    return genre_hues(selectors.installed_labels())


def _mix(tracks, hues) -> list[dict]:
    return [{**row, "hue": hues.get(row["genre"], 0)} for row in selectors.genre_mix(tracks)]


def _with_top_genres(user, albums) -> list:
    """The albums, each with `top_genre` for the placeholder of a missing cover."""
    albums = list(albums)
    top = selectors.album_top_genres(user=user, album_ids=[album.pk for album in albums if not album.cover_track_id])
    for album in albums:
        album.top_genre = top.get(album.pk, "")
    return albums


@login_required
@require_safe
def album_list(request):
    search = request.GET.get("q", "").strip()[:200]
    page = _page(request, selectors.album_list(user=request.user, search=search), ALBUMS_PER_PAGE)
    albums = _with_top_genres(request.user, page.object_list)
    return render(request, "catalogue/albums.html", {"kind": "albums", "albums": albums, "page": page,
                                                     "search": search, "hues": _hues()})


@login_required
@require_safe
def album_detail(request, album_id):
    album = selectors.album_get(user=request.user, album_id=album_id)
    hues = _hues()
    tracks = list(selectors.album_tracks(user=request.user, album=album))
    mix = _mix(selectors.album_tracks(user=request.user, album=album), hues)
    album.top_genre = mix[0]["genre"] if mix else ""
    return render(request, "catalogue/album.html", {
        "album": album, "tracks": tracks, "mix": mix, "hues": hues,
        "discs": len({track.disc_number for track in tracks if track.disc_number}) > 1,
    })


@login_required
@require_safe
def album_download(request, album_id):
    return album_zip_response(user=request.user, album=selectors.album_get(user=request.user, album_id=album_id))


@login_required
@require_safe
def artist_list(request):
    search = request.GET.get("q", "").strip()[:200]
    page = _page(request, selectors.artist_list(user=request.user, search=search), ARTISTS_PER_PAGE)
    return render(request, "catalogue/artists.html", {"kind": "artists", "page": page, "search": search})


@login_required
@require_safe
def artist_detail(request, artist_id):
    artist = selectors.artist_get(user=request.user, artist_id=artist_id)
    tracks = selectors.artist_tracks(user=request.user, artist=artist)
    hues = _hues()
    return render(request, "catalogue/artist.html", {
        "artist": artist,
        "albums": _with_top_genres(request.user, selectors.artist_albums(user=request.user, artist=artist)),
        "singles": list(tracks.filter(album_ref__isnull=True)),
        "mix": _mix(tracks, hues),
        "hues": hues,
    })


@login_required
@require_safe
def genre_list(request):
    hues = _hues()
    genres = selectors.genre_overview(user=request.user)
    _with_top_genres(request.user, [album for row in genres for album in row["albums"]])
    for row in genres:
        row["hue"] = hues.get(row["genre"], 0)
    return render(request, "catalogue/genres.html", {"genres": genres, "hues": hues})


@login_required
@require_safe
def track_cover(request, pk, small=False):
    """The track's cover thumbnail, to its owner only (media are never served from a public URL)."""
    track = selectors.track_get(user=request.user, track_id=pk)
    return cover_response(track.cover_small if small else track.cover)


@login_required
@require_POST
def track_metadata(request, track_id):
    track = selectors.track_get(user=request.user, track_id=track_id)
    form = TrackMetadataForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{form.fields[field].label or field.replace('_', ' ').capitalize()}: "
                                    f"{' '.join(errors)}")
    else:
        try:
            track_update_metadata(track=track, **form.cleaned_data)
        except ValidationError as err:
            messages.error(request, " ".join(err.messages))
        else:
            messages.success(request, f"Saved the tags of {track.display_title}.")
    return redirect(reverse("track-detail", args=[track.pk]) + "#tags")
