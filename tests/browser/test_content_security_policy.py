"""Every main page, in a real browser, runs under the Content-Security-Policy without a single
violation: no inline script or style, no handler attribute, nothing from another origin."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import log_in
from tests.site_pages import ANONYMOUS_PAGES, add_classified_track, logged_in_pages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs in every document before its own scripts: records each violation the browser reports.
WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.effectiveDirective + " blocked " + (e.blockedURI || "inline") +
                              " at " + (e.sourceFile || "?") + ":" + e.lineNumber);
});
"""
# After a page's deferred scripts ran; the violation events of the load are dispatched by then.
SETTLED = "() => new Promise(done => requestAnimationFrame(() => setTimeout(done, 0)))"
# Pages that draw themselves after loading, and what shows they are done.
DRAWN = {"/api/docs/": ".swagger-ui .opblock"}


class Watcher:
    """The violations of the current page, from its events and from the console."""

    def __init__(self, page):
        self.page = page
        self.console = []
        page.add_init_script(WATCH)
        page.on("console", lambda message: self.console.append(message.text)
                if "Content Security Policy" in message.text else None)

    def visit(self, url):
        self.console.clear()
        response = self.page.goto(url)
        assert response.headers.get("content-security-policy"), f"{url} came without a policy"
        for path, selector in DRAWN.items():
            if url.endswith(path):
                self.page.locator(selector).first.wait_for()
        return self.violations()

    def violations(self):
        self.page.evaluate(SETTLED)
        return self.page.evaluate("window.__cspViolations") + self.console


def test_main_pages_raise_no_violation(page, live_server, make_user, password, tmp_path):
    user = make_user("strict-sam")
    certain = add_classified_track(user, tmp_path, "Blue Train", {"jazz": 0.8, "blues": 0.15, "rock": 0.05},
                                   artist="John Coltrane", album="Blue Train")
    uncertain = add_classified_track(user, tmp_path, "Maybe", {"rock": 0.45, "pop": 0.4, "jazz": 0.15},
                                     uncertain=True, seed=1)
    watcher = Watcher(page)
    found = {name: watcher.visit(live_server.url + url) for name, url in ANONYMOUS_PAGES.items()}
    log_in(page, live_server.url, user, password)
    found |= {name: watcher.visit(live_server.url + url) for name, url in logged_in_pages(certain, uncertain).items()}
    bad = {name: violations for name, violations in found.items() if violations}
    assert not bad, "\n".join(f"{name}: {line}" for name, violations in bad.items() for line in violations)


def test_track_page_draws_its_bars_and_timeline_without_style_attributes(page, live_server, make_user, password,
                                                                         tmp_path):
    user = make_user("bars-bo")
    track = add_classified_track(user, tmp_path, "Blue Train", {"jazz": 0.8, "blues": 0.15, "rock": 0.05})
    log_in(page, live_server.url, user, password)
    watcher = Watcher(page)
    assert watcher.visit(f"{live_server.url}/tracks/{track.pk}/") == []
    # The markup has no style attribute; the properties are set through the CSS object model.
    assert not re.search(r"<[^>]+\sstyle=", page.request.get(page.url).text())

    widths = [box["width"] for box in (bar.bounding_box() for bar in page.locator(".bar-fill").all())]
    track_width = page.locator(".bar-track").first.bounding_box()["width"]
    assert widths[0] == pytest.approx(0.8 * track_width, abs=2)
    assert widths[1] == pytest.approx(0.15 * track_width, abs=2)
    first, second = (segment.bounding_box() for segment in page.locator(".timeline-segment").all())
    assert second["x"] == pytest.approx(first["x"] + first["width"], abs=2)  # side by side, half each
    hues = page.locator(".bar-fill").evaluate_all("bars => bars.map(b => getComputedStyle(b).backgroundColor)")
    assert len(set(hues)) == 3  # each genre its own colour


def test_the_watcher_does_report_a_violation(page, live_server):
    # Guards the test above: an inline script and a style attribute are seen when there is one.
    watcher = Watcher(page)
    assert watcher.visit(live_server.url + "/accounts/login/") == []
    page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.ran = true";
        document.body.append(script);
        document.body.insertAdjacentHTML("beforeend", '<p style="color: red">styled</p>');
    }""")
    found = watcher.violations()
    assert any(v.startswith("script-src-elem blocked inline") for v in found), found
    assert any(v.startswith("style-src-attr blocked inline") for v in found), found
    assert page.evaluate("window.ran") is None
