"""Read-side queries. Every query is scoped to one owner: another user's track is a 404."""
from django.shortcuts import get_object_or_404

from classifier.models import Track


def track_list(*, user):
    """The user's tracks, newest first, with their predictions in the same query."""
    return Track.objects.filter(owner=user).select_related("prediction")


def track_get(*, user, track_id) -> Track:
    """The user's track or Http404, also for ids that exist but belong to someone else."""
    return get_object_or_404(track_list(user=user), pk=track_id)
