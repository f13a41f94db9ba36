"""Track-page panels (similar tracks, genre correction, actions) that need no help from the view."""
from django import template
from django.utils.html import format_html

from classifier import selectors
from classifier.services.corrections import genre_choices
from classifier.views.presentation import cover_placeholder

register = template.Library()


@register.inclusion_tag("library/_similar.html", takes_context=True)
def similar_tracks(context, track, limit=5):
    # Only tracks that sound more alike than not: "-3% alike" would list a track as its opposite.
    request = context["request"]
    similar = selectors.track_similar(user=request.user, track=track, limit=limit)
    return {"track": track, "similar": [(other, score) for other, score in similar if score > 0]}


@register.inclusion_tag("library/_genre_form.html", takes_context=True)
def genre_form(context, track):
    return {
        "track": track,
        "choices": genre_choices(track=track),
        "csrf_token": context.get("csrf_token"),
        "next": context["request"].get_full_path(),
    }


@register.inclusion_tag("library/_track_actions.html", takes_context=True)
def track_actions(context, track):
    return {"track": track, "csrf_token": context.get("csrf_token"), "next": context["request"].get_full_path()}


@register.simple_tag
def genre_pill(track):
    """The track's genre as a pill; for a guess the model was unsure of, its top two with an
    "uncertain" badge instead, so no list states one genre the model did not commit to.
    Built in Python rather than an inclusion template: lists of 50-100 rows render one each."""
    if track.genre_uncertain:
        guesses = ", ".join(f"{guess.genre} {percent(guess.probability)}" for guess in track.prediction.top_two)
        return format_html('<span class="genre-pill genre-pill-uncertain" title="The model was unsure: {}">{}</span>'
                           ' <span class="source source-uncertain">uncertain</span>',
                           guesses, model_guess(track.prediction))
    if track.genre:
        return format_html('<span class="genre-pill">{}</span>', track.genre)
    return "—"


@register.filter
def model_guess(prediction) -> str:
    """What the model said in a few words: "jazz", or "jazz or blues?" when it was unsure."""
    if not prediction:
        return ""
    if prediction.uncertain:
        return " or ".join(guess.genre for guess in prediction.top_two) + "?"
    return prediction.genre


@register.filter
def percent(value):
    """0.734 → "73%"; empty for missing values."""
    if value is None or value == "":
        return ""
    return f"{float(value):.0%}"


@register.filter
def mmss(seconds):
    """183.4 → "3:03"; "—" when unknown."""
    if seconds is None or seconds == "":
        return "—"
    total = int(round(float(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"



COVER_EDGES = {"large": 300, "small": 96}


def _cover(context, track_id, genre, size, label, unsure=False, failed=False) -> dict:
    return {"track_id": track_id, "size": size, "edge": COVER_EDGES[size], "label": label,
            "hue": (context.get("hues") or {}).get(genre, 0),
            "placeholder": cover_placeholder(genre, unsure=unsure, failed=failed)}


@register.inclusion_tag("catalogue/_cover.html", takes_context=True)
def track_cover(context, track, size="large"):
    """The track's cover (owner-only URL), or a placeholder that names its genre. Colours come
    from the `hues` the view put in the context (presentation.genre_hues). A guess the model was
    unsure of says so with a question mark, as the pages do with "maybe"."""
    return _cover(context, track.pk if track.cover else None, track.genre, size, track.display_title,
                  unsure=track.genre_uncertain, failed=track.status == track.Status.FAILED)


@register.inclusion_tag("catalogue/_cover.html", takes_context=True)
def album_cover(context, album, size="large"):
    """The cover of the album's first track that has one (selectors.album_list's cover_track_id),
    or a placeholder that names the album's most common genre (`top_genre`, set by the view)."""
    return _cover(context, album.cover_track_id, getattr(album, "top_genre", ""), size, album.title)


@register.inclusion_tag("catalogue/_tags_form.html", takes_context=True)
def track_tags_form(context, track):
    """The track's tags as read from its file (or edited since), in a form to correct them."""
    from classifier.forms import TrackMetadataForm

    form = TrackMetadataForm(initial={name: getattr(track, name) for name in TrackMetadataForm.base_fields})
    return {"track": track, "form": form, "csrf_token": context.get("csrf_token")}
