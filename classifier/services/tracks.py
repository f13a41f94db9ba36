"""Removing tracks."""
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from classifier.models import Track


def track_delete(*, track: Track) -> None:
    """Delete the track, its prediction, its stored audio, spectrogram and covers."""
    track.delete()


@receiver(post_delete, sender=Track, dispatch_uid="classifier.track_files")
def _remove_track_files(sender, instance: Track, **kwargs) -> None:
    """Every way a track goes (this service, a user deleted with all their tracks, the admin)
    takes its files along. Only after commit, so a rolled-back delete never leaves a track
    pointing at a missing file."""
    files = (instance.file, instance.spectrogram, instance.cover, instance.cover_small)
    names = [(field.storage, field.name) for field in files if field.name]

    def remove_files():
        for storage, name in names:
            storage.delete(name)

    transaction.on_commit(remove_files)
