"""Importing documents from files (the `lab import` command and the labs page's upload)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q

from ..models import Lab
from .errors import FieldError, Invalid, NotFound
from .labs import lab_create, lab_topology_save

MAX_FILE_BYTES = 5 * 1024 * 1024


def document_load(*, text: str | bytes, source: str = "document") -> Any:
    """JSON text to a value; Invalid naming the line and column when it is not JSON."""
    if len(text) > MAX_FILE_BYTES:
        raise Invalid([FieldError(source, f"larger than {MAX_FILE_BYTES // 1024 // 1024} MiB")], detail="too large")
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid([FieldError(source, f"not valid JSON: {exc}")], detail="not JSON") from None


def document_read(*, path: str) -> Any:
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise NotFound(f"cannot read {path}: {exc.strerror}") from None
    return document_load(text=data, source=path)


def default_owner() -> Any:
    """Who owns labs imported without --owner: the first superuser, else a user `admin` (no password
    until `manage.py bootstrap_demo` or `changepassword admin` sets one)."""
    user_model = get_user_model()
    superuser = user_model.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
    if superuser is not None:
        return superuser
    admin, created = user_model.objects.get_or_create(username="admin", defaults={"is_staff": True})
    if created:
        admin.set_unusable_password()
        admin.save()
    return admin


def user_by_name(*, username: str) -> Any:
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise NotFound(f"user '{username}' not found; create it with `manage.py createsuperuser`")
    return user


def lab_find(*, ref: str) -> Lab:
    """A lab by slug (or id, or exact name when that is unambiguous), for the command line."""
    lab = Lab.objects.filter(slug=ref).first()
    if lab is None and ref.isdigit():
        lab = Lab.objects.filter(pk=int(ref)).first()
    if lab is None:
        named = list(Lab.objects.filter(name=ref)[:2])
        lab = named[0] if len(named) == 1 else None
    if lab is None:
        raise NotFound(f"lab '{ref}' not found; `lab list` shows the labs")
    return lab


def lab_import(*, document: Any, name: str | None = None, owner: Any = None) -> tuple[Lab, bool]:
    """Create a lab from a document, or add a version to the lab called `name` when it exists.

    Returns (lab, created). `owner=None` picks `default_owner()` for a new lab.
    """
    if name:
        existing = Lab.objects.filter(Q(slug=name) | Q(name=name)).order_by("pk").first()
        if existing is not None:
            lab_topology_save(lab=existing, user=None, version=existing.version, topology=document, note="imported")
            return existing, False
    if not name:
        name = document.get("name") if isinstance(document, dict) and isinstance(document.get("name"), str) else None
    lab = lab_create(user=owner or default_owner(), name=name or "lab", topology=document, note="imported")
    return lab, True
