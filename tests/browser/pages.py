"""Steps several browser tests share."""
from playwright.sync_api import expect


def log_in(page, base, user, password, path=None):
    """Log in through the form and wait until the page it leads to (`path`, else the library,
    where a login lands by default) runs its player; the login page's own URL ends in ?next=path,
    so the address alone would not tell."""
    page.goto(f"{base}/accounts/login/" + (f"?next={path}" if path else ""))
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(base + (path or "/library/"))
    expect(page.locator("#player[data-ready=true]")).to_have_count(1)


def choose_upload_files(page, paths):
    """Pick files in the upload page's file input once upload.js listens to it: a page that htmx
    swapped in binds its scripts a moment after its content shows, and a file chosen before
    that would never be sent."""
    expect(page.locator("#upload-form[data-ready=true]")).to_have_count(1)
    page.set_input_files("#upload-files", [str(path) for path in paths])
