"""Uploading tracks and showing one track: its page, live status, audio and spectrogram."""
import uuid

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_safe

from classifier.api.throttling import UploadRateThrottle, page_throttle_wait, readable_wait
from classifier.http import ranged_file_response, track_audio_response
from classifier.selectors import installed_labels, track_get, track_list_by_ids
from classifier.services.quota import StorageBudget
from classifier.services.streaming import track_from_stream_token
from classifier.services.uploads import ACCEPTED_DESCRIPTION, UploadRejected, track_upload, upload_too_large
from classifier.views.presentation import prediction_display, track_status_payload, track_status_summary

# What the file chooser offers; the server decides by content (services.uploads), not by name.
ACCEPT = "audio/*,.mp3,.wav,.flac,.ogg,.opus,.m4a,.aac,.aif,.aiff"
# Multipart boundaries and part headers around one file, so a file right at the limit still fits.
MULTIPART_SLACK = 64 * 1024


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _rejected(name: str, err: UploadRejected) -> dict:
    return {"name": name, "ok": False, "created": False, "track_id": None, "url": None, "status": None,
            "message": err.message, "code": err.code, "http_status": err.status}


def _upload_one(request, upload, budget) -> dict:
    try:
        outcome = track_upload(owner=request.user, upload=upload, budget=budget)
    except UploadRejected as err:
        return _rejected(upload.name, err)
    track = outcome.track
    if outcome.created:
        message, code, http_status = f"{upload.name} is uploaded and queued for classification.", "created", 201
    else:
        message = f"{upload.name} is already in your library as “{track.display_title}”."
        code, http_status = "duplicate", 200
    return {"name": upload.name, "ok": True, "created": outcome.created, "track_id": str(track.pk),
            "url": reverse("track-detail", args=[track.pk]), "status": track.status,
            "message": message, "code": code, "http_status": http_status}


def _overall_status(results) -> int:
    """One file: its own status. Several: 201/200 if any got in (each entry says how it went)."""
    statuses = {result["http_status"] for result in results}
    if len(statuses) == 1:
        return statuses.pop()
    if any(result["ok"] for result in results):
        return 201 if any(result["created"] for result in results) else 200
    return 400


def _upload_page(request, results=(), status=200, budget=None):
    storage = (budget or StorageBudget(user=request.user)).summary()
    if _wants_json(request):
        files = [{k: v for k, v in result.items() if k != "http_status"} for result in results]
        return JsonResponse({"files": files, "storage": storage}, status=status)
    context = {
        "results": results,
        "accept": ACCEPT,
        "accepted_description": ACCEPTED_DESCRIPTION,
        "max_bytes": settings.UPLOAD_MAX_BYTES,
        "max_size": filesizeformat(settings.UPLOAD_MAX_BYTES),
        "storage": storage,
    }
    return render(request, "tracks/upload.html", context, status=status)


@csrf_protect
def _upload_post(request):
    uploads = request.FILES.getlist("files")  # parses the body, which fills request.oversize_files
    # Oversize files were skipped by SizeLimitUploadHandler while streaming; report them too.
    results = [_rejected(name, upload_too_large(name)) for name in getattr(request, "oversize_files", [])]
    budget = StorageBudget(user=request.user)  # counted once for all the files of this request
    results += [_upload_one(request, upload, budget) for upload in uploads]
    if not results:
        error = UploadRejected("no_files", "Choose at least one audio file to upload.")
        return _upload_page(request, [_rejected("", error)], status=400)
    return _upload_page(request, results, status=_overall_status(results), budget=budget)


# CsrfViewMiddleware would parse (and so read) the whole body before the view runs; the size is
# checked first here and CSRF right after, by _upload_post's own csrf_protect.
@csrf_exempt
@login_required
@require_http_methods(["GET", "POST"])
def upload(request):
    if request.method == "GET":
        return _upload_page(request)
    # The API's upload rate (and, for a browser, the same budget), before the body is read.
    if (wait := page_throttle_wait(request, UploadRateThrottle)) is not None:
        error = UploadRejected("throttled", f"You have uploaded a lot in a short time. Please wait "
                                            f"{readable_wait(wait)} before uploading more.", status=429)
        response = _upload_page(request, [_rejected("", error)], status=429)
        response["Retry-After"] = str(wait)
        return response
    if _content_length(request) > settings.UPLOAD_MAX_BYTES + MULTIPART_SLACK:
        limit = filesizeformat(settings.UPLOAD_MAX_BYTES)
        error = UploadRejected(
            "request_too_large",
            f"This upload is larger than the {limit} limit. Large files have to be uploaded one at a time.",
            status=413,
        )
        return _upload_page(request, [_rejected("", error)], status=413)
    try:
        return _upload_post(request)
    except MultiPartParserError as err:
        error = UploadRejected("malformed_upload", f"The upload could not be read ({err}). Please try again.")
        return _upload_page(request, [_rejected("", error)], status=400)


@login_required
@require_safe
def track_detail(request, pk):
    track = track_get(user=request.user, track_id=pk)
    prediction = getattr(track, "prediction", None) if track.status == track.Status.DONE else None
    context = {
        "track": track,
        "prediction": prediction,
        "display": prediction_display(prediction, track.duration, installed_labels()) if prediction else None,
        "pending": track.status in (track.Status.QUEUED, track.Status.PROCESSING),
    }
    return render(request, "tracks/detail.html", context)


@never_cache
@login_required
@require_safe
def track_status(request, pk):
    track = track_get(user=request.user, track_id=pk)
    return JsonResponse(track_status_payload(track))


# The upload page asks for the tracks it sent in one request, at most this many at a time.
STATUSES_MAX_IDS = 100


@never_cache
@login_required
@require_safe
def track_statuses(request):
    """?ids=<uuid>,<uuid>…: the status summary of each of those tracks that is the user's."""
    try:
        ids = [uuid.UUID(part.strip()) for part in request.GET.get("ids", "").split(",") if part.strip()]
    except ValueError:
        return JsonResponse({"error": "ids must be track ids separated by commas."}, status=400)
    if len(ids) > STATUSES_MAX_IDS:
        return JsonResponse({"error": f"Ask for at most {STATUSES_MAX_IDS} tracks at a time."}, status=400)
    tracks = track_list_by_ids(user=request.user, track_ids=ids)
    return JsonResponse({"tracks": [track_status_summary(track) for track in tracks]})


@require_safe
def track_stream(request, token):
    """A track's audio by its signed link: what an M3U playlist's entries point at, for players
    that have no login (services.streaming)."""
    return track_audio_response(request, track_from_stream_token(token))


def _owner_file(request, field, **kwargs):
    """Stream one of the track's stored files; a missing file is a 404, not a 500."""
    if not field:
        raise Http404("No such file.")
    try:
        response = ranged_file_response(request, field, **kwargs)
    except FileNotFoundError:
        raise Http404("No such file.") from None
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_safe
def track_audio(request, pk):
    return track_audio_response(request, track_get(user=request.user, track_id=pk))


@login_required
@require_safe
def track_spectrogram(request, pk):
    track = track_get(user=request.user, track_id=pk)
    return _owner_file(request, track.spectrogram, content_type="image/png")
