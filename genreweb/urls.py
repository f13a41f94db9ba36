from django.contrib import admin
from django.urls import include, path

from classifier.views.metrics import metrics

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("classifier.api.urls")),
    path("metrics", metrics, name="metrics"),  # 404 unless METRICS_ENABLED
    path("developer/", include("classifier.developer_urls")),
    path("", include("classifier.urls")),
]
