from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("classifier.api.urls")),
    path("developer/", include("classifier.developer_urls")),
    path("", include("classifier.urls")),
]
