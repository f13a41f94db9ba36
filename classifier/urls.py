"""HTML pages: landing, accounts, upload, library and track pages."""
from django.contrib.auth import views as auth_views
from django.urls import include, path

from classifier.views import accounts, library, pages, tracks

urlpatterns = [
    path("", pages.landing, name="landing"),
    path("signup/", accounts.signup, name="signup"),
    # Django's account views (login with throttling) and the templates in templates/registration/.
    path("accounts/login/", accounts.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password_change/done/", auth_views.PasswordChangeDoneView.as_view(),
         name="password_change_done"),
    path("accounts/password_reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password_reset/done/", auth_views.PasswordResetDoneView.as_view(),
         name="password_reset_done"),
    path("accounts/reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(),
         name="password_reset_complete"),
    path("library/", library.library, name="home"),
    path("upload/", tracks.upload, name="upload"),
    path("tracks/status.json", tracks.track_statuses, name="track-statuses"),
    path("stream/<str:token>/", tracks.track_stream, name="track-stream"),
    path("tracks/<uuid:pk>/", tracks.track_detail, name="track-detail"),
    path("tracks/<uuid:pk>/status.json", tracks.track_status, name="track-status"),
    path("tracks/<uuid:pk>/audio/", tracks.track_audio, name="track-audio"),
    path("tracks/<uuid:pk>/spectrogram.png", tracks.track_spectrogram, name="track-spectrogram"),
    path("", include("classifier.library_urls")),
    path("", include("classifier.catalogue_urls")),
]
