"""The Developer page: create (secret shown once), name and revoke tokens; manage webhooks."""
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from classifier.models import ApiToken, Webhook, WebhookDelivery
from classifier.services.webhooks import webhook_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(user):
    client = Client()
    client.force_login(user)
    return client


def test_page_needs_login(db):
    response = Client().get("/developer/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_create_token_shows_the_secret_once_and_it_works(browser):
    response = browser.post("/developer/tokens/", {"name": "home server"}, follow=True)
    assert response.status_code == 200
    secret = response.context["new_token"]["secret"]
    assert secret.encode() in response.content and b"home server" in response.content
    # Shown once: the next view has only the prefix.
    again = browser.get("/developer/")
    assert secret.encode() not in again.content
    assert ApiToken.objects.get().prefix.encode() in again.content

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/stats/").status_code == 200
    assert b"ago" in browser.get("/developer/").content  # last used


def test_token_name_is_required(browser):
    response = browser.post("/developer/tokens/", {"name": ""})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_revoke_from_the_page(browser, user, token_client):
    api = token_client(user)
    response = browser.post(f"/developer/tokens/{api.token.pk}/revoke/", follow=True)
    assert b"revoked" in response.content
    assert api.get("/api/v1/stats/").status_code == 401


def test_cannot_revoke_another_users_token(browser, other_user, token_client):
    theirs = token_client(other_user)
    assert browser.post(f"/developer/tokens/{theirs.token.pk}/revoke/").status_code == 404
    assert theirs.get("/api/v1/stats/").status_code == 200


def test_webhooks_on_the_page(browser, user):
    response = browser.post("/developer/webhooks/", {"url": "https://example.com/in", "description": "ci"},
                            follow=True)
    hook = Webhook.objects.get()
    assert hook.owner == user and hook.secret.encode() in response.content
    browser.post(f"/developer/webhooks/{hook.pk}/toggle/")
    hook.refresh_from_db()
    assert hook.active is False
    old_secret = hook.secret
    browser.post(f"/developer/webhooks/{hook.pk}/rotate/")
    hook.refresh_from_db()
    assert hook.secret != old_secret
    browser.post(f"/developer/webhooks/{hook.pk}/delete/")
    assert not Webhook.objects.exists()


def test_bad_webhook_url_is_refused_with_a_message(browser):
    response = browser.post("/developer/webhooks/", {"url": "ftp://example.com/x"})
    assert response.status_code == 400
    assert b"URL" in response.content
    assert not Webhook.objects.exists()


@pytest.mark.parametrize("action", ["toggle", "rotate", "delete"])
def test_another_users_webhook_is_404(browser, other_user, action):
    hook = webhook_create(owner=other_user, url="https://example.com/")
    assert browser.post(f"/developer/webhooks/{hook.pk}/{action}/").status_code == 404
    refreshed = Webhook.objects.get(pk=hook.pk)
    assert refreshed.active and refreshed.secret == hook.secret


def _hook_with_deliveries(owner, n, count=7):
    hook = webhook_create(owner=owner, url=f"https://example.com/{n}")
    start = timezone.now()
    for i in range(count):
        delivery = WebhookDelivery.objects.create(webhook=hook, event=f"track.done{i}", track_id=uuid.uuid4(),
                                                  payload={})
        # Distinct times, so "newest" is well defined however fast the loop runs.
        WebhookDelivery.objects.filter(pk=delivery.pk).update(created_at=start + timedelta(seconds=i))
    return hook


def test_recent_deliveries_do_not_cost_a_query_per_webhook(browser, user, django_assert_max_num_queries):
    _hook_with_deliveries(user, 0)
    with CaptureQueriesContext(connection) as one:
        assert browser.get("/developer/").status_code == 200
    for n in range(1, 5):
        _hook_with_deliveries(user, n)
    with django_assert_max_num_queries(len(one)):
        response = browser.get("/developer/")
    # Still the newest five per webhook, newest first.
    assert [len(hook.recent_deliveries) for hook in response.context["webhooks"]] == [5] * 5
    first = response.context["webhooks"][0].recent_deliveries
    assert [d.event for d in first] == [f"track.done{i}" for i in (6, 5, 4, 3, 2)]
