from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from classifier.api import views

app_name = "api"

v1 = [
    path("auth/token/", views.AuthTokenView.as_view(), name="auth-token"),
    path("tokens/", views.TokenListView.as_view(), name="token-list"),
    path("tokens/<int:pk>/", views.TokenDetailView.as_view(), name="token-detail"),
    path("tracks/", views.TrackListCreateView.as_view(), name="track-list"),
    path("tracks/<uuid:pk>/", views.TrackDetailView.as_view(), name="track-detail"),
    path("tracks/<uuid:pk>/reclassify/", views.TrackReclassifyView.as_view(), name="track-reclassify"),
    path("tracks/<uuid:pk>/audio/", views.TrackAudioView.as_view(), name="track-audio"),
    path("tracks/<uuid:pk>/download/", views.TrackDownloadView.as_view(), name="track-download"),
    path("tracks/<uuid:pk>/similar/", views.TrackSimilarView.as_view(), name="track-similar"),
    path("tracks/<uuid:pk>/cover/", views.TrackCoverView.as_view(), name="track-cover"),
    path("tracks/<uuid:pk>/cover/small/", views.TrackCoverSmallView.as_view(), name="track-cover-small"),
    path("albums/", views.AlbumListView.as_view(), name="album-list"),
    path("albums/<int:pk>/", views.AlbumDetailView.as_view(), name="album-detail"),
    path("albums/<int:pk>/download/", views.AlbumDownloadView.as_view(), name="album-download"),
    path("artists/", views.ArtistListView.as_view(), name="artist-list"),
    path("artists/<int:pk>/", views.ArtistDetailView.as_view(), name="artist-detail"),
    path("genres/", views.GenreListView.as_view(), name="genre-list"),
    path("playlists/", views.PlaylistListView.as_view(), name="playlist-list"),
    path("playlists/<str:genre>/", views.PlaylistDetailView.as_view(), name="playlist-detail"),
    path("stats/", views.StatsView.as_view(), name="stats"),
    path("model/", views.ModelInfoView.as_view(), name="model"),
    path("health/", views.HealthView.as_view(), name="health"),
    path("ready/", views.ReadyView.as_view(), name="ready"),
    path("webhooks/", views.WebhookListView.as_view(), name="webhook-list"),
    path("webhooks/<int:pk>/", views.WebhookDetailView.as_view(), name="webhook-detail"),
    path("webhooks/<int:pk>/deliveries/", views.WebhookDeliveryListView.as_view(), name="webhook-deliveries"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
]

urlpatterns = [
    path("v1/", include(v1)),
    # The split view serves its script as a file: the pages allow no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"", views.api_not_found),  # last: anything else under /api/
]
