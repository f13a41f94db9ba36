"""Rate limits, one set of rates (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]) for the API and the
pages alike: per API token, a browser session has one budget per user; password logins per
client address (API) or per username and address (the login page)."""
import hashlib
import math

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from classifier.models import ApiToken


class _LiveRate:
    def get_rate(self):
        # Read at request time (DRF reads once at import), so changed settings apply.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class _UserRateThrottle(_LiveRate, SimpleRateThrottle):
    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        # A plain Django request (the pages) has no .auth: it is the session's user.
        if isinstance(getattr(request, "auth", None), ApiToken):
            ident = f"token-{request.auth.pk}"
        else:
            ident = f"user-{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ClientRateThrottle(_UserRateThrottle):
    scope = "client"


class UploadRateThrottle(_UserRateThrottle):
    """POST /api/v1/tracks/ and the upload page: a session shares one budget between them."""

    scope = "uploads"


class LoginRateThrottle(_LiveRate, SimpleRateThrottle):
    """Password logins through the API, per client address."""

    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def page_throttle_wait(request, throttle_class) -> int | None:
    """Apply an API throttle to a page's request: None when it may go on (and is counted),
    else the whole seconds to wait, for Retry-After."""
    throttle = throttle_class()
    if throttle.allow_request(request, None):
        return None
    return max(1, math.ceil(throttle.wait() or 1))


class LoginFailureThrottle(_LiveRate, SimpleRateThrottle):
    """Failed sign-ins on the login page, per username and client address, at the API's login
    rate: once that many failed within the period, passwords for that username from that
    address are not even checked until the oldest failure ages out. Signing in clears it."""

    scope = "login"

    def __init__(self, request, username: str):
        super().__init__()
        who = f"{username.strip().casefold()}\0{self.get_ident(request)}"
        # Hashed: any username fits a cache key, and none is kept in the cache in clear.
        self.key = self.cache_format % {"scope": "login_form", "ident": hashlib.sha256(who.encode()).hexdigest()}

    def _failures(self) -> list[float]:
        since = self.timer() - self.duration
        return [at for at in self.cache.get(self.key, []) if at > since]

    def retry_after(self) -> int | None:
        """None while attempts are allowed, else the whole seconds until the next one is."""
        failures = self._failures()
        if len(failures) < self.num_requests:
            return None
        return max(1, math.ceil(failures[-self.num_requests] + self.duration - self.timer()))

    def record_failure(self) -> None:
        failures = [*self._failures(), self.timer()][-self.num_requests:]
        self.cache.set(self.key, failures, self.duration)

    def reset(self) -> None:
        self.cache.delete(self.key)


def readable_wait(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return f"{minutes} minutes"
    return f"{math.ceil(minutes / 60)} hours"
