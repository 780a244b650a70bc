"""The teacher's page /labs/<id>/class/: make a copy of the lab per student (names or a team) and see
every copy with its latest check results in one table, refreshed in place (class.js polls
GET /api/labs/<id>/copies every few seconds)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.views.decorators.csrf import ensure_csrf_cookie

from .models import Team
from .services.copies import class_table, lab_copies_create
from .services.errors import Invalid, NotFound, ServiceError
from .services.permissions import lab_get_for

REFRESH_SECONDS = 3


@login_required
@ensure_csrf_cookie
def class_page(request: HttpRequest, lab_id: int) -> HttpResponse:
    try:
        lab, _role = lab_get_for(user=request.user, lab_id=lab_id)
        rows = class_table(lab=lab, user=request.user)
    except (NotFound, ServiceError):
        raise Http404("lab not found") from None
    if request.method == "POST":
        names = [n for n in (request.POST.get("owners") or "").replace(",", " ").split() if n]
        team = request.POST.get("team") or None
        try:
            made = lab_copies_create(lab=lab, user=request.user, owners=names, team=team)
        except ServiceError as exc:
            detail = "; ".join(str(e) for e in exc.errors) if isinstance(exc, Invalid) and exc.errors else exc.detail
            messages.error(request, f"No copies made: {detail}")
        else:
            messages.success(request, f"{len(made)} cop{'y' if len(made) == 1 else 'ies'}: "
                                      f"{', '.join(c.owner.get_username() for c in made)}.")
        return redirect("lab-class", lab_id=lab.pk)
    context = {
        "lab": lab, "rows": rows, "teams": Team.objects.order_by("name"),
        "refresh_ms": REFRESH_SECONDS * 1000,
    }
    return render(request, "topology/pages/class.html", context)


urlpatterns: list[URLPattern] = [
    path("labs/<int:lab_id>/class/", class_page, name="lab-class"),
]
