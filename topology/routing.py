"""Websocket URLs (owned by the worker/stream work)."""

from django.urls import path

websocket_urlpatterns: list = []  # type: ignore[type-arg]
_ = path
