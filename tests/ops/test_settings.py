"""Settings come from the environment: checked in fresh interpreters with a controlled env,
because settings are read once per process."""
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Prints the settings these tests look at, as JSON; a settings error escapes as a traceback.
PROBE = """
import json
from django.conf import settings
from genreweb.celery import app
db = settings.DATABASES["default"]
transport = app.connection_for_write().get_transport_cls()
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "host": db.get("HOST", ""), "db_options": db.get("OPTIONS", {}),
    "conn_max_age": db["CONN_MAX_AGE"], "conn_health_checks": db["CONN_HEALTH_CHECKS"],
    "broker": settings.CELERY_BROKER_URL, "backend": settings.CELERY_RESULT_BACKEND,
    "transport": settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    "transport_class": f"{transport.__module__}.{transport.__name__}",
    "debug": settings.DEBUG, "upload_max": settings.UPLOAD_MAX_BYTES,
    "device": settings.INFERENCE_DEVICE, "queue": settings.CELERY_TASK_DEFAULT_QUEUE,
    "ssl_redirect": settings.SECURE_SSL_REDIRECT, "session_secure": settings.SESSION_COOKIE_SECURE,
    "proxy_header": getattr(settings, "SECURE_PROXY_SSL_HEADER", None),
    "cache": settings.CACHES["default"], "csrf_secure": settings.CSRF_COOKIE_SECURE,
    "hsts": [settings.SECURE_HSTS_SECONDS, settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, settings.SECURE_HSTS_PRELOAD],
}))
"""

# Everything genreweb/settings/ reads: none of it may leak in from the environment running the tests.
SETTINGS_VARS = [
    "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "SITE_URL", "DATABASE_URL", "CONN_MAX_AGE", "REDIS_URL", "CACHE_URL",
    "MEDIA_ROOT", "UPLOAD_MAX_MB", "USER_QUOTA_MB", "UPLOAD_MAX_MINUTES", "STREAM_LINK_DAYS", "CLASSIFY_TIME_LIMIT", "CLASSIFY_BATCH_SIZE", "CLASSIFY_QUEUE", "MODEL_BUNDLE_DIR", "INFERENCE_DEVICE", "CELERY_QUEUE",
    "CELERY_CONCURRENCY", "CELERY_VISIBILITY_TIMEOUT", "EMAIL_BACKEND", "DEFAULT_FROM_EMAIL",
    "TIME_ZONE", "LOG_LEVEL", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
    "SECURE_PROXY_SSL_HEADER", "API_PAGE_SIZE", "API_THROTTLE_RATE", "API_UPLOAD_THROTTLE_RATE",
    "API_LOGIN_THROTTLE_RATE", "WEBHOOK_TIMEOUT", "WEBHOOK_MAX_RETRIES", "WEBHOOK_RETRY_BACKOFF",
    "WEBHOOK_ALLOW_PRIVATE_NETWORKS", "WEBHOOK_ALLOWED_NETWORKS", "WEBHOOK_RESPONSE_MAX_KB", "METRICS_ENABLED",
    "METRICS_TOKEN", "GENREWEB_ENV",
    "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "LOG_FORMAT", "LOG_REQUESTS",
]
# What a production instance is given.
PRODUCTION = {"GENREWEB_ENV": "production", "ALLOWED_HOSTS": "genre.example.org", "SECRET_KEY": secrets.token_urlsafe(50)}


def run_settings(tmp_path, **env):
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARS}
    clean.update(DJANGO_SETTINGS_MODULE="genreweb.settings", GENREWEB_VAR_DIR=str(tmp_path / "var"), **env)
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True,
                          text=True, timeout=120)


def load(tmp_path, **env) -> dict:
    result = run_settings(tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_no_environment_means_sqlite_and_filesystem_broker(tmp_path):
    s = load(tmp_path)
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["name"] == str(tmp_path / "var" / "db.sqlite3")
    assert s["broker"] == "filesystem://"
    assert s["transport_class"] == "genreweb.broker.Transport"  # messages written whole (test_broker)
    assert s["backend"] is None
    assert Path(s["transport"]["data_folder_in"]) == tmp_path / "var" / "celery-queue"
    assert (tmp_path / "var" / "celery-queue").is_dir()
    # Every broker file lives in the var dir, none in the directory the process started from.
    assert Path(s["transport"]["control_folder"]) == tmp_path / "var" / "celery-control"
    assert s["debug"] is False
    # Web threads keep their database connection, checked before each reuse.
    assert s["conn_max_age"] == 60 and s["conn_health_checks"] is True
    assert s["upload_max"] == 200 * 1024 * 1024
    assert s["device"] == "auto"
    assert s["queue"] == "genreweb"
    # Rate-limit counts shared by every web process of the machine, not one count per process.
    assert s["cache"]["BACKEND"] == "django.core.cache.backends.filebased.FileBasedCache"
    assert s["cache"]["LOCATION"] == str(tmp_path / "var" / "cache")
    # Each transaction takes SQLite's write lock as it begins (concurrent uploads wait, never fail).
    assert s["db_options"] == {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    assert s["ssl_redirect"] is False and s["proxy_header"] is None
    assert s["session_secure"] is False and s["csrf_secure"] is False and s["hsts"] == [0, False, False]
    # The generated secret key is kept private in var/ and reused by the next process.
    key_file = tmp_path / "var" / "secret_key"
    assert key_file.stat().st_mode & 0o077 == 0
    assert load(tmp_path) == s


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_database_url_selects_postgresql(tmp_path, scheme):
    s = load(tmp_path, DATABASE_URL=f"{scheme}://genre:pw@db.example:5433/genreweb")
    assert s["engine"] == "django.db.backends.postgresql"
    assert (s["name"], s["host"]) == ("genreweb", "db.example")
    assert s["broker"] == "filesystem://"  # the broker is chosen independently


def test_redis_url_selects_redis_broker_and_result_backend(tmp_path):
    s = load(tmp_path, REDIS_URL="redis://127.0.0.1:6379/3", CELERY_VISIBILITY_TIMEOUT="7200")
    assert s["broker"] == "redis://127.0.0.1:6379/3"
    assert s["backend"] == "redis://127.0.0.1:6379/3"
    assert s["transport"] == {"visibility_timeout": 7200}
    assert s["transport_class"] == "kombu.transport.redis.Transport"
    assert s["engine"] == "django.db.backends.sqlite3"


def test_cache_url_shares_throttle_counts_through_redis(tmp_path):
    s = load(tmp_path, CACHE_URL="redis://127.0.0.1:6379/1")
    assert s["cache"] == {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": "redis://127.0.0.1:6379/1"}


def test_valid_values_are_used(tmp_path):
    s = load(tmp_path, DEBUG="true", UPLOAD_MAX_MB="5", INFERENCE_DEVICE="CUDA:1", CELERY_QUEUE="q-x",
             CONN_MAX_AGE="0", SECURE_SSL_REDIRECT="on", SESSION_COOKIE_SECURE="1", SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")
    assert s["debug"] is True
    assert s["conn_max_age"] == 0
    assert s["upload_max"] == 5 * 1024 * 1024
    assert s["device"] == "cuda:1"
    assert s["queue"] == "q-x"
    assert s["ssl_redirect"] is True and s["session_secure"] is True
    assert s["proxy_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("DATABASE_URL", "mongodb://db/genreweb", "DATABASE_URL has an unsupported scheme mongodb://"),
        ("DATABASE_URL", "just-a-name", "DATABASE_URL has an unsupported scheme (none)"),
        ("REDIS_URL", "http://127.0.0.1:6379/0", "REDIS_URL has an unsupported scheme http://"),
        ("CACHE_URL", "memcache://127.0.0.1:11211", "CACHE_URL has an unsupported scheme memcache://"),
        ("CONN_MAX_AGE", "-1", "CONN_MAX_AGE=-1 must be at least 0"),
        ("UPLOAD_MAX_MB", "abc", "UPLOAD_MAX_MB='abc' is not a whole number"),
        ("UPLOAD_MAX_MB", "0", "UPLOAD_MAX_MB=0 must be at least 1"),
        ("UPLOAD_MAX_MINUTES", "forever", "UPLOAD_MAX_MINUTES='forever' is not a whole number"),
        ("CLASSIFY_TIME_LIMIT", "0", "CLASSIFY_TIME_LIMIT=0 must be at least 1"),
        ("CLASSIFY_BATCH_SIZE", "-1", "CLASSIFY_BATCH_SIZE=-1 must be at least 0"),
        ("INFERENCE_DEVICE", "tpu", "INFERENCE_DEVICE='tpu' must be auto, cpu, cuda or cuda:N"),
        ("DEBUG", "ture", "DEBUG='ture' is not a boolean"),
        ("CELERY_CONCURRENCY", "many", "CELERY_CONCURRENCY='many' is not a whole number"),
        ("CELERY_VISIBILITY_TIMEOUT", "-5", "CELERY_VISIBILITY_TIMEOUT=-5 must be at least 1"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL='LOUD' must be DEBUG, INFO"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT='xml' must be text or json"),
        ("LOG_REQUESTS", "sometimes", "LOG_REQUESTS='sometimes' is not a boolean"),
        ("TIME_ZONE", "Mars/Olympus", "TIME_ZONE='Mars/Olympus' is not an IANA time zone"),
        ("CSRF_TRUSTED_ORIGINS", "genre.example", "needs its scheme, e.g. https://genre.example"),
        ("SITE_URL", "genre.example", "SITE_URL 'genre.example' needs its scheme, e.g. https://genre.example"),
        ("SECURE_PROXY_SSL_HEADER", "X Forwarded", "must be a header name"),
        ("API_PAGE_SIZE", "fifty", "API_PAGE_SIZE='fifty' is not a whole number"),
        ("API_THROTTLE_RATE", "lots", "API_THROTTLE_RATE='lots' must look like 1200/hour"),
        ("WEBHOOK_TIMEOUT", "soon", "WEBHOOK_TIMEOUT='soon' is not a number"),
        ("USER_QUOTA_MB", "-1", "USER_QUOTA_MB=-1 must be at least 0"),
        ("WEBHOOK_ALLOWED_NETWORKS", "10.0.0.0/33", "WEBHOOK_ALLOWED_NETWORKS: '10.0.0.0/33' does not appear"),
        ("GENREWEB_ENV", "staging", "GENREWEB_ENV='staging' must be development or production"),
        ("SECURE_HSTS_SECONDS", "-1", "SECURE_HSTS_SECONDS=-1 must be at least 0"),
    ],
)
def test_bad_values_fail_at_start_up_with_a_clear_message(tmp_path, name, value, message):
    result = run_settings(tmp_path, **{name: value})
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured:"), result.stderr
    assert message in last_line


def test_processes_starting_together_share_one_generated_secret_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARS}
    env.update(DJANGO_SETTINGS_MODULE="genreweb.settings", GENREWEB_VAR_DIR=str(tmp_path / "var"))
    script = "from django.conf import settings; print(settings.SECRET_KEY)"
    processes = [subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                  text=True) for _ in range(6)]
    keys = {p.communicate(timeout=120)[0].strip() for p in processes}
    assert len(keys) == 1 and len(keys.pop()) >= 50
    assert [f.name for f in (tmp_path / "var").iterdir() if "secret" in f.name] == ["secret_key"]


def deploy_check(tmp_path, **env):
    # Nor what the test session sets for itself (tests/browser/conftest.py allows async-unsafe
    # ORM calls, which the deploy check rightly refuses).
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARS and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean.update(DJANGO_SETTINGS_MODULE="genreweb.settings", GENREWEB_VAR_DIR=str(tmp_path / "var"), **env)
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                          env=clean, capture_output=True, text=True, timeout=120)


def test_production_profile_passes_the_deploy_check_without_warnings(tmp_path):
    result = deploy_check(tmp_path, **PRODUCTION)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNING" not in output and "security.W" not in output


def test_the_deploy_check_does_flag_the_development_defaults(tmp_path):
    # The same check on the plain-HTTP defaults: it does see what the profile turns on.
    result = deploy_check(tmp_path, SECRET_KEY=PRODUCTION["SECRET_KEY"], ALLOWED_HOSTS="genre.example.org")
    assert result.returncode != 0
    for code in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert code in result.stderr


def test_production_profile_turns_on_https_protections(tmp_path):
    s = load(tmp_path, **PRODUCTION)
    assert s["debug"] is False
    assert s["ssl_redirect"] is True and s["session_secure"] is True and s["csrf_secure"] is True
    assert s["hsts"] == [31536000, True, True]
    # Each stays adjustable, e.g. HSTS without subdomains for a host that shares its domain.
    s = load(tmp_path, **PRODUCTION, SECURE_HSTS_INCLUDE_SUBDOMAINS="false", SECURE_HSTS_SECONDS="3600")
    assert s["hsts"] == [3600, False, True]


@pytest.mark.parametrize(
    "drop, extra, message",
    [
        ("SECRET_KEY", {}, "GENREWEB_ENV=production needs SECRET_KEY set"),
        ("ALLOWED_HOSTS", {}, "GENREWEB_ENV=production needs ALLOWED_HOSTS set"),
        (None, {"DEBUG": "true"}, "GENREWEB_ENV=production runs with DEBUG off"),
    ],
)
def test_production_profile_refuses_to_start_without_what_it_needs(tmp_path, drop, extra, message):
    env = {k: v for k, v in PRODUCTION.items() if k != drop} | extra
    result = run_settings(tmp_path, **env)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured:") and message in last_line, result.stderr
