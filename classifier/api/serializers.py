"""Input and output shapes of the API. Validation only; the services do the work."""
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from classifier.models import Album, ApiToken, Artist, Prediction, Track, Webhook, WebhookDelivery
from classifier.services.catalogue import EDITABLE_NUMBERS


def absolute(request, name, **kwargs) -> str:
    return request.build_absolute_uri(reverse(name, kwargs=kwargs))


class SegmentSerializer(serializers.Serializer):
    start = serializers.FloatField(help_text="Seconds from the start.")
    end = serializers.FloatField()
    genre = serializers.CharField()
    confidence = serializers.FloatField()


class TopGenreSerializer(serializers.Serializer):
    genre = serializers.CharField()
    probability = serializers.FloatField()


TOP_GENRES_HELP = "The model's two most probable genres, most probable first."


class RankedScoresField(serializers.DictField):
    """{name: probability}, highest first whatever order the database kept (PostgreSQL's jsonb sorts keys)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("child", serializers.FloatField(min_value=0, max_value=1))
        super().__init__(**kwargs)

    def to_representation(self, value):
        return dict(sorted(super().to_representation(value).items(), key=lambda item: -item[1]))


class PredictionSerializer(serializers.ModelSerializer):
    uncertain = serializers.BooleanField(
        help_text="The top probability was below the threshold the model chose on held-out data: "
                  "`genre` is only its best guess, show `top_genres` instead.")
    top_genres = TopGenreSerializer(many=True, source="top_two", help_text=TOP_GENRES_HELP)
    probabilities = serializers.DictField(child=serializers.FloatField(), help_text="Every label's probability.")
    timeline = SegmentSerializer(many=True, help_text="Genre over time, in time order.")
    tags = RankedScoresField(help_text="Pretrained tags (probability 0 to 1 each), highest first.")
    styles = RankedScoresField(
        help_text="Style hints, highest first: zero-shot AudioSet probabilities (0 to 1, each independent, not "
                  "summing to 1) that a style the model has no training data for applies (folk, soul, punk…). "
                  "Not validated: show them beside the genre, never as it. Empty for models without them and "
                  "for predictions made before them.")
    silent = serializers.BooleanField(
        help_text="The audio the model listened to was silent or nearly (below the model's silence level): "
                  "its genre says nothing about music. False for predictions made before this was measured.")

    class Meta:
        model = Prediction
        fields = ["genre", "confidence", "uncertain", "top_genres", "probabilities", "timeline", "tags",
                  "styles", "silent", "model_version", "device", "seconds", "classified_at"]


class TrackSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="This track in the API.")
    audio_url = serializers.SerializerMethodField(help_text="The stored audio (supports Range).")
    download_url = serializers.SerializerMethodField(
        help_text="A copy of the file with the genre and your tag corrections written into its tags.")
    genre = serializers.CharField(
        read_only=True, help_text="Effective genre: user_genre if set, else the model's (only its best guess "
                                  "when `uncertain`).")
    genre_source = serializers.ChoiceField(choices=["user", "model", ""], read_only=True)
    uncertain = serializers.BooleanField(
        source="genre_uncertain", read_only=True,
        help_text="The genre is the model's and it was unsure (top probability below the threshold it chose on "
                  "held-out data): say “uncertain” and show `top_genres` rather than one genre. "
                  "Never true once you set user_genre.")
    top_genres = serializers.SerializerMethodField(help_text=f"{TOP_GENRES_HELP} Null until classified.")
    confidence = serializers.SerializerMethodField(help_text="The model's confidence in its genre.")
    model_version = serializers.SerializerMethodField()
    file_genre = serializers.CharField(read_only=True, help_text="The genre tag the file itself carried.")
    album_id = serializers.IntegerField(source="album_ref_id", read_only=True, allow_null=True,
                                        help_text="The album in /api/v1/albums/, null without an album tag.")
    artist_id = serializers.IntegerField(source="artist_ref_id", read_only=True, allow_null=True,
                                         help_text="The artist in /api/v1/artists/, null without an artist tag.")
    cover_url = serializers.SerializerMethodField(help_text="The embedded front cover, 300 px JPEG; null without one.")
    cover_small_url = serializers.SerializerMethodField(help_text="The same cover at 96 px.")

    class Meta:
        model = Track
        fields = ["id", "url", "audio_url", "download_url", "status", "failure_reason", "original_name", "title", "artist",
                  "album_artist", "album", "track_number", "disc_number", "year", "file_genre", "album_id",
                  "artist_id", "cover_url", "cover_small_url",
                  "duration", "format", "size", "genre", "genre_source", "uncertain", "top_genres",
                  "user_genre", "confidence", "model_version", "created_at", "updated_at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, track) -> str:
        return absolute(self.context["request"], "api:track-detail", pk=track.pk)

    @extend_schema_field(OpenApiTypes.URI)
    def get_audio_url(self, track) -> str:
        return absolute(self.context["request"], "api:track-audio", pk=track.pk)

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, track) -> str:
        return absolute(self.context["request"], "api:track-download", pk=track.pk)

    @extend_schema_field(OpenApiTypes.URI)
    def get_cover_url(self, track) -> str | None:
        return absolute(self.context["request"], "api:track-cover", pk=track.pk) if track.cover else None

    @extend_schema_field(OpenApiTypes.URI)
    def get_cover_small_url(self, track) -> str | None:
        return absolute(self.context["request"], "api:track-cover-small", pk=track.pk) if track.cover_small else None

    def _prediction(self, track):
        return getattr(track, "prediction", None)

    @extend_schema_field(TopGenreSerializer(many=True, allow_null=True))
    def get_top_genres(self, track):
        prediction = self._prediction(track)
        # Plain dicts of TopGenreSerializer's shape: a nested serializer per row costs more than the row.
        return [{"genre": guess.genre, "probability": guess.probability} for guess in prediction.top_two] \
            if prediction else None

    def get_confidence(self, track) -> float | None:
        prediction = self._prediction(track)
        return prediction.confidence if prediction else None

    def get_model_version(self, track) -> str | None:
        prediction = self._prediction(track)
        return prediction.model_version if prediction else None


class TrackDetailSerializer(TrackSerializer):
    prediction = serializers.SerializerMethodField()

    class Meta(TrackSerializer.Meta):
        fields = [*TrackSerializer.Meta.fields, "sha256", "prediction"]
        read_only_fields = fields

    @extend_schema_field(PredictionSerializer(allow_null=True))
    def get_prediction(self, track):
        prediction = self._prediction(track)
        return PredictionSerializer(prediction).data if prediction else None


class UploadedTrackSerializer(TrackSerializer):
    duplicate = serializers.SerializerMethodField(
        help_text="True when these exact bytes were already in your library: the existing track is returned.")

    class Meta(TrackSerializer.Meta):
        fields = [*TrackSerializer.Meta.fields, "duplicate"]
        read_only_fields = fields

    def get_duplicate(self, track) -> bool:
        return bool(self.context.get("duplicates") and track.pk in self.context["duplicates"])


class UploadInputSerializer(serializers.Serializer):
    file = serializers.ListField(child=serializers.FileField(), help_text="One or more audio files (repeat the field).")


class UploadErrorSerializer(serializers.Serializer):
    file = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()


class UploadFileResultSerializer(serializers.Serializer):
    file = serializers.CharField(help_text="The file's name as sent.")
    outcome = serializers.ChoiceField(["created", "duplicate", "rejected"],
                                      help_text="created: stored and queued; duplicate: these bytes were already "
                                                "in your library (nothing queued); rejected: not stored, see code.")
    track_id = serializers.UUIDField(allow_null=True, help_text="The new or existing track; null when rejected.")
    code = serializers.CharField(help_text="Why it was rejected (as in the error format); empty otherwise.")
    message = serializers.CharField(help_text="The reason, written for a person; empty unless rejected.")


class UploadBatchSerializer(serializers.Serializer):
    results = UploadFileResultSerializer(
        many=True, help_text="One per file, in the order sent (files refused for size while streaming last).")
    tracks = UploadedTrackSerializer(many=True)
    errors = UploadErrorSerializer(many=True)


def _tag_number(name: str, what: str):
    low, high = EDITABLE_NUMBERS[name]
    return serializers.IntegerField(required=False, allow_null=True, min_value=low, max_value=high,
                                    help_text=f"{what}; null clears it.")


class TrackUpdateSerializer(serializers.Serializer):
    """Any of these; fields left out stay as they are."""

    user_genre = serializers.CharField(required=False, allow_blank=True, max_length=64,
                                       help_text="One of the model's labels; an empty string clears it.")
    title = serializers.CharField(required=False, allow_blank=True, max_length=255)
    artist = serializers.CharField(required=False, allow_blank=True, max_length=255)
    album_artist = serializers.CharField(required=False, allow_blank=True, max_length=255,
                                         help_text="Empty when it is the track's artist.")
    album = serializers.CharField(required=False, allow_blank=True, max_length=255)
    track_number = _tag_number("track_number", "Track number on its disc")
    disc_number = _tag_number("disc_number", "Disc number")
    year = _tag_number("year", "Release year")

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Send at least one field to change.")
        return attrs


class ArtistSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    track_count = serializers.IntegerField(read_only=True, help_text="Tracks this artist plays.")
    album_count = serializers.IntegerField(read_only=True, help_text="Albums this artist heads.")

    class Meta:
        model = Artist
        fields = ["id", "url", "name", "track_count", "album_count"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, artist) -> str:
        return absolute(self.context["request"], "api:artist-detail", pk=artist.pk)


class AlbumSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    artist = serializers.CharField(source="artist.name", read_only=True, allow_null=True, default=None,
                                   help_text="The album artist; null when no track names one.")
    artist_id = serializers.IntegerField(read_only=True, allow_null=True)
    year = serializers.IntegerField(read_only=True, allow_null=True, help_text="The latest year among its tracks.")
    track_count = serializers.IntegerField(read_only=True)
    cover_url = serializers.SerializerMethodField(help_text="Its first track's cover (300 px); null without one.")
    cover_small_url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField(
        help_text="The album's files as one ZIP, with their genre and your tag corrections written in.")

    class Meta:
        model = Album
        fields = ["id", "url", "title", "artist", "artist_id", "year", "track_count", "cover_url", "cover_small_url",
                  "download_url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, album) -> str:
        return absolute(self.context["request"], "api:album-detail", pk=album.pk)

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, album) -> str:
        return absolute(self.context["request"], "api:album-download", pk=album.pk)

    def _cover(self, album, name):
        return absolute(self.context["request"], name, pk=album.cover_track_id) if album.cover_track_id else None

    @extend_schema_field(OpenApiTypes.URI)
    def get_cover_url(self, album) -> str | None:
        return self._cover(album, "api:track-cover")

    @extend_schema_field(OpenApiTypes.URI)
    def get_cover_small_url(self, album) -> str | None:
        return self._cover(album, "api:track-cover-small")


class GenreShareSerializer(serializers.Serializer):
    genre = serializers.CharField()
    count = serializers.IntegerField()
    percent = serializers.IntegerField()
    uncertain = serializers.IntegerField(help_text="How many of `count` are only the model's best guess "
                                                   "(it was unsure of them).")


class AlbumDetailSerializer(AlbumSerializer):
    tracks = TrackSerializer(many=True, read_only=True, source="tracks_in_order", help_text="In disc and track order.")
    genres = GenreShareSerializer(many=True, read_only=True, help_text="The album's genre mix, largest first.")

    class Meta(AlbumSerializer.Meta):
        fields = [*AlbumSerializer.Meta.fields, "genres", "tracks"]
        read_only_fields = fields


class ArtistDetailSerializer(ArtistSerializer):
    albums = AlbumSerializer(many=True, read_only=True, source="albums_list")
    genres = GenreShareSerializer(many=True, read_only=True, help_text="The artist's genre mix, largest first.")

    class Meta(ArtistSerializer.Meta):
        fields = [*ArtistSerializer.Meta.fields, "genres", "albums"]
        read_only_fields = fields


class SimilarTrackSerializer(serializers.Serializer):
    similarity = serializers.FloatField(help_text="Cosine similarity of the embeddings, -1 to 1.")
    track = TrackSerializer()


class GenreCountSerializer(serializers.Serializer):
    genre = serializers.CharField()
    count = serializers.IntegerField(help_text="Your tracks with this effective genre.")


class GenreListSerializer(GenreCountSerializer):
    uncertain = serializers.IntegerField(
        help_text="How many of `count` are the model's best guess where it was unsure; playlists and stats leave these out.")


class PlaylistSerializer(GenreCountSerializer):
    url = serializers.URLField()
    m3u_url = serializers.URLField()


class StatsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    corrected = serializers.IntegerField(help_text="Tracks with a user genre.")
    uncertain = serializers.IntegerField(help_text="Tracks whose genre is a guess the model was unsure of.")
    average_confidence = serializers.FloatField(allow_null=True)
    by_status = serializers.DictField(child=serializers.IntegerField())
    by_genre = GenreCountSerializer(many=True, help_text="Tracks per genre, the uncertain ones left out.")


class ModelInfoSerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.CharField()
    labels = serializers.ListField(child=serializers.CharField())
    sample_rate = serializers.IntegerField()
    device = serializers.CharField(help_text="Where the worker runs the model: cpu or cuda:N.")
    metrics = serializers.DictField(help_text="performance_metrics.json of the bundle.")


class HealthSerializer(serializers.Serializer):
    status = serializers.CharField()
    checks = serializers.DictField(child=serializers.CharField(), required=False)


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
    name = serializers.CharField(required=False, allow_blank=True, max_length=100,
                                 help_text="A name to recognise the token by.")


class TokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at"]
        read_only_fields = ["id", "prefix", "created_at", "last_used_at"]


class NewTokenSerializer(TokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The secret. Shown only in this response.")

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]
        read_only_fields = [*TokenSerializer.Meta.read_only_fields, "token"]


class WebhookAttemptSerializer(serializers.Serializer):
    """One try of a delivery, as services.webhooks records it (documentation of the JSON)."""
    at = serializers.DateTimeField()
    status = serializers.IntegerField(allow_null=True, help_text="The receiver's HTTP status; null when none came.")
    error = serializers.CharField(allow_null=True, help_text="What went wrong, when something did.")
    ms = serializers.IntegerField(help_text="How long the try took.")
    response = serializers.CharField(required=False, allow_null=True, help_text="The start of the receiver's answer.")
    response_truncated = serializers.BooleanField(required=False, help_text="The answer was longer than kept.")


class WebhookDeliverySerializer(serializers.ModelSerializer):
    attempts = WebhookAttemptSerializer(many=True, read_only=True, help_text="Every try, oldest first.")

    class Meta:
        model = WebhookDelivery
        fields = ["id", "event", "track_id", "status", "attempts", "created_at", "delivered_at"]
        read_only_fields = fields


class WebhookSerializer(serializers.ModelSerializer):
    class Meta:
        model = Webhook
        fields = ["id", "url", "description", "active", "secret", "created_at"]
        read_only_fields = ["id", "secret", "created_at"]
        extra_kwargs = {"secret": {"help_text": "Signs deliveries: X-GenreWeb-Signature: "
                                                "t=<unix>,v1=hex(HMAC-SHA256(secret, f\"{t}.{body}\"))."}}
