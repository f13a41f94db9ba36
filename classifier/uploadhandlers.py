"""Enforce the upload size limit while the body streams in, before it is all on disk."""
from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile


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
