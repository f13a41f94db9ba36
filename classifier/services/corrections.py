"""The user's own genre for a track, kept beside (never instead of) the model's prediction."""
import csv
import os
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePath

from django.core.exceptions import ValidationError

from classifier.models import Track
from classifier.selectors import installed_labels


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


@dataclass(frozen=True)
class CorrectionsExport:
    csv_path: Path
    rows: int


def corrections_export(*, user, out_dir, link: bool = False) -> CorrectionsExport:
    """Write `out_dir/labels.csv` (columns file,genre, paths relative to the CSV, the format
    ml.sources.read_clips reads) and the audio of every track the user gave a genre to.

    `link` hard-links the audio instead of copying it (same file system only), falling back
    to a copy where that is impossible.
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
            source = Path(track.file.path)
            if not source.is_file():
                continue
            # The track id keeps names unique; the original suffix keeps the format recognisable.
            target = audio_dir / f"{track.pk}{PurePath(track.original_name).suffix.lower() or source.suffix}"
            if target.exists():
                target.unlink()
            if link:
                try:
                    os.link(source, target)
                except OSError:
                    shutil.copyfile(source, target)
            else:
                shutil.copyfile(source, target)
            writer.writerow([target.relative_to(out_dir).as_posix(), track.user_genre])
            count += 1
    return CorrectionsExport(csv_path=csv_path, rows=count)
