"""The user's own genre: stored beside the prediction and counted wherever genres are."""
import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from classifier.models import Prediction, Track

pytestmark = pytest.mark.django_db


def test_correction_is_stored_beside_the_prediction(alice_client, make_track, user, bundle_dir):
    track = make_track(user, title="Mislabelled", genre="rock", confidence=0.55)
    before = Prediction.objects.filter(track=track).values().get()
    response = alice_client.post(reverse("track-genre", args=[track.pk]), {"genre": "blues"})
    assert response.status_code == 302 and response["Location"] == reverse("track-detail", args=[track.pk])
    track.refresh_from_db()
    assert track.user_genre == "blues"
    assert track.genre == "blues" and track.genre_source == "user"
    assert Prediction.objects.filter(track=track).values().get() == before  # the model's word is kept


def test_correction_moves_track_between_playlists_and_dashboard(alice_client, make_track, user, bundle_dir):
    track = make_track(user, title="Mover", genre="rock")
    make_track(user, title="Stayer", genre="rock")
    rock = alice_client.get(reverse("playlist-detail", args=["rock"]))
    assert {t.title for t in rock.context["page"]} == {"Mover", "Stayer"}
    alice_client.post(reverse("track-genre", args=[track.pk]), {"genre": "blues"})
    assert [t.title for t in alice_client.get(reverse("playlist-detail", args=["rock"])).context["page"]] == ["Stayer"]
    assert [t.title for t in alice_client.get(reverse("playlist-detail", args=["blues"])).context["page"]] == ["Mover"]
    bars = {bar["genre"]: bar["count"] for bar in alice_client.get(reverse("dashboard")).context["chart"]["bars"]}
    assert bars == {"rock": 1, "blues": 1}
    # "(model's choice)" clears it again.
    alice_client.post(reverse("track-genre", args=[track.pk]), {"genre": ""})
    track.refresh_from_db()
    assert track.user_genre == "" and track.genre == "rock"
    assert alice_client.get(reverse("playlist-detail", args=["blues"])).status_code == 404


def test_unknown_genre_is_refused_with_a_message(alice_client, make_track, user, bundle_dir):
    track = make_track(user, genre="rock")
    response = alice_client.post(reverse("track-genre", args=[track.pk]), {"genre": "polka<script>"}, follow=True)
    assert response.status_code == 200
    assert "is not one of the model" in response.content.decode()
    track.refresh_from_db()
    assert track.user_genre == ""


def test_genre_is_post_only(alice_client, make_track, user):
    track = make_track(user)
    assert alice_client.get(reverse("track-genre", args=[track.pk])).status_code == 405


def test_correction_form_offers_the_bundle_labels(make_track, user, bundle_dir):
    track = make_track(user, genre="rock", user_genre="jazz")
    request = RequestFactory().get("/tracks/x/")
    request.user = user
    html = Template("{% load library_tags %}{% genre_form track %}{% track_actions track %}").render(
        Context({"track": track, "request": request, "csrf_token": "tok"}))
    assert '<option value="jazz" selected>' in html
    assert "(model's choice: rock)" in html
    assert html.count("<option") == 11
    assert reverse("track-genre", args=[track.pk]) in html and reverse("track-download", args=[track.pk]) in html


def test_similar_tracks_rank_by_embedding(make_track, user, other_user):
    track = make_track(user, title="Seed", embedding=[1.0, 0.0, 0.0])
    make_track(user, title="Close", genre="jazz", embedding=[0.8, 0.6, 0.0])
    make_track(user, title="Far", genre="metal", embedding=[0.3, 0.0, 0.954])
    make_track(user, title="Unclassified", genre="", status=Track.Status.QUEUED)
    make_track(other_user, title="Not yours", embedding=[1.0, 0.0, 0.0])
    request = RequestFactory().get("/")
    request.user = user
    html = Template("{% load library_tags %}{% similar_tracks track %}").render(Context({"track": track, "request": request}))
    assert html.index("Close") < html.index("Far")
    assert "jazz" in html and "metal" in html
    assert "Not yours" not in html and "Unclassified" not in html and ">Seed<" not in html
    # A track that sounds like the opposite is not "like this": no "-60% alike".
    make_track(user, title="Opposite", genre="classical", embedding=[-0.6, 0.8, 0.0])
    html = Template("{% load library_tags %}{% similar_tracks track %}").render(Context({"track": track, "request": request}))
    assert "Opposite" not in html and "Close" in html
