"""Playlists, the M3U export, the dashboard and the model page."""
import json

import pytest
from django.urls import reverse

from classifier.models import Track
from tests.library.conftest import LABELS
from tests.library.test_stream_links import stream_link_track

pytestmark = pytest.mark.django_db


def test_playlists_overview_counts_genres(alice_client, make_track, user):
    make_track(user, genre="rock")
    make_track(user, genre="rock")
    make_track(user, genre="jazz")
    make_track(user, genre="", status=Track.Status.QUEUED)
    response = alice_client.get(reverse("playlists"))
    assert response.context["genres"] == [{"genre": "rock", "count": 2}, {"genre": "jazz", "count": 1}]
    assert reverse("playlist-detail", args=["rock"]) in response.content.decode()


def test_playlists_empty_state(alice_client):
    assert "No playlists yet" in alice_client.get(reverse("playlists")).content.decode()


def test_playlist_orders_by_confidence_and_has_a_player(alice_client, make_track, user):
    make_track(user, title="Unsure", confidence=0.4)
    make_track(user, title="Sure", confidence=0.95)
    response = alice_client.get(reverse("playlist-detail", args=["rock"]))
    assert [t.title for t in response.context["page"]] == ["Sure", "Unsure"]
    html = response.content.decode()
    assert 'id="player-audio"' in html and "js/player.js" in html
    # "Play all" and each row's ▶ hand the playlist to the player bar, the row's from its place.
    src = f'data-player-src="{reverse("player-tracks")}?genre=rock"'
    assert f'data-player="play" {src} aria-label="Play all the rock playlist"' in html
    assert html.count(f'{src} data-player-start="') == 2 and f'{src} data-player-start="1"' in html


def test_a_long_playlist_is_paged_and_each_row_plays_from_its_place_in_the_genre(alice_client, make_track, user,
                                                                                 monkeypatch):
    monkeypatch.setattr("classifier.views.playlists.PAGE_SIZE", 2)
    for i in range(5):
        make_track(user, title=f"Song {i}", confidence=0.9 - i / 10)
    response = alice_client.get(reverse("playlist-detail", args=["rock"]), {"page": 2})
    assert [t.title for t in response.context["page"]] == ["Song 2", "Song 3"]
    html = response.content.decode()
    assert "5 tracks" in html and "Page 2 of 3" in html and '<ol class="playlist-tracks" id="playlist-tracks" start="3">' in html
    # ▶ on "Song 2" starts the whole genre's queue at its third track, not at the page's first.
    src = f'data-player-src="{reverse("player-tracks")}?genre=rock"'
    assert f'{src} data-player-start="2"' in html and f'{src} data-player-start="3"' in html
    assert f'{src} data-player-start="0"' not in html
    # A page past the end shows the last one; the M3U still holds the whole genre.
    assert [t.title for t in alice_client.get(reverse("playlist-detail", args=["rock"]), {"page": 9}).context["page"]] == ["Song 4"]
    assert alice_client.get(reverse("playlist-m3u", args=["rock"])).content.decode().count("#EXTINF") == 5


def test_m3u_export(alice_client, make_track, user):
    first = make_track(user, title="Sure", artist="Band", confidence=0.95, duration=125.6)
    make_track(user, title="Unsure", confidence=0.4, duration=None)
    response = alice_client.get(reverse("playlist-m3u", args=["rock"]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("audio/x-mpegurl")
    lines = response.content.decode().splitlines()
    assert lines[0] == "#EXTM3U"
    assert lines[2] == "#EXTINF:126,Band - Sure"
    assert stream_link_track(lines[3]) == first  # a link any player can open (tests/library/test_stream_links.py)
    assert lines[4] == "#EXTINF:-1,Unsure"


def test_dashboard_counts(alice_client, make_track, user):
    make_track(user, title="Low", confidence=0.2)
    make_track(user, title="High", confidence=0.8, genre="jazz")
    make_track(user, genre="", status=Track.Status.FAILED)
    make_track(user, genre="", status=Track.Status.QUEUED)
    response = alice_client.get(reverse("dashboard"))
    stats = response.context["stats"]
    assert stats["total"] == 4
    assert stats["by_status"] == {"queued": 1, "processing": 0, "done": 2, "failed": 1}
    assert stats["average_confidence"] == pytest.approx(0.5)
    assert [t.title for t in response.context["least_sure"]] == ["Low", "High"]
    html = response.content.decode()
    assert "<svg" in html and html.count("<rect") == 2
    assert 'id="average-confidence">50%<' in html


def test_dashboard_empty_state(alice_client):
    assert "Nothing to count yet" in alice_client.get(reverse("dashboard")).content.decode()


def test_model_page_shows_the_bundle(alice_client, bundle_dir):
    html = alice_client.get(reverse("model-info")).content.decode()
    assert "test-genre-model" in html and "<code>2.0</code>" in html
    assert "musicnn_genre" in html and "batch size" in html and "0.8125" in html
    assert "<h3>Model</h3>" in html and "<h3>Baseline</h3>" in html and "MFCC + logistic regression" in html
    assert '<th scope="row">reggae</th><td class="num">0.8</td>' in html
    assert "clips per genre</dt><dd>blues: 10, rock: 2" in html
    assert "<li>Scored on 69 clips.</li><li>Tiny data, per-genre figures move a lot.</li>" in html
    # The raw figures come after the caveats, folded away: the page's reader sees the summary first.
    folded = html[html.index('<details class="model-details" id="all-figures">'):]
    assert html.index("Tiny data, per-genre figures") < html.index('id="all-figures"')
    assert '<th scope="row">reggae</th><td class="num">0.8</td>' in folded
    assert "Confusion matrix" not in html  # no image in this bundle
    assert alice_client.get(reverse("model-confusion-matrix")).status_code == 404


def test_model_page_shows_how_good_it_is_beside_the_baselines(alice_client, bundle_dir):
    # Shaped like what ml.crossval writes: a summary row per measurement, targets, notes.
    metrics = json.loads((bundle_dir / "performance_metrics.json").read_text())
    metrics.update({
        "summary": [{"measured": "emotify (classical, pop, rock), trained on gtzan only", "scoring": "lenient",
                     "clips": 150, "model": 0.81, "zero_shot_audioset": 0.62, "probe": 0.84}],
        "baselines": {"zero_shot_audioset": "AudioSet genre classes, no training", "probe": "logistic regression"},
        "targets": [{"what": "gtzan, artist-disjoint folds (strict)", "value": 0.9, "target": 0.85, "met": True},
                    {"what": "emotify held out (lenient)", "value": 0.81, "target": 0.85, "met": False}],
        "below_a_baseline": ["gtzan -> emotify: the model (0.810) is not above the probe baseline (0.840)"],
        "within_source": {"model": {"gtzan": {"accuracy": 0.5}}},  # detail stays in the JSON file
    })
    (bundle_dir / "performance_metrics.json").write_text(json.dumps(metrics))
    html = alice_client.get(reverse("model-info")).content.decode()
    assert "How good is it" in html
    row = html[html.index('id="summary-table"'):html.index("</table>", html.index('id="summary-table"'))]
    assert "trained on gtzan only" in row and "lenient" in row
    assert '<td class="num">0.81</td><td class="num">0.62</td><td class="num">0.84</td>' in row  # not bold: a baseline is higher
    assert "not met" in html and "is not above the probe baseline" in html
    assert "emotify held out (lenient): 81% (target 85%) — <strong>not met</strong>" in html
    assert "within source" not in html
    assert '<th scope="col" class="num" title="AudioSet genre classes, no training">zero shot audioset</th>' in html


def test_model_page_says_in_short_how_far_to_trust_a_genre(alice_client, bundle_dir):
    metrics = json.loads((bundle_dir / "performance_metrics.json").read_text())
    metrics.update({
        "summary": [{"measured": "gtzan folds", "scoring": "strict", "clips": 170, "model": 0.8},
                    {"measured": "emotify held out", "scoring": "lenient", "clips": 150, "model": 0.733}],
        "calibration": {"uncertain_below": 0.59, "share_certain": 0.6486, "accuracy_when_certain": 0.8542},
    })
    (bundle_dir / "performance_metrics.json").write_text(json.dumps(metrics))
    html = alice_client.get(reverse("model-info")).content.decode()
    short = " ".join(html[html.index('id="in-short"'):html.index("</section>", html.index('id="in-short"'))].split())
    assert f"It names one of {len(LABELS)} genres" in short
    assert "it named the right genre for 73–80&nbsp;% of the clips, depending on where the music came from" in short
    assert ("When its top genre is below 59&nbsp;%, it says <em>uncertain</em> and names its two best guesses: that "
            "was 35&nbsp;% of the clips it was tested on, and the genre it did name was right 85&nbsp;% of the time.") in short
    assert html.index('id="in-short"') < html.index("How it is built and trained")


def test_model_page_lists_the_labels_of_the_bundle_in_use(alice_client, bundle_dir):
    # A bundle with one more genre: the page shows its labels, none are built in.
    config = json.loads((bundle_dir / "model_config.json").read_text())
    (bundle_dir / "model_config.json").write_text(json.dumps({**config, "labels": [*LABELS, "electronic"]}))
    html = alice_client.get(reverse("model-info")).content.decode()
    assert f"11 genres: {', '.join([*LABELS, 'electronic'])}" in html


def test_model_page_with_confusion_matrix(alice_client, bundle_dir, tmp_path):
    from PIL import Image

    Image.new("RGB", (4, 4), "white").save(bundle_dir / "confusion_matrix.png")
    assert reverse("model-confusion-matrix") in alice_client.get(reverse("model-info")).content.decode()
    response = alice_client.get(reverse("model-confusion-matrix"))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_model_page_without_metrics_or_bundle(alice_client, bundle_dir, settings, tmp_path):
    (bundle_dir / "performance_metrics.json").unlink()
    response = alice_client.get(reverse("model-info"))
    assert response.status_code == 200 and "has no performance_metrics.json" in response.content.decode()
    (bundle_dir / "model_config.json").write_text("{not json")
    assert "No model installed" in alice_client.get(reverse("model-info")).content.decode()
    settings.MODEL_BUNDLE_DIR = tmp_path / "missing"
    assert "No model installed" in alice_client.get(reverse("model-info")).content.decode()


@pytest.mark.parametrize("where, section", [
    (lambda track: reverse("track-detail", args=[track.pk]), "Library"),  # a track belongs to the library
    (lambda track: reverse("home"), "Library"),
    (lambda track: reverse("playlist-detail", args=["jazz"]), "Playlists"),
    (lambda track: reverse("developer"), "Developer"),
])
def test_the_main_navigation_marks_the_pages_section(alice_client, make_track, user, where, section):
    html = alice_client.get(where(make_track(user, genre="jazz"))).content.decode()
    nav = html[html.index('<nav class="site-nav"'):html.index("</nav>")]
    assert nav.count('aria-current="page"') == 1
    assert f'aria-current="page">{section}</a>' in nav
