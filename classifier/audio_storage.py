"""Where a track's audio is read from: the media storage, or the user's own music folder.

`import_tracks --in-place` leaves files where they are (as Funkwhale's in-place import does):
their tracks are named `music-directory/<path under MUSIC_DIRECTORY>`, read from that folder
and never written or deleted there (the files are the user's, not ours). Every other name is
the media storage's (STORAGES["default"]: MEDIA_ROOT or a bucket), looked up on each call so a
settings change (tests) is seen at once.
"""
from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.utils.deconstruct import deconstructible

MUSIC_DIRECTORY_PREFIX = "music-directory/"


def music_directory_name(relative: str) -> str:
    """The storage name of a file at `relative` (a POSIX path) under MUSIC_DIRECTORY."""
    return MUSIC_DIRECTORY_PREFIX + relative


def is_in_place(name: str) -> bool:
    return bool(name) and name.startswith(MUSIC_DIRECTORY_PREFIX)


@deconstructible(path="classifier.audio_storage.AudioStorage")
class AudioStorage(Storage):
    def resolve(self, name: str) -> tuple[Storage, str]:
        """The storage that holds `name`, and the name it knows the file by."""
        if not is_in_place(name):
            return storages["default"], name
        if not settings.MUSIC_DIRECTORY:
            raise FileNotFoundError(f"{name}: MUSIC_DIRECTORY is not set, so in-place files cannot be read")
        # FileSystemStorage refuses names that would leave its folder ("..", absolute paths).
        return FileSystemStorage(location=settings.MUSIC_DIRECTORY), name[len(MUSIC_DIRECTORY_PREFIX):]

    def _open(self, name, mode="rb"):
        storage, inner = self.resolve(name)
        return storage.open(inner, mode)

    def _save(self, name, content):
        return storages["default"].save(name, content)  # new files always go to the media storage

    def delete(self, name):
        if not is_in_place(name):
            storages["default"].delete(name)

    def exists(self, name):
        try:
            storage, inner = self.resolve(name)
        except FileNotFoundError:
            return False
        return storage.exists(inner)

    def _delegate(method):  # noqa: N805 - builds methods below
        def call(self, name, *args, **kwargs):
            storage, inner = self.resolve(name)
            return getattr(storage, method)(inner, *args, **kwargs)
        call.__name__ = method
        return call

    size = _delegate("size")
    path = _delegate("path")
    url = _delegate("url")
    listdir = _delegate("listdir")
    get_modified_time = _delegate("get_modified_time")
    del _delegate

    def get_available_name(self, name, max_length=None):
        return storages["default"].get_available_name(name, max_length=max_length)

    def generate_filename(self, filename):
        return storages["default"].generate_filename(filename)


def audio_storage() -> AudioStorage:
    """Track.file's storage (a callable, so migrations do not depend on settings)."""
    return AudioStorage()
