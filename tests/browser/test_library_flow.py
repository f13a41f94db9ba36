"""A new user's whole journey through the library side, in a real browser, with a real worker
classifying real generated audio: sign up, upload, library, playlist player, correction, export."""
import csv
import io
import re

import pytest
from playwright.sync_api import expect

from classifier.models import Prediction
from tests.audiogen import write_audio

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

CLASSIFY_TIMEOUT = 300_000  # ms: the shared CI machine may be loading the model for the first time


def sign_up(page, base):
    page.goto(base + "/signup/")
    page.fill("#id_username", "browser-bea")
    page.fill("#id_email", "bea@example.com")
    page.fill("#id_password1", "correct-horse-battery-staple")
    page.fill("#id_password2", "correct-horse-battery-staple")
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/upload/$"))


def upload(page, files):
    # Slow the line down so each file's progress bar is on screen long enough to be seen.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 20,
                                                  "downloadThroughput": -1, "uploadThroughput": 150_000})
    expect(page.locator("#upload-form[data-ready=true]")).to_have_count(1)  # see choose_upload_files
    with page.expect_file_chooser() as chooser:
        page.locator("label[for=upload-files]").click()
    chooser.value.set_files([str(f) for f in files])
    items = page.locator("#upload-list .upload-item")
    expect(items).to_have_count(len(files))
    expect(page.locator("#upload-list progress").first).to_be_visible()
    expect(page.locator("#upload-list .upload-item.ok")).to_have_count(len(files), timeout=60_000)
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0,
                                                  "downloadThroughput": -1, "uploadThroughput": -1})
    # {file name: track page URL}; the list shows the newest file first, so go by name.
    return {item.locator(".upload-name").inner_text(): item.locator("a").get_attribute("href")
            for item in page.locator("#upload-list .upload-item").all()}


def set_genre(page, base, track_url, genre):
    page.goto(base + track_url)
    page.select_option("#genre-select", genre)
    page.get_by_role("button", name="Save genre").click()
    expect(page.locator(".messages")).to_contain_text(f"Genre set to {genre}")


def playlist_titles(page, base, genre):
    page.goto(f"{base}/playlists/{genre}/")
    return page.locator("#playlist-tracks li").evaluate_all("els => els.map(e => e.dataset.title)")


def test_library_flow(page, live_server, celery_worker, installed_model, screenshots, tmp_path):
    base = live_server.url
    files = [write_audio(tmp_path / "first-track.wav", kind="music", seconds=6, seed=1),
             write_audio(tmp_path / "second-track.flac", kind="noise", seconds=6, seed=2)]
    sign_up(page, base)
    urls = upload(page, files)
    track_urls = [urls["first-track.wav"], urls["second-track.flac"]]

    # The track page updates itself once the worker is done.
    page.goto(base + track_urls[0])
    expect(page.locator("#track-status-badge")).to_have_text("Done", timeout=CLASSIFY_TIMEOUT)
    expect(page.locator(".top-genre")).to_be_visible()
    expect(page.locator("#similar-heading")).to_be_visible()

    # So does the library, until both rows are done.
    page.goto(base + "/library/")
    expect(page.locator("tr[data-status='done']")).to_have_count(2, timeout=CLASSIFY_TIMEOUT)
    rows = page.locator(".lib-table tbody tr")
    shown = {row.locator("td[data-label=Title] a").inner_text(): row.locator(".genre-pill").inner_text()
             for row in rows.all()}
    assert set(shown) == {"first-track", "second-track"}
    # Each row names the stored genre, or the top two where the model was unsure of it.
    predictions = {p.track.display_title: p for p in Prediction.objects.select_related("track")}
    genres = {name: prediction.genre for name, prediction in predictions.items()}
    for name, prediction in predictions.items():
        guesses = " or ".join(guess.genre for guess in prediction.top_two) + "?"
        assert shown[name] == (guesses if prediction.uncertain else prediction.genre)
    screenshots.joinpath("library.png").write_bytes(page.screenshot(full_page=True))
    # On a phone the table turns into one card per track that fits the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.locator(".lib-table").evaluate("t => t.scrollWidth <= window.innerWidth")
    screenshots.joinpath("library-phone.png").write_bytes(page.screenshot(full_page=True))
    page.set_viewport_size({"width": 1280, "height": 900})

    # Filter by the first track's genre: only tracks of that genre remain (an uncertain one too:
    # its top genre is what is stored).
    first_genre = genres["first-track"]
    page.select_option("select[name=genre]", first_genre)
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(rf"genre={re.escape(first_genre)}"))
    filtered = page.locator(".lib-table tbody td[data-label=Title] a").all_inner_texts()
    assert sorted(filtered) == sorted(name for name, genre in genres.items() if genre == first_genre)

    # Put both tracks in one playlist: a correction where the model split them, or was unsure
    # (its guesses stay out of genre playlists).
    for name, url in zip(["first-track", "second-track"], track_urls):
        if genres[name] != first_genre or predictions[name].uncertain:
            set_genre(page, base, url, first_genre)
            expect(page.locator("#genre-select")).to_have_value(first_genre)
    assert sorted(playlist_titles(page, base, first_genre)) == ["first-track", "second-track"]

    # Play the playlist in the player bar, then next: the bar and the playlist's highlight move
    # to the second track.
    audio = page.locator("#player-audio")
    current = page.locator("#playlist-tracks li.is-playing")
    page.get_by_role("button", name=f"Play all the {first_genre} playlist").click()
    expect(current).to_have_count(1)
    first_title, first_src = current.get_attribute("data-title"), audio.get_attribute("src")
    page.wait_for_function("() => !document.getElementById('player-audio').paused")
    page.locator("#player").get_by_role("button", name="Next track").click()
    expect(current).to_have_count(1)
    expect(current).not_to_have_attribute("data-title", first_title)
    assert audio.get_attribute("src") != first_src
    assert audio.get_attribute("src").endswith(current.get_attribute("data-track-id") + "/audio/")
    expect(page.locator("#player-title")).to_have_text(current.get_attribute("data-title"))

    # A correction takes the first track out of that playlist and into another.
    other_genre = next(label for label in installed_model["config"]["labels"] if label != first_genre)
    set_genre(page, base, track_urls[0], other_genre)
    page.wait_for_load_state()
    screenshots.joinpath("track.png").write_bytes(page.screenshot(full_page=True))
    assert playlist_titles(page, base, first_genre) == ["second-track"]
    assert playlist_titles(page, base, other_genre) == ["first-track"]

    # The CSV export has both tracks with their effective genres and sources.
    page.goto(base + "/library/")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename == "genreweb-library.csv"
    rows = {r["title"] or r["file"]: r for r in csv.DictReader(io.StringIO(open(download.path()).read()))}
    assert {rows["first-track.wav"]["genre"], rows["first-track.wav"]["genre_source"]} == {other_genre, "user"}
    assert rows["second-track.flac"]["genre"] == first_genre

    # The dashboard and the model page render from the same data and the installed bundle.
    page.goto(base + "/dashboard/")
    expect(page.locator(".chart svg rect")).to_have_count(2)
    screenshots.joinpath("dashboard.png").write_bytes(page.screenshot(full_page=True))
    page.goto(base + "/model/")
    expect(page.locator("h1")).to_have_text(installed_model["config"]["name"])
    if installed_model["confusion_matrix_png"]:
        expect(page.locator("img.confusion")).to_be_visible()
        assert page.locator("img.confusion").evaluate("img => img.complete && img.naturalWidth > 0")
    screenshots.joinpath("model.png").write_bytes(page.screenshot(full_page=True))
