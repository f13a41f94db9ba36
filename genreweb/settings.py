"""GenreWeb settings, all from environment variables (see README "Configuration").

Bad values raise ImproperlyConfigured at start-up rather than at the first request.
"""
import os
import re
import secrets
import zoneinfo
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("GENREWEB_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _bool(name: str, default: bool) -> bool:
    """Strict boolean: a typo such as DEBUG=ture must not silently mean False."""
    value = env.str(name, default=str(default)).strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean; use true/false (or 1/0, yes/no, on/off).")


def _int(name: str, default: int, minimum: int = 1) -> int:
    raw = env.str(name, default=str(default)).strip()
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
    return value


def _float(name: str, default: float, minimum: float = 0.0) -> float:
    raw = env.str(name, default=str(default)).strip()
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None
    if not value >= minimum:  # also rejects nan
        raise ImproperlyConfigured(f"{name}={raw} must be at least {minimum:g}.")
    return value


def _rate(name: str, default: str) -> str:
    """A DRF throttle rate; DRF itself would only choke on a bad one at the first request."""
    value = env.str(name, default=default).strip()
    if not re.fullmatch(r"\d+/(s|sec|second|m|min|minute|h|hour|d|day)", value):
        raise ImproperlyConfigured(f"{name}={value!r} must look like 1200/hour (per second, minute, hour or day).")
    return value


def _url_scheme(name: str, url: str, allowed: set[str], example: str) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in allowed:
        raise ImproperlyConfigured(
            f"{name} has an unsupported scheme {scheme + '://' if scheme else '(none)'}; "
            f"expected {' or '.join(sorted(s + '://' for s in allowed))}, e.g. {example}"
        )


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in var/ so that
    sessions survive restarts of a self-hosted instance without anyone choosing a key."""
    if key := env.str("SECRET_KEY", default=""):
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        # Private from the first byte, and published with link() so that processes starting
        # together (web, worker) all end up with the one key that won.
        tmp = path.with_name(f".secret_key.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(50))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


# --- Core -------------------------------------------------------------------------------
SECRET_KEY = _secret_key()
DEBUG = _bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
for _origin in CSRF_TRUSTED_ORIGINS:
    if not _origin.startswith(("http://", "https://")):
        raise ImproperlyConfigured(f"CSRF_TRUSTED_ORIGINS entry {_origin!r} needs its scheme, e.g. https://{_origin}")

# HTTPS behind a reverse proxy (all off by default so the plain-HTTP one-command setup works).
# SECURE_PROXY_SSL_HEADER names the header the proxy sets, optionally with its value:
# "X-Forwarded-Proto" (value https) or "X-Forwarded-Proto=https".
SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = _bool("CSRF_COOKIE_SECURE", default=False)
if _proxy_header := env.str("SECURE_PROXY_SSL_HEADER", default="").strip():
    _header, _, _value = _proxy_header.partition("=")
    if not re.fullmatch(r"[A-Za-z0-9-]+", _header.strip()):
        raise ImproperlyConfigured(f"SECURE_PROXY_SSL_HEADER={_proxy_header!r} must be a header name such as X-Forwarded-Proto.")
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _header.strip().upper().replace("-", "_"), _value.strip() or "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets served locally, no CDN
    "classifier",
]

MIDDLEWARE = [
    "classifier.middleware.RequestTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "classifier.middleware.RejectNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "genreweb.urls"
WSGI_APPLICATION = "genreweb.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Cache: the API throttle counters live here. Per process by
# default; set CACHE_URL (e.g. redis://host:6379/1, a Redis database apart from the broker's)
# so that several web processes share one count.
_CACHE_URL = env.str("CACHE_URL", default="") or "locmemcache://"
_url_scheme("CACHE_URL", _CACHE_URL, {"locmemcache", "redis", "rediss"}, "redis://127.0.0.1:6379/1")
CACHES = {"default": env.cache_url_config(_CACHE_URL)}

# --- Database: SQLite by default, PostgreSQL (or any dj-database-url) via DATABASE_URL ---
_DATABASE_URL = env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
# Only engines whose driver requirements.txt installs; anything else would fail at the first query.
_url_scheme("DATABASE_URL", _DATABASE_URL, {"sqlite", "postgres", "postgresql", "pgsql"},
            "postgres://user:password@127.0.0.1:5432/genreweb")
DATABASES = {"default": env.db_url_config(_DATABASE_URL)}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The web process and the worker write concurrently; wait for the lock instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts ---------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "landing"
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="genreweb@localhost")

# --- i18n -------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
if TIME_ZONE != "UTC":  # UTC needs no tz database (slim images may lack one)
    try:
        zoneinfo.ZoneInfo(TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(f"TIME_ZONE={TIME_ZONE!r} is not an IANA time zone name such as UTC or Europe/Paris.") from None
USE_I18N = True
USE_TZ = True

# --- Static and media files -------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve straight from static/ when collectstatic has not run (the one-command dev setup).
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))

# Uploads: the size limit is enforced while the body streams in (classifier.uploadhandlers).
UPLOAD_MAX_BYTES = _int("UPLOAD_MAX_MB", default=200) * 1024 * 1024
# Bytes do not bound decoding time (a small file can hold hours of quiet audio); this does.
UPLOAD_MAX_MINUTES = _int("UPLOAD_MAX_MINUTES", default=180)
FILE_UPLOAD_HANDLERS = [
    "classifier.uploadhandlers.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# --- Model ------------------------------------------------------------------------------
MODEL_BUNDLE_DIR = Path(env.str("MODEL_BUNDLE_DIR", default=str(BASE_DIR / "models" / "saved_models")))
INFERENCE_DEVICE = env.str("INFERENCE_DEVICE", default="auto").strip().lower()
if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", INFERENCE_DEVICE):
    raise ImproperlyConfigured(f"INFERENCE_DEVICE={INFERENCE_DEVICE!r} must be auto, cpu, cuda or cuda:N.")

# --- Celery: Redis when REDIS_URL is set, else an embedded broker on the filesystem ------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    _url_scheme("REDIS_URL", REDIS_URL, {"redis", "rediss"}, "redis://127.0.0.1:6379/0")
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
else:
    _queue_dir = VAR_DIR / "celery-queue"
    _queue_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_queue_dir),
        "store_processed": False,
        # Exchange bindings; kombu's default is ./control, i.e. wherever the process started.
        "control_folder": str(VAR_DIR / "celery-control"),
    }
    CELERY_RESULT_BACKEND = None
# Results live in the database; Celery's own result store is not needed.
CELERY_TASK_IGNORE_RESULT = True
# A job is acknowledged only when done, so a worker killed mid-task hands it back.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="genreweb")
# The model uses all cores itself; one process per worker keeps memory at one model copy.
CELERY_WORKER_CONCURRENCY = _int("CELERY_CONCURRENCY", default=1)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# One classification may take this long before it is stopped and the track marked failed;
# far above the seconds a 3-hour track needs, far below the broker's redelivery timeout.
CLASSIFY_TIME_LIMIT = _int("CLASSIFY_TIME_LIMIT", default=600)
# Redis redelivers unacknowledged jobs after this long; longer than any classification.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **globals().get("CELERY_BROKER_TRANSPORT_OPTIONS", {}),
    "visibility_timeout": _int("CELERY_VISIBILITY_TIMEOUT", default=3600),
}

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").strip().upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"LOG_LEVEL={LOG_LEVEL!r} must be DEBUG, INFO, WARNING, ERROR or CRITICAL.")
# --- REST API (classifier.api) ------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "classifier.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON bodies; the upload endpoint takes multipart itself.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "classifier.api.pagination.Pagination",
    "PAGE_SIZE": _int("API_PAGE_SIZE", default=50),
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
        "client": _rate("API_THROTTLE_RATE", default="1200/hour"),
        "uploads": _rate("API_UPLOAD_THROTTLE_RATE", default="300/hour"),
        "login": _rate("API_LOGIN_THROTTLE_RATE", default="20/hour"),
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
# Webhook deliveries: back-off base (seconds) doubles per retry, up to WEBHOOK_MAX_RETRIES.
WEBHOOK_TIMEOUT = _float("WEBHOOK_TIMEOUT", default=10.0, minimum=0.1)
WEBHOOK_MAX_RETRIES = _int("WEBHOOK_MAX_RETRIES", default=6, minimum=0)
WEBHOOK_RETRY_BACKOFF = _float("WEBHOOK_RETRY_BACKOFF", default=30.0)
# Off: a user cannot make the worker POST to loopback, private or link-local addresses (the
# instance's own network). Turn on for a private instance whose receivers live on the LAN.
WEBHOOK_ALLOW_PRIVATE_NETWORKS = _bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", default=False)

# Prometheus metrics at /metrics (classifier.metrics): off unless METRICS_ENABLED; with
# METRICS_TOKEN set, a scrape needs "Authorization: Bearer <token>". PROMETHEUS_MULTIPROC_DIR
# (read by prometheus-client itself) adds up the worker's and the web processes' counters.
METRICS_ENABLED = _bool("METRICS_ENABLED", default=False)
METRICS_TOKEN = env.str("METRICS_TOKEN", default="").strip()

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}
