"""`manage.py read_metadata` fills the tags, covers, artists and albums of tracks uploaded before
they were read, from their stored files, once; a missing file is reported, not fatal."""
import hashlib
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from classifier.models import Album, Track
from classifier.services.catalogue import track_update_metadata
from tests.tagging import cover_image, write_tagged

pytestmark = pytest.mark.django_db


@pytest.fixture
def old_track(tmp_path):
    """old_track(owner, name, tags, cover) → a track stored as uploads were before tags were read in
    full: the file is there, only title/artist/album are set, nothing else."""
    def make(owner, name, tags, cover=None, seed=0):
        path = write_tagged(tmp_path / name, tags, cover, seed=seed)
        data = path.read_bytes()
        track = Track(owner=owner, original_name=name, sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                      format="FLAC", title=tags.get("title", ""), artist=tags.get("artist", ""),
                      album=tags.get("album", ""), status=Track.Status.DONE)
        track.file.save(name, ContentFile(data), save=True)
        return track

    return make


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("read_metadata", *args, stdout=out, stderr=err, verbosity=0)
    return out.getvalue(), err.getvalue()


def test_old_tracks_get_their_tags_covers_and_album_once(user, other_user, old_track):
    tags = {"title": "Tide", "artist": "Ana Ray", "album_artist": "Harbour Band", "album": "Harbour",
            "track": "2", "disc": "1", "year": "2004", "genre": "Jazz"}
    track = old_track(user, "tide.flac", tags, cover_image())
    bare = old_track(other_user, "bare.flac", {"title": "Bare"}, seed=1)
    out, _ = run()
    assert "Read the tags of 2 track(s), 1 with a cover; 0 skipped" in out
    track.refresh_from_db()
    assert (track.album_artist, track.track_number, track.disc_number, track.year, track.file_genre) == (
        "Harbour Band", 2, 1, 2004, "Jazz")
    assert track.album_ref.title == "Harbour" and track.album_ref.artist.name == "Harbour Band"
    assert default_storage.exists(track.cover.name) and default_storage.exists(track.cover_small.name)
    bare.refresh_from_db()
    assert bare.metadata_read_at is not None and not bare.cover

    # Read once: an owner's edit made afterwards is kept by a second run.
    track_update_metadata(track=track, album="Renamed")
    assert "Read the tags of 0 track(s)" in run()[0]
    track.refresh_from_db()
    assert track.album == "Renamed" and list(Album.objects.filter(owner=user).values_list("title", flat=True)) == [
        "Renamed"]


def test_all_and_user_reread_one_users_tracks(user, other_user, old_track):
    mine = old_track(user, "mine.flac", {"title": "Mine", "album": "A"})
    theirs = old_track(other_user, "theirs.flac", {"title": "Theirs", "album": "B"}, seed=1)
    run()
    track_update_metadata(track=mine, album="Edited")
    out, _ = run("--all", "--user", user.username)
    assert "Read the tags of 1 track(s)" in out
    mine.refresh_from_db()
    assert mine.album == "A"  # --all replaces edits, as its help says
    assert not Album.objects.filter(title="Edited").exists()
    theirs.refresh_from_db()
    assert theirs.album == "B"
    with pytest.raises(CommandError, match="no user called"):
        run("--user", "nobody")


def test_a_missing_file_is_reported_and_skipped(user, old_track):
    gone = old_track(user, "gone.flac", {"title": "Gone"})
    kept = old_track(user, "kept.flac", {"title": "Kept", "album": "Still Here"}, seed=1)
    default_storage.delete(gone.file.name)
    out, err = run()
    assert "Read the tags of 1 track(s), 0 with a cover; 1 skipped for a missing file." in out
    assert f"{gone.pk}: the stored file {gone.file.name} is missing" in err
    gone.refresh_from_db()
    kept.refresh_from_db()
    assert gone.metadata_read_at is None and kept.album_ref.title == "Still Here"


def test_check_media_knows_covers(user, old_track, settings, tmp_path):
    """An orphan cover is found and removed by check_media --fix; a cover in use is left alone."""
    from classifier.services.media import media_audit, media_fix

    settings.MEDIA_ROOT = str(tmp_path / "own-media")  # the session's media folder has others' leftovers
    track = old_track(user, "covered.flac", {"title": "Covered"}, cover_image())
    run()
    track.refresh_from_db()
    orphan = default_storage.save(f"covers/{user.pk}/left-behind.jpg", ContentFile(b"\xff\xd8 old cover"))
    audit = media_audit(min_age=None)
    assert audit.orphans == [orphan]
    assert media_fix(audit).removed == 1
    assert not default_storage.exists(orphan)
    assert default_storage.exists(track.cover.name) and default_storage.exists(track.cover_small.name)


def test_an_imported_folder_becomes_an_album_with_its_cover(user, tmp_path):
    """import_tracks goes through the upload service, so a catalogue arrives with its albums and covers."""
    folder = tmp_path / "Coastline"
    folder.mkdir()
    for number, fmt in enumerate(("flac", "mp3", "opus"), start=1):
        write_tagged(folder / f"{number:02d}.{fmt}", {"title": f"Song {number}", "artist": "Ana Ray",
                                                      "album": "Coastline", "track": number},
                     cover_image(300, 300) if number == 1 else None, seed=number)
    call_command("import_tracks", "--user", user.username, str(folder), stdout=StringIO(), stderr=StringIO())
    album = Album.objects.get(owner=user)
    tracks = list(album.tracks.order_by("track_number"))
    assert album.title == "Coastline" and album.artist.name == "Ana Ray"
    assert [t.title for t in tracks] == ["Song 1", "Song 2", "Song 3"]
    assert tracks[0].cover and not tracks[1].cover
