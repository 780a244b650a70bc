"""4xx, never 5xx, on /api/ (issue 11 item 4): limits enforced before anything is parsed into objects,
and every API error answered as JSON whatever DEBUG says.

A middleware, not a per-handler check, because the faults it stops happen before a handler runs:
Django raises RequestDataTooBig when the body is first read (a 500 page with DEBUG, an HTML 400
without), ninja's `json.loads` accepts NaN and Infinity (which no database stores as JSON), and a
60,000-node document would be turned into pydantic and engine objects before the node limit is seen.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

from .engine.fields import walk_strings

log = logging.getLogger(__name__)
API_PREFIX = "/api/"
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class _NotJson(ValueError):
    pass


def _constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON number; send a finite number")


def _error(status: int, detail: str, errors: list[dict[str, str]] | None = None) -> JsonResponse:
    body: dict[str, Any] = {"detail": detail}
    if errors is not None:
        body["errors"] = errors
    return JsonResponse(body, status=status)


def body_problem(raw: bytes) -> JsonResponse | None:
    """The answer for a JSON body that must not reach a handler, or None when it may."""
    if not raw.strip():
        return None
    try:
        value = json.loads(raw, parse_constant=_constant)
    except _NotJson as exc:
        return _error(422, "invalid request", [{"path": "body", "message": str(exc)}])
    except RecursionError:
        return _error(400, "the JSON body is nested too deeply")
    except (ValueError, UnicodeDecodeError):
        return None  # ninja answers malformed JSON itself (a 400 or 422 with its own message)
    if not isinstance(value, dict):  # every operation of this API takes an object (or no body)
        return _error(422, "invalid request", [{"path": "body", "message": "the body must be a JSON object"}])
    # JSON can only spell NUL as \u0000 (json.loads refuses a raw one): no such text, no walk
    nul = [{"path": path or "body", "message": "holds a NUL character (U+0000); remove it"}
           for path, text in walk_strings(value) if "\x00" in text] if b"\\u0000" in raw else []
    if nul:
        return _error(422, "invalid request", nul[:50])
    return _count_problem(value)


def _count_problem(value: Any) -> JsonResponse | None:
    """Node and link counts of a topology in the body, checked on the raw JSON (no object built)."""
    topo = value.get("topology") if isinstance(value, dict) else None
    if not isinstance(topo, dict):
        return None
    errors = []
    for key, limit in (("nodes", settings.NETDESIGNER_MAX_NODES), ("links", settings.NETDESIGNER_MAX_LINKS)):
        items = topo.get(key)
        if isinstance(items, list) and len(items) > limit:
            errors.append({"path": f"topology.{key}", "message": f"{len(items)} {key}; at most {limit}"})
    if errors:
        return _error(422, f"the document has {len(errors)} problem(s)", errors)
    return None


class ApiGuardMiddleware:
    """Body size (413) and body content limits before the API sees a request; JSON for every error."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        refused = self._refuse(request)
        if refused is not None:
            return refused
        try:
            response = self.get_response(request)
        except RequestDataTooBig:
            return self._too_big()
        return self._as_json(response)

    def _refuse(self, request: HttpRequest) -> HttpResponse | None:
        # NUL in the path or the query: PostgreSQL refuses it in any text parameter (a DataError, 500)
        nul = [{"path": "path", "message": "holds a NUL character (U+0000)"}] if "\x00" in request.path else []
        nul += [{"path": f"query.{key}", "message": "holds a NUL character (U+0000)"}
                for key, values in request.GET.lists() if "\x00" in key or any("\x00" in v for v in values)]
        if nul:
            return _error(422, "invalid request", nul)
        if request.method not in BODY_METHODS:
            return None
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _error(400, "Content-Length is not a number")
        if limit is not None and length > limit:
            return self._too_big()
        try:
            raw = request.body  # Django enforces the limit here too (a body without Content-Length)
        except RequestDataTooBig:
            return self._too_big()
        if "json" not in (request.content_type or "") and not raw.lstrip().startswith((b"{", b"[")):
            return None
        return body_problem(raw)

    @staticmethod
    def _too_big() -> JsonResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return _error(413, f"the request body is over {limit:,} bytes (NETDESIGNER_MAX_BODY_BYTES); "
                      "send a smaller document")

    @staticmethod
    def _as_json(response: HttpResponse) -> HttpResponse:
        """An HTML or text error (Django's 404/500/400/403 pages, ninja's DEBUG traceback) as JSON."""
        if response.status_code < 400 or "json" in response.get("Content-Type", ""):
            return response
        converted = _error(response.status_code, response.reason_phrase or "error")
        for header in ("Allow", "WWW-Authenticate", "Retry-After"):  # a 405 must still say what is allowed
            if header in response:
                converted[header] = response[header]
        return converted

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path.startswith(API_PREFIX) or isinstance(exception, RequestDataTooBig):
            return None
        log.exception("API request %s %s failed", request.method, request.path, exc_info=exception)
        return _error(500, "internal error: the server logged it; please report it")
