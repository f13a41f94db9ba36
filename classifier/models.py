"""Tracks and what the model said about them.

The model's Prediction and the user's own genre (Track.user_genre) are stored apart: a
correction never overwrites what the model said, and re-classifying never loses a correction.
"""
import uuid
from pathlib import PurePath
from typing import NamedTuple

from django.conf import settings
from django.db import models

from classifier.audio_storage import audio_storage


def track_upload_to(track: "Track", filename: str) -> str:
    # Random names under a per-user folder: nothing about the file or its order can be guessed.
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"tracks/{track.owner_id}/{uuid.uuid4().hex}{suffix}"


def spectrogram_upload_to(track: "Track", filename: str) -> str:
    return f"spectrograms/{track.owner_id}/{uuid.uuid4().hex}.png"


def cover_upload_to(track: "Track", filename: str) -> str:
    return f"covers/{track.owner_id}/{uuid.uuid4().hex}.jpg"


def name_key(name: str) -> str:
    """How names are grouped: "The Beatles" and "the  beatles" are the same artist."""
    return " ".join(name.casefold().split())


class Artist(models.Model):
    """An artist of one user's library, made from the artist and album-artist tags of their tracks.
    Exists while a track or an album names it (services.catalogue keeps it so)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="artists")
    name = models.CharField(max_length=255)
    key = models.CharField(max_length=255)  # name_key(name)

    class Meta:
        ordering = ["key"]
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="unique_artist_per_owner")]

    def __str__(self) -> str:
        return self.name


class Album(models.Model):
    """An album of one user's library: the tracks sharing an album tag and album artist (the album
    artist tag, else the artist tag). `artist` is None when neither is set."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="albums")
    artist = models.ForeignKey(Artist, null=True, blank=True, on_delete=models.CASCADE, related_name="albums")
    title = models.CharField(max_length=255)
    # name_key(album artist) and name_key(title): unique together even without an artist row
    # (NULLs never collide in a unique constraint).
    artist_key = models.CharField(max_length=255, blank=True)
    key = models.CharField(max_length=255)

    class Meta:
        ordering = ["key", "artist_key"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "artist_key", "key"], name="unique_album_per_owner"),
        ]

    def __str__(self) -> str:
        return self.title


class Track(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        PROCESSING = "processing", "Processing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tracks")
    original_name = models.CharField(max_length=255)
    # Uploads and copied imports in the media storage; files imported in place in MUSIC_DIRECTORY.
    file = models.FileField(upload_to=track_upload_to, storage=audio_storage, max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    format = models.CharField(max_length=16, blank=True)

    # From the file's own tags at upload (services.metadata), editable by the owner.
    title = models.CharField(max_length=255, blank=True)
    artist = models.CharField(max_length=255, blank=True)
    album_artist = models.CharField(max_length=255, blank=True)
    album = models.CharField(max_length=255, blank=True)
    track_number = models.PositiveSmallIntegerField(null=True, blank=True)
    disc_number = models.PositiveSmallIntegerField(null=True, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    file_genre = models.CharField(max_length=255, blank=True)  # the genre tag as the file had it
    # What could not be read from the file (damaged tags, an unusable cover), for the track page.
    metadata_note = models.TextField(blank=True)
    # Null for tracks uploaded before tags were read in full: `manage.py read_metadata` fills them.
    metadata_read_at = models.DateTimeField(null=True, blank=True)
    # The artist and album rows the tags above point at (services.catalogue keeps them in step).
    artist_ref = models.ForeignKey(Artist, null=True, blank=True, on_delete=models.SET_NULL, related_name="tracks")
    album_ref = models.ForeignKey(Album, null=True, blank=True, on_delete=models.SET_NULL, related_name="tracks")
    # The embedded front cover as two JPEG thumbnails (services.metadata sizes); empty: none.
    cover = models.ImageField(upload_to=cover_upload_to, max_length=255, blank=True)
    cover_small = models.ImageField(upload_to=cover_upload_to, max_length=255, blank=True)
    duration = models.FloatField(null=True, blank=True)

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    failure_reason = models.TextField(blank=True)
    spectrogram = models.ImageField(upload_to=spectrogram_upload_to, max_length=255, blank=True)

    # The user's own genre; empty when they have not set one.
    user_genre = models.CharField(max_length=64, blank=True)
    # `genre` and `genre_uncertain` below, stored for filters and counts over whole libraries
    # (NULL: no genre yet). Written only by services.tracks.tracks_store_listed_genre, whenever
    # the user's genre or the prediction changes; Python code reads the properties.
    listed_genre = models.CharField(max_length=64, null=True, blank=True, editable=False)
    listed_uncertain = models.BooleanField(default=False, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "sha256"], name="unique_track_per_owner"),
        ]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["owner", "title"]),
            models.Index(fields=["owner", "artist"]),
            models.Index(fields=["album_ref", "disc_number", "track_number"]),
            models.Index(fields=["owner", "listed_genre", "listed_uncertain"]),
        ]

    def __str__(self) -> str:
        return self.display_title

    @property
    def display_title(self) -> str:
        return self.title or PurePath(self.original_name).stem

    @property
    def genre(self) -> str:
        """The genre to show: the user's own if set, else the model's."""
        if self.user_genre:
            return self.user_genre
        prediction = getattr(self, "prediction", None)
        return prediction.genre if prediction else ""

    @property
    def genre_source(self) -> str:
        if self.user_genre:
            return "user"
        return "model" if getattr(self, "prediction", None) else ""

    @property
    def genre_uncertain(self) -> bool:
        """True when the genre to show is the model's and the model was unsure of it: pages say
        "uncertain" and show its top two instead. A user's own genre always counts as certain.
        (Stored as listed_uncertain for SQL.)"""
        prediction = getattr(self, "prediction", None)
        return not self.user_genre and prediction is not None and prediction.uncertain


class GenreGuess(NamedTuple):
    genre: str
    probability: float


class Prediction(models.Model):
    track = models.OneToOneField(Track, on_delete=models.CASCADE, related_name="prediction")
    genre = models.CharField(max_length=64)
    confidence = models.FloatField()
    probabilities = models.JSONField()
    timeline = models.JSONField()
    tags = models.JSONField()
    embedding = models.JSONField()
    model_version = models.CharField(max_length=64)
    device = models.CharField(max_length=32)
    seconds = models.FloatField()
    classified_at = models.DateTimeField(auto_now=True)
    # The calibrated top probability was below the threshold the model's bundle chose on held-out
    # data. Stored as the model said it, so a later threshold never re-labels old predictions:
    # they keep theirs until re-classified.
    uncertain = models.BooleanField(default=False)
    # Zero-shot style hints from AudioSet classes the bundle has no labelled data for (folk, soul,
    # punk...): {name: probability}, independent (they do not sum to 1), highest first. Never
    # validated, so shown beside the genre, never as it. {} for bundles without them and for
    # predictions stored before they existed.
    styles = models.JSONField(default=dict, blank=True)
    # The analysed audio was (nearly) silent (ml.inference.SILENT_BELOW_DBFS): pages say so, since
    # a genre for silence is not about music. False for predictions stored before it existed.
    silent = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["genre", "-confidence"]),
            models.Index(fields=["model_version"]),
        ]

    def __str__(self) -> str:
        return f"{self.genre} ({self.confidence:.0%})"

    @property
    def top_two(self) -> list[GenreGuess]:
        """The two most probable genres, most probable first: what an uncertain prediction shows
        instead of one genre. Ties go alphabetically: PostgreSQL's jsonb does not keep key order."""
        ranked = sorted(self.probabilities.items(), key=lambda item: (-item[1], item[0]))[:2]
        return [GenreGuess(genre, probability) for genre, probability in ranked]


# --- REST API: tokens, webhooks, idempotency keys ----------------------------------------


class ApiToken(models.Model):
    """A named API token. Only a SHA-256 of the secret is stored; the secret is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    # The first characters of the secret, so a user can tell their tokens apart.
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class Webhook(models.Model):
    """An URL that receives a signed POST when one of the owner's tracks is done or failed."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(max_length=64)  # kept in clear: it signs every delivery
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event sent (or being sent) to one webhook, with every attempt recorded."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=32)
    # No foreign key: the delivery history outlives a deleted track.
    track_id = models.UUIDField()
    payload = models.JSONField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    # [{"at": iso time, "status": HTTP status or null, "error": str, "ms": int}, ...]
    attempts = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["webhook", "-created_at"])]


class IdempotencyKey(models.Model):
    """The first response to a POST carrying an Idempotency-Key, replayed for repeats (24 h)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    # Null while the first request is still running.
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    response_headers = models.JSONField(default=dict)
    # What the first request sent (api.idempotency.request_fingerprint), so the key is not replayed
    # for a different body; "" for error answers and keys stored before it was kept.
    fingerprint = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="unique_idempotency_key_per_user")]
        indexes = [models.Index(fields=["created_at"])]
