"""Removing tracks, and keeping the genre they are listed under in step."""
from django.db import transaction
from django.db.models import Case, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, NullIf
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from classifier.models import Prediction, Track


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


def tracks_store_listed_genre(tracks) -> None:
    """Store Track.genre and Track.genre_uncertain as `listed_genre` / `listed_uncertain` for
    every track of the queryset `tracks`, in one UPDATE: the user's own genre (never uncertain),
    else the prediction's genre and its `uncertain`, else NULL."""
    prediction = Prediction.objects.filter(track=OuterRef("pk"))
    tracks.update(
        listed_genre=Coalesce(NullIf("user_genre", Value("")), Subquery(prediction.values("genre"))),
        listed_uncertain=Case(When(Q(user_genre=""), then=Coalesce(Subquery(prediction.values("uncertain")),
                                                                     Value(False))), default=Value(False)),
    )


@receiver(post_save, sender=Prediction, dispatch_uid="classifier.listed_genre_prediction")
@receiver(post_delete, sender=Prediction, dispatch_uid="classifier.listed_genre_prediction_gone")
def _prediction_changed(sender, instance: Prediction, **kwargs) -> None:
    tracks_store_listed_genre(Track.objects.filter(pk=instance.track_id))


@receiver(post_save, sender=Track, dispatch_uid="classifier.listed_genre_track")
def _track_saved(sender, instance: Track, created, update_fields, **kwargs) -> None:
    """A save that may have changed the user's genre. A new track has no prediction yet, so
    only its own genre can list it anywhere."""
    if (created and not instance.user_genre) or (update_fields is not None and "user_genre" not in update_fields):
        return
    tracks_store_listed_genre(Track.objects.filter(pk=instance.pk))
