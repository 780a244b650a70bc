"""Websocket URLs: one socket per lab the browser shows."""

from django.urls import URLPattern, path

from .consumers import LabConsumer

websocket_urlpatterns: list[URLPattern] = [
    path("ws/labs/<int:lab_id>/", LabConsumer.as_asgi()),
]
