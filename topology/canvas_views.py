"""The canvas page /labs/<id>/. Owned by the canvas work."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
