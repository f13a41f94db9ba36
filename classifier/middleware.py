"""Refuse requests whose path or query string carries a NUL character.

NUL cannot be stored in or compared against a PostgreSQL text column, so a `?q=%00` would
otherwise surface as a 500 from whichever query first used it.
"""
from django.http import HttpResponseBadRequest, JsonResponse

MESSAGE = "The address contains a NUL character."


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
