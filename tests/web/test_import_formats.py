"""`lab import --format sh|clab [--apply-fixes]`, `lab export --format clab`, and POST /api/labs/import."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from topology.engine import api
from topology.models import Lab

from .conftest import World

FIXTURES = Path(settings.BASE_DIR) / "tests" / "importers" / "fixtures"
TUTORIAL = FIXTURES / "tutorial-slips.sh"
CLAB = FIXTURES / "clab" / "bridge-hosts.clab.yml"


def lab(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("lab", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def current(slug: str) -> dict[str, Any]:
    found = Lab.objects.get(slug=slug)
    document: dict[str, Any] = found.versions.get(number=found.version).document
    return document


def test_import_shell_warns_by_line_on_stderr(db: Any) -> None:
    User.objects.create_superuser("boss", password="x")
    code, out, err = lab("import", str(TUTORIAL))
    assert code == 0, err
    lines = err.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == [f"line {n}" for n in (25, 29, 33, 35, 38, 45)]
    assert "Fix: ip link set veth-blue netns blue" in lines[0]
    slug = out.strip().splitlines()[-1]
    assert Lab.objects.get(slug=slug).name == "tutorial-slips"
    assert "routes" not in {n["name"]: n for n in current(slug)["nodes"]}["blue"]  # left out as typed


def test_import_shell_with_fixes(db: Any) -> None:
    User.objects.create_superuser("boss", password="x")
    code, out, err = lab("import", str(TUTORIAL), "--apply-fixes", "--name", "tutorial")
    assert code == 0, err
    lines = err.strip().splitlines()
    assert sum("(fixed: " in line for line in lines) == 5 and len(lines) == 6
    blue = {n["name"]: n for n in current(out.strip().splitlines()[-1])["nodes"]}["blue"]
    assert blue["routes"][-1] == {"to": "default", "via": "192.168.15.5"}


@pytest.mark.parametrize(("suffix", "given"), [(".txt", None), (".cmds", "sh"), (".clab.yaml", None),
                                               (".topo", "clab")])
def test_format_from_extension_or_flag(db: Any, tmp_path: Path, suffix: str, given: str | None) -> None:
    User.objects.create_superuser("boss", password="x")
    source = CLAB if "clab" in (suffix + (given or "")) or given == "clab" else TUTORIAL
    file = tmp_path / f"lab{suffix}"
    file.write_text(source.read_text())
    code, out, err = lab("import", str(file), *(["--format", given] if given else []))
    assert code == 0, err
    kinds = {n["kind"] for n in current(out.strip().splitlines()[-1])["nodes"]}
    assert "bridge" in kinds


def test_import_refused_lists_the_warnings_and_the_problems(db: Any, tmp_path: Path) -> None:
    User.objects.create_superuser("boss", password="x")
    file = tmp_path / "dup.sh"
    file.write_text("ip netns add a\nip netns add b\nip link add x netns a type veth peer name y netns b\n"
                    "ip -n a addr add 10.0.0.1/24 dev x\nip -n b addr add 10.0.0.1/24 dev y\nfrobnicate\n")
    code, out, err = lab("import", str(file))
    assert code == 1 and "already used" in err and "line 6: 'frobnicate'" in err
    assert not Lab.objects.exists()


def test_unreadable_clab_is_refused(db: Any, tmp_path: Path) -> None:
    file = tmp_path / "bad.clab.yml"
    file.write_text("name: [oops\n")
    code, _out, err = lab("import", str(file))
    assert code == 1 and "not valid YAML" in err


def test_export_clab_then_import_gives_the_same_document(db: Any, tmp_path: Path) -> None:
    User.objects.create_superuser("boss", password="x")
    seed = Path(settings.BASE_DIR) / "topology" / "examples" / "seed-6-port-forward.json"
    slug = lab("import", str(seed))[1].strip().splitlines()[-1]
    code, text, err = lab("export", slug, "--format", "clab")
    assert code == 0, err
    assert yaml.safe_load(text)["name"] == "seed-6-port-forward"
    file = tmp_path / "again.clab.yml"
    file.write_text(text)
    code, out, err = lab("import", str(file))
    assert code == 0 and err == ""
    assert api.parse(current(out.strip().splitlines()[-1])) == api.parse(json.loads(seed.read_text()))


def post(client: Client, body: Any) -> Any:
    return client.post("/api/labs/import", data=json.dumps(body), content_type="application/json")


def test_api_import_shell(world: World) -> None:
    answer = post(world.client("viewer"), {"name": "From the page", "format": "sh",
                                            "text": TUTORIAL.read_text()})
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert set(body) >= {"id", "slug", "version", "warnings"} and body["version"] == 1
    assert [w["line"] for w in body["warnings"]] == [25, 29, 33, 35, 38, 45]
    assert body["warnings"][0]["fix"] == {"line": 25, "text": "ip link set veth-blue netns blue"}
    created = Lab.objects.get(pk=body["id"])
    assert created.owner == world.users["viewer"] and created.name == "From the page"


def test_api_import_with_fixes_and_clab(world: World) -> None:
    client = world.client("editor")
    body = post(client, {"name": "fixed", "format": "sh", "text": TUTORIAL.read_text(), "apply_fixes": True}).json()
    assert [w["fixed"] for w in body["warnings"]].count(True) == 5
    assert [(c["from"], c["to"]) for c in body["checks"]] == [("red", "192.168.15.2"), ("blue", "192.168.15.5")]
    answer = post(client, {"name": "clab", "format": "clab", "text": CLAB.read_text()})
    assert answer.status_code == 201 and answer.json()["warnings"][0]["line"] == 5


def test_api_import_refusals(world: World) -> None:
    client = world.client("editor")
    assert post(Client(), {"format": "sh", "text": "ip netns add a"}).status_code == 401
    bad = post(client, {"format": "clab", "text": "name: [oops"})
    assert bad.status_code == 422 and bad.json()["warnings"][0]["message"].startswith("not valid YAML")
    dup = post(client, {"format": "sh", "text": "ip netns add a\nip netns add b\nip link add x netns a type veth "
                                                "peer name y netns b\nip -n a addr add 10.0.0.1/24 dev x\n"
                                                "ip -n b addr add 10.0.0.1/24 dev y\nip -n c link"})
    assert dup.status_code == 422
    assert any("already used" in e["message"] for e in dup.json()["errors"])
    assert dup.json()["warnings"][0]["line"] == 6
    assert post(client, {"format": "yaml", "text": "x"}).status_code == 422
    assert post(client, {"format": "json", "text": "{nope"}).status_code == 422


def test_api_import_as_a_new_version_needs_the_editor_role(world: World) -> None:
    body = {"format": "sh", "text": "ip netns add red\nip netns add blue", "lab": world.lab.pk}
    assert post(world.client("outsider"), body).status_code == 404
    assert post(world.client("viewer"), body).status_code == 403
    answer = post(world.client("editor"), body)
    assert answer.status_code == 201 and answer.json()["version"] == 2
    world.lab.refresh_from_db()
    assert world.lab.version == 2


def test_api_export_clab(world: World) -> None:
    answer = world.client("viewer").get(f"/api/labs/{world.lab.pk}/export?format=clab")
    assert answer.status_code == 200
    assert set(yaml.safe_load(answer.content)["topology"]["nodes"]) == {"red", "blue"}


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


@pytest.mark.root
@needs_root
@pytest.mark.django_db(transaction=True)
def test_tutorial_with_fixes_applies_and_passes_its_checks() -> None:
    """Done-when: the tutorial as typed, with its slips, imported with --apply-fixes, applied with
    `lab apply --inline`; its checks (red reaches blue, blue reaches the host) measured with `lab ping`."""
    User.objects.create_superuser("kernel-admin", password="x")
    code, out, err = lab("import", str(TUTORIAL), "--apply-fixes", "--name", "tutorial-fixed")
    assert code == 0, err
    slug = out.strip().splitlines()[-1]
    try:
        code, _out, err = lab("apply", slug, "--inline")
        assert code == 0, err
        for source, target in (("red", "192.168.15.2"), ("blue", "192.168.15.5")):
            code, out, err = lab("ping", slug, source, target, "--count", "2", "--inline", "--json")
            assert code == 0, err
            assert json.loads(out)["received"] == 2, (source, target, out)
    finally:
        code, _out, err = lab("destroy", slug, "--inline")
    assert code == 0, err
