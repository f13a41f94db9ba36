"""The user's own genre for a track, kept beside (never instead of) the model's prediction."""
import csv
import os
from dataclasses import dataclass
from pathlib import Path, PurePath

from django.core.exceptions import ValidationError

from classifier.models import Track
from classifier.selectors import installed_labels
from classifier.services.storage import copy_to


def genre_choices(*, track: Track | None = None) -> list[str]:
    """Genres a user may pick: the installed model's labels (else those the track was scored on)."""
    if labels := installed_labels():
        return labels
    prediction = getattr(track, "prediction", None) if track else None
    return list(prediction.probabilities) if prediction else []


def track_set_genre(*, track: Track, genre: str) -> Track:
    """Store `genre` as the user's genre of `track`; an empty genre goes back to the model's."""
    genre = (genre or "").strip()
    if genre and genre not in genre_choices(track=track):
        raise ValidationError(f"“{genre}” is not one of the model's genres.", code="unknown_genre")
    track.user_genre = genre
    track.save(update_fields=["user_genre", "updated_at"])
    return track


def _hard_link(file, target: Path) -> bool:
    """Hard-link a file of a local storage to `target`; False where that cannot be done
    (object storage, another file system), and the caller copies instead."""
    try:
        os.link(file.storage.path(file.name), target)
    except (NotImplementedError, OSError):
        return False
    return True


@dataclass(frozen=True)
class CorrectionsExport:
    csv_path: Path
    rows: int


def corrections_export(*, user, out_dir, link: bool = False) -> CorrectionsExport:
    """Write `out_dir/labels.csv` (columns file,genre, paths relative to the CSV, the format
    ml.sources.read_clips reads) and the audio of every track the user gave a genre to.

    The audio is read through the storage API, so object storage works too. `link` hard-links
    it instead of copying where the storage is a local folder on the same file system, falling
    back to a copy where that is impossible.
    """
    out_dir = Path(out_dir)
    audio_dir = out_dir / "audio"
    audio_dir.mkdir(parents=True, exist_ok=True)
    tracks = Track.objects.filter(owner=user).exclude(user_genre="").order_by("created_at", "pk")
    csv_path = out_dir / "labels.csv"
    count = 0
    with csv_path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "genre"])
        for track in tracks.iterator():
            # The track id keeps names unique; the original suffix keeps the format recognisable.
            suffix = PurePath(track.original_name).suffix.lower() or PurePath(track.file.name).suffix
            target = audio_dir / f"{track.pk}{suffix}"
            if target.exists():
                target.unlink()
            try:
                if not (link and _hard_link(track.file, target)):
                    with target.open("wb") as out:
                        copy_to(track.file, out)
            except FileNotFoundError:  # gone from storage (check_media reports it): skip it
                target.unlink(missing_ok=True)
                continue
            writer.writerow([target.relative_to(out_dir).as_posix(), track.user_genre])
            count += 1
    return CorrectionsExport(csv_path=csv_path, rows=count)
