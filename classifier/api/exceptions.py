"""One error format for every API error: {"error": {"code", "message", "details"}}."""
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.views import exception_handler


class ApiError(exceptions.APIException):
    """An error with our own code, message, HTTP status and optional details."""

    def __init__(self, code: str, message: str, status_code: int = 400, details=None):
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.code = code
        self.details = details


def _message(detail) -> str:
    if isinstance(detail, list) and detail:
        return _message(detail[0])
    if isinstance(detail, dict) and detail:
        field, value = next(iter(detail.items()))
        text = _message(value)
        return text if field in ("non_field_errors", "detail") else f"{field}: {text}"
    return str(detail)


def _code(exc: exceptions.APIException) -> str:
    if isinstance(exc, ApiError):
        return exc.code
    if isinstance(exc, exceptions.ValidationError):
        return "invalid"
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else exc.default_code


def api_exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.messages)
    response = exception_handler(exc, context)
    if response is None:
        return None  # a real bug: let Django answer 500 and log it
    if isinstance(exc, ApiError):
        details = exc.details
    elif isinstance(exc, exceptions.ValidationError):
        details = response.data
    else:
        details = None
    response.data = {"error": {"code": _code(exc), "message": _message(exc.detail), "details": details}}
    return response


ErrorSerializer = inline_serializer(
    "Error",
    {
        "error": inline_serializer(
            "ErrorBody",
            {
                "code": serializers.CharField(help_text="Stable machine-readable code, e.g. not_found."),
                "message": serializers.CharField(help_text="Readable explanation."),
                "details": serializers.JSONField(allow_null=True, help_text="Field errors or other context."),
            },
        )
    },
)


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


# The error responses every authenticated endpoint can give.
COMMON_ERRORS = {
    status.HTTP_401_UNAUTHORIZED: error("Missing, invalid or revoked credentials."),
    status.HTTP_429_TOO_MANY_REQUESTS: error("Rate limit exceeded; see the Retry-After header."),
}
NOT_FOUND = {status.HTTP_404_NOT_FOUND: error("No such object among yours.")}
