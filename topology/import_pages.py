"""The labs page's Import of a shell session, a containerlab file or a JSON document, and the review
page that shows each warning beside the source line it names.

Each offered fix is a one-click form that imports the corrected text again (as the next version of
the lab made by the first import, so taking fixes one by one keeps one lab), and the review links to
the drawing. Everything goes through `services.formats`, as the API does.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from .engine.importers import Finding, apply_fixes
from .services import formats
from .services.errors import Invalid, ServiceError
from .services.permissions import lab_get_for

TEMPLATE = "topology/pages/import_review.html"


def guess_format(text: str) -> str:
    """Pasted text has no file name: a JSON object, a containerlab file, else shell commands."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        return "json"
    if any(line.startswith("topology:") for line in text.splitlines()):
        return "clab"
    return "sh"


def _source(request: HttpRequest) -> tuple[str, str]:
    """(text, format) from the uploaded file, else from the pasted text."""
    upload = request.FILES.get("file")
    chosen = request.POST.get("format") or None
    chosen = None if chosen == "auto" else chosen
    if upload is not None and upload.size:
        try:
            text = upload.read().decode("utf-8").replace("\r\n", "\n")
        except UnicodeDecodeError:
            raise Invalid([], detail=f"{upload.name} is not UTF-8 text") from None
        return text, formats.format_for(filename=upload.name or "", given=chosen)
    text = request.POST.get("text", "").replace("\r\n", "\n")
    if not text.strip():
        raise Invalid([], detail="choose a file or paste the commands to import")
    return text, formats.format_for(filename="", given=chosen or guess_format(text))


def _rows(text: str, warnings: list[Finding]) -> tuple[list[dict[str, Any]], list[Finding]]:
    by_line: dict[int, list[Finding]] = {}
    for w in warnings:
        by_line.setdefault(w.line, []).append(w)
    rows = [{"number": n, "text": line, "warnings": by_line.get(n, [])}
            for n, line in enumerate(text.split("\n"), 1)]
    whole = [w for line, ws in by_line.items() if not 1 <= line <= len(rows) for w in ws]
    return rows, whole


def _review(request: HttpRequest, *, text: str, fmt: str, name: str, warnings: list[Finding], lab: Any = None,
            errors: list[Any] | None = None, status: int = 200) -> HttpResponse:
    rows, whole = _rows(text, warnings)
    for row in rows:
        row["fixes"] = [{"warning": w, "text": apply_fixes(text, [w.fix])} for w in row["warnings"]
                        if w.fix is not None and not w.fixed]
    fixable = [w.fix for w in warnings if w.fix is not None and not w.fixed]
    context = {"rows": rows, "whole": whole, "lab": lab, "errors": errors or [], "format": fmt, "name": name,
               "count": len(warnings), "all_fixed": apply_fixes(text, fixable) if len(fixable) > 1 else None,
               "action": f"/labs/{lab.pk}/import/" if lab is not None else "/labs/import/"}
    return render(request, TEMPLATE, context, status=status)


def _import(request: HttpRequest, lab: Any) -> HttpResponse:
    name = (request.POST.get("name") or "").strip()
    text, fmt = "", "sh"
    try:
        text, fmt = _source(request)
        made, result = formats.lab_import_for(user=request.user, text=text, format=fmt, name=name or None,
                                              lab=lab)
    except formats.ImportInvalid as exc:
        return _review(request, text=text, fmt=fmt, name=name, warnings=exc.warnings, errors=exc.errors,
                       status=422)
    except ServiceError as exc:
        detail = "; ".join(str(e) for e in exc.errors) if isinstance(exc, Invalid) and exc.errors else exc.detail
        messages.error(request, f"Not imported: {detail}")
        return redirect("labs") if lab is None else redirect(f"/labs/{lab.pk}/")
    if not result.warnings and lab is None:
        messages.success(request, f"Imported lab '{made.name}'.")
        return redirect(f"/labs/{made.pk}/")
    return _review(request, text=result.text or text, fmt=fmt, name=name or made.name, warnings=result.warnings,
                   lab=made)


@login_required
@require_POST
def import_new(request: HttpRequest) -> HttpResponse:
    return _import(request, None)


@login_required
@require_POST
def import_again(request: HttpRequest, lab_id: int) -> HttpResponse:
    """Import the (corrected) text again as the next version of a lab the user may edit."""
    try:
        lab, _role = lab_get_for(user=request.user, lab_id=lab_id)
    except ServiceError as exc:
        return HttpResponse(exc.detail, status=exc.status)
    return _import(request, lab)


urlpatterns = [
    path("labs/import/", import_new, name="lab-import"),
    path("labs/<int:lab_id>/import/", import_again, name="lab-import-again"),
]
