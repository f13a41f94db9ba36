"""Request middleware.

ContentSecurityPolicyMiddleware: send settings.SECURE_CSP as the Content-Security-Policy header.

RejectNulMiddleware: refuse requests whose path or query string carries a NUL character.

NUL cannot be stored in or compared against a PostgreSQL text column, so a `?q=%00` would
otherwise surface as a 500 from whichever query first used it.
"""
import time

from django.conf import settings
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
