"""Sign-up, log-in/out, password change and reset, and login protection of every page."""
import re
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

NEW_PASSWORD = "a-much-longer-new-passphrase-42"


def logged_in_user_id(client):
    return client.session.get("_auth_user_id")


@pytest.mark.django_db
def test_signup_creates_user_logs_in_and_goes_to_upload(client, password):
    page = client.get(reverse("signup"))
    assert page.status_code == 200
    assert b'name="email"' in page.content

    response = client.post(reverse("signup"), {
        "username": "carol", "email": "carol@example.com", "password1": password, "password2": password,
    })

    assert response.status_code == 302
    assert response.url == reverse("upload")
    user = get_user_model().objects.get(username="carol")
    assert user.email == "carol@example.com"
    assert logged_in_user_id(client) == str(user.pk)
    assert client.get(reverse("upload")).status_code == 200


@pytest.mark.django_db
def test_signup_errors_are_shown_next_to_the_fields(client, make_user, password):
    make_user("dave")  # dave@example.com
    response = client.post(reverse("signup"), {
        "username": "dave2", "email": "DAVE@example.com", "password1": password, "password2": password + "x",
    })

    assert response.status_code == 400
    html = response.content.decode()
    assert "An account with this email address already exists." in html
    assert "The two password fields didn’t match." in html
    assert 'aria-invalid="true"' in html
    assert not get_user_model().objects.filter(username="dave2").exists()
    assert logged_in_user_id(client) is None


@pytest.mark.django_db
def test_signup_rejects_a_weak_password(client):
    response = client.post(reverse("signup"), {
        "username": "erin", "email": "erin@example.com", "password1": "12345678", "password2": "12345678",
    })
    assert response.status_code == 400
    assert "This password is too common." in response.content.decode()
    assert not get_user_model().objects.filter(username="erin").exists()


@pytest.mark.django_db
def test_login_and_logout(client, user, password):
    assert client.get(reverse("login")).status_code == 200

    bad = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert bad.status_code == 200
    assert "Please enter a correct username and password" in bad.content.decode()
    assert logged_in_user_id(client) is None

    response = client.post(reverse("login"), {"username": "alice", "password": password})
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert logged_in_user_id(client) == str(user.pk)
    # Logged-in visitors skip the landing and login pages.
    assert client.get(reverse("landing")).url == reverse("home")
    assert client.get(reverse("login")).url == reverse("home")

    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response.url == reverse("landing")
    assert logged_in_user_id(client) is None
    assert client.get(reverse("landing")).status_code == 200


@pytest.mark.django_db
def test_password_change(alice_client, user, password, client):
    response = alice_client.post(reverse("password_change"), {
        "old_password": password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD,
    })
    assert response.status_code == 302
    assert response.url == reverse("password_change_done")
    assert alice_client.get(response.url).status_code == 200

    assert not client.login(username="alice", password=password)
    assert client.login(username="alice", password=NEW_PASSWORD)


@pytest.mark.django_db
def test_password_change_with_a_wrong_old_password_fails(alice_client, user, password):
    response = alice_client.post(reverse("password_change"), {
        "old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD,
    })
    assert response.status_code == 200
    assert "Your old password was entered incorrectly." in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(password)


@pytest.mark.django_db
def test_password_reset_by_email(client, user, password):
    response = client.post(reverse("password_reset"), {"email": "alice@example.com"})
    assert response.status_code == 302
    assert response.url == reverse("password_reset_done")

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["alice@example.com"]
    assert email.subject == "Reset your GenreWeb password"
    link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+/)", email.body).group(1)

    # The confirm view swaps the token for a session marker and redirects to a "set-password" URL.
    form_url = client.get(link).url
    page = client.get(form_url)
    assert page.status_code == 200
    assert "Choose a new password" in page.content.decode()
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("password_reset_complete")

    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    # The link works only once.
    assert "This link no longer works" in client.get(link, follow=True).content.decode()


@pytest.mark.django_db
def test_password_reset_for_an_unknown_email_sends_nothing_but_looks_the_same(client, user):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert response.url == reverse("password_reset_done")
    assert mail.outbox == []


@pytest.mark.django_db
@pytest.mark.parametrize("name, method", [
    ("home", "get"), ("upload", "get"), ("upload", "post"), ("password_change", "get"),
    ("track-detail", "get"), ("track-status", "get"), ("track-audio", "get"), ("track-spectrogram", "get"),
])
def test_anonymous_visitors_are_sent_to_login(client, name, method):
    args = [uuid.uuid4()] if name.startswith("track-") else []
    url = reverse(name, args=args)
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["landing", "login", "signup", "password_reset", "password_reset_done"])
def test_public_pages_are_open(client, name):
    assert client.get(reverse(name)).status_code == 200
