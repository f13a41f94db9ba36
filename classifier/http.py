"""HTTP helpers shared by the HTML views and the API."""
import mimetypes
import re

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header

from classifier.selectors import album_tracks
from classifier.services.exports import tracks_zip_chunks
from classifier.services.storage import file_chunks
from classifier.services.tags import download_name, track_tagged_copy

# Browsers need the real type to play a file; keyed by Track.format (found from the content).
AUDIO_CONTENT_TYPES = {
    "MP3": "audio/mpeg",
    "WAV": "audio/wav",
    "FLAC": "audio/flac",
    "OGG": "audio/ogg",
    "OPUS": "audio/ogg",
    "M4A": "audio/mp4",
    "AAC": "audio/aac",
    "AIFF": "audio/aiff",
}
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def ranged_file_response(request, file: FieldFile, *, filename=None, content_type=None):
    """Stream a stored file with HTTP Range support (one range), so audio players can seek.

    Whatever the storage (local folder or S3 bucket), the bytes go through this view: media
    stay private behind the owner check and the bucket never needs to be reachable by browsers
    (a presigned URL would be a bearer link to anyone holding it until it expires). Raises
    FileNotFoundError when the file is gone."""
    size = file.storage.size(file.name)
    content_type = content_type or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    start, end = 0, size - 1
    status = 200
    # Only single byte ranges are supported; any other form is ignored (RFC 9110 allows that)
    # and the whole file is sent.
    match = _RANGE.match(request.headers.get("Range", "").strip())
    if match and any(match.groups()):
        first, last = match.groups()
        if first:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
        else:  # "bytes=-N": the last N bytes
            start = max(size - int(last), 0)
        if start > end or start >= size:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        status = 206
    response = StreamingHttpResponse(file_chunks(file, start, end), status=status, content_type=content_type)
    response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    if status == 206:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    if filename:
        response["Content-Disposition"] = content_disposition_header(False, filename)
    return response


def track_audio_response(request, track):
    """The track's stored audio, seekable, typed by its probed format. Raises Http404 if the
    file is gone."""
    try:
        response = ranged_file_response(request, track.file, filename=track.original_name,
                                        content_type=AUDIO_CONTENT_TYPES.get(track.format))
    except FileNotFoundError:
        raise Http404("No such file.") from None
    response["Cache-Control"] = "private, max-age=3600"
    return response


def cover_response(field):
    """A stored cover thumbnail (JPEG, small: no ranges); Http404 when there is none or it is gone."""
    if not field:
        raise Http404("This track has no cover.")
    try:
        handle = field.open("rb")
    except OSError:  # FileNotFoundError, or an object store's own read error
        raise Http404("The cover file is missing.") from None
    response = FileResponse(handle, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


def tagged_download_response(track):
    """A copy of the track's file with the genre and the owner's tag corrections written in, as
    an attachment (services.tags); Http404 when the stored file is gone."""
    try:
        copy = track_tagged_copy(track=track)
    except FileNotFoundError:
        raise Http404("The audio file of this track is missing.") from None
    return FileResponse(copy, as_attachment=True, filename=download_name(track),
                        content_type=AUDIO_CONTENT_TYPES.get(track.format))


def tracks_zip_response(tracks, filename: str):
    """`tracks` as a streamed ZIP of their tagged files (services.exports), as an attachment."""
    response = StreamingHttpResponse(tracks_zip_chunks(tracks.iterator(chunk_size=200)), content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def album_zip_response(*, user, album):
    """The album's tracks, in disc and track order, as a ZIP named after it."""
    return tracks_zip_response(album_tracks(user=user, album=album), f"{album.title or 'album'}.zip")
