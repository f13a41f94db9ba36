"""Rate limits per user (all of a user's tokens and sessions share one budget)."""
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class _UserRateThrottle(SimpleRateThrottle):
    def get_rate(self):
        # Read at request time (DRF reads once at import), so changed settings apply.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class ClientRateThrottle(_UserRateThrottle):
    scope = "client"


class UploadRateThrottle(_UserRateThrottle):
    scope = "uploads"


class LoginRateThrottle(SimpleRateThrottle):
    """Password logins through the API, per client address."""

    scope = "login"

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
