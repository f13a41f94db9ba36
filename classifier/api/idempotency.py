"""`Idempotency-Key` support for POST views: the first response is stored and replayed."""
import functools

from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from classifier.api.exceptions import ApiError
from classifier.services.idempotency import (IdempotencyError, idempotency_begin, idempotency_finish,
                                             idempotency_release)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEPT_HEADERS = ("Location",)

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER, str, OpenApiParameter.HEADER, required=False,
    description="Any unique string (e.g. a UUID). Repeating a POST with the same key within 24 h "
                "returns the first response (with `Idempotent-Replayed: true`) instead of acting twice.",
)


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
            idempotency_finish(record=record, status=response.status_code, body=response.data, headers=headers)
        return response

    return wrapper
