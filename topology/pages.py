"""Server-rendered pages: login/logout, the labs list. Owned by the web-application work."""

from django.http import HttpRequest, HttpResponse
from django.urls import path


def index(request: HttpRequest) -> HttpResponse:
    return HttpResponse("NetDesigner")


urlpatterns = [path("", index, name="index")]
