"""The site shell's main navigation, marking the section the page belongs to."""
from django import template
from django.urls import reverse

register = template.Library()

# (label, URL name, other path prefixes that belong to the section: a track page is the library's)
SECTIONS = (
    ("Library", "home", ("/tracks/",)), ("Upload", "upload", ()), ("Albums", "album-list", ()),
    ("Artists", "artist-list", ()), ("Genres", "genres", ()), ("Playlists", "playlists", ()),
    ("Dashboard", "dashboard", ()), ("Model", "model-info", ()), ("Developer", "developer", ()),
)


@register.inclusion_tag("includes/nav_links.html", takes_context=True)
def nav_links(context):
    request = context.get("request")
    path = request.path if request else ""
    links = []
    for label, name, also in SECTIONS:
        url = reverse(name)
        links.append({"label": label, "url": url, "current": path.startswith((url, *also))})
    return {"links": links}
