"""Rate limits per API token; a browser session (no token) has one budget per user."""
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from classifier.models import ApiToken


class _UserRateThrottle(SimpleRateThrottle):
    def get_rate(self):
        # Read at request time (DRF reads once at import), so changed settings apply.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        else:
            ident = f"user-{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


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
