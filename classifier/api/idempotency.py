"""`Idempotency-Key` support for POST views: the first response is stored and replayed."""
import functools
import hashlib
import json

from django.core.files.uploadedfile import UploadedFile

from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from classifier.api.exceptions import ApiError
from classifier.services.idempotency import (IdempotencyError, idempotency_begin, idempotency_check_replay,
                                             idempotency_finish, idempotency_release)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEPT_HEADERS = ("Location",)

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER, str, OpenApiParameter.HEADER, required=False,
    description="Any unique string (e.g. a UUID). Repeating a POST with the same key within 24 h "
                "returns the first response (with `Idempotent-Replayed: true`) instead of acting twice; "
                "the same key with a different body or files is refused (422).",
)


def request_fingerprint(request) -> str:
    """A hash of what the request sent: its fields, and each file's name and size (hashing the
    bytes of every upload again would cost more than it tells apart)."""
    sent = request.data  # JSON as it came, or a form's QueryDict
    if hasattr(sent, "lists"):
        sent = sorted((name, [f"file:{v.name}:{v.size}" if isinstance(v, UploadedFile) else v for v in values])
                      for name, values in sent.lists())
    return hashlib.sha256(json.dumps(sent, sort_keys=True, default=str).encode()).hexdigest()


def idempotent(method):
    """Wrap an APIView's post(): with the header, run it once per (user, key) and replay after."""

    @functools.wraps(method)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return method(view, request, *args, **kwargs)
        try:
            record, first = idempotency_begin(user=request.user, key=key, method=request.method,
                                              path=request.path)
            if not first:
                idempotency_check_replay(record=record, fingerprint=request_fingerprint(request))
        except IdempotencyError as err:
            raise ApiError(err.code, err.message, err.status)
        if not first:
            return Response(record.response_body, status=record.response_status,
                            headers={**record.response_headers, REPLAYED_HEADER: "true"})
        try:
            response = method(view, request, *args, **kwargs)
        except Exception as exc:
            # Store client errors too (a repeat must not suddenly succeed), but not crashes.
            try:
                response = view.handle_exception(exc)
            except BaseException:
                idempotency_release(record=record)
                raise
        except BaseException:
            # Not only Exception: a worker timeout (SystemExit) or KeyboardInterrupt must free the key too.
            idempotency_release(record=record)
            raise
        if response.status_code >= 500:
            idempotency_release(record=record)
        else:
            headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
            # Error answers keep no fingerprint: the body may not have been read (a request too large
            # is refused from its Content-Length), and reading it now would defeat that.
            fingerprint = request_fingerprint(request) if response.status_code < 400 else ""
            idempotency_finish(record=record, status=response.status_code, body=response.data, headers=headers,
                               fingerprint=fingerprint)
        return response

    return wrapper
