"""The REST API (django-ninja) under /api/: labs, versions, members, kernel operations, jobs.

Every handler is thin: load the lab through the permission check, call a service, shape the answer.
Service errors carry their HTTP status; handlers here turn them into `{"detail": ...}` bodies (and
`{"errors": [{"path", "message"}]}` for invalid documents and requests).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from ..auth import api_auth
from ..services.errors import Invalid, ServiceError
from .imports import router as imports_router
from .jobs import router as jobs_router
from .labs import router as labs_router
from .members import router as members_router
from .operations import router as operations_router
from .versions import router as versions_router

api = NinjaAPI(
    title="NetDesigner API",
    version="1",
    urls_namespace="api",
    auth=api_auth,
    description="Design, apply and watch Linux network labs. Authenticate with the session cookie "
    "(plus X-CSRFToken on writes) or `Authorization: Bearer <token>` (`manage.py lab token USER`).",
)


@api.exception_handler(ServiceError)
def service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    body: dict[str, Any] = {"detail": exc.detail}
    if isinstance(exc, Invalid):
        body["errors"] = [{"path": e.path, "message": e.message} for e in exc.errors]
    return api.create_response(request, body, status=exc.status)


def _loc_path(loc: Any) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form"}:
        parts = parts[1:]
        if parts and parts[0] == "payload":
            parts = parts[1:]
    return ".".join(parts) or "body"


@api.exception_handler(ValidationError)
def request_invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [{"path": _loc_path(e.get("loc", ())), "message": str(e.get("msg", "invalid"))} for e in exc.errors]
    return api.create_response(request, {"detail": "invalid request", "errors": errors}, status=422)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    detail = "authentication required: log in, or send `Authorization: Bearer <token>`"
    return api.create_response(request, {"detail": detail}, status=401)


api.add_router("/labs", imports_router)
api.add_router("/labs", labs_router)
api.add_router("/labs", versions_router)
api.add_router("/labs", members_router)
api.add_router("/labs", operations_router)
api.add_router("", jobs_router)
