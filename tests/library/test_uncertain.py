"""Predictions the model was unsure of: the library names its top two with an "uncertain" badge
instead of one genre, genre playlists leave them out unless the user set the genre, and the
dashboard counts them in a bar of their own. Filtering by genre still finds them (the top
genre stays stored)."""
import pytest
from django.urls import reverse

from classifier.models import GenreGuess, Prediction
from tests.library.conftest import prediction_fields

pytestmark = pytest.mark.django_db


def genre_cell(html, title):
    """The library row's genre cell of the track called `title`."""
    row = html[html.index(f">{title}</a>"):]
    cell = row[row.index('class="genre-cell"'):]
    return cell[:cell.index("</td>")]


def test_top_two_are_the_most_probable_genres_most_probable_first():
    prediction = Prediction(**prediction_fields("metal", 0.4, runner_up="rock", uncertain=True))
    assert prediction.top_two == [GenreGuess("metal", 0.4), GenreGuess("rock", pytest.approx(0.35))]
    genre, probability = prediction.top_two[1]  # plain (genre, probability) pairs too
    assert (genre, probability) == ("rock", pytest.approx(0.35))
    # Ties go alphabetically, whatever order the database kept the keys in.
    tie = Prediction(probabilities={"pop": 0.5, "jazz": 0.5, "rock": 0.0})
    assert [guess.genre for guess in tie.top_two] == ["jazz", "pop"]


def test_library_says_uncertain_and_names_both_guesses(alice_client, make_track, user):
    make_track(user, title="Maybe", genre="metal", confidence=0.4, runner_up="rock", uncertain=True)
    cell = genre_cell(alice_client.get(reverse("home")).content.decode(), "Maybe")
    assert ">metal or rock?</span>" in cell
    assert '<span class="source source-uncertain">uncertain</span>' in cell
    assert ">metal</span>" not in cell and ">model<" not in cell  # one genre is never stated


def test_library_row_of_a_confident_track_is_unchanged(alice_client, make_track, user):
    make_track(user, title="Sure", genre="metal", confidence=0.9)
    cell = genre_cell(alice_client.get(reverse("home")).content.decode(), "Sure")
    assert '<span class="genre-pill">metal</span>' in cell and ">model</span>" in cell
    assert "uncertain" not in cell


def test_a_user_genre_wins_over_an_uncertain_prediction(alice_client, make_track, user):
    make_track(user, title="Filed", genre="metal", confidence=0.4, runner_up="rock", uncertain=True,
               user_genre="blues")
    cell = genre_cell(alice_client.get(reverse("home")).content.decode(), "Filed")
    assert '<span class="genre-pill">blues</span>' in cell and "set by you" in cell
    assert "uncertain" not in cell


def test_filtering_and_sorting_still_use_the_stored_top_genre(alice_client, make_track, user):
    make_track(user, title="Maybe", genre="metal", confidence=0.4, runner_up="rock", uncertain=True)
    make_track(user, title="Sure", genre="metal", confidence=0.9)
    filtered = alice_client.get(reverse("home"), {"genre": "metal", "sort": "confidence"})
    assert [t.title for t in filtered.context["page"].object_list] == ["Sure", "Maybe"]
    # The filter's own counts, saying how many are guesses (the playlist will hold only one).
    assert {"genre": "metal", "count": 2, "uncertain": 1} in filtered.context["genres"]
    assert ">metal (2, 1 unsure)</option>" in filtered.content.decode()
    assert not alice_client.get(reverse("home"), {"genre": "rock"}).context["page"].object_list  # not the runner-up


def test_genre_playlists_leave_out_uncertain_guesses_unless_the_user_set_the_genre(alice_client, make_track, user):
    make_track(user, title="Sure", genre="metal", confidence=0.9)
    make_track(user, title="Maybe", genre="metal", confidence=0.4, runner_up="rock", uncertain=True)
    make_track(user, title="Filed", genre="rock", confidence=0.4, runner_up="metal", uncertain=True,
               user_genre="metal")
    make_track(user, title="Only maybe", genre="jazz", confidence=0.4, runner_up="blues", uncertain=True)

    playlist = alice_client.get(reverse("playlist-detail", args=["metal"]))
    assert [t.title for t in playlist.context["page"]] == ["Sure", "Filed"]
    m3u = alice_client.get(reverse("playlist-m3u", args=["metal"])).content.decode()
    assert "Sure" in m3u and "Filed" in m3u and "Maybe" not in m3u
    # A genre whose only track is a guess has no playlist, and the overview counts alike.
    assert alice_client.get(reverse("playlist-detail", args=["jazz"])).status_code == 404
    overview = alice_client.get(reverse("playlists"))
    assert overview.context["genres"] == [{"genre": "metal", "count": 2}]
    # The overview says where the two guesses went, and the library finds them.
    note = overview.content.decode()
    note = " ".join(note[note.index('id="left-out"'):note.index("</p>", note.index('id="left-out"'))].split())
    assert "2 tracks the model was unsure of are in no playlist until you set their genre" in note
    unsure = alice_client.get(reverse("home"), {"status": "uncertain"})
    assert sorted(t.title for t in unsure.context["page"]) == ["Maybe", "Only maybe"]
    assert '<option value="uncertain" selected>Done, genre unsure</option>' in unsure.content.decode()


def test_when_every_track_is_a_guess_the_playlists_page_says_so(alice_client, make_track, user):
    make_track(user, title="Only maybe", genre="jazz", confidence=0.4, runner_up="blues", uncertain=True)
    html = alice_client.get(reverse("playlists")).content.decode()
    assert "1 track the model was unsure of is in no playlist until you set its genre" in " ".join(html.split())


def test_dashboard_counts_uncertain_tracks_in_a_bar_of_their_own(alice_client, make_track, user):
    make_track(user, title="Sure", genre="metal", confidence=0.9)
    make_track(user, title="Maybe", genre="metal", confidence=0.4, runner_up="rock", uncertain=True)
    make_track(user, title="Also maybe", genre="jazz", confidence=0.45, runner_up="blues", uncertain=True)
    response = alice_client.get(reverse("dashboard"))
    assert response.context["stats"]["uncertain"] == 2
    bars = [(bar["genre"], bar["count"], bar.get("uncertain", False)) for bar in response.context["chart"]["bars"]]
    assert bars == [("metal", 1, False), ("uncertain", 2, True)]
    html = response.content.decode()
    assert html.count("<rect") == 2
    assert reverse("playlist-detail", args=["metal"]) in html
    assert reverse("playlist-detail", args=["uncertain"]) not in html  # the bucket is no playlist
    # The least-sure list shows the guesses the way the library does.
    assert ">metal or rock?</span>" in html and ">jazz or blues?</span>" in html
