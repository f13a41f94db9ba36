"""Buttons that hand tracks to the player bar (static/js/player.js) from any page.

Built with format_html rather than inclusion templates: lists put one in every row, and a
template per button cost more than the rest of the row.
"""
from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def player_src(**source) -> str:
    """Where the player fetches the tracks a button stands for: track=<id>, genre=<name> or
    radio=<id> (see classifier.views.player.queue_tracks)."""
    return f"{reverse('player-tracks')}?{urlencode(source)}"


def _queue_buttons(src: str, label: str) -> str:
    return format_html(
        '<button type="button" class="queue-button" data-player="next" data-player-src="{src}" '
        'aria-label="Play {label} next" title="Play next">Play next</button>\n'
        '<button type="button" class="queue-button" data-player="add" data-player-src="{src}" '
        'aria-label="Add {label} to the queue" title="Add to queue">Add to queue</button>',
        src=src, label=label)


@register.simple_tag
def play_buttons(label, play_text="Play", **source):
    """Play, Play next and Add to queue for `source`; `label` names it for screen readers."""
    src = player_src(**source)
    return format_html(
        '<span class="play-buttons">\n'
        '  <button type="button" class="play-now" data-player="play" data-player-src="{src}" '
        'aria-label="{play_text} {label}">▶ {play_text}</button>\n  {queue}\n</span>',
        src=src, label=label, play_text=play_text, queue=_queue_buttons(src, label))


@register.simple_tag
def queue_buttons(label, **source):
    """Play next and Add to queue alone, for a row that has its own play_icon."""
    return _queue_buttons(player_src(**source), label)


@register.simple_tag
def play_icon(label, start=0, **source):
    """One round ▶ that plays `source` from its track number `start` (0-based): a list's row."""
    return format_html(
        '<button type="button" class="play-icon" data-player="play" data-player-src="{src}" '
        'data-player-start="{start}" aria-label="Play {label}" title="Play">▶</button>',
        src=player_src(**source), label=label, start=start)
