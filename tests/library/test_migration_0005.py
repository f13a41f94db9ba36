"""Migration 0005 files the tracks of an existing library under artists and albums, from the
artist and album they already carry (the rest comes from the files: manage.py read_metadata)."""
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("classifier", "0004_prediction_styles")]
AFTER = [("classifier", "0005_albums_artists_covers")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_existing_tracks_are_linked_to_artists_and_albums():
    old = _migrate(BEFORE)
    User = old.get_model("auth", "User")
    Track = old.get_model("classifier", "Track")
    alice, bob = User.objects.create(username="alice"), User.objects.create(username="bob")

    def track(owner, n, artist="", album=""):
        return Track.objects.create(owner=owner, original_name=f"{n}.mp3", file=f"tracks/{owner.pk}/{n}.mp3",
                                    sha256=f"{n:064d}", size=1, artist=artist, album=album).pk

    one = track(alice, 1, "Ana Ray", "Harbour")
    two = track(alice, 2, "ana ray ", "HARBOUR")  # the same artist and album, spelt otherwise
    three = track(alice, 3, "Ana Ray")  # no album
    four = track(alice, 4)  # no tags at all
    five = track(bob, 5, "Ana Ray", "Harbour")  # bob's own artist and album
    try:
        new = _migrate(AFTER)
        Track = new.get_model("classifier", "Track")
        rows = {t.pk: t for t in Track.objects.select_related("artist_ref", "album_ref__artist")}
        assert rows[one].album_ref_id == rows[two].album_ref_id is not None
        assert rows[one].artist_ref_id == rows[two].artist_ref_id == rows[three].artist_ref_id
        assert rows[one].album_ref.title == "Harbour" and rows[one].album_ref.artist.name == "Ana Ray"
        assert rows[three].album_ref is None and rows[four].artist_ref is None and rows[four].album_ref is None
        assert rows[five].album_ref_id != rows[one].album_ref_id and rows[five].album_ref.owner_id == bob.pk
        assert new.get_model("classifier", "Album").objects.count() == 2
        assert new.get_model("classifier", "Artist").objects.count() == 2
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
