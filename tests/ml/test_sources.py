"""ml.sources: several CSVs, each row knowing its source and artist; artist-disjoint folds; lenient labels."""
import csv

import pytest

from ml.sources import Clip, artist_folds, read_clips, sources


def write_csv(path, rows, fields):
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fields)
        w.writeheader()
        w.writerows(rows)
    return path


@pytest.fixture
def two_sources(tmp_path):
    a = write_csv(tmp_path / "gtzan.csv", [{"file": f"g/{i}.flac", "genre": g, "split": s}
                                           for i, (g, s) in enumerate([("rock", "train"), ("pop", "valid")])],
                  ["file", "genre", "split"])
    sub = tmp_path / "sub"
    sub.mkdir()
    b = write_csv(sub / "other.csv", [
        {"file": "e/1.mp3", "genre": "pop", "source": "emotify", "artist": "A", "id3_genre": "Alternative Rock"},
        {"file": "e/2.mp3", "genre": "rock", "source": "emotify", "artist": "B", "id3_genre": "World"},
    ], ["file", "genre", "source", "artist", "id3_genre"])
    return a, b


def test_rows_of_several_csvs_keep_their_source_artist_and_own_tag(two_sources):
    a, b = two_sources
    clips = read_clips(a, b)
    assert [c.source for c in clips] == ["gtzan", "gtzan", "emotify", "emotify"]  # file stem, else the column
    assert clips[2].path == (b.parent / "e/1.mp3").resolve()  # paths are relative to their own CSV
    assert clips[2].artist == "A" and clips[2].also == ("rock",)
    assert clips[3].also == ()  # a tag that names none of our genres supports nothing
    assert sources(clips) == ["emotify", "gtzan"]


def test_lenient_accepts_the_files_own_tag_only_when_asked():
    clip = Clip(path=None, genre="pop", split="", key="k", also=("rock",))
    assert clip.accepts("pop") and clip.accepts("pop", lenient=True)
    assert not clip.accepts("rock") and clip.accepts("rock", lenient=True)
    assert not clip.accepts("jazz", lenient=True)


def test_a_csv_without_file_and_genre_is_refused(tmp_path):
    bad = write_csv(tmp_path / "bad.csv", [{"path": "x.wav", "label": "rock"}], ["path", "label"])
    with pytest.raises(ValueError, match="need columns"):
        read_clips(bad)


def make(source, artist, genre, i, split=""):
    return Clip(path=None, genre=genre, split=split, key=f"{source}{i}", source=source, artist=artist)


def test_artist_folds_never_split_an_artist_and_mix_genres():
    clips = [make("e", f"artist{a}", genre, 10 * a + k)
             for a, genre in enumerate(["rock", "pop", "rock", "pop", "jazz", "jazz", "rock", "pop", "jazz", "rock"])
             for k in range(1 + a % 3)]
    folds = artist_folds(clips, n_folds=3)
    by_artist = {}
    for c, f in zip(clips, folds):
        by_artist.setdefault(c.artist, set()).add(f)
    assert all(len(f) == 1 for f in by_artist.values())  # an artist lives in one fold
    assert set(folds) == {"e:1", "e:2", "e:3"}
    for fold in set(folds):  # every fold holds more than one genre
        assert len({c.genre for c, f in zip(clips, folds) if f == fold}) > 1


def test_a_source_with_splits_uses_them_as_folds():
    clips = [make("g", "", "rock", 0, "train"), make("g", "", "pop", 1, "valid"), make("e", "x", "rock", 2)]
    assert artist_folds(clips, n_folds=2) == ["g:train", "g:valid", "e:1"]
