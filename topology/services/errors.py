"""Errors raised by services; each carries the HTTP status the API maps it to.

One family so that the API, the admin and the `lab` command can each turn them into their own
answer (a JSON body, a message, a line on stderr and exit 1) without knowing every case.
"""

from __future__ import annotations

from dataclasses import dataclass


class ServiceError(Exception):
    status = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(ServiceError):
    """Missing, or invisible to the caller (the two must look the same: existence must not leak)."""

    status = 404


class Forbidden(ServiceError):
    """The caller sees the lab but their role is not enough."""

    status = 403


class Conflict(ServiceError):
    """Stale version, lab not deployed, or another state that forbids the request now."""

    status = 409


class TooManyRequests(ServiceError):
    """The caller already has as many of these jobs running as allowed; one must finish first."""

    status = 429


class WorkerTimeout(ServiceError):
    """The worker did not answer in time (it may be down or busy)."""

    status = 504


class WorkerFailed(ServiceError):
    """The worker ran the job and it failed; the detail is the job's error."""

    status = 502


@dataclass(frozen=True)
class FieldError:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class Invalid(ServiceError):
    """A document or a request broke the rules; `errors` lists every problem with its place."""

    status = 422

    def __init__(self, errors: list[FieldError], detail: str = "invalid document") -> None:
        super().__init__(detail)
        self.errors = errors

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors) or self.detail


LAB_NOT_FOUND = "lab not found"
