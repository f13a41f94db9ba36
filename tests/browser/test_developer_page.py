"""The Developer page in headless Chromium: a new token is shown once, with a button that copies
it, and what it copies is a token the API takes."""
import pytest
from playwright.sync_api import expect

from tests.browser.pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_token_is_copied_with_one_click_and_opens_the_api(page, live_server, make_user, password):
    user = make_user("dev-dana")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    log_in(page, live_server.url, user, password, "/developer/")
    page.get_by_label("Name").fill("laptop script")
    page.get_by_role("button", name="Create token").click()
    shown = page.locator("#new-token")
    expect(shown).to_be_visible()
    copy = page.locator("button[data-copy='#new-token']")
    copy.click()
    expect(copy).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == shown.inner_text().strip()
    response = page.request.get(f"{live_server.url}/api/v1/tracks/", headers={"Authorization": f"Bearer {copied}"})
    assert response.status == 200
    expect(copy).to_have_text("Copy", timeout=5_000)  # ready for another go
