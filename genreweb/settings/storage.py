"""Static files, media files and upload limits."""
from pathlib import Path

from .environment import BASE_DIR, env, env_int

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve straight from static/ when collectstatic has not run (the one-command dev setup).
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))

# Uploads: the size limit is enforced while the body streams in (classifier.uploadhandlers).
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_MB", default=200) * 1024 * 1024
# Bytes do not bound decoding time (a small file can hold hours of quiet audio); this does.
UPLOAD_MAX_MINUTES = env_int("UPLOAD_MAX_MINUTES", default=180)
FILE_UPLOAD_HANDLERS = [
    "classifier.uploadhandlers.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
