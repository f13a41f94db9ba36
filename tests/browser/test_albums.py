"""The album side of the library in a real browser: covers extracted from the files show in the
album grid (loaded through the owner-only cover view), a missing cover says the genre, the album
page lists its tracks in disc and track order, and none of it trips the Content-Security-Policy."""
import hashlib
import re
import zipfile
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from classifier.models import Prediction, Track
from classifier.services.catalogue import track_apply_metadata
from classifier.services.metadata import read_metadata
from tests.browser.pages import log_in
from tests.browser.test_content_security_policy import Watcher
from tests.library.conftest import prediction_fields
from tests.tagging import cover_image, write_tagged

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def add_tagged_track(owner, path, genre):
    """A finished track whose tags and covers come from `path` through the metadata services.
    Stored directly, not through track_upload: that would queue it, and a worker left running by
    another test would replace the prediction."""
    data = path.read_bytes()
    track = Track(owner=owner, original_name=path.name, sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                  format=path.suffix.lstrip(".").upper(), duration=2.0)
    track.file.save(path.name, ContentFile(data), save=False)
    track_apply_metadata(track=track, metadata=read_metadata(path))
    track.status = Track.Status.DONE
    track.save()
    Prediction.objects.create(track=track, **prediction_fields(genre, 0.8))
    return track


def test_covers_show_in_the_album_grid_and_the_album_plays_in_order(page, live_server, make_user, password,
                                                                    tmp_path, screenshots):
    user = make_user("album-ada")
    album = {"artist": "Ana Ray", "album": "Harbour Lights", "year": "2019"}
    for seed, (title, disc, number, colour) in enumerate([("Second Side", 2, 1, (40, 90, 200)),
                                                          ("Opening", 1, 1, (200, 60, 40)),
                                                          ("Undertow", 1, 2, (40, 160, 80))]):
        path = write_tagged(tmp_path / f"{seed}.flac", {**album, "title": title, "disc": disc, "track": number},
                            cover_image(600, 600, colour=colour), seed=seed)
        add_tagged_track(user, path, "jazz")
    reggae = [add_tagged_track(user, write_tagged(tmp_path / f"bare{number}.mp3",
                                                  {"artist": "Joe Blue", "album": "No Picture", "track": number},
                                                  seed=9 + number), "reggae")
              for number in (1, 2)]

    watcher = Watcher(page)
    log_in(page, live_server.url, user, password)
    assert watcher.visit(live_server.url + "/albums/") == []
    covered = page.locator(".album-card", has_text="Harbour Lights")
    image = covered.locator("img.cover")
    expect(image).to_be_visible()
    # Loaded (not a broken image): the 300 px thumbnail made from the first track's embedded cover.
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [300, 300]
    expect(page.locator(".album-card", has_text="No Picture").locator(".cover-placeholder")).to_have_text("reggae")
    screenshots.joinpath("album-grid.png").write_bytes(page.screenshot(full_page=True))

    covered.locator("a").click()
    expect(page.locator("h1")).to_have_text("Harbour Lights")
    expect(page.locator(".album-tracks li a")).to_have_text(["Opening", "Undertow", "Second Side"])
    expect(page.locator(".album-tracks .track-no")).to_have_text(["1.1", "1.2", "2.1"])
    expect(page.locator(".album-head img.cover")).to_be_visible()
    assert watcher.violations() == []
    screenshots.joinpath("album-page.png").write_bytes(page.screenshot(full_page=True))
    # The album's files come as one ZIP, in disc and track order (the shell lets the download through).
    with page.expect_download() as download:
        page.get_by_role("link", name="Download album (ZIP)").click()
    with zipfile.ZipFile(download.value.path()) as archive:
        assert [Path(name).stem for name in archive.namelist()] == ["1-01 Opening", "1-02 Undertow", "2-01 Second Side"]
    assert download.value.suggested_filename == "Harbour Lights.zip"
    # Play album queues the album in that order and starts at its first track.
    page.get_by_role("button", name="Play album Harbour Lights").click()
    expect(page.locator("#player-queue-list .player-queue-title")).to_have_text(["Opening", "Undertow", "Second Side"])
    expect(page.locator("#player-title")).to_have_text("Opening")

    for name in ("artists", "genres"):
        assert watcher.visit(f"{live_server.url}/{name}/") == [], name
        screenshots.joinpath(f"{name}.png").write_bytes(page.screenshot(full_page=True))
    expect(page.locator(".genre-section[data-genre=jazz] .album-card")).to_have_text(["Harbour Lights"])
    # One click plays a genre: the queue becomes that genre's tracks, here without covers, so the
    # player bar shows the placeholder that says the genre.
    page.get_by_role("button", name="Play reggae", exact=True).click()
    expect(page.locator("#player-queue-list li")).to_have_count(2)
    for track in reggae:
        expect(page.locator(f"#player-queue-list li[data-track-id='{track.pk}']")).to_have_count(1)
    expect(page.locator("#player-cover-genre")).to_have_text("reggae")
    expect(page.locator("#player-cover-genre")).to_be_visible()
    page.goto(live_server.url + "/artists/")
    page.locator(".artist-list a", has_text="Ana Ray").click()
    expect(page).to_have_url(re.compile(r"/artists/\d+/$"))
    expect(page.locator(".album-card")).to_have_text([re.compile("Harbour Lights")])
    assert watcher.violations() == []


def test_the_owner_corrects_tags_on_the_track_page(page, live_server, make_user, password, tmp_path, screenshots):
    user = make_user("tag-tess")
    path = write_tagged(tmp_path / "typo.mp3", {"title": "Opening", "artist": "Ana Ray", "album": "Harbor Lihgts",
                                                "track": "1"}, cover_image(400, 400, colour=(120, 40, 160)))
    track = add_tagged_track(user, path, "jazz")
    watcher = Watcher(page)
    log_in(page, live_server.url, user, password)
    assert watcher.visit(f"{live_server.url}/tracks/{track.pk}/") == []
    expect(page.locator(".track-header img.cover")).to_be_visible()
    expect(page.locator("#id_album")).to_have_value("Harbor Lihgts")
    page.fill("#id_album", "Harbour Lights")
    page.fill("#id_year", "2019")
    page.get_by_role("button", name="Save tags").click()
    expect(page.locator(".message.success")).to_contain_text("Saved the tags of Opening.")
    expect(page.locator(".track-header .lead")).to_contain_text("Harbour Lights · 2019")
    screenshots.joinpath("track-tags.png").write_bytes(page.screenshot(full_page=True))
    page.locator(".track-header .lead a", has_text="Harbour Lights").click()
    expect(page.locator("h1")).to_have_text("Harbour Lights")
    expect(page.locator(".album-tracks li a")).to_have_text(["Opening"])
    assert watcher.violations() == []
