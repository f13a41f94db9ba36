"""The main navigation in headless Chromium: it marks the page's section, and on a phone it is
one row that scrolls sideways, with that section in view, instead of three rows on every page."""
import pytest
from playwright.sync_api import expect

from tests.browser.pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAV = ".site-nav"


def link_boxes(page):
    return page.eval_on_selector_all(f"{NAV} > a", "links => links.map(a => { const r = a.getBoundingClientRect(); "
                                                   "return {text: a.textContent, top: r.top, left: r.left, right: r.right}; })")


def test_on_a_phone_the_nav_is_one_row_that_shows_the_current_section(page, live_server, make_user, password):
    user = make_user("nav-nina")
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server.url, user, password, "/model/")
    current = page.locator(f"{NAV} a[aria-current=page]")
    expect(current).to_have_text("Model")
    boxes = link_boxes(page)
    assert [b["text"] for b in boxes] == ["Library", "Upload", "Albums", "Artists", "Genres", "Playlists",
                                          "Dashboard", "Model", "Developer"]
    assert max(b["top"] for b in boxes) - min(b["top"] for b in boxes) < 2, boxes  # one row
    # The row is wider than the screen and scrolls, not the page.
    assert page.eval_on_selector(NAV, "nav => nav.scrollWidth > nav.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # "Model" is the eighth link, past the screen's edge unless the row was scrolled to it.
    box = current.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    assert page.locator(".site-header").bounding_box()["height"] < 120

    # Moving on (a boosted page swap) marks and shows the new section.
    page.goto(f"{live_server.url}/library/")
    expect(current).to_have_text("Library")
    page.locator(f"{NAV} a", has_text="Developer").click()
    expect(page).to_have_url(f"{live_server.url}/developer/")
    expect(current).to_have_text("Developer")
    expect(page.locator(f"{NAV} a[aria-current=page]")).to_have_count(1)
    box = current.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box


def test_on_a_wide_screen_every_link_shows_without_scrolling(page, live_server, make_user, password):
    user = make_user("nav-wide")
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, user, password, "/albums/")
    expect(page.locator(f"{NAV} a[aria-current=page]")).to_have_text("Albums")
    assert not page.eval_on_selector(NAV, "nav => nav.scrollWidth > nav.clientWidth")
    assert all(b["right"] <= 1280 for b in link_boxes(page))
