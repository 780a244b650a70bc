"""Server-rendered pages: login/logout, the labs list (create, import, start from a tutorial step).

Each lab links to /labs/<id>/, the canvas page (canvas_views). Forms post back here and go through
the same services as the API; problems come back as messages naming their place.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.generic.base import RedirectView

from .selectors import lab_deployment_or_none, lab_list_for
from .services.errors import Invalid, ServiceError
from .services.imports import document_load
from .services.labs import lab_create, team_for_new_lab, teams_for_new_lab
from .throttle import ThrottledAuthenticationForm

EXAMPLES_DIR = Path(settings.BASE_DIR) / "topology" / "examples"
MAX_LISTED_PROBLEMS = 10


@lru_cache(maxsize=1)
def tutorial_examples() -> dict[str, dict[str, Any]]:
    """The shipped example documents by file stem (seed-1-direct, ..., router)."""
    found = {}
    for file in sorted(EXAMPLES_DIR.glob("*.json")):
        found[file.stem] = json.loads(file.read_text())
    return found


def empty_document(name: str) -> dict[str, Any]:
    return {"format": "netdesigner/v1", "name": name, "nodes": [], "links": [], "layout": {}}


def _report(request: HttpRequest, exc: ServiceError) -> None:
    if isinstance(exc, Invalid):
        lines = [str(e) for e in exc.errors[:MAX_LISTED_PROBLEMS]]
        more = len(exc.errors) - len(lines)
        text = "; ".join(lines) + (f" (and {more} more)" if more > 0 else "")
        messages.error(request, f"Not created: {text}")
    else:
        messages.error(request, f"Not created: {exc.detail}")


def _create_from_post(request: HttpRequest) -> Any:
    action = request.POST.get("action")
    name = (request.POST.get("name") or "").strip()
    team = team_for_new_lab(user=request.user, slug=request.POST.get("team") or None)
    if action == "example":
        key = request.POST.get("example", "")
        document = tutorial_examples().get(key)
        if document is None:
            raise Invalid([], detail=f"unknown example '{key}'")
        return lab_create(user=request.user, name=name or key, topology=document, note=f"from example {key}",
                          team=team)
    if action == "import":
        upload = request.FILES.get("file")
        if upload is None:
            raise Invalid([], detail="choose a file to import")
        document = document_load(text=upload.read(), source=upload.name or "file")
        default = document.get("name") if isinstance(document, dict) else None
        return lab_create(user=request.user, name=name or str(default or "imported"), topology=document,
                          note="imported", team=team)
    if action == "create":
        return lab_create(user=request.user, name=name, topology=empty_document(name or "lab"), team=team)
    raise Invalid([], detail="unknown action")


@login_required
@ensure_csrf_cookie
def labs_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            lab = _create_from_post(request)
        except ServiceError as exc:
            _report(request, exc)
            return redirect("labs")
        messages.success(request, f"Created lab '{lab.name}'.")
        return redirect(f"/labs/{lab.pk}/")
    rows = []
    for lab in lab_list_for(user=request.user):
        deployment = lab_deployment_or_none(lab)
        rows.append({"id": lab.pk, "name": lab.name, "slug": lab.slug, "version": lab.version,
                     "role": lab.role, "owner": lab.owner.username,  # type: ignore[attr-defined]
                     "team": lab.team.name if lab.team else None,
                     "state": deployment.state if deployment else None})
    examples = [{"key": key, "description": doc.get("description", "")} for key, doc in tutorial_examples().items()]
    teams = [{"slug": t.slug, "name": t.name} for t in teams_for_new_lab(user=request.user)]
    return render(request, "topology/pages/labs.html", {"labs": rows, "examples": examples, "teams": teams})


urlpatterns = [
    path("", RedirectView.as_view(url="/labs/", permanent=False), name="index"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True,
                                                         authentication_form=ThrottledAuthenticationForm),
         name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("labs/", labs_page, name="labs"),
]
