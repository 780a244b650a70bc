"""ASGI entry point: HTTP through Django, websockets through Channels (origin-checked, authenticated)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "netdesigner.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from topology.routing import websocket_urlpatterns  # noqa: E402
from topology.ws_auth import TokenOrSessionAuthMiddlewareStack  # noqa: E402
from topology.ws_guard import StrictOriginValidator  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": StrictOriginValidator(TokenOrSessionAuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
