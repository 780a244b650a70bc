"""Top-level URLs: the API, the admin, accounts, and the app's pages."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("topology.urls")),
]
