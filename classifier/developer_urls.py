"""The Developer page (mounted at /developer/): API tokens and webhooks."""
from django.urls import path

from classifier.views import developer

urlpatterns = [
    path("", developer.developer, name="developer"),
    path("tokens/", developer.token_new, name="developer-token-new"),
    path("tokens/<int:pk>/revoke/", developer.token_revoke_view, name="developer-token-revoke"),
    path("webhooks/", developer.webhook_new, name="developer-webhook-new"),
    path("webhooks/<int:pk>/toggle/", developer.webhook_toggle, name="developer-webhook-toggle"),
    path("webhooks/<int:pk>/rotate/", developer.webhook_rotate, name="developer-webhook-rotate"),
    path("webhooks/<int:pk>/delete/", developer.webhook_remove, name="developer-webhook-delete"),
]
