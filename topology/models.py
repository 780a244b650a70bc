"""The rows NetDesigner keeps: teams, labs, roles, versions, deployments, jobs, audit, tokens.

Rules live in `topology.services` and reads in `topology.selectors`; models hold data and tiny helpers.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from .choices import DeploymentState, JobKind, JobStatus, Role


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class TeamMembership(models.Model):
    """A user's role on every lab of a team."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="unique_team_member")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"


class Lab(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True, default="")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_labs")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="labs")
    # The number of the newest TopologyVersion: the optimistic-concurrency token of PUT .../topology.
    version = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    # A copy made for a student (services.copies): the lab it was copied from and that lab's version
    # then, which a reset brings back.
    template = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="copies")
    template_version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.slug


class LabMembership(models.Model):
    """A user's role on one lab (on top of any team role: the higher one counts)."""

    lab = models.ForeignKey(Lab, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lab_memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["lab", "user"], name="unique_lab_member")]

    def __str__(self) -> str:
        return f"{self.user} on {self.lab} ({self.role})"


class TopologyVersion(models.Model):
    lab = models.ForeignKey(Lab, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    document = models.JSONField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)
    size = models.PositiveIntegerField(default=0, editable=False)  # bytes of the document, for the quota

    class Meta:
        ordering = ["lab", "-number"]
        constraints = [models.UniqueConstraint(fields=["lab", "number"], name="unique_lab_version")]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.size:
            self.size = document_size(self.document)
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return f"{self.lab} v{self.number}"


def document_size(document: Any) -> int:
    """The bytes a document takes as compact JSON: what counts against its owner's storage quota."""
    return len(json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass"))


def new_deployment_tag() -> str:
    """A short lowercase id that names the lab's namespaces: nd-<tag>-<node>."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(6))


class Deployment(models.Model):
    """What of a lab is in the kernel of which worker host."""

    lab = models.OneToOneField(Lab, on_delete=models.CASCADE, related_name="deployment")
    tag = models.CharField(max_length=12, unique=True, default=new_deployment_tag)
    worker_host = models.CharField(max_length=255)
    version = models.ForeignKey(
        TopologyVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="deployments"
    )
    state = models.CharField(max_length=16, choices=DeploymentState.choices, default=DeploymentState.PENDING)
    error = models.TextField(blank=True, default="")
    # Bumped by every apply/destroy request; a write job carries the value of its request, and one
    # whose value is older when it gets the lab was superseded (topology.jobs.lifecycle).
    generation = models.PositiveBigIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.lab} @ {self.worker_host} [{self.tag}]"


class Job(models.Model):
    """A long piece of work with a lifecycle, progress and a log (apply, destroy, ping, ...)."""

    # Null only for site-wide jobs (cleanup of orphaned namespaces).
    lab = models.ForeignKey(Lab, null=True, blank=True, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=16, choices=JobKind.choices)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    params = models.JSONField(default=dict, blank=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    log = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True, default="")
    result = models.JSONField(null=True, blank=True)
    worker_host = models.CharField(max_length=255, blank=True, default="")
    # The deployment's generation this write job was requested at (null for reads).
    generation = models.PositiveBigIntegerField(null=True, blank=True)
    # When its message was last sent to the broker: a queued job not sent for long was lost (Redis
    # restarted) and is sent again (topology.jobs.recovery).
    dispatched = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["lab", "status"]), models.Index(fields=["status", "finished"])]

    def __str__(self) -> str:
        return f"job {self.pk} {self.kind} {self.status}"


class AuditEvent(models.Model):
    lab = models.ForeignKey(Lab, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=64)
    detail = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M} {self.user} {self.action}"


def new_token_key() -> str:
    return secrets.token_hex(20)


def token_digest(key: str) -> str:
    """What is stored of a token: its SHA-256. The key is 160 random bits, so a fast hash is enough
    (nothing to brute-force), and a leaked database holds no usable token."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class ApiToken(models.Model):
    """An API token: only its digest, a display prefix and an expiry are stored. The plain key exists
    on the instance that made it (`token.key` right after creation), and is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False, default="")
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField(null=True, blank=True)

    @property
    def key(self) -> str | None:
        return getattr(self, "_key", None)

    @key.setter
    def key(self, value: str) -> None:
        self._key = value
        self.digest = token_digest(value)
        self.prefix = value[:6]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.digest:
            self.key = new_token_key()
        if self.expires is None:
            self.expires = timezone.now() + timedelta(days=settings.API_TOKEN_DAYS)
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return f"token {self.prefix}… of {self.user}"


def new_install_ident() -> str:
    return secrets.token_hex(8)


class Install(models.Model):
    """This install's identity (one row): the id in the mark of every namespace it creates, so that
    several installs sharing one machine each touch only their own (see topology/install.py)."""

    ident = models.CharField(max_length=32, unique=True, default=new_install_ident)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"install {self.ident}"
