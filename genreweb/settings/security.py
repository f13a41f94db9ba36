"""HTTPS, cookies, CSRF and response headers. The HTTPS settings default to on in the
production profile (production.py) and off otherwise; each can still be set on its own."""
import re

from django.core.exceptions import ImproperlyConfigured

from .environment import env, env_bool, env_int
from .production import PRODUCTION

CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
for _origin in CSRF_TRUSTED_ORIGINS:
    if not _origin.startswith(("http://", "https://")):
        raise ImproperlyConfigured(f"CSRF_TRUSTED_ORIGINS entry {_origin!r} needs its scheme, e.g. https://{_origin}")

# --- Response headers -------------------------------------------------------------------
# Pages run only the project's own static files: no inline <script>, no on*="" attributes, no
# style="" attributes (templates pass values as data-* attributes; static/js/css-vars.js sets
# them as CSS custom properties). Sent by classifier.middleware.ContentSecurityPolicyMiddleware.
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    # data: images too: Swagger UI (the API docs) draws its icons as data: SVGs; an image cannot
    # run script, whatever it holds.
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
# Django's defaults, written out because the pages are tested against them.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- HTTPS ------------------------------------------------------------------------------
# Off by default so the plain-HTTP one-command setup works; on in the production profile.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=PRODUCTION)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=PRODUCTION)
# Browsers remember for this long to use HTTPS only (a year in production). The header is only
# sent over HTTPS, and turning it on is hard to take back, hence 0 outside production.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=31536000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=PRODUCTION)
# Only a consent in the header: the domain joins browsers' preload lists when submitted by hand.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=PRODUCTION)
# Behind a TLS-terminating reverse proxy, SECURE_PROXY_SSL_HEADER names the header the proxy
# sets, optionally with its value: "X-Forwarded-Proto" (value https) or "X-Forwarded-Proto=https".
# Without it Django sees plain HTTP there and SECURE_SSL_REDIRECT would redirect forever.
if _proxy_header := env.str("SECURE_PROXY_SSL_HEADER", default="").strip():
    _header, _, _value = _proxy_header.partition("=")
    if not re.fullmatch(r"[A-Za-z0-9-]+", _header.strip()):
        raise ImproperlyConfigured(f"SECURE_PROXY_SSL_HEADER={_proxy_header!r} must be a header name such as X-Forwarded-Proto.")
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _header.strip().upper().replace("-", "_"), _value.strip() or "https")
