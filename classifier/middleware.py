"""Request middleware.

RequestTimingMiddleware: a request id for the logs, the request's time for the metrics, a log line.

ContentSecurityPolicyMiddleware: send settings.SECURE_CSP as the Content-Security-Policy header.

RejectNulMiddleware: refuse requests whose path or query string carries a NUL character.

NUL cannot be stored in or compared against a PostgreSQL text column, so a `?q=%00` would
otherwise surface as a 500 from whichever query first used it.
"""
import logging
import re
import time
import uuid

from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse

from classifier import logs, metrics

MESSAGE = "The address contains a NUL character."
KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
# A request id from the proxy is kept only if it is short and plain (it goes into every log line).
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
request_log = logging.getLogger("genreweb.request")


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
    """First in MIDDLEWARE, for each request: an id (the proxy's X-Request-ID when it looks like
    one, else a new one) that every log line written meanwhile carries (classifier.logs) and the
    response returns as X-Request-ID; its time, into genreweb_http_request_seconds labelled with
    the view's URL name (not the path, which would give one series per track), the method and the
    status class; and with LOG_REQUESTS one log line: method, path, status and duration_ms (until
    the response is handed to the server, so without the streaming of a file's body)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        given = request.headers.get("X-Request-ID", "")
        rid = request.request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        token = logs.request_id.set(rid)
        try:
            response = self.get_response(request)
            seconds = time.perf_counter() - started
            match = getattr(request, "resolver_match", None)
            view = (match.view_name or "unnamed") if match is not None else "unresolved"
            method = request.method if request.method in KNOWN_METHODS else "other"
            metrics.REQUEST_SECONDS.labels(view=view, method=method, status=f"{response.status_code // 100}xx").observe(
                seconds)
            response.headers["X-Request-ID"] = rid
            if settings.LOG_REQUESTS:
                request_log.info("%s %s %s", request.method, request.path, response.status_code,
                                 extra={"method": request.method, "path": request.path,
                                        "status": response.status_code, "duration_ms": round(seconds * 1000, 1)})
        finally:
            logs.request_id.reset(token)
        return response


class ContentSecurityPolicyMiddleware:
    """The Content-Security-Policy header on every response, from settings.SECURE_CSP (a dict of
    directive -> sources, the shape Django 6.0's own django.middleware.csp reads, which should
    replace this class on that upgrade). A response that already carries a policy keeps it."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = "; ".join(" ".join([directive, *sources]) for directive, sources in settings.SECURE_CSP.items())

    def __call__(self, request):
        response = self.get_response(request)
        if self.header:
            response.headers.setdefault("Content-Security-Policy", self.header)
        return response
