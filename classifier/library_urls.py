"""Library, playlists, dashboard, model page and the track actions that go with them.
The library page itself is the `home` route in classifier/urls.py."""
from django.urls import path

from classifier.views import dashboard, library, model_info, player, playlists

urlpatterns = [
    path("library/export.csv", library.library_export, {"fmt": "csv"}, name="library-export-csv"),
    path("library/export.json", library.library_export, {"fmt": "json"}, name="library-export-json"),
    path("library/export.zip", library.library_zip, name="library-export-zip"),
    path("library/reclassify/", library.library_reclassify, name="library-reclassify"),
    path("tracks/<uuid:track_id>/genre/", library.track_genre, name="track-genre"),
    path("tracks/<uuid:track_id>/delete/", library.track_delete_view, name="track-delete"),
    path("tracks/<uuid:track_id>/reclassify/", library.track_reclassify_view, name="track-reclassify"),
    path("tracks/<uuid:track_id>/download/", library.track_download, name="track-download"),
    path("playlists/", playlists.playlist_list, name="playlists"),
    path("playlists/<path:genre>.m3u", playlists.playlist_m3u, name="playlist-m3u"),
    path("playlists/<path:genre>/", playlists.playlist_detail, name="playlist-detail"),
    path("player/tracks.json", player.player_tracks, name="player-tracks"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("model/", model_info.model_info, name="model-info"),
    path("model/confusion-matrix.png", model_info.confusion_matrix, name="model-confusion-matrix"),
]
