"""Which media storage the environment selects, read by fresh interpreters (settings are read
once per process)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = "import json; from django.conf import settings; print(json.dumps(settings.STORAGES['default']))"
STORAGE_VARS = ("STORAGE_URL", "AWS_STORAGE_BUCKET_NAME", "AWS_S3_ENDPOINT_URL", "AWS_S3_REGION_NAME")


def media_storage(tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in STORAGE_VARS}
    clean.update(DJANGO_SETTINGS_MODULE="genreweb.settings", GENREWEB_VAR_DIR=str(tmp_path / "var"), **env)
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True,
                          timeout=120)


def storage(tmp_path, **env) -> dict:
    result = media_storage(tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_local_folder_by_default(tmp_path):
    assert storage(tmp_path) == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_storage_url_names_bucket_prefix_endpoint_and_region(tmp_path):
    chosen = storage(tmp_path, STORAGE_URL="s3://media-bucket/genreweb/prod?endpoint_url=http://minio:9000"
                                           "&region_name=eu-central-1&addressing_style=path")
    assert chosen["BACKEND"] == "classifier.storage_backends.MediaS3Storage"
    options = chosen["OPTIONS"]
    assert (options["bucket_name"], options["location"]) == ("media-bucket", "genreweb/prod")
    assert (options["endpoint_url"], options["region_name"]) == ("http://minio:9000", "eu-central-1")
    assert options["addressing_style"] == "path"
    # Private objects, never overwritten; keys come from AWS_* unless the URL has them.
    assert options["default_acl"] is None and options["file_overwrite"] is False
    assert "access_key" not in options


def test_keys_in_the_url_are_unquoted(tmp_path):
    options = storage(tmp_path, STORAGE_URL="s3://AKIA%2FX:s%3Acret@bucket-one")["OPTIONS"]
    assert (options["access_key"], options["secret_key"]) == ("AKIA/X", "s:cret")


def test_django_storages_own_variables_work_too(tmp_path):
    options = storage(tmp_path, AWS_STORAGE_BUCKET_NAME="bucket-two", AWS_S3_ENDPOINT_URL="http://127.0.0.1:9000",
                      AWS_S3_REGION_NAME="us-east-1")["OPTIONS"]
    assert (options["bucket_name"], options["endpoint_url"], options["region_name"]) == \
        ("bucket-two", "http://127.0.0.1:9000", "us-east-1")


@pytest.mark.parametrize("url, message", [
    ("gs://bucket", "unsupported scheme gs://"),
    ("s3:///prefix-only", "names no bucket"),
    ("s3://bucket?endpoint=http://x", "unknown options endpoint"),
])
def test_a_bad_storage_url_stops_start_up_with_a_clear_message(tmp_path, url, message):
    result = media_storage(tmp_path, STORAGE_URL=url)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr
