"""The canvas page /labs/<id>/: a shell that loads the built TypeScript app (frontend/dist).

The hashed file names come from Vite's manifest (frontend/dist/.vite/manifest.json), read per request
while DEBUG (a rebuild shows at once) and cached otherwise. Everything else (the document, the
deployment) the app fetches from the REST API itself.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.views.decorators.csrf import ensure_csrf_cookie

from .models import Lab
from .services.permissions import lab_role_for

MANIFEST = Path(settings.BASE_DIR) / "frontend" / "dist" / ".vite" / "manifest.json"
ENTRY = "src/main.ts"


def _read_assets(manifest: Path) -> dict[str, Any]:
    """The entry's JS and CSS paths (relative to STATIC_URL); empty when the canvas was never built."""
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"js": None, "css": []}
    entry: dict[str, Any] = data.get(ENTRY) or next((v for v in data.values() if v.get("isEntry")), {})
    return {"js": entry.get("file"), "css": list(entry.get("css", []))}


@lru_cache(maxsize=1)
def _cached_assets() -> dict[str, Any]:
    return _read_assets(MANIFEST)


def canvas_assets() -> dict[str, Any]:
    return _read_assets(MANIFEST) if settings.DEBUG else _cached_assets()


@login_required
@ensure_csrf_cookie
def lab_canvas(request: HttpRequest, lab_id: int) -> HttpResponse:
    """The designer for one lab; 404 (not 403) when the user has no role, so existence does not leak."""
    lab = Lab.objects.select_related("owner", "team").filter(pk=lab_id).first()
    role = lab_role_for(user=request.user, lab=lab) if lab is not None else None
    if lab is None or role is None:
        raise Http404("lab not found")
    config = {
        "labId": lab.pk,
        "role": role,
        "user": request.user.get_username(),
        "wsPath": f"/ws/labs/{lab.pk}/",
    }
    context = {"lab": lab, "role": role, "config": config, "assets": canvas_assets()}
    return render(request, "topology/canvas.html", context)


urlpatterns: list[URLPattern] = [
    path("labs/<int:lab_id>/", lab_canvas, name="lab-canvas"),
]
