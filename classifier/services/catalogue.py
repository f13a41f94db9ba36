"""Artists, albums and covers: a track's tags as read from its file or edited by its owner, and
the Artist/Album rows its pages group by.

The tags on the Track are the facts; Artist and Album rows follow them. Every change of tags goes
through track_link_catalogue(), and rows that no track or album uses any more are removed
(catalogue_prune), also when tracks are deleted by any route.
"""
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone

from classifier.models import Album, Artist, Track, name_key
from classifier.services.metadata import Metadata, clean_text, read_metadata
from classifier.services.storage import local_copy

# What the owner may edit (the form on the track page and PATCH /api/v1/tracks/<id>/).
EDITABLE_TEXT = ("title", "artist", "album_artist", "album")
EDITABLE_NUMBERS = {"track_number": (1, 9999), "disc_number": (1, 999), "year": (1000, 2999)}
EDITABLE = (*EDITABLE_TEXT, *EDITABLE_NUMBERS)


def _artist(owner_id, name: str) -> Artist | None:
    if not name_key(name):
        return None
    artist, _ = Artist.objects.get_or_create(owner_id=owner_id, key=name_key(name), defaults={"name": name.strip()})
    return artist


def track_link_catalogue(*, track: Track) -> None:
    """Point the track at the Artist and Album its tags name, creating them as needed. Does not
    save the track; call catalogue_prune() afterwards when it pointed elsewhere before."""
    track.artist_ref = _artist(track.owner_id, track.artist)
    album_artist = track.album_artist or track.artist
    if not name_key(track.album):
        track.album_ref = None
        return
    track.album_ref, _ = Album.objects.get_or_create(
        owner_id=track.owner_id, artist_key=name_key(album_artist), key=name_key(track.album),
        defaults={"title": track.album.strip(), "artist": _artist(track.owner_id, album_artist)},
    )


def catalogue_prune(*, owner_id) -> None:
    """Remove the owner's albums without tracks, then artists without tracks or albums."""
    Album.objects.filter(owner_id=owner_id, tracks__isnull=True).delete()
    Artist.objects.filter(owner_id=owner_id, tracks__isnull=True, albums__isnull=True).delete()


def track_apply_metadata(*, track: Track, metadata: Metadata) -> None:
    """Fill the track's tags, note and covers from what its file says, and link its artist and
    album. The cover thumbnails are written to storage now; the row is not saved."""
    for name, value in metadata.track_fields().items():
        setattr(track, name, value)
    track.metadata_note = "\n".join(metadata.notes)
    track.metadata_read_at = timezone.now()
    if metadata.covers is not None:
        track_discard_covers(track=track)
        track.cover.save("cover.jpg", ContentFile(metadata.covers.large), save=False)
        track.cover_small.save("cover.jpg", ContentFile(metadata.covers.small), save=False)
    track_link_catalogue(track=track)


def track_read_metadata(*, track: Track) -> Track:
    """Read the stored file's tags and cover again and apply them (replacing the track's tags):
    for tracks uploaded before tags and covers were read in full. Raises FileNotFoundError when
    the stored audio is gone."""
    with local_copy(track.file) as path:
        metadata = read_metadata(path)
    with transaction.atomic():
        track_apply_metadata(track=track, metadata=metadata)
        track.save()
        catalogue_prune(owner_id=track.owner_id)
    return track


def track_discard_covers(*, track: Track) -> None:
    """Delete the track's cover files from storage (the row is not saved)."""
    for cover in (track.cover, track.cover_small):
        if cover:
            cover.delete(save=False)


def _clean(field: str, value):
    if field in EDITABLE_TEXT:
        return clean_text(value or "")
    if value in (None, ""):
        return None
    low, high = EDITABLE_NUMBERS[field]
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: f"Enter a whole number from {low} to {high}."}) from None
    if not low <= number <= high:
        raise ValidationError({field: f"Enter a whole number from {low} to {high}."})
    return number


@transaction.atomic
def track_update_metadata(*, track: Track, **changes) -> Track:
    """Set some of the EDITABLE tags of `track` (text is cleaned like tags read from files; an
    empty number clears it) and move it to the artist and album they name."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError(f"These fields cannot be edited: {', '.join(sorted(unknown))}.")
    for field, value in changes.items():
        setattr(track, field, _clean(field, value))
    track_link_catalogue(track=track)
    track.save(update_fields=[*changes, "artist_ref", "album_ref", "updated_at"])
    catalogue_prune(owner_id=track.owner_id)
    return track


@receiver(post_delete, sender=Track, dispatch_uid="classifier.catalogue_prune")
def _prune_after_delete(sender, instance: Track, **kwargs) -> None:
    # Every way a track goes (the service, the API, a deleted user, the admin).
    if instance.album_ref_id or instance.artist_ref_id:
        catalogue_prune(owner_id=instance.owner_id)

