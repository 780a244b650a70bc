"""Server-rendered pages: login, logout, the labs list and its create/import/example forms, bootstrap."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from topology.models import Lab

from .conftest import World, example


def test_root_redirects_to_labs(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/labs/"


def test_labs_needs_login_and_login_works(world: World) -> None:
    client = Client()
    response = client.get("/labs/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    page = client.get("/accounts/login/")
    assert page.status_code == 200 and b'<label for="id_username">' in page.content
    logged = client.post("/accounts/login/", {"username": "viewer", "password": "pw-viewer"})
    assert logged.status_code == 302 and logged["Location"] == "/labs/"
    labs = client.get("/labs/")
    assert b"/labs/%d/" % world.lab.pk in labs.content and b"Tutorial" in labs.content
    out = client.post("/accounts/logout/")
    assert out.status_code == 302
    assert client.get("/labs/").status_code == 302


def test_outsider_sees_no_foreign_labs(world: World) -> None:
    page = world.client("outsider").get("/labs/")
    assert page.status_code == 200 and b"Tutorial" not in page.content


def test_create_from_example_import_and_empty(world: World) -> None:
    client = world.client("outsider")
    made = client.post("/labs/", {"action": "example", "example": "seed-2-bridge", "name": ""})
    lab = Lab.objects.get(slug__startswith="seed-2-bridge-")
    assert made.status_code == 302 and made["Location"] == f"/labs/{lab.pk}/"
    assert lab.owner == world.users["outsider"]
    upload = SimpleUploadedFile("mine.json", json.dumps(example("router")).encode(), "application/json")
    client.post("/labs/", {"action": "import", "file": upload, "name": "Routed"})
    assert Lab.objects.filter(name="Routed").exists()
    client.post("/labs/", {"action": "create", "name": "Blank"})
    assert Lab.objects.filter(name="Blank", version=1).exists()


def test_import_of_a_bad_file_reports_problems(world: World) -> None:
    client = world.client("outsider")
    upload = SimpleUploadedFile("bad.json", b'{"format": "nope"}', "application/json")
    response = client.post("/labs/", {"action": "import", "file": upload}, follow=True)
    assert b"Not created" in response.content and b"format" in response.content
    notjson = SimpleUploadedFile("bad.json", b"{oops", "application/json")
    response = client.post("/labs/", {"action": "import", "file": notjson}, follow=True)
    assert b"not valid JSON" in response.content
    assert Lab.objects.count() == 1


def test_bootstrap_demo_is_idempotent(db: Any, settings: Any, tmp_path: Path) -> None:
    settings.BASE_DIR = tmp_path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    (tmp_path / "topology" / "examples").mkdir(parents=True)
    source = Path(__file__).resolve().parents[2] / "topology" / "examples" / "seed-6-port-forward.json"
    (tmp_path / "topology" / "examples" / "seed-6-port-forward.json").write_text(source.read_text())
    out = io.StringIO()
    call_command("bootstrap_demo", stdout=out)
    secret = tmp_path / ".admin-password"
    password = secret.read_text().strip()
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert password in out.getvalue()
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(password)
    assert Lab.objects.count() == 1
    call_command("bootstrap_demo", stdout=io.StringIO())
    assert Lab.objects.count() == 1 and secret.read_text().strip() == password
    assert User.objects.get(username="admin").check_password(password)


@pytest.mark.parametrize("url", ["/accounts/login/"])
def test_pages_are_accessible_basics(client: Client, url: str) -> None:
    html = client.get(url).content.decode()
    assert '<html lang="en">' in html and 'href="#main"' in html and "<main id=\"main\"" in html


def test_canvas_page_extends_the_base_template(world: World) -> None:
    page = world.client("viewer").get(f"/labs/{world.lab.pk}/")
    assert page.status_code == 200
    assert b'href="#main"' in page.content
    assert world.client("outsider").get(f"/labs/{world.lab.pk}/").status_code == 404
