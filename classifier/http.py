"""HTTP helpers shared by the HTML views and the API."""
import mimetypes
import os
import re

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header

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
_CHUNK = 64 * 1024


def _read(file, length):
    with file:
        while length > 0:
            chunk = file.read(min(_CHUNK, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk


def ranged_file_response(request, path, *, filename=None, content_type=None):
    """Stream a file with HTTP Range support (one range), so audio players can seek."""
    size = os.path.getsize(path)
    content_type = content_type or mimetypes.guess_type(str(path))[0] or "application/octet-stream"
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
    file = open(path, "rb")
    file.seek(start)
    response = StreamingHttpResponse(_read(file, end - start + 1), status=status, content_type=content_type)
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
        response = ranged_file_response(request, track.file.path, filename=track.original_name,
                                        content_type=AUDIO_CONTENT_TYPES.get(track.format))
    except FileNotFoundError:
        raise Http404("No such file.") from None
    response["Cache-Control"] = "private, max-age=3600"
    return response
