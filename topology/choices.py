"""Every choice the app knows, declared once."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    EDITOR = "editor", "Editor"
    OPERATOR = "operator", "Operator"
    OWNER = "owner", "Owner"

    @classmethod
    def rank(cls, role: str | None) -> int:
        """viewer < editor < operator < owner; no role ranks 0."""
        order = {cls.VIEWER: 1, cls.EDITOR: 2, cls.OPERATOR: 3, cls.OWNER: 4}
        return order.get(role, 0) if role else 0  # type: ignore[call-overload]


class JobKind(models.TextChoices):
    APPLY = "apply", "Apply"
    DESTROY = "destroy", "Destroy"
    PING = "ping", "Ping"
    TABLES = "tables", "Read tables"
    DRIFT = "drift", "Observe drift"
    CLEANUP = "cleanup", "Clean up orphans"
    PLAN = "plan", "Plan"
    EXPLAIN = "explain", "Explain reachability"
    TEST = "test", "Run the checks"
    CAPTURE = "capture", "Capture packets"
    DELETE = "delete", "Destroy and delete the lab"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    # A newer apply/destroy of the lab was requested before this one got the lab: it never ran.
    SUPERSEDED = "superseded", "Superseded"

    @classmethod
    def terminal(cls) -> frozenset[JobStatus]:
        """States a job never leaves (NetBox's TERMINAL_STATE_CHOICES)."""
        return frozenset({cls.SUCCEEDED, cls.FAILED, cls.SUPERSEDED})


class DeploymentState(models.TextChoices):
    PENDING = "pending", "Pending"
    APPLYING = "applying", "Applying"
    DEPLOYED = "deployed", "Deployed"
    FAILED = "failed", "Failed"
    DESTROYING = "destroying", "Destroying"
    DESTROYED = "destroyed", "Destroyed"
