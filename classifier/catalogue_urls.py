"""Artists, albums, genres, covers and tag editing (the music-library side of the site)."""
from django.urls import path

from classifier.views import catalogue

urlpatterns = [
    path("albums/", catalogue.album_list, name="album-list"),
    path("albums/<int:album_id>/", catalogue.album_detail, name="album-detail"),
    path("albums/<int:album_id>/download/", catalogue.album_download, name="album-download"),
    path("artists/", catalogue.artist_list, name="artist-list"),
    path("artists/<int:artist_id>/", catalogue.artist_detail, name="artist-detail"),
    path("genres/", catalogue.genre_list, name="genres"),
    path("tracks/<uuid:pk>/cover.jpg", catalogue.track_cover, name="track-cover"),
    path("tracks/<uuid:pk>/cover-small.jpg", catalogue.track_cover, {"small": True}, name="track-cover-small"),
    path("tracks/<uuid:track_id>/tags/", catalogue.track_metadata, name="track-metadata"),
]
