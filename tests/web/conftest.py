"""Helpers for the HTTP-level tests of the web pages: logged-in clients and uploads."""
import pytest
from django.urls import reverse

from classifier.services.uploads import track_upload


def post_upload(client, *paths, as_json=True, **extra):
    """POST the files at `paths` to the upload view, as upload.js (JSON) or the plain form does."""
    handles = [open(path, "rb") for path in paths]
    try:
        headers = {"accept": "application/json"} if as_json else {}
        return client.post(reverse("upload"), {"files": handles}, headers=headers, **extra)
    finally:
        for handle in handles:
            handle.close()


@pytest.fixture
def stored_track(user, audio_file):
    """stored_track(name="song.wav", owner=user, **audio) → a Track uploaded through the service."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    def make(name="song.wav", owner=None, **kwargs):
        path = audio_file(name, **kwargs)
        upload = SimpleUploadedFile(name, path.read_bytes())
        return track_upload(owner=owner or user, upload=upload).track

    return make
