"""Buttons that hand tracks to the player bar (static/js/player.js) from any page."""
from urllib.parse import urlencode

from django import template
from django.urls import reverse

register = template.Library()


@register.simple_tag
def player_src(**source) -> str:
    """Where the player fetches the tracks a button stands for: track=<id>, genre=<name> or
    radio=<id> (see classifier.views.player.queue_tracks)."""
    return f"{reverse('player-tracks')}?{urlencode(source)}"


@register.inclusion_tag("includes/play_buttons.html")
def play_buttons(label, play_text="Play", **source):
    """Play, Play next and Add to queue for `source`; `label` names it for screen readers."""
    return {"src": player_src(**source), "label": label, "play_text": play_text}


@register.inclusion_tag("includes/queue_buttons.html")
def queue_buttons(label, **source):
    """Play next and Add to queue alone, for a row that has its own play_icon."""
    return {"src": player_src(**source), "label": label}


@register.inclusion_tag("includes/play_icon.html")
def play_icon(label, start=0, **source):
    """One round ▶ that plays `source` from its track number `start` (0-based): a list's row."""
    return {"src": player_src(**source), "label": label, "start": start}
