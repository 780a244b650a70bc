"""Websocket URLs: one socket per lab the browser shows."""

from django.urls import URLPattern, path

from .consumers import LabConsumer
from .terminal.consumer import TerminalConsumer

websocket_urlpatterns: list[URLPattern] = [
    path("ws/labs/<int:lab_id>/", LabConsumer.as_asgi()),
    path("ws/labs/<int:lab_id>/nodes/<str:node>/terminal/", TerminalConsumer.as_asgi()),
]
