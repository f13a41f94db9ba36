"""The player bar in a real browser: it keeps playing from page to page, plays its queue in order,
answers the keyboard, survives a full reload and tells the Media Session what plays. No model
needed: predictions are written directly."""
import hashlib
import re

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from playwright.sync_api import expect

from classifier import selectors
from classifier.models import Prediction, Track
from classifier.views.presentation import genre_hues
from tests.audiogen import write_audio
from tests.browser.pages import log_in
from tests.browser.test_albums import add_tagged_track
from tests.tagging import cover_image, write_tagged

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AUDIO = "document.getElementById('player-audio')"


def add_track(owner, folder, title, seconds, confidence=0.8, genre="jazz", artist="The Testers", seed=0):
    # Stored directly, not through track_upload: that would queue it, and a worker left running
    # by another test of the session would replace this prediction with the model's.
    path = write_audio(folder / f"{title}.wav", seconds=seconds, seed=seed, sample_rate=22050, channels=1)
    data = path.read_bytes()
    track = Track(owner=owner, original_name=path.name, sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                  format="WAV", duration=seconds, title=title, artist=artist)
    track.file.save(path.name, ContentFile(data), save=True)
    Prediction.objects.create(track=track, genre=genre, confidence=confidence, probabilities={genre: confidence},
                              timeline=[], tags={}, embedding=[1.0, float(seed)], model_version="t", device="cpu",
                              seconds=0.1)
    Track.objects.filter(pk=track.pk).update(status=Track.Status.DONE)
    return track


def audio_url(track):
    return f"/tracks/{track.pk}/audio/"


def current_time(page):
    return page.evaluate(f"{AUDIO}.currentTime")


def wait_playing_past(page, seconds):
    page.wait_for_function(f"() => !{AUDIO}.paused && {AUDIO}.currentTime > {seconds}", timeout=15_000)


def queue_ids(page):
    return page.locator("#player-queue-list li").evaluate_all("items => items.map(li => li.dataset.trackId)")


@pytest.fixture
def csp_errors(page):
    """Console errors about the Content-Security-Policy: pages and the player must cause none."""
    errors = []
    page.on("console", lambda message: errors.append(f"{message.location['url']}: {message.text}")
            if message.type == "error" and "Content Security Policy" in message.text else None)
    return errors


def test_playback_goes_on_across_page_changes(page, live_server, make_user, password, tmp_path, csp_errors):
    user = make_user("player-pat")
    song = add_track(user, tmp_path, "Long Song", seconds=30)
    log_in(page, live_server.url, user, password, f"/tracks/{song.pk}/")

    page.get_by_role("button", name="Play Long Song", exact=True).click()
    wait_playing_past(page, 0.3)
    # A full load would make a new window (losing this mark) and a new <audio> element.
    page.evaluate(f"window.playerUnderTest = {AUDIO}")
    position = current_time(page)

    for link, title in [("Library", "Library"), ("Playlists", "Playlists"), ("Dashboard", "Dashboard")]:
        page.locator(".site-nav").get_by_role("link", name=link, exact=True).click()
        expect(page).to_have_title(f"{title} · GenreWeb")
        expect(page.locator("h1")).to_be_visible()
        assert page.evaluate(f"window.playerUnderTest === {AUDIO}")
        assert page.locator("#player-audio").get_attribute("src") == audio_url(song)
        # Still playing, and further on than before the page changed.
        wait_playing_past(page, position)
        position = current_time(page)

    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.locator("#player-title")).to_have_text("Long Song")
    # Back goes back to the playlists page, still without stopping.
    page.go_back()
    expect(page).to_have_url(re.compile(r"/playlists/$"))
    expect(page.locator("h1")).to_have_text("Genre playlists")
    assert page.evaluate(f"window.playerUnderTest === {AUDIO}")
    wait_playing_past(page, position)
    assert csp_errors == []


def test_the_queue_plays_in_order_and_play_next_jumps_the_line(page, live_server, make_user, password, tmp_path):
    user = make_user("player-quinn")
    first, second, third, jumper = (add_track(user, tmp_path, name, seconds=1.0, confidence=confidence, seed=i)
                                    for i, (name, confidence) in enumerate(
                                        [("First", 0.9), ("Second", 0.8), ("Third", 0.7), ("Jumper", 0.6)]))
    log_in(page, live_server.url, user, password, "/playlists/jazz/")
    page.evaluate(f"""window.played = []; window.ended = 0;
        {AUDIO}.addEventListener('play', e => window.played.push(new URL(e.target.currentSrc).pathname));
        {AUDIO}.addEventListener('ended', () => window.ended++);""")

    for track in (first, second, third):
        page.get_by_role("button", name=f"Add {track.title} to the queue").click()
    # Queued while nothing played: the first is ready in the bar but waits for Play.
    expect(page.locator("#player-queue-count")).to_have_text("3")
    expect(page.locator("#player-title")).to_have_text("First")
    assert page.evaluate(f"{AUDIO}.paused")
    page.get_by_role("button", name="Play Jumper next").click()
    expect(page.locator("#player-queue-count")).to_have_text("4")
    assert queue_ids(page) == [str(t.pk) for t in (first, jumper, second, third)]

    page.locator("#player").get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function("() => window.ended === 4", timeout=30_000)
    assert page.evaluate("window.played") == [audio_url(t) for t in (first, jumper, second, third)]
    # At the end of the queue it stops on the last track instead of wrapping round.
    expect(page.locator("#player-queue-list li[aria-current=true]")).to_have_attribute("data-track-id", str(third.pk))
    assert page.evaluate(f"{AUDIO}.paused")

    # Previous goes back one; a track from the queue list plays at once; × takes one out.
    page.locator("#player").get_by_role("button", name="Previous track").click()
    expect(page.locator("#player-title")).to_have_text("Second")
    page.locator("#player-queue-toggle").click()
    page.locator("#player-queue-list").get_by_role("button", name="Jumper", exact=True).click()
    expect(page.locator("#player-title")).to_have_text("Jumper")
    page.get_by_role("button", name="Remove First from the queue").click()
    assert queue_ids(page) == [str(t.pk) for t in (jumper, second, third)]
    expect(page.locator("#player-queue-list li[aria-current=true]")).to_have_attribute("data-track-id", str(jumper.pk))


def test_play_all_replaces_the_queue_and_a_row_plays_from_there(page, live_server, make_user, password, tmp_path):
    user = make_user("player-ria")
    tracks = [add_track(user, tmp_path, name, seconds=20, confidence=c, seed=i)
              for i, (name, c) in enumerate([("One", 0.9), ("Two", 0.8), ("Three", 0.7)])]
    log_in(page, live_server.url, user, password, "/playlists/jazz/")
    page.get_by_role("button", name="Play Two", exact=True).click()
    wait_playing_past(page, 0.1)
    assert queue_ids(page) == [str(t.pk) for t in tracks]
    expect(page.locator("#player-title")).to_have_text("Two")
    # The page marks the row that plays.
    expect(page.locator("#playlist-tracks li.is-playing")).to_have_attribute("data-title", "Two")
    page.locator("#player").get_by_role("button", name="Next track").click()
    expect(page.locator("#player-title")).to_have_text("Three")
    expect(page.locator("#playlist-tracks li.is-playing")).to_have_attribute("data-title", "Three")


def test_keyboard_space_pauses_and_plays_but_not_while_typing(page, live_server, make_user, password, tmp_path):
    user = make_user("player-kim")
    song = add_track(user, tmp_path, "Keys", seconds=30)
    log_in(page, live_server.url, user, password, f"/tracks/{song.pk}/")
    page.get_by_role("button", name="Play Keys", exact=True).click()
    wait_playing_past(page, 0.2)
    page.evaluate("document.activeElement.blur()")

    page.keyboard.press("Space")
    page.wait_for_function(f"() => {AUDIO}.paused")
    page.keyboard.press("Space")
    page.wait_for_function(f"() => !{AUDIO}.paused")
    # → seeks ahead.
    before = current_time(page)
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => {AUDIO}.currentTime >= {before + 9}")

    # Typing a space into the library search types it, and the music goes on.
    page.locator(".site-nav").get_by_role("link", name="Library", exact=True).click()
    # shell.js moves focus to #main once the new page settles; typing before that would lose it.
    expect(page.locator("#main")).to_be_focused()
    search = page.locator("input[name=q]")
    search.click()
    page.keyboard.type("a b")
    expect(search).to_have_value("a b")
    assert not page.evaluate(f"{AUDIO}.paused")


def test_the_queue_survives_a_full_reload(page, live_server, make_user, password, tmp_path):
    user = make_user("player-rey")
    tracks = [add_track(user, tmp_path, name, seconds=30, confidence=c, seed=i)
              for i, (name, c) in enumerate([("Alpha", 0.9), ("Beta", 0.8)])]
    log_in(page, live_server.url, user, password, "/playlists/jazz/")
    page.get_by_role("button", name="Play all the jazz playlist").click()
    page.locator("#player").get_by_role("button", name="Next track").click()
    wait_playing_past(page, 1.0)
    page.locator("#player").get_by_role("button", name="Pause").click()
    paused_at = current_time(page)

    page.reload()
    expect(page.locator("#player-title")).to_have_text("Beta")
    assert queue_ids(page) == [str(t.pk) for t in tracks]
    expect(page.locator("#player-queue-list li[aria-current=true]")).to_have_attribute("data-track-id", str(tracks[1].pk))
    assert page.locator("#player-audio").get_attribute("src") == audio_url(tracks[1])
    # Where it was paused, still paused.
    page.wait_for_function(f"() => Math.abs({AUDIO}.currentTime - {paused_at}) < 0.25")
    assert page.evaluate(f"{AUDIO}.paused")
    expect(page.locator("#player").get_by_role("button", name="Play", exact=True)).to_be_enabled()


# Runs before the page's scripts: keeps each Media Session action handler the player sets, so the
# test can press the media keys the way the operating system would.
RECORD_MEDIA_HANDLERS = """
window.mediaHandlers = {};
if ("mediaSession" in navigator) {
  const set = navigator.mediaSession.setActionHandler.bind(navigator.mediaSession);
  navigator.mediaSession.setActionHandler = (action, handler) => {
    window.mediaHandlers[action] = handler;
    set(action, handler);
  };
}
"""
MEDIA_METADATA = """(() => { const m = navigator.mediaSession.metadata;
    return {title: m.title, artist: m.artist, artwork: m.artwork.map(a => a.src)}; })()"""


def test_media_session_shows_the_track_and_takes_the_media_keys(page, live_server, make_user, password, tmp_path):
    user = make_user("player-mo")
    covered = add_tagged_track(user, write_tagged(tmp_path / "one.mp3", {"title": "Media One", "artist": "Ada"},
                                                  cover_image(200, 200), seconds=20), "jazz")
    bare = add_tagged_track(user, write_tagged(tmp_path / "two.mp3", {"title": "Media Two", "artist": "Ada"},
                                               seconds=20, seed=1), "jazz")
    page.add_init_script(RECORD_MEDIA_HANDLERS)
    log_in(page, live_server.url, user, password, f"/tracks/{covered.pk}/")
    assert {"play", "pause", "previoustrack", "nexttrack", "seekto"} <= set(page.evaluate("Object.keys(mediaHandlers)"))
    page.get_by_role("button", name="Play Media One", exact=True).click()
    wait_playing_past(page, 0.1)
    metadata = page.evaluate(MEDIA_METADATA)
    assert metadata["title"] == "Media One" and metadata["artist"] == "Ada"
    # The file's own cover, through the owner-only cover view, on the lock screen and in the bar.
    cover_url = reverse("track-cover", args=[covered.pk])
    assert len(metadata["artwork"]) == 1 and metadata["artwork"][0].endswith(cover_url)
    expect(page.locator("#player-cover")).to_have_attribute("src", cover_url)
    expect(page.locator("#player-cover-genre")).to_be_hidden()
    assert page.evaluate("navigator.mediaSession.playbackState") == "playing"

    # A radio from here queues the track and the ones like it.
    page.get_by_role("button", name="Radio: more like this").click()
    expect(page.locator("#player-queue-count")).to_have_text("2")
    assert queue_ids(page) == [str(covered.pk), str(bare.pk)]

    # The media keys: pause, then the next track, which plays.
    wait_playing_past(page, 0.1)
    page.evaluate("mediaHandlers.pause()")
    page.wait_for_function(f"() => {AUDIO}.paused && navigator.mediaSession.playbackState === 'paused'")
    expect(page.locator("#player").get_by_role("button", name="Play", exact=True)).to_be_visible()
    page.evaluate("mediaHandlers.nexttrack()")
    expect(page.locator("#player-title")).to_have_text("Media Two")
    assert page.locator("#player-audio").get_attribute("src") == audio_url(bare)
    wait_playing_past(page, 0.1)
    # No cover in that file: the bar shows the placeholder that says the genre, the lock screen
    # the generic picture.
    expect(page.locator("#player-cover-genre")).to_be_visible()
    expect(page.locator("#player-cover-genre")).to_have_text("jazz")
    expect(page.locator("#player-cover-genre")).to_have_attribute("aria-label", "No cover; genre jazz")
    # In jazz's colour, as the album grid draws it.
    jazz_hue = genre_hues(selectors.installed_labels())["jazz"]
    assert page.evaluate("getComputedStyle(document.getElementById('player-cover-genre'))"
                         ".getPropertyValue('--hue').trim()") == str(jazz_hue)
    expect(page.locator("#player-cover")).to_be_hidden()
    metadata = page.evaluate(MEDIA_METADATA)
    assert metadata["title"] == "Media Two"
    assert len(metadata["artwork"]) == 1 and metadata["artwork"][0].endswith("/img/cover-placeholder.png")


def test_seek_volume_mute_and_the_other_shortcuts(page, live_server, make_user, password, tmp_path):
    user = make_user("player-sly")
    first, second = (add_track(user, tmp_path, name, seconds=30, confidence=confidence, seed=i)
                     for i, (name, confidence) in enumerate([("Knob One", 0.9), ("Knob Two", 0.8)]))
    log_in(page, live_server.url, user, password, "/playlists/jazz/")
    page.get_by_role("button", name="Play all the jazz playlist").click()
    wait_playing_past(page, 0.1)
    bar = page.locator("#player")
    # Paused, so every position below is exact rather than a moving target.
    bar.get_by_role("button", name="Pause").click()
    page.wait_for_function(f"() => {AUDIO}.paused")

    def blur():  # keys go to the player only while no control has the focus
        page.evaluate("document.activeElement.blur()")

    def wait_at(seconds):
        page.wait_for_function(f"() => Math.abs({AUDIO}.currentTime - {seconds}) < 0.01")

    # The seek slider moves the track to where it is let go; ← goes back 10 s.
    page.locator("#player-seek").fill("20")
    wait_at(20)
    expect(page.locator("#player-time")).to_have_text("0:20")
    blur()
    page.keyboard.press("ArrowLeft")
    wait_at(10)

    # The volume slider, the mute button and Shift+↑/↓.
    page.locator("#player-volume").fill("0.5")
    page.wait_for_function(f"() => {AUDIO}.volume === 0.5 && !{AUDIO}.muted")
    bar.get_by_role("button", name="Mute").click()
    page.wait_for_function(f"() => {AUDIO}.muted")
    expect(page.locator("#player-volume")).to_have_value("0")
    bar.get_by_role("button", name="Unmute").click()
    page.wait_for_function(f"() => !{AUDIO}.muted && {AUDIO}.volume === 0.5")
    expect(page.locator("#player-volume")).to_have_value("0.5")
    blur()
    page.keyboard.press("Shift+ArrowUp")
    page.wait_for_function(f"() => Math.abs({AUDIO}.volume - 0.6) < 1e-6")
    page.keyboard.press("Shift+ArrowDown")
    page.keyboard.press("Shift+ArrowDown")
    page.wait_for_function(f"() => Math.abs({AUDIO}.volume - 0.4) < 1e-6")

    # Shift+→ plays the next track. Shift+← restarts a track played for more than 3 s, and from
    # its start goes to the previous one.
    page.keyboard.press("Shift+ArrowRight")
    expect(page.locator("#player-title")).to_have_text("Knob Two")
    assert page.locator("#player-audio").get_attribute("src") == audio_url(second)
    wait_playing_past(page, 0.1)
    bar.get_by_role("button", name="Pause").click()
    page.wait_for_function(f"() => {AUDIO}.paused")
    page.locator("#player-seek").fill("5")
    wait_at(5)
    blur()
    page.keyboard.press("Shift+ArrowLeft")
    wait_at(0)
    expect(page.locator("#player-title")).to_have_text("Knob Two")
    page.keyboard.press("Shift+ArrowLeft")
    expect(page.locator("#player-title")).to_have_text("Knob One")
    assert page.locator("#player-audio").get_attribute("src") == audio_url(first)
    wait_playing_past(page, 0.1)


def test_logging_out_ends_the_queue(page, live_server, make_user, password, tmp_path):
    user = make_user("player-lou")
    song = add_track(user, tmp_path, "Bye", seconds=30)
    log_in(page, live_server.url, user, password, f"/tracks/{song.pk}/")
    page.get_by_role("button", name="Add Bye to the queue").click()
    expect(page.locator("#player-queue-count")).to_have_text("1")
    page.get_by_role("button", name="Log out").click()
    expect(page.locator("#player")).to_have_count(0)
    # The logged-out page's player.js clears what the last page saved as it left.
    page.wait_for_function("() => !Object.keys(sessionStorage).some(k => k.startsWith('genreweb.player.'))")
    log_in(page, live_server.url, user, password, "/library/")
    expect(page.locator("#player-title")).to_have_text("Nothing playing")


def test_a_library_row_plays_its_track_and_is_marked(page, live_server, make_user, password, tmp_path):
    user = make_user("player-lib")
    tracks = [add_track(user, tmp_path, name, seconds=20, seed=i) for i, name in enumerate(["Row One", "Row Two"])]
    log_in(page, live_server.url, user, password, "/library/")
    page.get_by_role("button", name="Play Row Two", exact=True).click()
    wait_playing_past(page, 0.1)
    assert page.locator("#player-audio").get_attribute("src") == audio_url(tracks[1])
    expect(page.locator(".lib-table tr.is-playing")).to_have_attribute("data-track-id", str(tracks[1].pk))
    # The mark follows the player onto pages swapped in later.
    page.locator(".site-nav").get_by_role("link", name="Playlists", exact=True).click()
    expect(page).to_have_url(re.compile(r"/playlists/$"))  # else the slower of the two pages could win
    page.locator(".site-nav").get_by_role("link", name="Library", exact=True).click()
    expect(page.locator(".lib-table tr.is-playing")).to_have_attribute("data-track-id", str(tracks[1].pk))


def test_a_page_outside_the_site_loads_in_full(page, live_server, make_user, password, tmp_path):
    """The API docs are no page of the shell: the link loads them as the browser would."""
    user = make_user("player-dev")
    log_in(page, live_server.url, user, password, "/developer/")
    page.evaluate("window.stillThisWindow = true")
    page.get_by_role("link", name="API documentation").click()
    expect(page).to_have_url(live_server.url + reverse("api:docs"))
    page.wait_for_load_state()
    assert page.evaluate("window.stillThisWindow") is None
    expect(page.locator("#player")).to_have_count(0)
    expect(page.locator("#swagger-ui")).to_be_attached()
