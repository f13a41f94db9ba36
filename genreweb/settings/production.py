"""The deployment profile. GENREWEB_ENV=production makes the HTTPS protections (HSTS, secure
cookies, redirect to HTTPS) the defaults in security.py, and refuses to start without what a
public instance needs; the default profile, development, keeps the plain-HTTP one-command setup."""
from django.core.exceptions import ImproperlyConfigured

from .base import DEBUG
from .environment import env

GENREWEB_ENV = env.str("GENREWEB_ENV", default="development").strip().lower()
if GENREWEB_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"GENREWEB_ENV={GENREWEB_ENV!r} must be development or production.")
PRODUCTION = GENREWEB_ENV == "production"

if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("GENREWEB_ENV=production runs with DEBUG off; set DEBUG=false or leave it unset.")
    # The key generated into var/ is per machine: web and workers on several hosts would disagree.
    # The default hosts (localhost) would answer no public request.
    if _missing := [name for name in ("SECRET_KEY", "ALLOWED_HOSTS") if not env.str(name, default="").strip()]:
        raise ImproperlyConfigured(
            f"GENREWEB_ENV=production needs {' and '.join(_missing)} set, e.g. SECRET_KEY=<50+ random characters> "
            "ALLOWED_HOSTS=genre.example.org (see README \"Configuration\")."
        )
