"""`manage.py bootstrap_demo`: a first login and a lab to look at, safe to run again.

Creates the superuser `admin` with a random password on first run (saved to BASE_DIR/.admin-password,
mode 600, and printed), and a demo lab from the tutorial's last step when there is no lab yet.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from topology.models import Lab
from topology.services.labs import lab_create

DEMO_EXAMPLE = "seed-6-port-forward"


def password_file() -> Path:
    return Path(settings.BASE_DIR) / ".admin-password"


def write_secret(path: Path, text: str) -> None:
    """Write a file readable by its owner only, without a moment where it is world-readable."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text + "\n")
    os.chmod(path, 0o600)


class Command(BaseCommand):
    help = "Create the superuser `admin` (random password in .admin-password) and a demo lab; idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        admin = user_model.objects.filter(username="admin").first()
        # The port `make run` serves on (scripts/run.sh exports PORT before calling this command).
        base = f"http://127.0.0.1:{os.environ.get('PORT') or '8000'}"
        url = f"{base}/accounts/login/"
        if admin is None or not admin.has_usable_password():
            password = secrets.token_urlsafe(12)
            if admin is None:
                admin = user_model.objects.create_superuser("admin", password=password)
            else:  # made by `lab import` without an owner: make it a real login
                admin.is_staff = admin.is_superuser = admin.is_active = True
                admin.set_password(password)
                admin.save()
            write_secret(password_file(), password)
            self.stdout.write(f"Created superuser 'admin'. Log in at {url} as admin / {password}")
            self.stdout.write(f"(the password is saved in {password_file()}, readable by you only)")
        else:
            where = f"; its password is in {password_file()}" if password_file().exists() else ""
            self.stdout.write(f"Superuser 'admin' exists{where}. Log in at {url}")
        if not Lab.objects.exists():
            document = json.loads((Path(settings.BASE_DIR) / "topology" / "examples" / f"{DEMO_EXAMPLE}.json").read_text())
            lab = lab_create(user=admin, name="Port forward demo", topology=document, note="demo")
            self.stdout.write(f"Created demo lab '{lab.slug}': {base}/labs/{lab.pk}/")
        else:
            self.stdout.write("Labs exist already: no demo lab created.")
