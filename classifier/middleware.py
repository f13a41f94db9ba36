"""Request middleware.

RejectNulMiddleware: refuse requests whose path or query string carries a NUL character.

NUL cannot be stored in or compared against a PostgreSQL text column, so a `?q=%00` would
otherwise surface as a 500 from whichever query first used it.
"""
import time

from django.http import HttpResponseBadRequest, JsonResponse

from classifier import metrics

MESSAGE = "The address contains a NUL character."
KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any("\x00" in key + value for key, values in request.GET.lists()
                                          for value in values):
            if request.path.startswith("/api/"):
                return JsonResponse({"error": {"code": "bad_request", "message": MESSAGE, "details": None}},
                                    status=400)
            return HttpResponseBadRequest(MESSAGE)
        return self.get_response(request)


class RequestTimingMiddleware:
    """Time every request into genreweb_http_request_seconds, labelled with the view's URL name
    (not the path, which would give one series per track), the method and the status class."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or "unnamed") if match is not None else "unresolved"
        method = request.method if request.method in KNOWN_METHODS else "other"
        metrics.REQUEST_SECONDS.labels(view=view, method=method, status=f"{response.status_code // 100}xx").observe(
            time.perf_counter() - started)
        return response
