"""Idempotency keys: a repeated POST with the same key gets the first response back."""
import json
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from classifier.models import IdempotencyKey

IDEMPOTENCY_TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255
# A request still "in flight" after this long was killed (gunicorn's timeout is 120 s, SIGKILL,
# OOM) before it could store or release its key; a retry takes the key over instead of a 409.
IN_FLIGHT_TIMEOUT = timedelta(minutes=5)


class IdempotencyError(Exception):
    def __init__(self, code: str, message: str, status: int):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def idempotency_begin(*, user, key: str, method: str, path: str) -> tuple[IdempotencyKey, bool]:
    """Claim `key` for this request. Returns (record, True) for a first use, (record, False)
    when a stored response should be replayed. Raises IdempotencyError for a key that is
    malformed, still in use by a running request, or was used for a different request."""
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise IdempotencyError("invalid_idempotency_key",
                               f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.", 400)
    # Expired keys are removed lazily here, so no periodic job is needed.
    IdempotencyKey.objects.filter(created_at__lt=timezone.now() - IDEMPOTENCY_TTL).delete()
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(user=user, key=key, method=method, path=path), True
    except IntegrityError:
        record = IdempotencyKey.objects.get(user=user, key=key)
    if (record.method, record.path) != (method, path):
        raise IdempotencyError("idempotency_key_reused",
                               "This Idempotency-Key was already used for a different request.", 422)
    if record.response_status is None:
        now = timezone.now()
        if record.created_at < now - IN_FLIGHT_TIMEOUT:
            # Conditional update, so of two concurrent retries only one takes the abandoned key.
            taken = IdempotencyKey.objects.filter(pk=record.pk, response_status__isnull=True,
                                                  created_at=record.created_at).update(created_at=now)
            if taken:
                record.created_at = now
                return record, True
        raise IdempotencyError("idempotency_key_in_use",
                               "A request with this Idempotency-Key is still being processed.", 409)
    return record, False


def idempotency_finish(*, record: IdempotencyKey, status: int, body, headers: dict, fingerprint: str = "") -> None:
    # Stored through JSON so UUIDs and dates come back exactly as the first response sent them.
    record.response_status = status
    record.response_body = json.loads(json.dumps(body, cls=DjangoJSONEncoder))
    record.response_headers = headers
    record.fingerprint = fingerprint
    record.save(update_fields=["response_status", "response_body", "response_headers", "fingerprint"])


def idempotency_check_replay(*, record: IdempotencyKey, fingerprint: str) -> None:
    """A stored answer is replayed only for the same request: the same key with another body is
    the client's mistake (it would be told that what it sent second was done)."""
    if record.fingerprint and fingerprint != record.fingerprint:
        raise IdempotencyError("idempotency_key_reused",
                               "This Idempotency-Key was already used for a different request.", 422)


def idempotency_release(*, record: IdempotencyKey) -> None:
    """Forget the key after a server error, so the client may simply try again."""
    record.delete()
