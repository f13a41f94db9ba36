"""Every response carries the security headers: pages, the API, errors and static files."""
import pytest

from tests.site_pages import ANONYMOUS_PAGES, add_classified_track, logged_in_pages

pytestmark = pytest.mark.django_db

# Written out here, not read from settings, so that loosening the policy fails this test.
POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def assert_security_headers(response, where, page=True):
    csp = response.headers.get("Content-Security-Policy")
    assert csp, f"{where}: no Content-Security-Policy"
    directives = {name: sources for name, *sources in (part.split() for part in csp.split(";"))}
    assert directives == POLICY, where
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") == "same-origin", where
    if page:  # WhiteNoise answers static files before Django's X-Frame-Options (CSP covers them)
        assert response.headers.get("X-Frame-Options") == "DENY", where


def test_pages_of_a_visitor(client):
    for name, url in ANONYMOUS_PAGES.items():
        response = client.get(url)
        assert response.status_code == (404 if name == "not found" else 200), name
        assert_security_headers(response, name)


def test_pages_of_a_logged_in_user(client, user, password, tmp_path):
    certain = add_classified_track(user, tmp_path, "Blue Train", {"jazz": 0.8, "blues": 0.15, "rock": 0.05},
                                   artist="John Coltrane", album="Blue Train")
    uncertain = add_classified_track(user, tmp_path, "Maybe", {"rock": 0.45, "pop": 0.4, "jazz": 0.15},
                                     uncertain=True, seed=1)
    client.login(username=user.username, password=password)
    for name, url in logged_in_pages(certain, uncertain).items():
        response = client.get(url)
        assert response.status_code == 200, name
        assert_security_headers(response, name)
    # What pages load: the track's audio and the static files (served by WhiteNoise).
    assert_security_headers(client.get(f"/tracks/{certain.pk}/audio/"), "audio")
    for url in ("/static/css/app.css", "/static/js/css-vars.js"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_security_headers(response, url, page=False)


def test_api_responses(client, user, password):
    assert_security_headers(client.get("/api/v1/tracks/"), "API, anonymous")  # 401 or 403
    client.login(username=user.username, password=password)
    response = client.get("/api/v1/tracks/")
    assert response.status_code == 200
    assert_security_headers(response, "API tracks")
    assert_security_headers(client.get("/api/v1/no-such-thing/"), "API 404")
