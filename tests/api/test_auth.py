"""Authentication: tokens (header, revocation, last use), password login, sessions, 401s."""
import uuid

import pytest
from rest_framework.test import APIClient

from classifier.models import ApiToken
from classifier.services.tokens import token_hash
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db

PROTECTED = [
    ("get", "/api/v1/tracks/"),
    ("post", "/api/v1/tracks/"),
    ("get", f"/api/v1/tracks/{uuid.uuid4()}/"),
    ("get", f"/api/v1/tracks/{uuid.uuid4()}/audio/"),
    ("get", "/api/v1/genres/"),
    ("get", "/api/v1/playlists/"),
    ("get", "/api/v1/playlists/rock/"),
    ("get", "/api/v1/stats/"),
    ("get", "/api/v1/model/"),
    ("get", "/api/v1/tokens/"),
    ("get", "/api/v1/webhooks/"),
    ("post", "/api/v1/webhooks/"),
]


@pytest.mark.parametrize("method,path", PROTECTED)
def test_anonymous_requests_get_401_with_a_challenge(method, path):
    response = getattr(APIClient(), method)(path)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_token_authenticates_and_records_last_use(api, user):
    assert api.token.last_used_at is None
    response = api.get("/api/v1/tracks/")
    assert response.status_code == 200
    assert response.json()["results"] == []
    api.token.refresh_from_db()
    assert api.token.last_used_at is not None


def test_token_keyword_is_also_accepted(api):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api.secret}")
    assert client.get("/api/v1/tracks/").status_code == 200


@pytest.mark.parametrize("header", ["Bearer nope", "Bearer", "Bearer a b"])
def test_bad_tokens_are_401(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert_error(client.get("/api/v1/tracks/"), 401, "authentication_failed")


def test_revoked_token_stops_working(api):
    assert api.get("/api/v1/stats/").status_code == 200
    response = api.delete(f"/api/v1/tokens/{api.token.pk}/")
    assert response.status_code == 204
    assert_error(api.get("/api/v1/stats/"), 401, "authentication_failed")


def test_only_a_hash_of_the_secret_is_stored(api):
    token = ApiToken.objects.get(pk=api.token.pk)
    assert api.secret not in (token.key_hash, token.prefix)
    assert token.key_hash == token_hash(api.secret)
    assert api.secret.startswith(token.prefix)


def test_password_login_returns_a_working_token(user, password):
    client = APIClient()
    response = client.post("/api/v1/auth/token/", {"username": "alice", "password": password, "name": "ci"},
                           format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "ci" and body["token"].startswith("gw_")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert client.get("/api/v1/tokens/").json()["results"][0]["id"] == body["id"]
    # The secret is never shown again.
    assert "token" not in client.get(f"/api/v1/tokens/{body['id']}/").json()


def test_password_login_with_wrong_password_is_400(user):
    response = APIClient().post("/api/v1/auth/token/", {"username": "alice", "password": "wrong"}, format="json")
    assert_error(response, 400, "invalid_credentials")
    assert not ApiToken.objects.exists()


def test_password_login_with_missing_fields_is_400_with_details(db):
    error = assert_error(APIClient().post("/api/v1/auth/token/", {}, format="json"), 400, "invalid")
    assert set(error["details"]) == {"username", "password"}


def test_session_authentication_works(client, user):
    client.force_login(user)
    assert client.get("/api/v1/tracks/").status_code == 200
    # The browsable API renders for a browser.
    page = client.get("/api/v1/stats/", headers={"accept": "text/html"})
    assert page.status_code == 200 and b"<html" in page.content


def test_token_crud_and_isolation(api, other_api):
    created = api.post("/api/v1/tokens/", {"name": "laptop"}, format="json")
    assert created.status_code == 201
    new = created.json()
    assert new["token"].startswith("gw_")
    names = {t["name"] for t in api.get("/api/v1/tokens/").json()["results"]}
    assert names == {"tests", "laptop"}

    # Another user neither sees nor revokes it.
    assert {t["name"] for t in other_api.get("/api/v1/tokens/").json()["results"]} == {"tests"}
    assert_error(other_api.get(f"/api/v1/tokens/{new['id']}/"), 404, "not_found")
    assert_error(other_api.delete(f"/api/v1/tokens/{new['id']}/"), 404, "not_found")
    assert ApiToken.objects.filter(pk=new["id"]).exists()


def test_token_name_is_required(api):
    error = assert_error(api.post("/api/v1/tokens/", {}, format="json"), 400, "invalid")
    assert "name" in error["details"]
