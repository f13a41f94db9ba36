"""A real S3-compatible server (moto's, from PyPI) on 127.0.0.1, and media storage pointed at it.

The server speaks the S3 protocol over HTTP like MinIO or AWS; nothing is mocked inside the
process: boto3 in the web code and in the worker subprocess talk to it over the loopback."""
import uuid

import boto3
import pytest
from moto.server import ThreadedMotoServer

from genreweb.settings.storage import _media_storage

REGION = "us-east-1"
# moto accepts any key; set explicitly so no credentials of the machine are ever picked up.
KEYS = {"AWS_ACCESS_KEY_ID": "genreweb-test", "AWS_SECRET_ACCESS_KEY": "genreweb-test-secret"}


@pytest.fixture(scope="session")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


class Bucket:
    def __init__(self, endpoint: str, name: str):
        self.name = name
        self.url = f"s3://{name}?endpoint_url={endpoint}&region_name={REGION}"
        self.client = boto3.client("s3", endpoint_url=endpoint, region_name=REGION,
                                   aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"],
                                   aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"])
        self.client.create_bucket(Bucket=name)

    def keys(self) -> set[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name)
        return {item["Key"] for page in pages for item in page.get("Contents", ())}

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()


@pytest.fixture
def s3_media(s3_endpoint, settings, monkeypatch, tmp_path):
    """Media storage is a fresh bucket for this test (STORAGE_URL in the environment too, for a
    worker started from here); MEDIA_ROOT is an empty folder that must stay empty."""
    bucket = Bucket(s3_endpoint, f"genreweb-{uuid.uuid4().hex[:12]}")
    for key, value in {**KEYS, "STORAGE_URL": bucket.url}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_STORAGE_BUCKET_NAME", raising=False)
    settings.STORAGES = {**settings.STORAGES, "default": _media_storage()}  # as the settings read it
    settings.MEDIA_ROOT = str(tmp_path / "media-unused")
    return bucket
