"""The app's URLs, one include per area: REST API, pages (accounts, labs list), the canvas."""

from django.urls import include, path

from .api import api
from .api_docs import urlpatterns as api_docs_urlpatterns
from .canvas_views import urlpatterns as canvas_urlpatterns
from .class_views import urlpatterns as class_urlpatterns
from .import_pages import urlpatterns as import_urlpatterns
from .pages import urlpatterns as page_urlpatterns

urlpatterns = [
    *api_docs_urlpatterns,
    path("api/", api.urls),
    path("", include(import_urlpatterns)),
    path("", include(page_urlpatterns)),
    path("", include(canvas_urlpatterns)),
    path("", include(class_urlpatterns)),
]
