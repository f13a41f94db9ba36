"""The library page and the actions on tracks that live there (genre, delete, re-classify, download)."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from classifier import selectors
from classifier.http import tagged_download_response, tracks_zip_response
from classifier.models import Track
from classifier.paging import IdFirstPaginator
from classifier.services.classification import track_is_busy, track_reclassify
from classifier.services.corrections import track_set_genre
from classifier.services.exports import library_csv_lines, library_json_chunks
from classifier.services.tracks import track_delete

PAGE_SIZE = 50
SEARCH_HITS = 8
SORTS = {"newest": "Newest", "title": "Title", "artist": "Artist", "confidence": "Confidence"}


@login_required
def library(request):
    search = request.GET.get("q", "").strip()[:200]
    genre = request.GET.get("genre", "").strip()[:64]
    status = request.GET.get("status", "")
    status = status if status in (*Track.Status.values, selectors.UNSURE) else ""
    sort = request.GET.get("sort", "newest")
    sort = sort if sort in SORTS else "newest"

    tracks = selectors.library_tracks(user=request.user, search=search, genre=genre, status=status, sort=sort)
    # get_page() turns "?page=abc" or a page past the end into a real page instead of a 404.
    page = IdFirstPaginator(tracks, PAGE_SIZE).get_page(request.GET.get("page"))
    version = selectors.installed_version()
    outdated = selectors.tracks_outdated(user=request.user, version=version).count() if version else 0
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "library/library.html", {
        "page": page,
        "search": search,
        "genre": genre,
        "status": status,
        "sort": sort,
        "sorts": SORTS,
        "statuses": [*Track.Status.choices, (selectors.UNSURE, "Done, genre unsure")],
        "genres": selectors.genre_counts(user=request.user),
        "model_version": version,
        "outdated": outdated,
        "filtered": bool(search or genre or status),
        "query": query.urlencode(),
        # Search covers artists and albums too: those whose name matches are listed above the tracks.
        "artist_hits": selectors.artist_list(user=request.user, search=search)[:SEARCH_HITS] if search else [],
        "album_hits": selectors.album_list(user=request.user, search=search)[:SEARCH_HITS] if search else [],
    })


def _back(request, fallback):
    """Where the form came from (a same-site `next`), else `fallback`."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(fallback)


@login_required
@require_POST
def track_genre(request, track_id):
    track = selectors.track_get(user=request.user, track_id=track_id)
    try:
        track_set_genre(track=track, genre=request.POST.get("genre", ""))
    except ValidationError as err:
        messages.error(request, " ".join(err.messages))
    else:
        if track.user_genre:
            messages.success(request, f"Genre set to {track.user_genre}.")
        else:
            messages.success(request, "Back to the model's genre.")
    return _back(request, reverse("track-detail", args=[track.pk]))


@login_required
@require_http_methods(["GET", "POST"])
def track_delete_view(request, track_id):
    track = selectors.track_get(user=request.user, track_id=track_id)
    if request.method == "POST":
        title = track.display_title
        track_delete(track=track)
        messages.success(request, f"Deleted {title}.")
        return redirect("home")
    return render(request, "library/confirm_delete.html", {"track": track})


@login_required
@require_POST
def track_reclassify_view(request, track_id):
    track = selectors.track_get(user=request.user, track_id=track_id)
    if track_is_busy(track):
        messages.info(request, f"{track.display_title} is already waiting for or being classified.")
    else:
        track_reclassify(track=track)
        messages.success(request, f"{track.display_title} is queued to be classified again.")
    return _back(request, reverse("track-detail", args=[track.pk]))


@login_required
@require_POST
def library_reclassify(request):
    """Re-run the model on the tracks of an older model version, or with scope=all on every track."""
    if request.POST.get("scope") == "all":
        tracks = selectors.track_list(user=request.user)
    else:
        version = selectors.installed_version()
        if version is None:
            messages.error(request, "No model is installed yet.")
            return redirect("home")
        tracks = selectors.tracks_outdated(user=request.user, version=version)
    count = 0
    for track in tracks.exclude(status__in=[Track.Status.QUEUED, Track.Status.PROCESSING]).iterator():
        track_reclassify(track=track)
        count += 1
    messages.success(request, f"{count} track{'s' if count != 1 else ''} queued to be classified again.")
    return redirect("home")


@login_required
def track_download(request, track_id):
    return tagged_download_response(selectors.track_get(user=request.user, track_id=track_id))


@login_required
@require_safe
def library_zip(request):
    return tracks_zip_response(selectors.library_in_album_order(user=request.user), "genreweb-library.zip")


@login_required
def library_export(request, fmt):
    if fmt == "json":
        response = StreamingHttpResponse(library_json_chunks(user=request.user), content_type="application/json")
    else:
        response = StreamingHttpResponse(library_csv_lines(user=request.user), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="genreweb-library.{fmt}"'
    return response
