"""The upload and track pages in headless Chromium with the real worker: upload.js sends each
file with its own progress bar and follows its classification until the genre is in; the track
page shows it. (tests/browser/test_bad_files.py watches track.js bring a result in unaided.)"""
import re

import pytest
from playwright.sync_api import expect

from classifier.models import Prediction, Track
from classifier.services.tracks import track_delete
from tests.browser.pages import choose_upload_files, log_in

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def browse(page, base_url, password, files, shots):
    """Sign up, upload `files` with upload.js, wait for the accepted one's genre, open its track.
    Returns what the pages showed; the database is checked by the caller."""
    seen = {"csp": []}
    page.on("console", lambda message: seen["csp"].append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(base_url + "/")
    page.screenshot(path=str(shots / "landing.png"), full_page=True)
    page.get_by_role("link", name="Create a free account").click()
    page.get_by_label("Username:").fill("browser-user")
    page.get_by_label("Email:").fill("browser-user@example.com")
    page.get_by_label("Password:", exact=True).fill(password)
    page.get_by_label("Password confirmation:").fill(password)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/upload/")
    seen["welcome"] = page.inner_text(".messages")

    # Count the progress bars upload.js creates; local uploads finish too fast to catch one live.
    page.evaluate("""() => {
        window.progressBars = 0;
        new MutationObserver(records => records.forEach(r => r.addedNodes.forEach(n => {
            if (n.querySelector && n.querySelector('progress')) window.progressBars += 1;
        }))).observe(document.getElementById('upload-list'), {childList: true});
    }""")
    choose_upload_files(page, files)
    page.locator(".upload-item.ok a").wait_for()
    page.locator(".upload-item.error").wait_for()
    page.screenshot(path=str(shots / "upload-done.png"), full_page=True)
    seen["progress_bars"] = page.evaluate("window.progressBars")
    seen["progress_left"] = page.locator(".upload-item progress").count()
    seen["ok_text"] = page.inner_text(".upload-item.ok")
    seen["error_text"] = page.inner_text(".upload-item.error")
    # The page follows the classification and names the genre once the worker is done.
    seen["queued_status"] = page.inner_text(".upload-item.ok .upload-status")
    page.locator(".upload-item.ok[data-status=done]").wait_for(timeout=300_000)
    seen["classified_status"] = page.inner_text(".upload-item.ok .upload-status")
    seen["classified_message"] = page.inner_text(".upload-item.ok .upload-message")
    page.screenshot(path=str(shots / "upload-classified.png"), full_page=True)

    page.locator(".upload-item.ok a", has_text="View track").click()
    page.wait_for_url("**/tracks/**")
    seen["track_url"] = page.url
    page.locator(".top-genre").wait_for()
    # The first chip is the model's genre, or its top guess when it was unsure (then two chips).
    seen["genre"] = page.locator(".top-genre .genre-chip").first.text_content()
    seen["bars"] = page.locator(".bar-row").count()
    seen["segments"] = page.locator(".timeline-segment").count()
    # The spectrogram is lazy-loaded: its request starts only once the result is drawn.
    page.wait_for_function(
        "() => { const image = document.querySelector('img.spectrogram');"
        " return image && image.complete && image.naturalWidth > 0; }")
    # Its Play button hands it to the player bar.
    page.locator(".track-play .play-now").click()
    page.wait_for_function("() => document.getElementById('player-audio').getAttribute('src')")
    seen["audio_src"] = page.get_attribute("#player-audio", "src")
    page.screenshot(path=str(shots / "track-done.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    seen["phone_overflow"] = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    page.screenshot(path=str(shots / "track-phone.png"), full_page=True)
    return seen


def test_sign_up_upload_with_progress_and_watch_the_result_arrive(
        page, live_server, celery_worker, installed_model, screenshots, password, audio_file, tmp_path):
    bogus = tmp_path / "letter.mp3"
    bogus.write_text("Dear diary, this is not a song.\n" * 40)
    seen = browse(page, live_server.url, password, [audio_file("groove.wav", seconds=8), bogus], screenshots)

    assert "Welcome, browser-user!" in seen["welcome"]
    assert seen["progress_bars"] == 2
    assert seen["progress_left"] == 0
    assert "groove.wav is uploaded" in seen["ok_text"]
    assert seen["classified_message"] == "groove.wav is uploaded."  # no longer "queued": the status line says more
    assert "letter.mp3 is not an audio file we can read" in seen["error_text"]

    track = Track.objects.get(original_name="groove.wav")
    prediction = Prediction.objects.get(track=track)
    assert seen["track_url"].endswith(f"/tracks/{track.pk}/")
    assert seen["genre"] == prediction.genre
    assert seen["queued_status"] in {"Queued for classification…", "Classifying…"} or seen["queued_status"].startswith(
        ("Genre:", "Uncertain"))  # the worker may be that quick
    if prediction.uncertain:
        first, second = prediction.top_two
        assert seen["classified_status"].startswith(f"Uncertain — maybe {first.genre} (") and f"or {second.genre} (" in seen["classified_status"]
    else:
        shown = re.fullmatch(rf"Genre: {prediction.genre} \((\d+\.\d)%\)", seen["classified_status"])
        assert shown and float(shown[1]) == pytest.approx(prediction.confidence * 100, abs=0.06), seen["classified_status"]
    assert seen["bars"] == len(prediction.probabilities)
    assert seen["segments"] == len(prediction.timeline)
    assert seen["audio_src"] == f"/tracks/{track.pk}/audio/"
    assert not seen["phone_overflow"]  # nothing sticks out sideways on a phone
    assert seen["csp"] == []  # from the upload to the result drawn in place, nothing the policy blocks


def test_an_upload_deleted_before_its_result_says_so(page, live_server, make_user, password, audio_file):
    # No worker: the track stays queued until it is deleted (as from another tab).
    user = make_user("upload-uma")
    log_in(page, live_server.url, user, password, "/upload/")
    choose_upload_files(page, [audio_file("gone.wav", seconds=2)])
    status = page.locator(".upload-item.ok .upload-status")
    expect(status).to_have_text("Queued for classification…", timeout=30_000)
    track_delete(track=Track.objects.get(owner=user, original_name="gone.wav"))
    expect(status).to_have_text("No longer in your library.")
    expect(page.locator(".upload-item.ok")).to_have_attribute("data-status", "gone")
