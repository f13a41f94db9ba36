"""REST API v1. Each view validates input, calls one service or selector and serialises.

Every query goes through the owner-scoped selectors, so another user's ids are 404s.
"""
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.http import content_disposition_header
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.filters import SearchFilter
from rest_framework.generics import GenericAPIView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response

from classifier import selectors
from classifier.api import serializers as s
from classifier.api.exceptions import COMMON_ERRORS, NOT_FOUND, ApiError, error
from classifier.api.filters import TrackFilter, TrackOrdering
from classifier.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from classifier.api.renderers import M3URenderer
from classifier.api.serializers import absolute
from classifier.api.throttling import LoginRateThrottle, UploadRateThrottle
from classifier.http import album_zip_response, cover_response, tagged_download_response, track_audio_response
from classifier.models import Track
from classifier.services.catalogue import track_update_metadata
from classifier.services.classification import track_is_busy, track_reclassify
from classifier.services.corrections import track_set_genre
from classifier.services.exports import m3u_playlist
from classifier.services.health import readiness_checks
from classifier.services.tokens import token_create, token_revoke
from classifier.services.tracks import track_delete
from classifier.services.uploads import UploadRejected, track_upload, upload_too_large
from classifier.services.webhooks import webhook_create, webhook_delete, webhook_update

MAX_FILES_PER_REQUEST = 20
# Multipart framing around the files; a body larger than the files allowed plus this is refused unread.
MULTIPART_OVERHEAD = 1024 * 1024


class ApiView(GenericAPIView):
    # Filters, search and ordering belong to the track list only.
    filter_backends = []


def _track_queryset(user):
    return selectors.track_list_with_genre(user=user)


# --- Auth and tokens ------------------------------------------------------------------------


class AuthTokenView(ApiView):
    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [LoginRateThrottle]
    serializer_class = s.LoginSerializer

    @extend_schema(
        tags=["auth"], auth=[], summary="Exchange username and password for a new API token",
        responses={201: s.NewTokenSerializer, 400: error("Missing fields or wrong username/password."),
                   429: error("Too many login attempts; see Retry-After.")},
    )
    def post(self, request):
        data = s.LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request, username=data.validated_data["username"],
                            password=data.validated_data["password"])
        if user is None:
            raise ApiError("invalid_credentials", "Wrong username or password.", status.HTTP_400_BAD_REQUEST)
        token, secret = token_create(user=user, name=data.validated_data.get("name") or "API login")
        token.token = secret
        return Response(s.NewTokenSerializer(token).data, status=status.HTTP_201_CREATED)


class TokenListView(ApiView):
    serializer_class = s.TokenSerializer

    def get_queryset(self):
        return selectors.api_token_list(user=self.request.user)

    @extend_schema(tags=["auth"], summary="Your API tokens (secrets are never shown again)",
                   responses={200: s.TokenSerializer(many=True), **COMMON_ERRORS})
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.TokenSerializer(page, many=True).data)

    @extend_schema(tags=["auth"], summary="Create a named token", parameters=[IDEMPOTENCY_PARAMETER],
                   request=s.TokenSerializer,
                   responses={201: s.NewTokenSerializer, 400: error("Invalid name."), **COMMON_ERRORS})
    @idempotent
    def post(self, request):
        data = s.TokenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token, secret = token_create(user=request.user, name=data.validated_data["name"])
        token.token = secret
        return Response(s.NewTokenSerializer(token).data, status=status.HTTP_201_CREATED)


class TokenDetailView(ApiView):
    serializer_class = s.TokenSerializer

    def get_object(self):
        return selectors.api_token_get(user=self.request.user, token_id=self.kwargs["pk"])

    @extend_schema(tags=["auth"], summary="One of your tokens",
                   responses={200: s.TokenSerializer, **COMMON_ERRORS, **NOT_FOUND})
    def get(self, request, pk):
        return Response(s.TokenSerializer(self.get_object()).data)

    @extend_schema(tags=["auth"], summary="Revoke a token (it stops working at once)",
                   responses={204: None, **COMMON_ERRORS, **NOT_FOUND})
    def delete(self, request, pk):
        token_revoke(token=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Tracks -----------------------------------------------------------------------------------


class TrackListCreateView(ApiView):
    queryset = Track.objects.none()  # for the schema generator; get_queryset() scopes to the user
    serializer_class = s.TrackSerializer
    filter_backends = [DjangoFilterBackend, SearchFilter, TrackOrdering]
    filterset_class = TrackFilter
    search_fields = selectors.SEARCH_FIELDS
    ordering_fields = ["created_at", "updated_at", "title", "artist", "album", "duration", "status", "confidence"]
    ordering = ["-created_at"]

    def get_queryset(self):
        return _track_queryset(self.request.user)

    def get_parsers(self):
        return [MultiPartParser(), FormParser()]

    def get_throttles(self):
        throttles = super().get_throttles()
        if self.request.method == "POST":
            throttles.append(UploadRateThrottle())
        return throttles

    @extend_schema(tags=["tracks"], summary="Your tracks, newest first",
                   responses={200: s.TrackSerializer(many=True), 400: error("Invalid filter value."),
                              **COMMON_ERRORS})
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.TrackSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(
        tags=["tracks"], summary="Upload audio for classification",
        description=(
            "multipart/form-data with one or more `file` fields (WAV, MP3, FLAC, OGG/Opus, M4A/AAC, AIFF; "
            f"at most {MAX_FILES_PER_REQUEST} files, each within the server's upload limit).\n\n"
            "**One file:** `202` with the queued track and a `Location` header; if you already uploaded "
            "these exact bytes, `200` with the existing track and `\"duplicate\": true` (nothing is queued). "
            "A rejected file answers 400 (not audio, unsupported format, empty) or 413 (too large, or "
            "`quota_exceeded`: it does not fit in your storage quota).\n\n"
            "**Several files** (a catalogue, up to the limit per request): `202` with `results`, one per file "
            "in the order sent (`outcome` created / duplicate / rejected, the track's id, and the reason when "
            "rejected), plus `tracks` (every accepted or duplicate track) and `errors` (every rejected file); "
            "400/413 when none was accepted."
        ),
        request={"multipart/form-data": s.UploadInputSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            202: OpenApiResponse(
                PolymorphicProxySerializer(component_name="UploadAnswer", resource_type_field_name=None,
                                           serializers=[s.UploadedTrackSerializer, s.UploadBatchSerializer]),
                description="Queued: the track (one file), or an UploadBatch with each file's result (several)."),
            200: OpenApiResponse(s.UploadedTrackSerializer, description="Duplicate of a track you already have."),
            400: error("No file, not audio, unsupported format or empty file."),
            409: error("Idempotency-Key still in use by a running request."),
            413: error("File (or request) larger than the upload limit, or over your storage quota."),
            422: error("Idempotency-Key already used for another request."),
            **COMMON_ERRORS,
        },
    )
    @idempotent
    def post(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            # A malformed header is the client's problem, not a 500; the body checks below decide.
            length = 0
        if length > settings.UPLOAD_MAX_BYTES * MAX_FILES_PER_REQUEST + MULTIPART_OVERHEAD:
            raise ApiError("request_too_large", "The request is larger than the upload limit allows.", 413)
        files = request.FILES.getlist("file")
        oversize = list(getattr(request, "oversize_files", None) or [])
        if not files and not oversize:
            raise ApiError("no_file", "Send the audio as multipart/form-data in a field named 'file'.", 400)
        if len(files) + len(oversize) > MAX_FILES_PER_REQUEST:
            raise ApiError("too_many_files", f"Send at most {MAX_FILES_PER_REQUEST} files per request.", 400)

        rejected, outcomes, results = [], [], []
        for upload in files:
            try:
                outcome = track_upload(owner=request.user, upload=upload)
            except UploadRejected as err:
                rejected.append((upload.name, err))
                results.append(_file_result(upload.name, err=err))
            else:
                outcomes.append(outcome)
                results.append(_file_result(upload.name, outcome=outcome))
        for name in oversize:
            rejected.append((name, upload_too_large(name)))
            results.append(_file_result(name, err=rejected[-1][1]))

        duplicates = {o.track.pk for o in outcomes if not o.created}
        context = {"request": request, "duplicates": duplicates}
        if len(files) + len(oversize) == 1:
            if rejected:
                name, err = rejected[0]
                raise ApiError(err.code, err.message, err.status, details={"file": name})
            outcome = outcomes[0]
            data = s.UploadedTrackSerializer(outcome.track, context=context).data
            return Response(data, status=status.HTTP_202_ACCEPTED if outcome.created else status.HTTP_200_OK,
                            headers={"Location": data["url"]})

        errors = [{"file": name, "code": err.code, "message": err.message} for name, err in rejected]
        if not outcomes:
            worst = 413 if all(err.status == 413 for _, err in rejected) else 400
            raise ApiError("upload_rejected", "None of the files was accepted.", worst, details={"errors": errors})
        tracks = s.UploadedTrackSerializer([o.track for o in outcomes], many=True, context=context).data
        return Response({"results": results, "tracks": tracks, "errors": errors}, status=status.HTTP_202_ACCEPTED)


def _file_result(name: str, outcome=None, err: UploadRejected | None = None) -> dict:
    """One file's line in a several-file upload's `results` (UploadFileResultSerializer)."""
    if err is not None:
        return {"file": name, "outcome": "rejected", "track_id": None, "code": err.code, "message": err.message}
    return {"file": name, "outcome": "created" if outcome.created else "duplicate", "track_id": outcome.track.pk,
            "code": "", "message": ""}


class TrackObjectMixin:
    def get_object(self):
        return selectors.track_get(user=self.request.user, track_id=self.kwargs["pk"])


class TrackDetailView(TrackObjectMixin, ApiView):
    serializer_class = s.TrackDetailSerializer

    def _detail(self, track):
        return Response(s.TrackDetailSerializer(track, context={"request": self.request}).data)

    @extend_schema(tags=["tracks"], summary="A track: status, metadata, prediction and genres",
                   responses={200: s.TrackDetailSerializer, **COMMON_ERRORS, **NOT_FOUND})
    def get(self, request, pk):
        return self._detail(self.get_object())

    @extend_schema(tags=["tracks"], summary="Set your own genre, or correct the track's tags",
                   description="Send any of the fields. Changing artist, album artist or album moves the track "
                               "to that artist and album (created as needed; emptied ones disappear).",
                   request=s.TrackUpdateSerializer,
                   responses={200: s.TrackDetailSerializer,
                              400: error("Not one of the model's labels, or a number out of range."),
                              **COMMON_ERRORS, **NOT_FOUND})
    def patch(self, request, pk):
        track = self.get_object()
        data = s.TrackUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        genre = changes.pop("user_genre", None)
        try:
            with transaction.atomic():
                if genre is not None:
                    track_set_genre(track=track, genre=genre)
                if changes:
                    track_update_metadata(track=track, **changes)
        except DjangoValidationError as err:
            raise ValidationError(err.message_dict if hasattr(err, "error_dict") else {"user_genre": err.messages})
        return self._detail(self.get_object())

    @extend_schema(tags=["tracks"], summary="Delete a track and its stored files",
                   responses={204: None, **COMMON_ERRORS, **NOT_FOUND})
    def delete(self, request, pk):
        track_delete(track=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class TrackReclassifyView(TrackObjectMixin, ApiView):
    serializer_class = s.TrackDetailSerializer

    @extend_schema(tags=["tracks"], summary="Classify the track again with the current model",
                   request=None, parameters=[IDEMPOTENCY_PARAMETER],
                   responses={202: s.TrackDetailSerializer, 409: error("The track is already queued or processing."),
                              **COMMON_ERRORS, **NOT_FOUND})
    @idempotent
    def post(self, request, pk):
        track = self.get_object()
        if track_is_busy(track):
            raise ApiError("already_queued", "This track is already waiting for or being classified.", 409)
        track_reclassify(track=track)
        data = s.TrackDetailSerializer(self.get_object(), context={"request": request}).data
        return Response(data, status=status.HTTP_202_ACCEPTED)


class AnyAcceptNegotiation(BaseContentNegotiation):
    """Audio players send Accept: audio/*; the response is the file whatever they ask for."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class TrackAudioView(TrackObjectMixin, ApiView):
    content_negotiation_class = AnyAcceptNegotiation
    renderer_classes = [JSONRenderer]

    @extend_schema(
        tags=["tracks"], summary="The stored audio file",
        description="Supports `Range: bytes=start-end` (206 Partial Content) so players can seek.",
        parameters=[OpenApiParameter("Range", str, OpenApiParameter.HEADER, required=False)],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY,
                   (206, "application/octet-stream"): OpenApiTypes.BINARY,
                   416: OpenApiResponse(description="Range not satisfiable."), **COMMON_ERRORS, **NOT_FOUND},
    )
    def get(self, request, pk):
        return track_audio_response(request, self.get_object())


class TrackDownloadView(TrackObjectMixin, ApiView):
    content_negotiation_class = AnyAcceptNegotiation
    renderer_classes = [JSONRenderer]

    @extend_schema(
        tags=["tracks"], summary="The audio file with its genre and your tag corrections written in",
        description="A copy of the stored file, as an attachment: the genre GenreWeb states (left as the file "
                    "had it while the model is uncertain and you have not set one) and every tag you corrected "
                    "(title, artist, album artist, album, track and disc number, year). The cover and the "
                    "file's other tags are kept. The stored original is never changed.",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, **COMMON_ERRORS, **NOT_FOUND},
    )
    def get(self, request, pk):
        return tagged_download_response(self.get_object())


class TrackCoverView(TrackObjectMixin, ApiView):
    content_negotiation_class = AnyAcceptNegotiation
    renderer_classes = [JSONRenderer]
    small = False

    @extend_schema(tags=["tracks"], summary="The track's embedded front cover (JPEG, 300 px)",
                   responses={(200, "image/jpeg"): OpenApiTypes.BINARY, **COMMON_ERRORS,
                              404: error("No such track, or it has no cover.")})
    def get(self, request, pk):
        track = self.get_object()
        return cover_response(track.cover_small if self.small else track.cover)


class TrackCoverSmallView(TrackCoverView):
    small = True

    @extend_schema(tags=["tracks"], summary="The track's embedded front cover (JPEG, 96 px)",
                   responses={(200, "image/jpeg"): OpenApiTypes.BINARY, **COMMON_ERRORS,
                              404: error("No such track, or it has no cover.")})
    def get(self, request, pk):
        return super().get(request, pk)


class TrackSimilarView(TrackObjectMixin, ApiView):
    serializer_class = s.SimilarTrackSerializer

    @extend_schema(
        tags=["tracks"], summary="Your tracks that sound most alike (cosine of the model's embeddings)",
        parameters=[OpenApiParameter("limit", int, description="1 to 50, default 10.")],
        responses={200: inline_serializer("SimilarTracks", {"results": s.SimilarTrackSerializer(many=True)}),
                   400: error("Invalid limit."), **COMMON_ERRORS, **NOT_FOUND},
    )
    def get(self, request, pk):
        limit = serializers.IntegerField(min_value=1, max_value=50)
        try:
            limit = limit.run_validation(request.query_params.get("limit", 10))
        except ValidationError as err:
            raise ValidationError({"limit": err.detail})
        similar = selectors.track_similar(user=request.user, track=self.get_object(), limit=limit)
        results = [{"similarity": score, "track": s.TrackSerializer(track, context={"request": request}).data}
                   for track, score in similar]
        return Response({"results": results})


# --- Catalogue ----------------------------------------------------------------------------------


class GenreListView(ApiView):
    pagination_class = None  # one row per genre: a short list, answered whole
    @extend_schema(tags=["catalogue"], summary="The model's genres with how many of your tracks have each",
                   description="Counts match the tracks' `genre` filter, so a track the model was unsure of "
                               "counts under its best guess; `uncertain` says how many did.",
                   responses={200: s.GenreListSerializer(many=True), **COMMON_ERRORS})
    def get(self, request):
        rows = {row["genre"]: row for row in selectors.genre_counts(user=request.user)}
        labels = selectors.installed_labels()
        genres = labels + sorted(set(rows) - set(labels))
        return Response([rows.get(genre, {"genre": genre, "count": 0, "uncertain": 0}) for genre in genres])


class AlbumListView(ApiView):
    serializer_class = s.AlbumSerializer

    @extend_schema(tags=["catalogue"], summary="Your albums (from the tracks' album tags), by title",
                   parameters=[OpenApiParameter("search", str, description="Part of the title or album artist.")],
                   responses={200: s.AlbumSerializer(many=True), **COMMON_ERRORS})
    def get(self, request):
        search = request.query_params.get("search", "").strip()[:200]
        page = self.paginate_queryset(selectors.album_list(user=request.user, search=search))
        return self.get_paginated_response(s.AlbumSerializer(page, many=True, context={"request": request}).data)


class AlbumDetailView(ApiView):
    serializer_class = s.AlbumDetailSerializer

    @extend_schema(tags=["catalogue"], summary="An album: its tracks in disc and track order and its genre mix",
                   responses={200: s.AlbumDetailSerializer, **COMMON_ERRORS, **NOT_FOUND})
    def get(self, request, pk):
        album = selectors.album_get(user=request.user, album_id=pk)
        album.tracks_in_order = selectors.album_tracks(user=request.user, album=album)
        album.genres = selectors.genre_mix(album.tracks_in_order)
        data = s.AlbumDetailSerializer(album, context={"request": request}).data
        return Response(data)


class AlbumDownloadView(ApiView):
    content_negotiation_class = AnyAcceptNegotiation
    renderer_classes = [JSONRenderer]

    @extend_schema(
        tags=["catalogue"], summary="The album's files as one ZIP, with their genre and your tag corrections written in",
        description="Streamed as it is written; each file as `/api/v1/tracks/<id>/download/` gives it, named "
                    "`Artist/Album/NN Title.ext`. Files missing from storage are listed in `MISSING.txt`.",
        responses={(200, "application/zip"): OpenApiTypes.BINARY, **COMMON_ERRORS, **NOT_FOUND},
    )
    def get(self, request, pk):
        return album_zip_response(user=request.user, album=selectors.album_get(user=request.user, album_id=pk))


class ArtistListView(ApiView):
    serializer_class = s.ArtistSerializer

    @extend_schema(tags=["catalogue"], summary="Your artists (from the artist and album-artist tags), by name",
                   parameters=[OpenApiParameter("search", str, description="Part of the name.")],
                   responses={200: s.ArtistSerializer(many=True), **COMMON_ERRORS})
    def get(self, request):
        search = request.query_params.get("search", "").strip()[:200]
        page = self.paginate_queryset(selectors.artist_list(user=request.user, search=search))
        return self.get_paginated_response(s.ArtistSerializer(page, many=True, context={"request": request}).data)


class ArtistDetailView(ApiView):
    serializer_class = s.ArtistDetailSerializer

    @extend_schema(tags=["catalogue"], summary="An artist: their albums and genre mix",
                   responses={200: s.ArtistDetailSerializer, **COMMON_ERRORS, **NOT_FOUND})
    def get(self, request, pk):
        artist = selectors.artist_get(user=request.user, artist_id=pk)
        artist.albums_list = selectors.artist_albums(user=request.user, artist=artist)
        artist.genres = selectors.genre_mix(selectors.artist_tracks(user=request.user, artist=artist))
        return Response(s.ArtistDetailSerializer(artist, context={"request": request}).data)


class PlaylistListView(ApiView):
    pagination_class = None  # one row per genre: a short list, answered whole
    @extend_schema(tags=["catalogue"], summary="One playlist per genre in your library",
                   description="Counts leave out the tracks whose genre the model was unsure of, as the playlists do.",
                   responses={200: s.PlaylistSerializer(many=True), **COMMON_ERRORS})
    def get(self, request):
        rows = selectors.genre_counts(user=request.user, certain_only=True)
        return Response([
            {**row, "url": absolute(request, "api:playlist-detail", genre=row["genre"]),
             "m3u_url": absolute(request, "api:playlist-detail", genre=row["genre"]) + "?format=m3u"}
            for row in rows
        ])


class PlaylistDetailView(ApiView):
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, M3URenderer]
    serializer_class = s.TrackSerializer

    @extend_schema(
        tags=["catalogue"], operation_id="playlists_retrieve", summary="Your tracks of one genre, most confident first",
        description="JSON (paginated) by default; `Accept: audio/x-mpegurl` or `?format=m3u` gives an M3U "
                    "playlist whose entries are signed audio links: any player can open them, without a token, "
                    "for `STREAM_LINK_DAYS` (7 by default). A track whose genre "
                    "the model was unsure of (`uncertain`) is left out until you set its genre.",
        parameters=[OpenApiParameter("format", str, enum=["json", "m3u"], required=False)],
        responses={(200, "application/json"): s.TrackSerializer(many=True),
                   (200, "audio/x-mpegurl"): OpenApiTypes.STR,
                   **COMMON_ERRORS, 404: error("Neither a model genre nor a genre in your library.")},
    )
    def get(self, request, genre):
        tracks = selectors.playlist_tracks(user=request.user, genre=genre)
        if genre not in selectors.installed_labels() and not tracks.exists():
            raise ApiError("unknown_genre", f"There is no genre called “{genre}”.", 404)
        if request.accepted_renderer.format == M3URenderer.format:
            text = m3u_playlist(tracks, title=f"GenreWeb · {genre}", site=request.build_absolute_uri("/"))
            return Response(text, headers={"Content-Disposition": content_disposition_header(False, f"{genre}.m3u")})
        page = self.paginate_queryset(tracks)
        return self.get_paginated_response(s.TrackSerializer(page, many=True, context={"request": request}).data)


class StatsView(ApiView):
    @extend_schema(tags=["catalogue"], summary="Your library in numbers",
                   responses={200: s.StatsSerializer, **COMMON_ERRORS})
    def get(self, request):
        stats = selectors.library_stats(user=request.user)
        # As on the dashboard: uncertain guesses are counted in `uncertain`, not under a genre.
        return Response({**stats, "by_genre": selectors.genre_counts(user=request.user, certain_only=True)})


# --- Model and operations -------------------------------------------------------------------------


class ModelInfoView(ApiView):
    @extend_schema(tags=["model"], summary="The installed model: labels, version, metrics, device",
                   responses={200: s.ModelInfoSerializer, 503: error("No model bundle is installed."),
                              **COMMON_ERRORS})
    def get(self, request):
        from ml.inference import resolve_device  # cheap: reads no weights

        bundle = selectors.installed_bundle()
        if bundle is None:
            raise ApiError("model_unavailable", "No model bundle is installed on this server.", 503)
        config = bundle["config"]
        return Response({
            "name": config.get("name") or config.get("architecture", {}).get("name", ""),
            "version": config.get("version", ""),
            "labels": selectors.bundle_labels(bundle),
            "sample_rate": config.get("features", {}).get("sample_rate"),
            "device": str(resolve_device(settings.INFERENCE_DEVICE)),
            "metrics": bundle["metrics"],
        })


class HealthView(ApiView):
    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = []

    @extend_schema(tags=["ops"], auth=[], summary="Liveness: the web process answers (touches nothing else)",
                   responses={200: s.HealthSerializer})
    def get(self, request):
        return Response({"status": "ok"})


class ReadyView(HealthView):
    @extend_schema(tags=["ops"], auth=[], summary="Readiness: database, broker, model bundle and media storage usable",
                   responses={200: s.HealthSerializer,
                              503: OpenApiResponse(s.HealthSerializer, description="A check failed (see checks).")})
    def get(self, request):
        checks = readiness_checks()
        ready = all(result == "ok" for result in checks.values())
        return Response({"status": "ok" if ready else "unavailable", "checks": checks},
                        status=status.HTTP_200_OK if ready else status.HTTP_503_SERVICE_UNAVAILABLE)


# --- Webhooks ---------------------------------------------------------------------------------------


def _url_errors(err: DjangoValidationError) -> ValidationError:
    return ValidationError({"url": err.messages})


class WebhookListView(ApiView):
    serializer_class = s.WebhookSerializer

    def get_queryset(self):
        return selectors.webhook_list(user=self.request.user)

    @extend_schema(tags=["webhooks"], summary="Your webhooks",
                   responses={200: s.WebhookSerializer(many=True), **COMMON_ERRORS})
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.WebhookSerializer(page, many=True).data)

    @extend_schema(
        tags=["webhooks"], summary="Register a webhook",
        description="GenreWeb POSTs `{event: \"track.done\"|\"track.failed\", track: {...}, sent_at}` to the URL "
                    "when one of your tracks finishes, signed with `X-GenreWeb-Signature: t=<unix>,v1=<hex>` where "
                    "v1 = HMAC-SHA256(secret, f\"{t}.{raw body}\"). Network errors, 429 and 5xx are retried with "
                    "exponential back-off; other 4xx answers are not.",
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: s.WebhookSerializer, 400: error("Invalid URL (http or https only)."), **COMMON_ERRORS},
    )
    @idempotent
    def post(self, request):
        data = s.WebhookSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            webhook = webhook_create(owner=request.user, **data.validated_data)
        except DjangoValidationError as err:
            raise _url_errors(err)
        return Response(s.WebhookSerializer(webhook).data, status=status.HTTP_201_CREATED)


class WebhookDetailView(ApiView):
    serializer_class = s.WebhookSerializer

    def get_object(self):
        return selectors.webhook_get(user=self.request.user, webhook_id=self.kwargs["pk"])

    @extend_schema(tags=["webhooks"], summary="One of your webhooks",
                   responses={200: s.WebhookSerializer, **COMMON_ERRORS, **NOT_FOUND})
    def get(self, request, pk):
        return Response(s.WebhookSerializer(self.get_object()).data)

    @extend_schema(tags=["webhooks"], summary="Change URL, description or active flag",
                   responses={200: s.WebhookSerializer, 400: error("Invalid URL."), **COMMON_ERRORS, **NOT_FOUND})
    def patch(self, request, pk):
        webhook = self.get_object()
        data = s.WebhookSerializer(webhook, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        try:
            webhook = webhook_update(webhook=webhook, **data.validated_data)
        except DjangoValidationError as err:
            raise _url_errors(err)
        return Response(s.WebhookSerializer(webhook).data)

    @extend_schema(tags=["webhooks"], summary="Delete a webhook",
                   responses={204: None, **COMMON_ERRORS, **NOT_FOUND})
    def delete(self, request, pk):
        webhook_delete(webhook=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryListView(ApiView):
    serializer_class = s.WebhookDeliverySerializer
    pagination_class = None  # the latest 50, answered whole

    @extend_schema(tags=["webhooks"], summary="The latest 50 deliveries of a webhook, with every attempt",
                   responses={200: s.WebhookDeliverySerializer(many=True), **COMMON_ERRORS, **NOT_FOUND})
    def get(self, request, pk):
        webhook = selectors.webhook_get(user=request.user, webhook_id=pk)
        return Response(s.WebhookDeliverySerializer(selectors.webhook_deliveries(webhook=webhook), many=True).data)


def api_not_found(request, *args, **kwargs):
    """Unknown /api/ URLs answer in the API's error format rather than with an HTML page."""
    from django.http import JsonResponse
    from django.urls import Resolver404, resolve

    message = "There is no API endpoint at this URL; see /api/docs/."
    if not request.path.endswith("/"):
        try:
            resolve(request.path + "/")
            message = f"Did you mean {request.path}/ (with the trailing slash)?"
        except Resolver404:
            pass
    return JsonResponse({"error": {"code": "not_found", "message": message, "details": None}}, status=404)
