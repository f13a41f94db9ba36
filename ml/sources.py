"""Labelled audio from one or more sources: CSVs with columns file, genre[, split, source, artist, id3_genre].

Paths are relative to their CSV. A row's source is its ``source`` column, else the CSV's file
name (``gtzan.csv`` -> ``gtzan``): recipes are judged on a source they were not trained on, so
every clip knows where it came from. ``artist`` keeps folds artist-disjoint; ``id3_genre`` (the
genre tag in the file itself) gives the lenient reading of a source whose labels are debatable.
"""
from __future__ import annotations

import csv
import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

# A file's own genre tag -> the labels it supports. Used only for lenient scoring: a clip counts as
# right if the prediction is its label or one of these. Tags not listed support nothing.
ID3_GENRES: dict[str, tuple[str, ...]] = {
    "alternative rock": ("rock",), "alt. rock": ("rock",), "hard rock": ("rock",), "rock": ("rock",),
    "electro rock": ("electronic", "rock"), "electronic": ("electronic",), "electronica": ("electronic",),
    "classical": ("classical",), "pop": ("pop",), "jazz": ("jazz",), "blues": ("blues",),
    "country": ("country",), "disco": ("disco",), "hip-hop": ("hiphop",), "hip hop": ("hiphop",),
    "metal": ("metal",), "heavy metal": ("metal",), "reggae": ("reggae",),
}


@dataclass(frozen=True)
class Clip:
    path: Path
    genre: str
    split: str
    key: str                 # ordering key: GTZAN id where given, else the file name
    source: str = ""
    artist: str = ""
    also: tuple[str, ...] = ()  # labels the file's own genre tag supports (lenient scoring)

    def accepts(self, label: str, lenient: bool = False) -> bool:
        return label == self.genre or (lenient and label in self.also)


def read_clips(*csv_paths) -> list[Clip]:
    """Every row of every CSV, in order."""
    clips = []
    for csv_path in map(Path, csv_paths):
        with csv_path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        if not rows or not {"file", "genre"} <= set(rows[0]):
            raise ValueError(f"{csv_path}: need columns file,genre[,split,source,artist,id3_genre]")
        for r in rows:
            tag = (r.get("id3_genre") or "").strip().lower()
            clips.append(Clip(
                path=(csv_path.parent / r["file"]).resolve(), genre=r["genre"].strip(),
                split=(r.get("split") or "").strip(), key=r.get("gtzan_id") or Path(r["file"]).name,
                source=(r.get("source") or "").strip() or csv_path.stem,
                artist=(r.get("artist") or "").strip(), also=ID3_GENRES.get(tag, ())))
    return clips


def select(clips: list[Clip], splits: list[str] | None) -> list[Clip]:
    """Clips whose split is listed; rows without a split belong to every selection."""
    if not splits:
        return list(clips)
    return [c for c in clips if not c.split or c.split in splits]


def sources(clips: list[Clip]) -> list[str]:
    return sorted({c.source for c in clips})


def artist_folds(clips: list[Clip], n_folds: int = 5) -> list[str]:
    """An artist-disjoint fold name for each clip, within its source.

    A source whose rows carry two or more splits uses them (GTZAN's artist-filtered splits share
    no artist). Otherwise artists are dealt to ``n_folds`` folds, largest first, each to the fold
    with the fewest clips of that artist's main genre so far, so every fold gets a genre mix.
    Rows with neither split nor artist are their own artist (the file), which is only safe when
    the source has one recording per artist.
    """
    out = [""] * len(clips)
    by_source: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(clips):
        by_source[c.source].append(i)
    for source, idx in by_source.items():
        splits = {clips[i].split for i in idx}
        if len(splits) >= 2 and "" not in splits:
            for i in idx:
                out[i] = f"{source}:{clips[i].split}"
            continue
        by_artist: dict[str, list[int]] = defaultdict(list)
        for i in idx:
            by_artist[clips[i].artist or clips[i].key].append(i)
        load = [Counter() for _ in range(n_folds)]
        for artist in sorted(by_artist, key=lambda a: (-len(by_artist[a]), a)):
            members = by_artist[artist]
            genre = Counter(clips[i].genre for i in members).most_common(1)[0][0]
            fold = min(range(n_folds), key=lambda f: (load[f][genre], sum(load[f].values()), f))
            load[fold].update(clips[i].genre for i in members)
            for i in members:
                out[i] = f"{source}:{fold + 1}"
    return out


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


def file_digest(*paths) -> str:
    """Short sha256 of the files' bytes, in order: which labelled lists a bundle was trained on."""
    h = hashlib.sha256()
    for p in paths:
        h.update(Path(p).read_bytes())
    return h.hexdigest()[:16]
