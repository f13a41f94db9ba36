"""The playlist player in a real browser (no model needed: predictions are written directly)."""
import hashlib
import re

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from classifier.models import Prediction, Track
from tests.audiogen import write_audio

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def add_track(owner, path, seconds, confidence):
    # Stored directly, not through track_upload: that would queue it, and a worker left running
    # by another test of the session would replace this prediction with the model's.
    data = path.read_bytes()
    track = Track(owner=owner, original_name=path.name, sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                  format="WAV", duration=seconds)
    track.file.save(path.name, ContentFile(data), save=True)
    Prediction.objects.create(track=track, genre="jazz", confidence=confidence, probabilities={"jazz": confidence},
                              timeline=[], tags={}, embedding=[1.0], model_version="t", device="cpu", seconds=0.1)
    Track.objects.filter(pk=track.pk).update(status=Track.Status.DONE)
    return track


def test_player_plays_in_order_and_advances(page, live_server, make_user, password, tmp_path):
    user = make_user("player-pat")
    tracks = [add_track(user, write_audio(tmp_path / f"{name}.wav", seconds=seconds, seed=i), seconds, confidence)
              for i, (name, seconds, confidence) in enumerate([("short", 1.0, 0.9), ("middle", 2.0, 0.8), ("last", 2.0, 0.7)])]
    page.goto(live_server.url + "/accounts/login/?next=/playlists/jazz/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.locator("form button[type=submit]").last.click()
    expect(page).to_have_url(re.compile(r"/playlists/jazz/$"))

    current = page.locator("#playlist-tracks li[aria-current=true]")
    audio = page.locator("#player-audio")
    expect(current).to_have_attribute("data-title", "short")
    assert audio.get_attribute("src").endswith(f"/tracks/{tracks[0].pk}/audio/")

    # Playing the 1-second first track to its end moves on to the next one by itself.
    page.get_by_role("button", name="Play").click()
    expect(current).to_have_attribute("data-title", "middle", timeout=15_000)
    assert audio.get_attribute("src").endswith(f"/tracks/{tracks[1].pk}/audio/")
    page.wait_for_function("() => !document.getElementById('player-audio').paused")

    page.get_by_role("button", name="Next track").click()
    expect(current).to_have_attribute("data-title", "last")
    page.evaluate("document.getElementById('player-audio').pause()")
    page.evaluate("document.getElementById('player-audio').currentTime = 0")
    page.get_by_role("button", name="Previous track").click()
    expect(current).to_have_attribute("data-title", "middle")
    expect(page.locator("#now-playing-title")).to_have_text("middle")
    # Next at the end of the list stays on the last track instead of failing.
    page.get_by_role("button", name="Next track").click()
    page.get_by_role("button", name="Next track").click()
    expect(current).to_have_attribute("data-title", "last")
    expect(page.locator("#playlist-tracks li[aria-current]")).to_have_count(1)
