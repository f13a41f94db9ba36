"""The deployment profile. GENREWEB_ENV=production makes the HTTPS protections (HSTS, secure
cookies, redirect to HTTPS) the defaults in security.py, and refuses to start without what a
public instance needs; the default profile, development, keeps the plain-HTTP one-command setup."""
from django.core.exceptions import ImproperlyConfigured

from .environment import env

GENREWEB_ENV = env.str("GENREWEB_ENV", default="development").strip().lower()
if GENREWEB_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"GENREWEB_ENV={GENREWEB_ENV!r} must be development or production.")
PRODUCTION = GENREWEB_ENV == "production"
