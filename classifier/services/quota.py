"""Per-user storage quota: the sizes of a user's tracks add up to at most USER_QUOTA_BYTES.

Every way in (the upload page, the API, `manage.py import_tracks`) goes through track_upload,
which asks a StorageBudget before anything is written and refuses the file (413,
quota_exceeded) when it does not fit. The budget counts the user's bytes once
(one query, and only when a new file actually needs it) and then keeps its own total for the
rest of the request or import run. Two uploads running at the same moment can each see the
other's bytes as free, so a user can end up over the quota by the files in flight at most.
"""
from django.conf import settings
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.template.defaultfilters import filesizeformat

from classifier.audio_storage import MUSIC_DIRECTORY_PREFIX
from classifier.models import Track


def storage_used(*, user) -> int:
    """Bytes of audio the user keeps (the original files; spectrograms and covers are ours).
    Files imported in place stay in the user's own folder and take none of it."""
    tracks = Track.objects.filter(owner=user).exclude(file__startswith=MUSIC_DIRECTORY_PREFIX)
    return tracks.aggregate(used=Coalesce(Sum("size"), 0))["used"]


class StorageBudget:
    """What one user may still store, for one request or one import run."""

    def __init__(self, *, user):
        self.user = user
        self.quota = settings.USER_QUOTA_BYTES  # 0: no quota
        self._used: int | None = None

    @property
    def used(self) -> int:
        if self._used is None:
            self._used = storage_used(user=self.user)
        return self._used

    @property
    def limited(self) -> bool:
        return self.quota > 0

    @property
    def percent(self) -> float:
        return min(100.0, 100 * self.used / self.quota) if self.limited else 0.0

    def summary(self) -> dict:
        """For the upload page and its JSON: bytes, how full (percent), and the line that says it."""
        used = filesizeformat(self.used)
        if self.limited:
            text = f"Storage: {used} of your {filesizeformat(self.quota)} used ({self.percent:.0f}\u00a0%)"
        else:
            text = f"Storage: {used} used"
        return {"used": self.used, "quota": self.quota or None, "percent": round(self.percent, 1),
                "full": self.limited and self.used >= self.quota, "text": text}

    def refusal(self, *, name: str, size: int) -> str | None:
        """Why `size` more bytes do not fit (for the person uploading), or None if they do."""
        if not self.limited or self.used + size <= self.quota:
            return None
        left = max(0, self.quota - self.used)
        return (f"{name} ({filesizeformat(size)}) does not fit in your storage: you use "
                f"{filesizeformat(self.used)} of your {filesizeformat(self.quota)}, {filesizeformat(left)} "
                "is left. Delete tracks you no longer need to make room.")

    def add(self, size: int) -> None:
        """Count a file that was just stored."""
        if self._used is not None:
            self._used += size
