"""`manage.py import_tracks`: a folder of local audio into a user's library, once."""
import io
import shutil

import pytest
from django.core.management import CommandError, call_command

from classifier.management.commands import import_tracks as command_module
from classifier.models import Track
from tests.audiogen import write_audio

pytestmark = pytest.mark.django_db


@pytest.fixture
def media_dir(own_media_dir):
    return own_media_dir


@pytest.fixture
def library(tmp_path):
    """A folder tree: four distinct clips in four formats (one in a subfolder), a byte-for-byte
    copy under another name, a text file named .mp3, an empty .wav and a .txt to be ignored."""
    root = tmp_path / "library"
    (root / "sub").mkdir(parents=True)
    write_audio(root / "a.wav", seconds=1, seed=1)
    write_audio(root / "b.flac", seconds=1, seed=2)
    write_audio(root / "c.ogg", seconds=1, seed=3)
    write_audio(root / "sub" / "d.mp3", seconds=1, seed=4)
    shutil.copyfile(root / "a.wav", root / "sub" / "copy-of-a.wav")
    (root / "sub" / "notes.mp3").write_text("shopping list: milk, eggs\n" * 50)
    (root / "empty.wav").write_bytes(b"")
    (root / "readme.txt").write_text("not a track")
    return root


def run(*args, **kwargs):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_tracks", *map(str, args), stdout=out, stderr=err, **kwargs)
    return out.getvalue(), err.getvalue()


def media_files(media_dir, user):
    folder = media_dir / "tracks" / str(user.pk)
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_a_folder_is_imported_with_counts_and_each_new_track_is_queued(
        user, library, media_dir, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        out, err = run(library, user="alice")

    assert "7 file(s): 4 imported, 1 duplicate, 2 rejected." in out
    assert "new=4" in err and "duplicate=1" in err and "rejected=2" in err  # the tqdm postfix
    tracks = Track.objects.filter(owner=user)
    assert sorted(t.original_name for t in tracks) == ["a.wav", "b.flac", "c.ogg", "d.mp3"]
    assert sorted(t.format for t in tracks) == ["FLAC", "MP3", "OGG", "WAV"]
    # Queued on each file's commit, through the test settings' broker (no worker runs here).
    assert len(callbacks) == 4
    assert {t.status for t in tracks} == {Track.Status.QUEUED}
    a = tracks.get(original_name="a.wav")
    assert open(a.file.path, "rb").read() == (library / "a.wav").read_bytes()
    assert len(media_files(media_dir, user)) == 4

    rejected = out.split("Rejected 2 file(s):", 1)[1]
    assert f"{library / 'empty.wav'}: empty.wav is empty. [empty_file]" in rejected
    assert f"{library / 'sub' / 'notes.mp3'}: notes.mp3 is not an audio file we can read" in rejected
    assert "[invalid_audio]" in rejected
    assert "readme.txt" not in out + err


def test_a_second_run_imports_nothing_and_reports_duplicates(user, library, media_dir):
    run(library, user="alice")
    before = set(Track.objects.values_list("pk", flat=True))

    out, _ = run(library, user="alice")

    assert "7 file(s): 0 imported, 5 duplicate, 2 rejected." in out
    assert set(Track.objects.values_list("pk", flat=True)) == before
    assert len(media_files(media_dir, user)) == 4


def test_a_partial_run_then_the_whole_folder_imports_each_file_once(user, library):
    out, _ = run(library / "sub", user="alice")
    assert "3 file(s): 2 imported, 0 duplicate, 1 rejected." in out  # copy-of-a.wav, d.mp3

    out, _ = run(library, user="alice")
    assert "7 file(s): 2 imported, 3 duplicate, 2 rejected." in out
    names = sorted(Track.objects.filter(owner=user).values_list("original_name", flat=True))
    assert names == ["b.flac", "c.ogg", "copy-of-a.wav", "d.mp3"]  # a.wav's bytes came in as the copy


def test_an_interrupted_run_can_be_run_again(user, library, media_dir, monkeypatch):
    real_import = command_module.import_file
    calls = []

    def interrupted(**kwargs):
        calls.append(kwargs["path"])
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_import(**kwargs)

    monkeypatch.setattr(command_module, "import_file", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(library, user="alice")
    assert Track.objects.count() == 2  # a.wav and b.flac, each committed on its own
    assert len(media_files(media_dir, user)) == 2

    monkeypatch.setattr(command_module, "import_file", real_import)
    out, _ = run(library, user="alice")
    assert "7 file(s): 2 imported, 3 duplicate, 2 rejected." in out
    assert sorted(Track.objects.values_list("original_name", flat=True)) == ["a.wav", "b.flac", "c.ogg", "d.mp3"]
    assert len(media_files(media_dir, user)) == 4


def test_files_can_be_named_directly(user, library):
    out, _ = run(library / "b.flac", library / "sub" / "d.mp3", library / "b.flac", user="alice")
    assert "2 file(s): 2 imported, 0 duplicate, 0 rejected." in out


def test_unknown_or_missing_user_and_missing_path_are_command_errors(user, library):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        run(library, user="nobody")
    with pytest.raises(CommandError, match="--user"):
        run(library)
    with pytest.raises(CommandError, match="No such file or folder"):
        run(library / "missing", user="alice")
    assert not Track.objects.exists()


def test_dry_run_counts_and_changes_nothing(user, library, media_dir, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        out, _ = run(library, user="alice", dry_run=True)
    assert "7 file(s): 5 would import, 1 duplicate, 1 rejected." in out  # notes.mp3 is not probed
    assert "empty.wav is empty." in out
    assert not Track.objects.exists()
    assert media_files(media_dir, user) == []
    assert callbacks == []

    run(library / "a.wav", user="alice")
    out, _ = run(library, user="alice", dry_run=True)
    assert "7 file(s): 4 would import, 2 duplicate, 1 rejected." in out
    assert Track.objects.count() == 1


def test_database_queries_per_file_are_bounded(user, tmp_path, django_assert_max_num_queries):
    n = 6
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(n):
        write_audio(folder / f"{i:02}.wav", seconds=0.5, seed=100 + i)

    # Per run: the user, their tracks' checksums and (once a file is new) their storage used.
    # Per new file: the INSERT alone (plus the savepoint pair around it); no duplicate SELECT.
    with django_assert_max_num_queries(3 + n * 3):
        out, _ = run(folder, user="alice")
    assert f"{n} imported" in out
    # Per duplicate: the one SELECT of the track it duplicates.
    with django_assert_max_num_queries(2 + n * 1):
        out, _ = run(folder, user="alice")
    assert f"{n} duplicate" in out
