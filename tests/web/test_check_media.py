"""`manage.py check_media`: orphan files and tracks whose files went missing, reported and repaired.

(Deleting one track removes its audio and spectrogram: tests/library/test_exports.py and
tests/api/test_tracks.py. Deleting a user removes their audio: test_exports.py; the spectrograms
are checked here.)"""
import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command

from classifier.models import Track
from classifier.services.media import MISSING_AUDIO_REASON, media_audit

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG fake"


@pytest.fixture(autouse=True)
def _own_media_root(settings, tmp_path):
    """A media folder of its own: files other tests left in the shared one are not ours to judge."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


def check_media(*args) -> tuple[int, str]:
    """(exit code, output) of `check_media --min-age-minutes 0 *args`."""
    out = io.StringIO()
    try:
        call_command("check_media", "--min-age-minutes", "0", *args, stdout=out)
    except SystemExit as exit_:
        return exit_.code, out.getvalue()
    return 0, out.getvalue()


def with_spectrogram(track: Track) -> Track:
    track.spectrogram.save("x.png", ContentFile(PNG), save=True)
    return track


def test_a_clean_library_reports_nothing(stored_track):
    with_spectrogram(stored_track("a.wav", seconds=1))
    stored_track("b.wav", seconds=1, seed=1)
    code, output = check_media()
    assert code == 0
    assert "0 orphan file(s)" in output and "Media storage is clean." in output
    assert media_audit(min_age=None).clean


def test_orphans_are_reported_then_removed_but_referenced_files_stay(stored_track, user):
    track = with_spectrogram(stored_track("kept.wav", seconds=1))
    stray_audio = default_storage.save(f"tracks/{user.pk}/stray.wav", ContentFile(b"RIFF"))
    stray_image = default_storage.save("spectrograms/999/stray.png", ContentFile(PNG))

    code, output = check_media()
    assert code == 1
    assert "2 orphan file(s)" in output and stray_audio in output and stray_image in output
    assert track.file.name not in output and track.spectrogram.name not in output
    assert default_storage.exists(stray_audio)  # a report alone changes nothing

    code, output = check_media("--fix")
    assert code == 0 and "removed 2 orphan file(s)" in output
    assert not default_storage.exists(stray_audio) and not default_storage.exists(stray_image)
    assert default_storage.exists(track.file.name) and default_storage.exists(track.spectrogram.name)
    assert check_media()[0] == 0


def test_a_track_whose_audio_vanished_is_marked_failed_with_a_reason(stored_track):
    track = stored_track("gone.wav", seconds=1)
    default_storage.delete(track.file.name)

    code, output = check_media()
    assert code == 1
    assert "1 track(s) whose audio file is missing" in output and str(track.pk) in output

    code, output = check_media("--fix")
    assert code == 0 and "marked 1 track(s) failed" in output
    track.refresh_from_db()
    assert track.status == Track.Status.FAILED
    assert track.failure_reason == MISSING_AUDIO_REASON

    code, output = check_media()  # already dealt with: no longer a problem, still mentioned
    assert code == 0 and "already marked failed" in output


def test_a_missing_spectrogram_reference_is_cleared(stored_track):
    track = with_spectrogram(stored_track("pic.wav", seconds=1))
    default_storage.delete(track.spectrogram.name)

    code, output = check_media()
    assert code == 1 and "1 track(s) whose spectrogram is missing" in output

    code, output = check_media("--fix")
    assert code == 0 and "cleared 1 missing spectrogram reference(s)" in output
    track.refresh_from_db()
    assert track.spectrogram.name == ""
    assert track.status == Track.Status.QUEUED  # the audio is fine: nothing else changes
    assert check_media()[0] == 0


def test_long_lists_are_shortened_unless_verbose():
    names = [default_storage.save(f"tracks/1/stray{i:02}.wav", ContentFile(b"x")) for i in range(12)]
    code, output = check_media()
    assert code == 1 and "12 orphan file(s)" in output
    assert "... and 2 more (--verbose lists them all)" in output
    assert sum(name in output for name in names) == 10
    code, output = check_media("--verbose")
    assert code == 1 and all(name in output for name in names)


def test_fresh_files_may_be_an_upload_in_progress_and_are_left_alone():
    name = default_storage.save("tracks/1/saving.wav", ContentFile(b"x"))
    out = io.StringIO()
    call_command("check_media", "--fix", stdout=out)  # the default minimum age: one hour
    assert "1 unreferenced file(s) newer than 60 minutes were left alone" in out.getvalue()
    assert default_storage.exists(name)


def test_deleting_a_user_leaves_no_audio_or_spectrogram(
        stored_track, user, other_user, django_capture_on_commit_callbacks):
    theirs = [with_spectrogram(stored_track(f"{i}.wav", seconds=1, seed=i)) for i in range(2)]
    kept = with_spectrogram(stored_track("other.wav", owner=other_user, seconds=1, seed=9))
    names = [name for track in theirs for name in (track.file.name, track.spectrogram.name)]
    assert all(default_storage.exists(name) for name in names)

    with django_capture_on_commit_callbacks(execute=True):
        user.delete()
    assert not any(default_storage.exists(name) for name in names)
    assert default_storage.exists(kept.file.name) and default_storage.exists(kept.spectrogram.name)
    assert check_media()[0] == 0
