"""Bad files in a real browser: upload.js shows why each one was refused, and hostile tags and file
names reach the pages as text, never as markup (no element injected, no script run)."""
import pytest
from playwright.sync_api import expect

from classifier.models import Track
from tests.audiogen import write_audio, write_not_audio, write_tags
from tests.browser.pages import choose_upload_files, log_in

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SCRIPT = "<script>window.injected = 1; alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'
HOSTILE_NAME = "<img src=x onerror=alert(3)>.mp3"


def injected(page) -> dict:
    return page.evaluate("""() => ({
        img: document.querySelectorAll('img[src="x"]').length,
        script: [...document.scripts].filter(s => s.textContent.includes('injected')).length,
        flag: window.injected === 1,
    })""")


def test_refusals_are_explained_and_hostile_tags_stay_text(
        page, live_server, celery_worker, installed_model, make_user, password, tmp_path):
    user = make_user("browser-bad")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    program = write_not_audio(tmp_path / "program.mp3", "elf")
    blip = write_audio(tmp_path / "blip.wav", seconds=0.2)
    hostile = write_tags(write_audio(tmp_path / HOSTILE_NAME, seconds=4), title=SCRIPT, artist=IMG)

    log_in(page, live_server.url, user, password)
    page.goto(live_server.url + "/upload/")
    choose_upload_files(page, [program, blip, hostile])
    expect(page.locator("#upload-list .upload-item.error")).to_have_count(2, timeout=60_000)
    expect(page.locator("#upload-list .upload-item.ok")).to_have_count(1, timeout=30_000)  # not a speed check
    errors = page.locator("#upload-list .upload-item.error .upload-message").all_inner_texts()
    assert any(text.startswith("program.mp3 is not an audio file we can read") for text in errors), errors
    assert any(text.startswith("blip.wav is only 0.2 seconds long") for text in errors), errors
    assert page.locator("#upload-list .upload-item.ok .upload-name").inner_text() == HOSTILE_NAME
    assert list(Track.objects.filter(owner=user).values_list("original_name", flat=True)) == [HOSTILE_NAME]

    page.locator("#upload-list .upload-item.ok a").click()
    page.wait_for_url("**/tracks/**")
    page.locator(".top-genre").wait_for(timeout=300_000)  # track.js reloads once the worker is done
    assert page.locator("h1").first.inner_text() == SCRIPT
    assert IMG in page.locator("main").inner_text()
    assert injected(page) == {"img": 0, "script": 0, "flag": False}

    page.goto(live_server.url + "/library/")
    expect(page.locator("main")).to_contain_text(SCRIPT)
    assert injected(page) == {"img": 0, "script": 0, "flag": False}
    assert dialogs == []
