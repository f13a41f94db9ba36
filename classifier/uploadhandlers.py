"""Enforce the upload size limit while the body streams in, before it is all on disk, and keep
the names of the temporary files uploads stream into within what a file system takes."""
import os

from django.conf import settings
from django.core.files import uploadhandler
from django.core.files.uploadhandler import FileUploadHandler, SkipFile

MAX_EXTENSION = 16  # a longer "extension" is just a long name with a dot in it


def fit_file_name(name: str, limit: int = 255) -> str:
    """`name` cut to `limit` characters, keeping a real extension."""
    stem, extension = os.path.splitext(name)
    if len(extension) > MAX_EXTENSION:
        return name[:limit]
    return stem[:limit - len(extension)] + extension


class SizeLimitUploadHandler(FileUploadHandler):
    """Skips any file larger than settings.UPLOAD_MAX_BYTES and remembers its name on the
    request (request.oversize_files) so the view can answer with a clear 413 message."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.request.oversize_files = []
        self.limit = settings.UPLOAD_MAX_BYTES

    def new_file(self, field_name, file_name, *args, **kwargs):
        super().new_file(field_name, file_name, *args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.request.oversize_files.append(self.file_name)
            raise SkipFile()
        return raw_data

    def file_complete(self, file_size):
        return None


class TemporaryFileUploadHandler(uploadhandler.TemporaryFileUploadHandler):
    """Django's, but its temporary file is named after the upload's extension, and a name like
    "song." followed by 300 characters made that name too long: a 500 instead of an upload."""

    def new_file(self, field_name, file_name, *args, **kwargs):
        name = fit_file_name(file_name)
        stem, extension = os.path.splitext(name)
        super().new_file(field_name, name if len(extension) <= MAX_EXTENSION else stem, *args, **kwargs)
        self.file_name = self.file.name = name
