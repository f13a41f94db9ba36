"""Removing tracks."""
from django.db import transaction

from classifier.models import Track


def track_delete(*, track: Track) -> None:
    """Delete the track, its prediction, its stored audio and its spectrogram.

    Files go only once the row is gone for good (after commit), so a rolled-back delete
    never leaves a track pointing at a missing file.
    """
    names = [(field.storage, field.name) for field in (track.file, track.spectrogram) if field.name]
    track.delete()

    def remove_files():
        for storage, name in names:
            storage.delete(name)

    transaction.on_commit(remove_files)
