"""The REST API (classifier.api), its OpenAPI schema, and webhooks."""
import ipaddress

from django.core.exceptions import ImproperlyConfigured

from .environment import env, env_bool, env_float, env_int, env_rate

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "classifier.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON bodies; the upload endpoint takes multipart itself.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "classifier.api.pagination.Pagination",
    "PAGE_SIZE": env_int("API_PAGE_SIZE", default=50),
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "classifier.api.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["classifier.api.throttling.ClientRateThrottle"],
    # Per token (or per user for session requests); "uploads" applies to POST /tracks/ on top.
    "DEFAULT_THROTTLE_RATES": {
        "client": env_rate("API_THROTTLE_RATE", default="1200/hour"),
        "uploads": env_rate("API_UPLOAD_THROTTLE_RATE", default="300/hour"),
        "login": env_rate("API_LOGIN_THROTTLE_RATE", default="20/hour"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "GenreWeb API",
    "DESCRIPTION": "Upload music, read what genre the model hears, browse playlists and get webhooks.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "TrackStatusEnum": "classifier.models.Track.Status",
        "DeliveryStatusEnum": "classifier.models.WebhookDelivery.Status",
    },
}

# --- Webhooks ---------------------------------------------------------------------------
# Where people reach this site (scheme and host, e.g. https://genres.example.org): payloads sent
# to other servers link to the track there. Empty: the link is a path on this site.
SITE_URL = env.str("SITE_URL", default="").rstrip("/")
if SITE_URL and not SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"SITE_URL {SITE_URL!r} needs its scheme, e.g. https://{SITE_URL}")
# Deliveries: back-off base (seconds) doubles per retry, up to WEBHOOK_MAX_RETRIES.
WEBHOOK_TIMEOUT = env_float("WEBHOOK_TIMEOUT", default=10.0, minimum=0.1)
WEBHOOK_MAX_RETRIES = env_int("WEBHOOK_MAX_RETRIES", default=6, minimum=0)
WEBHOOK_RETRY_BACKOFF = env_float("WEBHOOK_RETRY_BACKOFF", default=30.0)
# Off: a user cannot make the worker POST to loopback, private or link-local addresses (the
# instance's own network). Turn on for a private instance whose receivers live on the LAN.
WEBHOOK_ALLOW_PRIVATE_NETWORKS = env_bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", default=False)
# Exceptions to that rule, as networks (comma-separated CIDRs, e.g. 10.0.0.7/32): a receiver on
# the LAN without opening the whole private range (and, in tests, a loopback stand-in).
WEBHOOK_ALLOWED_NETWORKS = env.list("WEBHOOK_ALLOWED_NETWORKS", default=[])
for _network in WEBHOOK_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network)
    except ValueError as _err:
        raise ImproperlyConfigured(f"WEBHOOK_ALLOWED_NETWORKS: {_err} (use CIDRs such as 10.0.0.7/32).") from None
# How much of a receiver's answer is read and kept with each attempt (the rest is never read).
WEBHOOK_RESPONSE_MAX_BYTES = env_int("WEBHOOK_RESPONSE_MAX_KB", default=4) * 1024
