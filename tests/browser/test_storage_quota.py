"""The storage quota on the upload page in a real browser: the used/quota line and its bar (set
by static/js under the Content-Security-Policy), and upload.js saying which file did not fit."""
import re

import pytest
from playwright.sync_api import expect

from tests.audiogen import write_audio
from tests.browser.pages import choose_upload_files, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_upload_page_shows_the_quota_and_refuses_what_does_not_fit(page, live_server, make_user, password,
                                                                      settings, tmp_path, screenshots):
    clips = [write_audio(tmp_path / f"clip{i}.wav", seconds=1, seed=40 + i) for i in range(2)]
    settings.USER_QUOTA_BYTES = clips[0].stat().st_size * 2 - 1  # one clip fits, two do not
    user = make_user("quota-user")
    csp_errors = []
    page.on("console", lambda message: csp_errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)

    log_in(page, live_server.url, user, password, "/upload/")
    usage = page.locator("#storage-usage")
    expect(usage).to_contain_text(re.compile(r"Storage: 0\sbytes of your \d+(\.\d)?\sKB used \(0\s%\)"))

    choose_upload_files(page, clips[:1])
    # An upload is real work (checksum, probe, tags), and on a busy CI machine it can take more
    # than the 5 s Playwright waits by default; none of these waits is a speed check.
    # The item itself, not only an "ok" one, so a failure shows what the page said instead.
    item = page.locator(".upload-item").first
    expect(item).to_contain_text("clip0.wav is uploaded", timeout=30_000)
    expect(item).to_have_class(re.compile(r"\bok\b"))
    expect(usage).to_contain_text(re.compile(r"\(50\s%\)"))  # upload.js updates it from the answer
    choose_upload_files(page, clips[1:])
    refused = page.locator(".upload-item.error")
    expect(refused).to_contain_text("clip1.wav", timeout=30_000)
    expect(refused).to_contain_text("does not fit in your storage")
    expect(page.locator("#storage-usage .storage-full")).to_be_hidden()

    page.reload()
    expect(usage).to_contain_text(re.compile(r"\(50\s%\)"))
    fill = page.locator("#storage-usage .bar-fill")
    track = page.locator("#storage-usage .bar-track")
    ratio = fill.evaluate("el => el.getBoundingClientRect().width") / track.evaluate(
        "el => el.getBoundingClientRect().width")
    assert ratio == pytest.approx(0.5, abs=0.02)
    page.screenshot(path=str(screenshots / "upload-quota.png"), full_page=True)
    assert csp_errors == []
