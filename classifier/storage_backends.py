"""Object storage for media: django-storages' S3 backend with a streamed, ranged read.

`S3Storage.open()` returns an S3File that downloads the whole object before the first byte can
be read, so an audio player seeking into a long track would fetch all of it on every Range
request, and copying a track for the decoder would hold it twice. `stream()` asks S3 for the
bytes wanted in one ranged GET and yields them as they arrive; classifier.services.storage uses
it when a storage has it.
"""
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

# An unreachable store fails in seconds (a readiness probe, a page), not botocore's 60 s per try.
TIMEOUTS = Config(connect_timeout=5, retries={"mode": "standard", "max_attempts": 3})


class MediaS3Storage(S3Storage):
    def __init__(self, **settings):
        super().__init__(**settings)
        self.client_config = self.client_config.merge(TIMEOUTS)

    def stream(self, name: str, start: int, end: int | None, *, chunk_size: int):
        """Bytes `start`..`end` (inclusive; None: to the end) of the object, in chunks.

        A missing object raises FileNotFoundError, as FileSystemStorage does; any other failure
        to reach the store raises OSError, which the worker retries as a transient error.
        """
        if end is not None and end < start:
            return  # nothing asked for (an empty file); "bytes=0--1" is not a range S3 takes
        params = {"Bucket": self.bucket_name, "Key": self._normalize_name(clean_name(name))}
        if start or end is not None:
            params["Range"] = f"bytes={start}-{'' if end is None else end}"
        try:
            body = self.connection.meta.client.get_object(**params)["Body"]
        except ClientError as err:
            if err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                raise FileNotFoundError(f"{name} is not in the bucket") from err
            raise OSError(f"object storage refused {name}: {err}") from err
        except BotoCoreError as err:
            raise OSError(f"object storage unreachable: {err}") from err
        try:
            yield from body.iter_chunks(chunk_size)
        except BotoCoreError as err:
            raise OSError(f"object storage read of {name} failed: {err}") from err
        finally:
            body.close()
