"""Track pages: what the owner sees in each state, the status JSON, audio streaming with ranges,
the spectrogram, and that nobody else can reach any of it.

The "done" tests store a Prediction row directly: they test rendering, not classification
(that is tests/web/test_flow.py, with the real worker and model)."""
import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from classifier.models import Prediction, Track
from classifier.services.spectrogram import spectrogram_png
from classifier.views.presentation import prediction_display

pytestmark = pytest.mark.django_db

LABELS = ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"]
TRACK_URLS = ["track-detail", "track-status", "track-audio", "track-spectrogram"]


def classified(track, probabilities=None, tags=None, uncertain=False, styles=None):
    """Mark `track` done with a stored prediction and spectrogram, as track_classify leaves it."""
    import numpy as np

    probabilities = probabilities or {label: (0.55 if label == "jazz" else 0.05) for label in LABELS}
    tags = tags or {f"tag{i:02d}": round(1 - i / 20, 3) for i in range(15)}
    Prediction.objects.create(
        track=track, genre="jazz", confidence=probabilities["jazz"], probabilities=probabilities,
        uncertain=uncertain,
        timeline=[{"start": 0.0, "end": 3.0, "genre": "jazz", "confidence": 0.8},
                  {"start": 3.0, "end": 6.0, "genre": "blues", "confidence": 0.6}],
        tags=tags, embedding=[1.0, 0.0], model_version="test-1", device="cpu", seconds=0.4,
        **({"styles": styles} if styles is not None else {}),  # left out: the field's default, as old rows have
    )
    png = spectrogram_png(np.random.default_rng(0).standard_normal((96, 300)).astype(np.float32))
    track.spectrogram.save("s.png", ContentFile(png), save=False)
    track.status = Track.Status.DONE
    track.save()
    return Track.objects.select_related("prediction").get(pk=track.pk)


def test_queued_track_page_shows_the_file_and_polls(alice_client, stored_track):
    track = stored_track("waiting.wav", seconds=65)
    html = alice_client.get(reverse("track-detail", args=[track.pk])).content.decode()
    assert "<h1>waiting</h1>" in html
    assert "1:05" in html  # duration
    assert ">WAV<" in html
    assert "Waiting for the classifier" in html
    assert f'data-status-url="{reverse("track-status", args=[track.pk])}"' in html
    assert 'data-status="queued"' in html  # what js/track.js polls for
    # Playable before it is classified, in the player bar.
    assert f'data-player="play" data-player-src="{reverse("player-tracks")}?track={track.pk}"' in html


def test_status_json_while_queued(alice_client, stored_track):
    track = stored_track("waiting.wav", seconds=1)
    response = alice_client.get(reverse("track-status", args=[track.pk]))
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    data = response.json()
    assert data["status"] == "queued"
    assert data["prediction"] is None
    assert data["failure_reason"] == ""


def test_done_track_page_shows_genre_bars_timeline_tags_and_spectrogram(alice_client, stored_track):
    track = classified(stored_track("tune.wav", seconds=6))
    html = alice_client.get(reverse("track-detail", args=[track.pk])).content.decode()

    assert 'data-status="done"' in html  # nothing left for js/track.js to wait for
    assert ">jazz</span>" in html and "55.0% confident" in html
    for label in LABELS:  # every genre has a bar with its value as text
        assert f'<span class="bar-label">{label}</span>' in html
    assert html.count('<span class="bar-value">5.0%</span>') == 9
    assert html.index(">jazz</span>\n          <span class=\"bar-track\"") < html.index(">blues</span>\n          <span class=\"bar-track\"")
    assert html.count('class="timeline-segment"') == 2
    assert "0:03–0:06: blues (60%)" in html
    assert "not analysed" not in html  # the two windows cover the whole 6 s


def test_a_silent_track_says_its_genre_is_not_about_music(alice_client, stored_track):
    quiet = classified(stored_track("quiet.wav", seconds=2), uncertain=True)
    Prediction.objects.filter(track=quiet).update(silent=True)
    html = alice_client.get(reverse("track-detail", args=[quiet.pk])).content.decode()
    assert 'id="silent-note"' in html and "This track is silent, or nearly" in html
    loud = classified(stored_track("loud.wav", seconds=2, seed=3))
    assert 'id="silent-note"' not in alice_client.get(reverse("track-detail", args=[loud.pk])).content.decode()


def test_the_timeline_says_what_the_windows_leave_out(alice_client, stored_track):
    track = classified(stored_track("long.wav", seconds=6))
    Track.objects.filter(pk=track.pk).update(duration=24.0)  # the two 3 s windows are a quarter of it
    html = alice_client.get(reverse("track-detail", args=[track.pk])).content.decode()
    assert '<span class="swatch swatch-unheard"></span>not analysed' in html
    assert "The model listens to 2 stretches" in html and "the grey 75 % between them is not analysed" in html
    assert "tag09" in html and "tag10" not in html  # top 10 tags only
    assert f'src="{reverse("track-spectrogram", args=[track.pk])}"' in html
    assert "test-1" in html


# Stored highest first as the model gives them; "soul/R&B" also checks the name is escaped.
STYLES = {"folk": 0.62, "soul/R&B": 0.2, "punk": 0.19, "ska": 0.03}


def style_hints(html):
    start = html.index('class="style-hints"')
    return html[start:html.index("</section>", start)]


def test_style_hints_show_those_at_or_above_the_threshold_beside_the_genre(alice_client, stored_track):
    track = classified(stored_track("hints.wav", seconds=6), styles=STYLES)
    html = alice_client.get(reverse("track-detail", args=[track.pk])).content.decode()
    hints = style_hints(html)
    assert "Style hints" in hints
    assert '<span>folk</span> <span class="tag-score">62%</span>' in hints
    assert '<span>soul/R&amp;B</span> <span class="tag-score">20%</span>' in hints  # 0.2 itself is shown
    assert hints.index("folk") < hints.index("soul/R&amp;B")
    assert "punk" not in html and "ska" not in html  # below the threshold: nowhere on the page
    assert "Not validated, and never the genre." in hints and "AudioSet" in hints
    # Beside the genre, never as it: the result still names the model's genre and no style.
    result = html[html.index('class="card result"'):html.index('id="probs-title"')]
    assert ">jazz</span>" in result and "folk" not in result
    assert html.index('id="tags-title"') < html.index('class="style-hints"')


@pytest.mark.parametrize("styles", [None, {}, {"punk": 0.19, "ska": 0.03}])
def test_no_style_hints_block_without_any_worth_showing(alice_client, stored_track, styles):
    # None: a prediction stored before style hints existed; {}: a bundle without them.
    track = classified(stored_track("plain.wav", seconds=6), styles=styles)
    html = alice_client.get(reverse("track-detail", args=[track.pk])).content.decode()
    assert "style-hints" not in html and "Style hints" not in html and "AudioSet" not in html
    assert "punk" not in html
    assert "tag09" in html  # the tags card itself is unchanged


# A jazz-or-blues call the model was unsure of.
UNSURE = {label: {"jazz": 0.41, "blues": 0.38}.get(label, 0.03) for label in LABELS}


def test_uncertain_track_page_names_the_top_two_instead_of_one_genre(alice_client, stored_track):
    track = classified(stored_track("unsure.wav", seconds=6), probabilities=UNSURE, uncertain=True)
    html = alice_client.get(reverse("track-detail", args=[track.pk])).content.decode()
    result = html[html.index('class="card result"'):html.index('id="probs-title"')]
    assert '<span class="uncertain-badge">Uncertain</span>' in result
    assert ">jazz</span>" in result and "(41.0%)" in result
    assert ">blues</span>" in result and "(38.0%)" in result
    assert result.index(">jazz</span>") < result.index(">blues</span>")
    assert "confident" not in result  # no single genre is stated as the answer
    for label in LABELS:  # the probabilities chart stays
        assert f'<span class="bar-label">{label}</span>' in html
    assert "(model's choice: jazz or blues?)" in html


def test_a_user_genre_leads_over_an_uncertain_result(alice_client, stored_track):
    track = classified(stored_track("filed.wav", seconds=6), probabilities=UNSURE, uncertain=True)
    Track.objects.filter(pk=track.pk).update(user_genre="blues")
    html = alice_client.get(reverse("track-detail", args=[track.pk])).content.decode()
    result = html[html.index('class="card result"'):html.index('id="probs-title"')]
    assert '<span class="genre-chip">blues</span>' in result and "set by you" in result
    assert "uncertain-badge" not in result
    assert "The model could not decide: jazz or blues?" in result


def test_a_user_genre_on_a_confident_result_says_what_the_model_said(alice_client, stored_track):
    track = classified(stored_track("filed.wav", seconds=6))
    Track.objects.filter(pk=track.pk).update(user_genre="blues")
    html = alice_client.get(reverse("track-detail", args=[track.pk])).content.decode()
    assert '<span class="genre-chip">blues</span>' in html
    assert "The model said jazz, 55.0% confident." in html


def test_a_genre_keeps_its_colour_when_the_bundle_gains_a_genre():
    labels = [*LABELS, "electronic"]  # the installed bundle now has one more

    def hues(probabilities):
        prediction = Prediction(genre="rock", confidence=0.5, probabilities=probabilities, timeline=[], tags={})
        return {bar["label"]: bar["hue"] for bar in prediction_display(prediction, labels=labels)["bars"]}

    before = hues({label: 0.1 for label in LABELS})  # classified by the old bundle
    after = hues({label: 1 / len(labels) for label in labels})
    assert all(before[label] == after[label] for label in LABELS)
    assert len(set(after.values())) == len(labels)


def test_status_json_says_whether_the_model_was_sure(alice_client, stored_track):
    sure = classified(stored_track("sure.wav", seconds=2))
    unsure = classified(stored_track("unsure.wav", seconds=2, seed=1), probabilities=UNSURE, uncertain=True)
    data = alice_client.get(reverse("track-status", args=[sure.pk])).json()["prediction"]
    assert data["uncertain"] is False and data["top_genres"][0] == {"genre": "jazz", "probability": 0.55}
    data = alice_client.get(reverse("track-status", args=[unsure.pk])).json()["prediction"]
    assert data["uncertain"] is True
    assert data["top_genres"] == [{"genre": "jazz", "probability": 0.41}, {"genre": "blues", "probability": 0.38}]


def test_status_json_when_done_carries_the_prediction(alice_client, stored_track):
    track = classified(stored_track("tune.wav", seconds=6))
    data = alice_client.get(reverse("track-status", args=[track.pk])).json()
    assert data["status"] == "done"
    assert data["genre"] == "jazz"
    assert data["prediction"]["genre"] == "jazz"
    assert data["prediction"]["probabilities"]["jazz"] == pytest.approx(0.55)
    assert len(data["prediction"]["tags"]) == 10
    assert data["prediction"]["timeline"][1]["genre"] == "blues"
    assert "embedding" not in data["prediction"]
    assert data["spectrogram_url"] == reverse("track-spectrogram", args=[track.pk])


def test_the_upload_page_asks_for_all_its_tracks_at_once(alice_client, stored_track, other_user, django_assert_max_num_queries):
    queued = stored_track("waiting.wav", seconds=1)
    unsure = classified(stored_track("unsure.wav", seconds=2, seed=1), probabilities=UNSURE, uncertain=True)
    failed = stored_track("broken.wav", seconds=1, seed=2)
    Track.objects.filter(pk=failed.pk).update(status="failed", failure_reason="The audio could not be decoded: boom")
    theirs = stored_track("theirs.wav", seconds=1, seed=3, owner=other_user)
    ids = ",".join(str(track.pk) for track in (queued, unsure, failed, theirs))
    with django_assert_max_num_queries(3):  # the session, the user, the tracks with their predictions
        response = alice_client.get(reverse("track-statuses"), {"ids": ids})
    assert response.status_code == 200 and "no-cache" in response["Cache-Control"]
    found = {track["id"]: track for track in response.json()["tracks"]}
    assert set(found) == {str(queued.pk), str(unsure.pk), str(failed.pk)}  # someone else's is not told
    assert found[str(queued.pk)]["status"] == "queued" and found[str(queued.pk)]["prediction"] is None
    assert found[str(unsure.pk)]["prediction"] == {
        "genre": "jazz", "confidence": 0.41, "uncertain": True,
        "top_genres": [{"genre": "jazz", "probability": 0.41}, {"genre": "blues", "probability": 0.38}]}
    assert found[str(failed.pk)]["failure_reason"] == "The audio could not be decoded: boom"
    assert found[str(unsure.pk)]["url"] == reverse("track-detail", args=[unsure.pk])


@pytest.mark.parametrize("ids", ["not-an-id", ",".join(["6f1c5e2a-0000-4000-8000-000000000000"] * 101)])
def test_the_status_list_refuses_what_is_not_a_short_list_of_ids(alice_client, ids):
    response = alice_client.get(reverse("track-statuses"), {"ids": ids})
    assert response.status_code == 400 and response.json()["error"]


def test_failed_track_page_shows_the_reason(alice_client, stored_track):
    track = stored_track("broken.wav", seconds=1)
    Track.objects.filter(pk=track.pk).update(status="failed", failure_reason="The audio could not be decoded: boom")
    html = alice_client.get(reverse("track-detail", args=[track.pk])).content.decode()
    assert "This track could not be classified" in html
    assert "The audio could not be decoded: boom" in html
    assert 'data-status="failed"' in html
    data = alice_client.get(reverse("track-status", args=[track.pk])).json()
    assert data["status"] == "failed"
    assert data["failure_reason"] == "The audio could not be decoded: boom"


def test_spectrogram_is_served_to_the_owner(alice_client, stored_track):
    track = classified(stored_track("tune.wav", seconds=2))
    response = alice_client.get(reverse("track-spectrogram", args=[track.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG\r\n\x1a\n")


def test_no_spectrogram_yet_is_a_404(alice_client, stored_track):
    track = stored_track("waiting.wav", seconds=1)
    assert alice_client.get(reverse("track-spectrogram", args=[track.pk])).status_code == 404


@pytest.mark.parametrize("name", TRACK_URLS)
def test_another_user_gets_404_on_every_track_url(stored_track, make_user, login_client, name):
    track = classified(stored_track("private.wav", seconds=2))
    bob = login_client(make_user("bob"))
    response = bob.get(reverse(name, args=[track.pk]))
    assert response.status_code == 404


@pytest.mark.parametrize("name", TRACK_URLS)
def test_unknown_track_is_a_404(alice_client, name):
    import uuid

    assert alice_client.get(reverse(name, args=[uuid.uuid4()])).status_code == 404


def test_another_users_library_does_not_show_the_track(alice_client, stored_track, make_user, login_client):
    track = stored_track("alices-secret-song.wav", seconds=1)
    assert "alices-secret-song" in alice_client.get(reverse("home")).content.decode()
    html = login_client(make_user("bob")).get(reverse("home")).content.decode()
    assert "alices-secret-song" not in html
    assert str(track.pk) not in html


# --- Audio streaming ----------------------------------------------------------------------

def body(response):
    return b"".join(response.streaming_content)


@pytest.mark.parametrize("name, content_type", [("a.wav", "audio/wav"), ("a.mp3", "audio/mpeg"),
                                                ("a.flac", "audio/flac"), ("a.m4a", "audio/mp4")])
def test_audio_is_served_whole_with_its_content_type(alice_client, stored_track, name, content_type):
    track = stored_track(name, seconds=1)
    response = alice_client.get(reverse("track-audio", args=[track.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Accept-Ranges"] == "bytes"
    assert body(response) == open(track.file.path, "rb").read()


def test_a_range_request_gets_206_and_exactly_those_bytes(alice_client, stored_track):
    track = stored_track("seek.wav", seconds=2)
    data = open(track.file.path, "rb").read()
    response = alice_client.get(reverse("track-audio", args=[track.pk]), headers={"range": "bytes=1000-1999"})
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 1000-1999/{len(data)}"
    assert response["Content-Length"] == "1000"
    assert body(response) == data[1000:2000]


def test_open_ended_and_suffix_ranges(alice_client, stored_track):
    track = stored_track("seek.wav", seconds=1)
    data = open(track.file.path, "rb").read()
    url = reverse("track-audio", args=[track.pk])

    tail = alice_client.get(url, headers={"range": f"bytes={len(data) - 10}-"})
    assert tail.status_code == 206
    assert tail["Content-Range"] == f"bytes {len(data) - 10}-{len(data) - 1}/{len(data)}"
    assert body(tail) == data[-10:]

    suffix = alice_client.get(url, headers={"range": "bytes=-100"})
    assert suffix.status_code == 206
    assert body(suffix) == data[-100:]


@pytest.mark.parametrize("header", ["bytes=999999999-", "bytes=500-100"])
def test_an_unsatisfiable_range_is_416(alice_client, stored_track, header):
    track = stored_track("seek.wav", seconds=1)
    response = alice_client.get(reverse("track-audio", args=[track.pk]), headers={"range": header})
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{track.size}"


@pytest.mark.parametrize("header", ["items=0-10", "bytes=abc", "bytes=0-1,5-6"])
def test_a_range_form_we_do_not_serve_gets_the_whole_file(alice_client, stored_track, header):
    track = stored_track("whole.wav", seconds=1)
    response = alice_client.get(reverse("track-audio", args=[track.pk]), headers={"range": header})
    assert response.status_code == 200
    assert int(response["Content-Length"]) == track.size
    assert b"".join(response.streaming_content) == track.file.open("rb").read()


def test_audio_whose_file_vanished_is_a_404_not_a_500(alice_client, stored_track):
    track = stored_track("gone.wav", seconds=1)
    track.file.storage.delete(track.file.name)
    assert alice_client.get(reverse("track-audio", args=[track.pk])).status_code == 404
