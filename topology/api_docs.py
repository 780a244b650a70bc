"""ReDoc beside ninja's Swagger UI (/api/docs), both from the project's static files: with "ninja" in
INSTALLED_APPS its templates load /static/ninja/*.js, never a CDN, so the docs work offline."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path
from ninja.openapi.docs import Redoc

from .api import api


def redoc(request: HttpRequest) -> HttpResponse:
    return Redoc().render_page(request, api)


urlpatterns = [path("api/redoc", redoc, name="api-redoc")]
