"""Query filters for GET /api/v1/tracks/ (django-filter)."""
import django_filters

from classifier.models import Track


class TrackFilter(django_filters.FilterSet):
    genre = django_filters.CharFilter(
        field_name="effective_genre", help_text="Effective genre: the user's own if set, else the model's.")
    status = django_filters.ChoiceFilter(choices=Track.Status.choices)
    artist = django_filters.CharFilter(lookup_expr="iexact", help_text="Exact artist, case-insensitive.")
    model_version = django_filters.CharFilter(field_name="prediction__model_version",
                                              help_text="Model version that made the prediction.")
    album_id = django_filters.NumberFilter(field_name="album_ref", help_text="Tracks of this album (/api/v1/albums/).")
    artist_id = django_filters.NumberFilter(field_name="artist_ref", help_text="Tracks this artist plays.")
    created_since = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="ISO 8601 date-time, e.g. 2026-01-31T00:00:00Z.")

    class Meta:
        model = Track
        fields = ["genre", "status", "artist", "album_id", "artist_id", "model_version", "created_since"]
