"""Track.listed_genre / listed_uncertain, the stored copy of the genre a track shows that lists,
filters and counts read in SQL, stay equal to Track.genre / genre_uncertain through every change;
migration 0006 fills them for the tracks that were there before."""
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from classifier.models import Prediction, Track
from classifier.services.corrections import track_set_genre
from tests.library.conftest import prediction_fields

pytestmark = pytest.mark.django_db


def listed(track):
    stored = Track.objects.select_related("prediction").get(pk=track.pk)
    assert (stored.listed_genre or "", stored.listed_uncertain) == (stored.genre, stored.genre_uncertain)
    return stored.listed_genre, stored.listed_uncertain


def test_listed_genre_follows_the_prediction_and_the_users_genre(make_track, user, bundle_dir):
    track = make_track(user, genre="")
    assert listed(track) == (None, False)  # queued: no genre yet

    Prediction.objects.create(track=track, **prediction_fields("rock", 0.4, uncertain=True, runner_up="pop"))
    assert listed(track) == ("rock", True)
    track = Track.objects.get(pk=track.pk)
    track_set_genre(track=track, genre="blues")
    assert listed(track) == ("blues", False)  # the user's genre is never a guess
    # Classified again (as the worker stores it) while the user's genre stands: it still decides.
    Prediction.objects.update_or_create(track=track, defaults=prediction_fields("jazz", 0.9))
    assert listed(track) == ("blues", False)
    track_set_genre(track=track, genre="")
    assert listed(track) == ("jazz", False)

    Track.objects.get(pk=track.pk).save()  # an ordinary save changes nothing
    assert listed(track) == ("jazz", False)
    Prediction.objects.filter(track=track).get().delete()
    assert listed(track) == (None, False)


def test_a_track_made_with_the_users_genre_is_listed_under_it(make_track, user):
    assert listed(make_track(user, genre="", user_genre="metal")) == ("metal", False)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_migration_0006_lists_existing_tracks_under_the_genre_they_show():
    old = _migrate([("classifier", "0005_albums_artists_covers")])
    User, Track, Prediction = (old.get_model(*name) for name in
                               [("auth", "User"), ("classifier", "Track"), ("classifier", "Prediction")])
    alice = User.objects.create(username="alice")

    def track(n, user_genre="", genre="", uncertain=False):
        made = Track.objects.create(owner=alice, original_name=f"{n}.mp3", file=f"tracks/{alice.pk}/{n}.mp3",
                                    sha256=f"{n:064d}", size=1, user_genre=user_genre)
        if genre:
            Prediction.objects.create(track=made, genre=genre, confidence=0.5, probabilities={genre: 0.5},
                                      timeline=[], tags={}, embedding=[], model_version="1", device="cpu", seconds=0.1,
                                      uncertain=uncertain)
        return made.pk

    ids = [track(1, genre="rock"), track(2, genre="jazz", uncertain=True), track(3, "blues", "jazz", True),
           track(4, "metal"), track(5)]
    try:
        new = _migrate([("classifier", "0006_listed_genre")])
        rows = dict(new.get_model("classifier", "Track").objects.values_list("pk", "listed_genre"))
        uncertain = dict(new.get_model("classifier", "Track").objects.values_list("pk", "listed_uncertain"))
        assert [rows[pk] for pk in ids] == ["rock", "jazz", "blues", "metal", None]
        assert [uncertain[pk] for pk in ids] == [False, True, False, False, False]
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
