"""Stream links: an M3U playlist is opened by players that hold no session cookie and no API
token (VLC, a phone's music app), so each entry is a signed link to one track's audio that
works on its own for STREAM_LINK_DAYS. It names the track and its owner, and stops working
when the track is deleted; SECRET_KEY signs it, so changing that key ends every link."""
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse

from classifier.models import Track

SALT = "classifier.stream-link"


def stream_link_path(track) -> str:
    """The path of the track's signed audio link (make it absolute for a playlist)."""
    token = signing.dumps({"track": str(track.pk), "owner": track.owner_id}, salt=SALT, compress=True)
    return reverse("track-stream", args=[token])


def track_from_stream_token(token: str) -> Track:
    """The track the link was made for, or Http404 when it is forged, expired or gone."""
    try:
        claim = signing.loads(token, salt=SALT, max_age=settings.STREAM_LINK_DAYS * 24 * 3600)
        return Track.objects.get(pk=claim["track"], owner_id=claim["owner"])
    except (signing.BadSignature, KeyError, TypeError, ValueError, ValidationError, Track.DoesNotExist):
        raise Http404("No such stream link.") from None
