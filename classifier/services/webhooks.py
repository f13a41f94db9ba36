"""Webhooks: signed POSTs to the owner's URLs when a track is done or failed.

Deliveries are recorded first and sent by the `classifier.deliver_webhook` task, never from
a web request; each attempt (status or network error, the start of the answer) is kept on the
WebhookDelivery. A delivery connects only to addresses it has just checked (no second DNS
lookup, no redirects, no proxies) and reads at most WEBHOOK_RESPONSE_MAX_BYTES of the answer.
"""
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.urls import reverse
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


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # the well-known prefix: the last 32 bits are IPv4


def address_is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for an address on the public internet: not loopback, private, link-local, multicast,
    reserved or unspecified. IPv6 forms that carry an IPv4 address (IPv4-mapped, 6to4, NAT64)
    are judged by that address too, or ::ffff:127.0.0.1 would be a way in."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return address_is_public(address.ipv4_mapped)
        inner = address.sixtofour or (ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
                                      if address in _NAT64 else None)
        if inner is not None and not address_is_public(inner):
            return False
    # is_global is False for every special-purpose range except multicast's global scopes.
    return address.is_global and not address.is_multicast


def _allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])  # drop an IPv6 zone ("fe80::1%eth0")
    if settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS or address_is_public(ip):
        return True
    networks = (ipaddress.ip_network(net) for net in settings.WEBHOOK_ALLOWED_NETWORKS)
    return any(ip.version == net.version and ip in net for net in networks)


def _resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, in the resolver's order. Raises OSError/UnicodeError."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def _refuse_internal(host: str, addresses: list[str]) -> None:
    """Refuse a host if any of its addresses is not public (unless WEBHOOK_ALLOW_PRIVATE_NETWORKS
    or WEBHOOK_ALLOWED_NETWORKS lets it through): webhooks must not reach into the server's network."""
    for address in addresses:
        if not _allowed(address):
            raise ValidationError(f"{host} is a private or local address ({address}); "
                                  "webhooks can only be sent to public hosts.")


def _check_destination(url: str) -> None:
    """The check when a webhook is saved. Deliveries check again, on the very addresses they
    connect to (DNS can change in between; see _post)."""
    parts = urlsplit(url)
    try:
        addresses = _resolve(parts.hostname or "", parts.port or 0)
    except (OSError, UnicodeError, ValueError):
        return  # unresolvable now: deliveries resolve again, and fail and retry until it resolves
    _refuse_internal(parts.hostname, addresses)


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
        "url": settings.SITE_URL + reverse("api:track-detail", args=[track.pk]),
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


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to `pinned`, addresses resolved and checked just before, instead of looking the
    host name up again: a second lookup could answer 127.0.0.1 (DNS rebinding). The Host header
    (and, for HTTPS, SNI and the certificate check) still use the name."""

    pinned: list[str] = []

    def connect(self):
        error = OSError(f"no address to connect to for {self.host}")
        for address in self.pinned:
            try:
                self.sock = socket.create_connection((address, self.port), self.timeout, self.source_address)
                break
            except OSError as err:
                error = err
        else:
            raise error
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection, _PinnedHTTPConnection):
    # HTTPSConnection.connect() calls super().connect(), which the MRO makes the pinned one,
    # then wraps the socket with server_hostname=self.host: certificates are checked for the name.
    pass


@dataclass(frozen=True)
class _Answer:
    status: int | None
    error: str = ""
    response: str = ""  # the start of the receiver's body, at most WEBHOOK_RESPONSE_MAX_BYTES
    truncated: bool = False


def _read_capped(response, deadline: float, sock) -> tuple[bytes, bool]:
    """At most WEBHOOK_RESPONSE_MAX_BYTES of the body, within the deadline: a receiver that
    streams forever (or a byte a minute) cannot hold the worker."""
    cap = settings.WEBHOOK_RESPONSE_MAX_BYTES
    data = b""
    try:
        while len(data) <= cap:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return data[:cap], True
            sock.settimeout(remaining)
            # read1: one recv at a time, so the deadline is looked at between every two.
            chunk = response.read1(min(16384, cap + 1 - len(data)))
            if not chunk:
                break
            data += chunk
    except (OSError, http.client.HTTPException):  # timed out or cut off: keep what came
        return data[:cap], True
    return data[:cap], len(data) > cap


def _post(url: str, body: bytes, headers: dict) -> _Answer:
    """POST without redirects, proxies or a second DNS lookup. Raises ValidationError when the
    host resolves to an address webhooks may not reach."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    try:
        port = parts.port or (443 if https else 80)
        addresses = _resolve(host, port)
    except (OSError, UnicodeError, ValueError) as err:
        return _Answer(None, f"could not resolve {host}: {err}"[:500])
    _refuse_internal(host, addresses)

    deadline = time.monotonic() + settings.WEBHOOK_TIMEOUT
    if https:
        connection = _PinnedHTTPSConnection(host, port, timeout=settings.WEBHOOK_TIMEOUT,
                                            context=ssl.create_default_context())
    else:
        connection = _PinnedHTTPConnection(host, port, timeout=settings.WEBHOOK_TIMEOUT)
    connection.pinned = addresses
    target = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    response = None
    try:
        connection.request("POST", target, body=body, headers=headers)
        sock = connection.sock  # getresponse() lets go of it when the receiver closes after answering
        response = connection.getresponse()
        data, truncated = _read_capped(response, deadline, sock)
    except (OSError, http.client.HTTPException) as err:
        return _Answer(None, (str(err) or type(err).__name__)[:500])
    finally:
        # Also when the body was cut short: the rest is never read.
        if response is not None:
            response.close()
        connection.close()
    status = response.status
    if 300 <= status < 400:
        # A redirect would turn the POST into a GET without the body, and could point inside.
        location = (response.getheader("Location") or "")[:200]
        error = f"HTTP {status} redirect to {location or '(no Location)'} not followed; give the webhook its final URL."
    else:
        error = "" if 200 <= status < 300 else f"HTTP {status}"
    # NUL cannot be stored in PostgreSQL's jsonb.
    return _Answer(status, error, data.decode("utf-8", "replace").replace("\x00", ""), truncated)


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
        answer = _post(webhook.url, body.encode(), headers)
    except ValidationError as err:
        answer = _Answer(None, err.messages[0])
        final_attempt = True  # not a passing fault: retrying cannot help
    status, error = answer.status, answer.error
    attempt = {"at": timezone.now().isoformat(), "status": status, "error": error,
               "ms": round((time.monotonic() - started) * 1000),
               "response": answer.response, "response_truncated": answer.truncated}
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
