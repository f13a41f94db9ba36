"""GenreWeb settings, all from environment variables (see README "Configuration").

One module per concern; this one only puts them together, so DJANGO_SETTINGS_MODULE stays
genreweb.settings. Read a variable with the parsers in environment.py, so that a bad value
raises ImproperlyConfigured at start-up rather than at the first request.
"""
from .environment import BASE_DIR, VAR_DIR  # noqa: F401
from .base import *  # noqa: F401,F403
from .production import *  # noqa: F401,F403
from .security import *  # noqa: F401,F403
from .database import *  # noqa: F401,F403
from .storage import *  # noqa: F401,F403
from .queue import *  # noqa: F401,F403
from .api import *  # noqa: F401,F403
from .logging import *  # noqa: F401,F403
