"""Static files, media storage (a local folder or an S3-compatible bucket) and upload limits."""
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from .environment import BASE_DIR, VAR_DIR, check_scheme, env, env_float, env_int

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve straight from static/ when collectstatic has not run (the one-command dev setup).
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# `manage.py import_tracks --in-place` leaves the files under this folder where they are and
# reads them there (classifier.audio_storage); the web server and every worker must see it at
# this path. Empty: in-place import is off and every import is copied into the media storage.
MUSIC_DIRECTORY = env.str("MUSIC_DIRECTORY", default="")

# --- Where uploads and spectrograms are kept ---------------------------------------------
# The folder MEDIA_ROOT, unless an S3-compatible bucket (AWS S3, MinIO, Ceph, ...) is named:
#   STORAGE_URL=s3://BUCKET[/PREFIX]?endpoint_url=http://minio:9000&region_name=us-east-1
# or django-storages' own names: AWS_STORAGE_BUCKET_NAME, AWS_S3_ENDPOINT_URL, AWS_S3_REGION_NAME.
# Keys come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or s3://KEY:SECRET@BUCKET). Web and
# every worker need the same values. The bucket stays private: the app streams media itself.
_S3_QUERY = {"endpoint_url", "region_name", "addressing_style"}


def _s3_options(url: str) -> dict:
    check_scheme("STORAGE_URL", url, {"s3"}, "s3://genreweb-media?endpoint_url=http://127.0.0.1:9000")
    parts = urlsplit(url)
    if not parts.hostname:
        raise ImproperlyConfigured(f"STORAGE_URL={url!r} names no bucket; use s3://BUCKET.")
    query = dict(parse_qsl(parts.query))
    if unknown := set(query) - _S3_QUERY:
        raise ImproperlyConfigured(
            f"STORAGE_URL has unknown options {', '.join(sorted(unknown))}; known: {', '.join(sorted(_S3_QUERY))}.")
    options = {"bucket_name": parts.hostname, "location": parts.path.strip("/"), **query}
    if parts.username:
        options["access_key"], options["secret_key"] = unquote(parts.username), unquote(parts.password or "")
    return options


def _media_storage() -> dict:
    url = env.str("STORAGE_URL", default="").strip()
    bucket = env.str("AWS_STORAGE_BUCKET_NAME", default="").strip()
    if not url and not bucket:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    options = _s3_options(url) if url else {
        "bucket_name": bucket,
        "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
        "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
    }
    return {
        "BACKEND": "classifier.storage_backends.MediaS3Storage",
        "OPTIONS": {
            **options,
            # Names are random already; never overwrite, never publish (no public ACL).
            "file_overwrite": False,
            "default_acl": None,
            # A file opened whole (storage.open) spools to disk past this, not to memory.
            "max_memory_size": 8 * 1024 * 1024,
        },
    }


STORAGES = {
    "default": _media_storage(),
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Uploads: the size limit is enforced while the body streams in (classifier.uploadhandlers).
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_MB", default=200) * 1024 * 1024
# Per user: the audio a user keeps may add up to this (0: no quota); enforced for the upload page,
# the API and import_tracks alike (classifier.services.quota).
USER_QUOTA_BYTES = env_int("USER_QUOTA_MB", default=10 * 1024, minimum=0) * 1024 * 1024
# Bytes do not bound decoding time (a small file can hold hours of quiet audio); this does.
UPLOAD_MAX_MINUTES = env_int("UPLOAD_MAX_MINUTES", default=180)
# How long the signed audio links inside a downloaded M3U playlist play (classifier.services.streaming).
STREAM_LINK_DAYS = env_int("STREAM_LINK_DAYS", default=7, minimum=1)
# Shorter clips are refused: a blip has no genre, and the model would still name one.
UPLOAD_MIN_SECONDS = env_float("UPLOAD_MIN_SECONDS", default=0.5)
FILE_UPLOAD_HANDLERS = [
    "classifier.uploadhandlers.SizeLimitUploadHandler",
    "classifier.uploadhandlers.TemporaryFileUploadHandler",
]
# Uploads being received, and media copied out of a bucket for the model, are written here; what
# a process killed mid-way leaves behind, the sweep for lost jobs removes once stale
# (classifier.services.recovery).
FILE_UPLOAD_TEMP_DIR = env.str("UPLOAD_TEMP_DIR", default="") or str(VAR_DIR / "tmp")
Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
