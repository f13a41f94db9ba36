"""Database (SQLite by default, PostgreSQL via DATABASE_URL) and cache."""
from .environment import VAR_DIR, check_scheme, env, env_int

_DATABASE_URL = env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
# Only engines whose driver requirements.txt installs; anything else would fail at the first query.
check_scheme("DATABASE_URL", _DATABASE_URL, {"sqlite", "postgres", "postgresql", "pgsql"},
             "postgres://user:password@127.0.0.1:5432/genreweb")
DATABASES = {"default": env.db_url_config(_DATABASE_URL)}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The web processes and the worker write concurrently; wait for the lock instead of failing.
    # IMMEDIATE: a transaction takes the write lock when it begins. A deferred one that reads and
    # then writes (an upload filing its artist) cannot wait for a writer beside it: SQLite fails
    # it at once with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(timeout=20, transaction_mode="IMMEDIATE")
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
# A web thread keeps its connection between requests (checked before reuse): on PostgreSQL,
# opening one costs more than a page's queries. 0 closes it after every request.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 60, minimum=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The rate limits count in the cache, which every web process of the machine must share (a
# count per process would multiply each limit by WEB_CONCURRENCY): files under the var dir by
# default; CACHE_URL (e.g. redis://host:6379/1, a Redis database apart from the broker's) when
# web processes run on several machines.
_CACHE_URL = env.str("CACHE_URL", default="") or f"filecache://{VAR_DIR / 'cache'}"
check_scheme("CACHE_URL", _CACHE_URL, {"filecache", "locmemcache", "redis", "rediss"}, "redis://127.0.0.1:6379/1")
CACHES = {"default": env.cache_url_config(_CACHE_URL)}
