"""Abuse limits on the pages: the per-user storage quota (upload page, plain form and
`manage.py import_tracks`), the upload rate shared with the API, and login throttling."""
import io

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from classifier.models import Track
from tests.conftest import stored_files
from tests.web.conftest import post_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def media_dir(own_media_dir):
    return own_media_dir


@pytest.fixture
def clips(audio_file):
    """Three different clips of about the same size."""
    return [audio_file(f"clip{i}.wav", seconds=1, seed=10 + i) for i in range(3)]


def quota_for(settings, *paths, spare=100):
    """A quota that holds exactly `paths` plus `spare` bytes."""
    settings.USER_QUOTA_BYTES = sum(path.stat().st_size for path in paths) + spare
    return settings.USER_QUOTA_BYTES


# --- Storage quota ------------------------------------------------------------------------------


def test_upload_page_shows_storage_used_against_the_quota(alice_client, settings, clips):
    settings.USER_QUOTA_BYTES = 4 * clips[0].stat().st_size
    html = alice_client.get(reverse("upload")).content.decode()
    assert "Storage: 0\xa0bytes of your" in html and 'data-width="0.0"' in html

    assert post_upload(alice_client, clips[0]).status_code == 201
    html = alice_client.get(reverse("upload")).content.decode()
    assert "(25\xa0%)" in html and 'data-width="25.0"' in html
    assert 'role="alert" hidden>Your storage is full' in html


def test_an_upload_that_does_not_fit_is_refused_and_leaves_nothing(alice_client, user, settings, clips, media_dir):
    quota_for(settings, clips[0])
    assert post_upload(alice_client, clips[0]).status_code == 201
    files_before = stored_files(media_dir)

    response = post_upload(alice_client, clips[1])

    assert response.status_code == 413
    [entry] = response.json()["files"]
    assert entry["ok"] is False and entry["code"] == "quota_exceeded"
    assert "clip1.wav" in entry["message"] and "does not fit in your storage" in entry["message"]
    assert "Delete tracks you no longer need" in entry["message"]
    assert response.json()["storage"]["used"] == clips[0].stat().st_size
    assert response.json()["storage"]["text"].endswith("used (100\xa0%)")
    assert list(Track.objects.filter(owner=user).values_list("original_name", flat=True)) == ["clip0.wav"]
    assert stored_files(media_dir) == files_before


def test_the_plain_form_says_why_and_the_page_says_storage_is_full(alice_client, settings, clips):
    settings.USER_QUOTA_BYTES = clips[0].stat().st_size
    assert post_upload(alice_client, clips[0]).status_code == 201

    response = post_upload(alice_client, clips[1], as_json=False)

    assert response.status_code == 413
    html = response.content.decode()
    assert "clip1.wav" in html and "does not fit in your storage" in html
    assert 'role="alert">Your storage is full.' in html and "(100\xa0%)" in html


def test_files_of_one_request_count_against_the_quota_together(alice_client, user, settings, clips):
    quota_for(settings, clips[0], clips[1])  # two fit, the third does not

    response = post_upload(alice_client, *clips)

    assert response.status_code == 201
    entries = {entry["name"]: entry for entry in response.json()["files"]}
    assert [entries[f"clip{i}.wav"]["code"] for i in range(3)] == ["created", "created", "quota_exceeded"]
    assert Track.objects.filter(owner=user).count() == 2


def test_a_duplicate_costs_nothing_even_when_storage_is_full(alice_client, settings, clips):
    settings.USER_QUOTA_BYTES = clips[0].stat().st_size
    assert post_upload(alice_client, clips[0]).status_code == 201
    response = post_upload(alice_client, clips[0])
    assert response.status_code == 200 and response.json()["files"][0]["code"] == "duplicate"


def test_the_quota_is_per_user(alice_client, other_user, login_client, settings, clips):
    settings.USER_QUOTA_BYTES = clips[0].stat().st_size
    assert post_upload(alice_client, clips[0]).status_code == 201
    assert post_upload(login_client(other_user), clips[1]).status_code == 201


def test_a_quota_of_zero_means_no_quota(alice_client, settings, clips):
    settings.USER_QUOTA_BYTES = 0
    assert post_upload(alice_client, *clips).status_code == 201
    html = alice_client.get(reverse("upload")).content.decode()
    assert "Storage: " in html and "used</p>" in html and "bar-track" not in html


def run_import(*args, **kwargs):
    out = io.StringIO()
    call_command("import_tracks", *map(str, args), stdout=out, stderr=io.StringIO(), **kwargs)
    return out.getvalue()


def test_import_tracks_rejects_what_does_not_fit_with_the_reason(user, settings, clips, media_dir):
    folder = clips[0].parent
    quota_for(settings, clips[0], clips[1])

    dry = run_import(folder, user="alice", dry_run=True)
    assert "3 file(s): 2 would import, 0 duplicate, 1 rejected." in dry
    assert "clip2.wav (" in dry and "does not fit in your storage" in dry and "[quota_exceeded]" in dry
    assert stored_files(media_dir) == []

    out = run_import(folder, user="alice")
    assert "3 file(s): 2 imported, 0 duplicate, 1 rejected." in out
    assert f"{clips[2]}: clip2.wav (" in out and "[quota_exceeded]" in out
    assert sorted(Track.objects.filter(owner=user).values_list("original_name", flat=True)) == [
        "clip0.wav", "clip1.wav"]
    assert len(stored_files(media_dir)) == 2


# --- Upload rate, shared with the API ---------------------------------------------------------------


@pytest.fixture
def upload_rate(settings):
    """Sets the API's upload rate (the one setting the page uses too)."""

    def set_rate(rate):
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "uploads": rate}}

    return set_rate


def test_the_upload_page_is_throttled_at_the_api_upload_rate(alice_client, user, upload_rate, clips, media_dir):
    upload_rate("2/hour")
    assert post_upload(alice_client, clips[0]).status_code == 201
    assert post_upload(alice_client, clips[1]).status_code == 201

    response = post_upload(alice_client, clips[2])

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    [entry] = response.json()["files"]
    assert entry["code"] == "throttled" and "Please wait" in entry["message"] and "minutes" in entry["message"]
    assert Track.objects.filter(owner=user).count() == 2
    assert len(stored_files(media_dir)) == 2

    html = post_upload(alice_client, clips[2], as_json=False)
    assert html.status_code == 429 and "You have uploaded a lot in a short time" in html.content.decode()


def test_the_page_and_the_api_share_one_upload_budget_per_user(alice_client, user, login_client, other_user,
                                                               upload_rate, clips):
    upload_rate("1/hour")
    assert post_upload(alice_client, clips[0]).status_code == 201
    with open(clips[1], "rb") as handle:
        api = alice_client.post("/api/v1/tracks/", {"file": handle})
    assert api.status_code == 429 and api.json()["error"]["code"] == "throttled"
    assert int(api["Retry-After"]) > 0
    # Another user's budget is their own.
    assert post_upload(login_client(other_user), clips[1]).status_code == 201


def test_looking_at_the_upload_page_is_not_counted(alice_client, upload_rate, clips):
    upload_rate("1/hour")
    for _ in range(3):
        assert alice_client.get(reverse("upload")).status_code == 200
    assert post_upload(alice_client, clips[0]).status_code == 201


# --- Login throttling ---------------------------------------------------------------------------------


@pytest.fixture
def login_rate(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "login": "3/hour"}}
    return 3


def log_in(client, username, password, address="198.51.100.7"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def test_failed_logins_lock_that_username_from_that_address(client, user, password, login_rate):
    for _ in range(login_rate):
        response = log_in(client, "alice", "wrong")
        assert response.status_code == 200 and "correct username and password" in response.content.decode()

    response = log_in(client, "alice", password)  # even the right password is not checked now

    assert response.status_code == 429
    assert 3000 < int(response["Retry-After"]) <= 3600
    html = response.content.decode()
    assert "Too many failed attempts to log in as this user" in html and "Please wait 60 minutes" in html
    assert 'value="alice"' in html  # the form is still there, filled in
    assert SESSION_KEY not in client.session


def test_the_lock_is_per_username_and_address(client, user, make_user, password, login_rate):
    make_user("bob")
    for _ in range(login_rate):
        log_in(client, "alice", "wrong")
    assert log_in(client, "ALICE", password).status_code == 429  # the same name in other case
    # The same user from another address, and another user from this address, still get in.
    assert log_in(Client(), "alice", password, address="203.0.113.9").status_code == 302
    assert log_in(Client(), "bob", password).status_code == 302


def test_a_successful_login_resets_the_count(client, user, password, login_rate):
    for _ in range(login_rate - 1):
        log_in(client, "alice", "wrong")
    assert log_in(client, "alice", password).status_code == 302
    client.logout()
    for _ in range(login_rate - 1):
        log_in(client, "alice", "wrong")
    response = log_in(client, "alice", password)
    assert response.status_code == 302 and response.url == reverse("home")
