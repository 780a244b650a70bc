"""`manage.py lab ...`: the pure commands here; the kernel ones (root) at the end."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from topology.models import ApiToken, Deployment, Lab, TopologyVersion
from topology.services.tokens import token_user

from .conftest import EXAMPLES


def lab(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("lab", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


SEED1 = str(EXAMPLES / "seed-1-direct.json")


def test_validate_good_and_bad(tmp_path: Path, db: Any) -> None:
    assert lab("validate", SEED1)[0] == 0
    bad = tmp_path / "bad.json"
    document = json.loads(Path(SEED1).read_text())
    document["links"][0]["a"]["interface"] = "veth-red-bridge-0"
    document["nodes"][0]["kind"] = "router"
    bad.write_text(json.dumps(document))
    code, _out, err = lab("validate", str(bad))
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) >= 2
    assert all(": " in line for line in lines)
    assert any(line.startswith("links[0].a.interface: ") for line in lines)
    notjson = tmp_path / "x.json"
    notjson.write_text("{nope")
    code, _out, err = lab("validate", str(notjson))
    assert code == 1 and "not valid JSON" in err
    code, _out, err = lab("validate", str(tmp_path / "missing.json"))
    assert code == 1 and "cannot read" in err


def test_import_creates_then_versions(db: Any) -> None:
    User.objects.create_superuser("root-user", password="x")
    code, out, _ = lab("import", SEED1)
    assert code == 0
    slug = out.strip().splitlines()[-1]
    created = Lab.objects.get(slug=slug)
    assert created.owner.username == "root-user" and created.version == 1
    code, out, _ = lab("import", SEED1, "--name", slug)
    assert out.strip().splitlines()[-1] == slug
    assert TopologyVersion.objects.filter(lab=created).count() == 2
    code, out, _ = lab("import", SEED1, "--name", "Other lab", "--owner", "root-user")
    assert re.fullmatch(r"other-lab-[a-z2-9]{6}", out.strip().splitlines()[-1])  # random suffix
    code, _out, err = lab("import", SEED1, "--owner", "ghost")
    assert code == 1 and "user 'ghost' not found" in err


def test_import_without_any_superuser_uses_admin(db: Any) -> None:
    code, out, _ = lab("import", SEED1, "--name", "solo")
    assert code == 0
    owner = Lab.objects.get(name="solo").owner
    assert owner.username == "admin" and not owner.has_usable_password()


def test_list_show_export_token(db: Any) -> None:
    User.objects.create_superuser("boss", password="x")
    slug = lab("import", SEED1)[1].strip().splitlines()[-1]
    rows = json.loads(lab("list", "--json")[1])
    assert [r["slug"] for r in rows] == [slug] and rows[0]["state"] is None
    Deployment.objects.create(lab=Lab.objects.get(slug=slug), worker_host="h", tag="abc123")
    shown = json.loads(lab("show", slug, "--json")[1])
    assert shown["version"] == 1 and shown["deployment"]["state"] == "pending"
    assert {(n["name"], n["kind"], n["netns"]) for n in shown["nodes"]} == {
        ("red", "namespace", "nd-abc123-red"), ("blue", "namespace", "nd-abc123-blue")}
    exported = json.loads(lab("export", slug, "--format", "json")[1])
    assert exported == json.loads(Path(SEED1).read_text())
    script = lab("export", slug, "--format", "sh")[1]
    assert "ip netns add nd-abc123-red" in script
    code, out, _ = lab("token", "boss")
    key = out.strip().splitlines()[-1]
    assert code == 0 and token_user(key=key) == ApiToken.objects.get(user__username="boss").user
    assert ApiToken.objects.get(user__username="boss").digest != key  # stored hashed
    second = lab("token", "boss")[1].strip().splitlines()[-1]
    assert second != key and token_user(key=second) == token_user(key=key)  # a new one; both valid
    code, _out, err = lab("show", "nope", "--json")
    assert code == 1 and "`lab list`" in err


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


@pytest.mark.root
@needs_root
@pytest.mark.django_db(transaction=True)
def test_plan_apply_ping_destroy_inline() -> None:
    User.objects.create_superuser("kernel-admin", password="x")
    slug = lab("import", SEED1, "--name", "cli-root")[1].strip().splitlines()[-1]
    try:
        plan = json.loads(lab("plan", slug, "--json")[1])
        assert plan["operations"] and all("command" in op for op in plan["operations"])
        code, out, err = lab("apply", slug, "--inline")
        assert code == 0, err
        tag = Deployment.objects.get(lab__slug=slug).tag
        assert json.loads(lab("plan", slug, "--json")[1]) == {"operations": []}
        assert json.loads(lab("drift", slug, "--json")[1]) == []
        code, out, err = lab("ping", slug, "red", "blue", "--count", "1", "--inline", "--json")
        assert code == 0, err
        assert json.loads(out)["received"] == 1
        tables = json.loads(lab("tables", slug, "red", "--json")[1])
        assert "veth-red" in [i["name"] for i in tables["interfaces"]]
        assert tag
    finally:
        code, _out, err = lab("destroy", slug, "--inline")
    assert code == 0, err
    assert lab("destroy", slug, "--inline")[0] == 0  # idempotent
