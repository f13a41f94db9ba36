"""A track the model was unsure of, in a real browser: its page and the library say "uncertain"
and name the top two genres instead of one (no model needed: the prediction is written directly)."""
import hashlib
import re

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from classifier.models import Prediction, Track
from tests.audiogen import write_audio
from tests.browser.pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROBABILITIES = {"jazz": 0.41, "blues": 0.38, "rock": 0.12, "pop": 0.09}


def add_uncertain_track(owner, path):
    # Stored directly, not through track_upload: that would queue it, and a worker left running
    # by another test of the session would replace this prediction with the model's.
    data = path.read_bytes()
    track = Track(owner=owner, original_name=path.name, title="Late Hours", sha256=hashlib.sha256(data).hexdigest(),
                  size=len(data), format="WAV", duration=2.0)
    track.file.save(path.name, ContentFile(data), save=True)
    Prediction.objects.create(
        track=track, genre="jazz", confidence=0.41, probabilities=PROBABILITIES, uncertain=True,
        timeline=[{"start": 0.0, "end": 2.0, "genre": "jazz", "confidence": 0.41}],
        tags={}, embedding=[1.0], model_version="t", device="cpu", seconds=0.1)
    Track.objects.filter(pk=track.pk).update(status=Track.Status.DONE)
    return track


def test_an_uncertain_track_names_its_top_two(page, live_server, make_user, password, screenshots, tmp_path):
    user = make_user("unsure-una")
    track = add_uncertain_track(user, write_audio(tmp_path / "late-hours.wav", seconds=2.0))
    log_in(page, live_server.url, user, password, f"/tracks/{track.pk}/")

    result = page.locator(".top-genre")
    expect(result).to_be_visible()
    wording = r"Uncertain\s+— maybe\s+jazz\s+\(41\.0%\)\s+or\s+blues\s+\(38\.0%\)"
    expect(result).to_contain_text(re.compile(wording, re.I))
    expect(result).not_to_contain_text("confident")
    expect(page.locator(".uncertain-badge")).to_be_visible()
    expect(page.locator(".bar-row")).to_have_count(len(PROBABILITIES))  # the chart stays
    screenshots.joinpath("track-uncertain.png").write_bytes(page.screenshot(full_page=True))

    page.goto(live_server.url + "/library/")
    cell = page.locator(f"tr[data-track-id='{track.pk}'] td[data-label=Genre]")
    expect(cell.locator(".genre-pill")).to_have_text("jazz or blues?")
    expect(cell.locator(".source-uncertain")).to_be_visible()
    expect(cell.locator(".source-uncertain")).to_have_text("uncertain")
    screenshots.joinpath("library-uncertain.png").write_bytes(page.screenshot(full_page=True))
