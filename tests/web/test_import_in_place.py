"""`manage.py import_tracks --in-place`: files inside MUSIC_DIRECTORY stay where they are; their
tracks refer to them there, play, classify and export from there, take none of the quota, and
deleting a track never deletes the user's file."""
import os

import pytest
from django.core.management import CommandError
from django.urls import reverse

from classifier.models import Prediction, Track
from classifier.services import classification
from classifier.services.media import media_audit
from classifier.services.quota import storage_used
from classifier.services.storage import open_for_decoding
from classifier.services.tracks import track_delete
from tests.audiogen import write_audio
from tests.web.test_import_tracks import library, media_dir, media_files, run  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def music(library, settings):
    settings.MUSIC_DIRECTORY = str(library)
    return library


def stream(response) -> bytes:
    return b"".join(response.streaming_content)


def test_files_stay_where_they_are_and_play_from_there(user, alice_client, music, media_dir, settings):
    settings.USER_QUOTA_MB = 0
    out, _ = run(music, user="alice", in_place=True)
    assert "7 file(s): 4 imported, 1 duplicate, 2 rejected." in out and "The files stay where they are." in out
    tracks = {t.original_name: t for t in Track.objects.filter(owner=user)}
    assert tracks["d.mp3"].file.name == "music-directory/sub/d.mp3"
    assert media_files(media_dir, user) == []  # nothing copied
    assert storage_used(user=user) == 0

    response = alice_client.get(reverse("track-audio", args=[tracks["b.flac"].pk]))
    assert response.status_code == 200 and stream(response) == (music / "b.flac").read_bytes()
    response = alice_client.get(reverse("track-audio", args=[tracks["b.flac"].pk]), headers={"range": "bytes=4-9"})
    assert response.status_code == 206 and stream(response) == (music / "b.flac").read_bytes()[4:10]

    # A second run finds every file already there.
    assert "0 imported, 5 duplicate" in run(music, user="alice", in_place=True)[0]
    # Deleting the track forgets it; the user's file stays.
    track_delete(track=tracks["a.wav"])
    assert (music / "a.wav").is_file()


def test_an_in_place_track_is_classified_from_its_folder(user, music, django_capture_on_commit_callbacks):
    run(music / "c.ogg", user="alice", in_place=True)
    track = Track.objects.get(owner=user)
    with open_for_decoding(track) as path:
        assert path == (music / "c.ogg").resolve()  # decoded where it lies, not copied first

    classification.track_classify(track_id=track.pk)
    track.refresh_from_db()
    assert track.status == Track.Status.DONE and Prediction.objects.filter(track=track).exists()
    assert (music / "c.ogg").is_file()


def test_a_file_moved_away_is_reported_missing_not_orphaned(user, music):
    run(music, user="alice", in_place=True)
    track = Track.objects.get(owner=user, original_name="b.flac")
    os.rename(music / "b.flac", music.parent / "moved.flac")
    with pytest.raises(FileNotFoundError):
        with open_for_decoding(track):
            pass
    audit = media_audit(min_age=None)
    assert [m.name for m in audit.missing_audio] == ["music-directory/b.flac"]
    assert audit.orphans == []


def test_in_place_needs_music_directory_and_paths_inside_it(user, library, tmp_path, settings):
    settings.MUSIC_DIRECTORY = ""
    with pytest.raises(CommandError, match="In-place import needs MUSIC_DIRECTORY"):
        run(library, user="alice", in_place=True)

    settings.MUSIC_DIRECTORY = str(library / "sub")
    with pytest.raises(CommandError, match="is not inside MUSIC_DIRECTORY"):
        run(library, user="alice", in_place=True)

    # A link inside the folder to a file outside it is refused, not followed out.
    outside = tmp_path / "elsewhere.wav"
    write_audio(outside, seconds=1, seed=9)
    (library / "sub" / "link.wav").symlink_to(outside)
    out, _ = run(library / "sub", user="alice", in_place=True)
    assert "link.wav" in out and "[outside_music_directory]" in out
    assert not Track.objects.filter(original_name="link.wav").exists()
    assert sorted(Track.objects.values_list("original_name", flat=True)) == ["copy-of-a.wav", "d.mp3"]
