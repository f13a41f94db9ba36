"""Reading settings from environment variables: paths and strict parsers shared by every
settings module. Bad values raise ImproperlyConfigured at start-up rather than at the first
request."""
import os
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env.str("GENREWEB_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    """Strict boolean: a typo such as DEBUG=ture must not silently mean False."""
    value = env.str(name, default=str(default)).strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean; use true/false (or 1/0, yes/no, on/off).")


def env_int(name: str, default: int, minimum: int = 1) -> int:
    raw = env.str(name, default=str(default)).strip()
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
    return value


def env_float(name: str, default: float, minimum: float = 0.0) -> float:
    raw = env.str(name, default=str(default)).strip()
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None
    if not value >= minimum:  # also rejects nan
        raise ImproperlyConfigured(f"{name}={raw} must be at least {minimum:g}.")
    return value


def env_rate(name: str, default: str) -> str:
    """A DRF throttle rate; DRF itself would only choke on a bad one at the first request."""
    value = env.str(name, default=default).strip()
    if not re.fullmatch(r"\d+/(s|sec|second|m|min|minute|h|hour|d|day)", value):
        raise ImproperlyConfigured(f"{name}={value!r} must look like 1200/hour (per second, minute, hour or day).")
    return value


def check_scheme(name: str, url: str, allowed: set[str], example: str) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in allowed:
        raise ImproperlyConfigured(
            f"{name} has an unsupported scheme {scheme + '://' if scheme else '(none)'}; "
            f"expected {' or '.join(sorted(s + '://' for s in allowed))}, e.g. {example}"
        )


def secret_key() -> str:
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
