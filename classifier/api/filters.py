"""Query filters for GET /api/v1/tracks/ (django-filter)."""
import django_filters
from rest_framework.filters import OrderingFilter

from classifier.models import Track


class TrackFilter(django_filters.FilterSet):
    genre = django_filters.CharFilter(
        field_name="listed_genre", help_text="Effective genre: the user's own if set, else the model's.")
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


class TrackOrdering(OrderingFilter):
    """`?ordering=confidence` sorts by the prediction's confidence, joining predictions only
    when asked to (an annotation would join every track to its own for each page's count)."""

    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view) or []
        return [term.replace("confidence", "prediction__confidence") if term.lstrip("-") == "confidence" else term
                for term in ordering] or None
