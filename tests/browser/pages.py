"""Steps several browser tests share."""
from playwright.sync_api import expect


def choose_upload_files(page, paths):
    """Pick files in the upload page's file input once upload.js listens to it: a page that htmx
    swapped in binds its scripts a moment after its content shows, and a file chosen before
    that would never be sent."""
    expect(page.locator("#upload-form[data-ready=true]")).to_have_count(1)
    page.set_input_files("#upload-files", [str(path) for path in paths])
