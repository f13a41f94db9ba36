"""Labelled lists of audio files: CSV with columns file, genre[, split] (paths relative to the CSV)."""
from __future__ import annotations

import csv
import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Clip:
    path: Path
    genre: str
    split: str
    key: str  # ordering key: GTZAN id where given, else the file name


def read_clips(csv_path) -> list[Clip]:
    csv_path = Path(csv_path)
    with csv_path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or not {"file", "genre"} <= set(rows[0]):
        raise ValueError(f"{csv_path}: need columns file,genre[,split]")
    return [Clip(path=(csv_path.parent / r["file"]).resolve(), genre=r["genre"].strip(),
                 split=(r.get("split") or "").strip(), key=r.get("gtzan_id") or Path(r["file"]).name)
            for r in rows]


def select(clips: list[Clip], splits: list[str] | None) -> list[Clip]:
    """Clips whose split is listed; rows without a split belong to every selection."""
    if not splits:
        return list(clips)
    return [c for c in clips if not c.split or c.split in splits]


def inner_holdout(clips: list[Clip], fraction: float, min_clips: int = 4) -> tuple[list[Clip], list[Clip]]:
    """Split off the last contiguous block (by id) of each genre for early stopping.

    Contiguous blocks, not random picks, because neighbouring GTZAN ids often share an artist;
    genres with fewer than ``min_clips`` clips stay whole in the fitting set.
    """
    by_genre: dict[str, list[Clip]] = defaultdict(list)
    for c in clips:
        by_genre[c.genre].append(c)
    fit, hold = [], []
    for genre in sorted(by_genre):
        group = sorted(by_genre[genre], key=lambda c: c.key)
        n_hold = round(len(group) * fraction) if len(group) >= min_clips else 0
        fit += group[:len(group) - n_hold]
        hold += group[len(group) - n_hold:]
    return fit, hold


def counts(clips: list[Clip]) -> dict[str, int]:
    return dict(sorted(Counter(c.genre for c in clips).items()))


def file_digest(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
