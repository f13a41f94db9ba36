"""Webhooks: signed POSTs to the owner's URLs when a track is done or failed.

Deliveries are recorded first and sent by the `classifier.deliver_webhook` task, never from
a web request; each attempt (status or network error) is kept on the WebhookDelivery.
"""
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from classifier import queue
from classifier.models import Track, Webhook, WebhookDelivery

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-GenreWeb-Signature"
EVENTS = {Track.Status.DONE: "track.done", Track.Status.FAILED: "track.failed"}
_validate_url = URLValidator(schemes=["http", "https"], message="Enter an http:// or https:// URL.")


class WebhookRetry(Exception):
    """The receiver was unreachable or answered 5xx/429: worth another attempt later."""


def webhook_signature(*, secret: str, timestamp: int, body: str) -> str:
    """Hex HMAC-SHA256 of f"{timestamp}.{body}"; the timestamp lets receivers refuse replays."""
    return hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()


def _check_destination(url: str) -> None:
    """Refuse hosts that resolve to a non-public address (loopback, private, link-local, ...),
    unless WEBHOOK_ALLOW_PRIVATE_NETWORKS: webhooks must not reach into the server's network.
    Checked when a webhook is saved and again before each delivery (DNS can change)."""
    if settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS:
        return
    host = urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0].split("%")[0] for info in socket.getaddrinfo(host, None)}
    except (socket.gaierror, UnicodeError):
        return  # unresolvable: nothing can be reached; the delivery fails and is retried
    for address in sorted(addresses):
        if not ipaddress.ip_address(address).is_global:
            raise ValidationError(f"{host} is a private or local address ({address}); "
                                  "webhooks can only be sent to public hosts.")


def _clean(url: str, description: str) -> tuple[str, str]:
    url = (url or "").strip()
    _validate_url(url)
    if len(url) > 500:
        raise ValidationError("The URL must be at most 500 characters.")
    _check_destination(url)
    return url, (description or "").strip()[:200]


def webhook_create(*, owner, url: str, description: str = "", active: bool = True) -> Webhook:
    url, description = _clean(url, description)
    return Webhook.objects.create(owner=owner, url=url, description=description, active=active,
                                  secret=secrets.token_hex(32))


def webhook_update(*, webhook: Webhook, url=None, description=None, active=None) -> Webhook:
    url, description = _clean(webhook.url if url is None else url,
                               webhook.description if description is None else description)
    webhook.url, webhook.description = url, description
    if active is not None:
        webhook.active = active
    webhook.save(update_fields=["url", "description", "active"])
    return webhook


def webhook_rotate_secret(*, webhook: Webhook) -> Webhook:
    webhook.secret = secrets.token_hex(32)
    webhook.save(update_fields=["secret"])
    return webhook


def webhook_delete(*, webhook: Webhook) -> None:
    webhook.delete()


def track_event_data(track: Track) -> dict:
    """What a webhook receiver learns about the track (the API's detail URL has the rest)."""
    prediction = getattr(track, "prediction", None)
    return {
        "id": str(track.pk),
        "url": f"/api/v1/tracks/{track.pk}/",
        "status": track.status,
        "failure_reason": track.failure_reason,
        "original_name": track.original_name,
        "title": track.title,
        "artist": track.artist,
        "album": track.album,
        "duration": track.duration,
        "genre": track.genre,
        "genre_source": track.genre_source,
        "uncertain": track.genre_uncertain,
        "prediction": None if prediction is None else {
            "genre": prediction.genre,
            "confidence": prediction.confidence,
            "uncertain": prediction.uncertain,
            "top_genres": [guess._asdict() for guess in prediction.top_two],
            "probabilities": prediction.probabilities,
            "model_version": prediction.model_version,
        },
    }


def webhook_track_finished(*, track_id) -> None:
    """Record and queue one delivery per active webhook of the track's owner.

    Called at the end of classification; a problem here is logged and never changes the
    track's own outcome."""
    try:
        track = Track.objects.select_related("prediction").filter(pk=track_id).first()
        if track is None or track.status not in EVENTS:
            return
        hooks = list(Webhook.objects.filter(owner_id=track.owner_id, active=True))
        if not hooks:
            return
        event = EVENTS[track.status]
        payload = {"event": event, "track": track_event_data(track)}
        with transaction.atomic():
            deliveries = WebhookDelivery.objects.bulk_create(
                WebhookDelivery(webhook=hook, event=event, track_id=track.pk, payload=payload) for hook in hooks
            )
            for delivery in deliveries:
                transaction.on_commit(lambda pk=delivery.pk: queue.queue_webhook_delivery(pk))
    except Exception:
        logger.exception("could not queue webhooks for track %s", track_id)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would turn the POST into a GET without the body; report it as the answer instead.
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: bytes, headers: dict) -> tuple[int | None, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT) as response:
            return response.status, ""
    except urllib.error.HTTPError as err:
        return err.code, f"HTTP {err.code}"
    except (urllib.error.URLError, OSError, ValueError) as err:
        return None, str(getattr(err, "reason", err))[:500]


def webhook_deliver(*, delivery_id, final_attempt: bool = False) -> WebhookDelivery | None:
    """Send one delivery now and record the attempt.

    Raises WebhookRetry when the attempt failed in a way worth retrying and this was not the
    final attempt; 4xx answers (except 429) fail the delivery at once."""
    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        return delivery
    webhook = delivery.webhook
    if not webhook.active:
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.attempts = [*delivery.attempts, {"at": timezone.now().isoformat(), "status": None,
                                                  "error": "webhook disabled", "ms": 0}]
        delivery.save(update_fields=["status", "attempts"])
        return delivery

    body = json.dumps({**delivery.payload, "sent_at": timezone.now().isoformat()}, separators=(",", ":"))
    timestamp = int(time.time())
    signature = webhook_signature(secret=webhook.secret, timestamp=timestamp, body=body)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GenreWeb-Webhooks/1",
        SIGNATURE_HEADER: f"t={timestamp},v1={signature}",
        "X-GenreWeb-Event": delivery.event,
        "X-GenreWeb-Delivery": str(delivery.pk),
    }
    started = time.monotonic()
    try:
        _check_destination(webhook.url)
    except ValidationError as err:
        status, error = None, err.messages[0]
        final_attempt = True  # not a passing fault: retrying cannot help
    else:
        status, error = _post(webhook.url, body.encode(), headers)
    attempt = {"at": timezone.now().isoformat(), "status": status, "error": error,
               "ms": round((time.monotonic() - started) * 1000)}
    delivery.attempts = [*delivery.attempts, attempt]
    retryable = status is None or status >= 500 or status == 429
    if status is not None and 200 <= status < 300:
        delivery.status = WebhookDelivery.Status.DELIVERED
        delivery.delivered_at = timezone.now()
    elif not retryable or final_attempt:
        delivery.status = WebhookDelivery.Status.FAILED
    delivery.save(update_fields=["status", "attempts", "delivered_at"])
    if delivery.status == WebhookDelivery.Status.PENDING:
        raise WebhookRetry(error or f"HTTP {status}")
    return delivery
