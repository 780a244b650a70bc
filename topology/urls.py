"""The app's URLs, one include per area: REST API, pages (accounts, labs list), the canvas."""

from django.urls import include, path

from .api import api
from .canvas_views import urlpatterns as canvas_urlpatterns
from .import_pages import urlpatterns as import_urlpatterns
from .pages import urlpatterns as page_urlpatterns

urlpatterns = [
    path("api/", api.urls),
    path("", include(import_urlpatterns)),
    path("", include(page_urlpatterns)),
    path("", include(canvas_urlpatterns)),
]
