"""Named API tokens. The secret is shown once; only its SHA-256 is stored."""
import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from classifier.models import ApiToken

TOKEN_PREFIX = "gw_"
# Writing last_used_at on every request would turn each read into a write; a minute is precise enough.
LAST_USED_PRECISION = timedelta(minutes=1)


def token_hash(secret: str) -> str:
    # The secret has 256 random bits, so a fast unsalted hash is safe against guessing.
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """Create a token for `user`; returns it with its secret, which is never retrievable again."""
    name = (name or "").strip()[:100] or "API token"
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=secret[:11], key_hash=token_hash(secret))
    return token, secret


def token_revoke(*, token: ApiToken) -> None:
    token.delete()


def token_authenticate(*, secret: str) -> ApiToken | None:
    """The live token for `secret` (with its user), marking it used; None when unknown."""
    token = ApiToken.objects.select_related("user").filter(key_hash=token_hash(secret)).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
