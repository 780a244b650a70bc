"""Two installs on one machine (two SQLite databases, one kernel), driven through `manage.py lab ...
--inline` as an operator would: neither's cleanup, apply or destroy touches the other's namespaces, and a
hand-made namespace under a lab's prefix is reported and left alone.

Everything this test makes is removed in `finally`: each install's namespaces through the engine with
that install's id, the hand-made one with `ip netns del`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from topology.engine import api as engine
from topology.engine.observer import read_mark

pytestmark = [pytest.mark.root, pytest.mark.services]
ROOT = Path(__file__).resolve().parents[2]
SEED1 = str(ROOT / "topology" / "examples" / "seed-1-direct.json")
SEED2 = str(ROOT / "topology" / "examples" / "seed-2-bridge.json")


class Install:
    def __init__(self, path: Path, redis_url: str) -> None:
        self.path = path
        self.env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "REDIS_URL": redis_url,
                    "DJANGO_SUPERUSER_PASSWORD": "x-Passw0rd!", "NETDESIGNER_WORKER_HOST": "two-installs"}
        self.env.pop("DJANGO_SETTINGS_MODULE", None)

    def manage(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        out = subprocess.run([sys.executable, str(ROOT / "manage.py"), *argv], env=self.env, cwd=ROOT,
                             capture_output=True, text=True, timeout=300)
        if check:
            assert out.returncode == 0, f"{argv}: {out.stdout}\n{out.stderr}"
        return out

    def lab(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.manage("lab", *argv, check=check)

    def setup(self, template: Path) -> None:
        """A copy of a migrated database with an admin: its install id is made on first use."""
        shutil.copyfile(template, self.path)

    def sql(self, query: str, *args: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.path) as db:
            return db.execute(query, args).fetchall()

    @property
    def id(self) -> str:
        rows = self.sql("SELECT ident FROM topology_install")
        assert len(rows) == 1, rows
        return str(rows[0][0])

    def deploy(self, name: str, document: str = SEED1) -> str:
        slug = self.lab("import", document, "--name", name).stdout.strip().splitlines()[-1]
        self.lab("apply", slug, "--inline")
        rows = self.sql("SELECT d.tag FROM topology_deployment d JOIN topology_lab l ON d.lab_id = l.id "
                        "WHERE l.slug = ?", slug)
        return str(rows[0][0])

    def forget(self, name: str) -> None:
        """As if the lab had been deleted while deployed: its namespaces become orphans."""
        self.sql("DELETE FROM topology_deployment WHERE lab_id IN (SELECT id FROM topology_lab WHERE name = ?)",
                 name)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Path:
    path = tmp_path_factory.mktemp("installs") / "template.sqlite3"
    t = Install(path, redis_url)
    t.manage("migrate", "--noinput", "-v", "0")
    t.manage("createsuperuser", "--noinput", "--username", "admin", "--email", "a@example.org")
    return path


def namespaces(tag: str) -> list[str]:
    return sorted(n for n in os.listdir("/run/netns") if n.startswith(f"nd-{tag}-"))


def test_two_installs_never_touch_each_others_namespaces(tmp_path: Path, redis_url: str, template: Path) -> None:
    a, b = Install(tmp_path / "a.sqlite3", redis_url), Install(tmp_path / "b.sqlite3", redis_url)
    made: list[tuple[Install, str]] = []
    handmade = ""
    try:
        a.setup(template)
        b.setup(template)
        a1 = a.deploy("a1")
        made.append((a, a1))
        a2 = a.deploy("a2", SEED2)
        made.append((a, a2))
        b1 = b.deploy("b1")
        made.append((b, b1))
        assert a.id != b.id and a.id.isalnum() and b.id.isalnum()  # made on first use, kept in the database
        b2 = b.deploy("b2")
        made.append((b, b2))
        assert {read_mark(ns) for ns in namespaces(a1)} == {f"nd:{a1}@{a.id}"}
        assert {read_mark(ns) for ns in namespaces(b1)} == {f"nd:{b1}@{b.id}"}
        handmade = f"nd-{a1}-handmade"
        subprocess.run(["ip", "netns", "add", handmade], check=True)
        before_b = namespaces(b1) + namespaces(b2)

        # cleanup: only this install's namespaces whose deployment is gone
        a.forget("a2")
        b.forget("b2")
        dry = json.loads(a.lab("cleanup", "--dry-run", "--json").stdout)
        assert dry == {"namespaces": namespaces(a2)} and len(dry["namespaces"]) == 3
        assert namespaces(a2) == dry["namespaces"]  # a dry run removes nothing
        assert json.loads(a.lab("cleanup", "--json").stdout) == dry
        assert namespaces(a2) == []
        assert namespaces(b1) + namespaces(b2) == before_b and handmade in namespaces(a1)
        assert json.loads(a.lab("cleanup", "--dry-run", "--json").stdout) == {"namespaces": []}

        # apply and drift: the hand-made namespace under a1's prefix is reported, never touched
        a.lab("apply", "a1", "--inline")
        assert handmade in namespaces(a1)
        drift = json.loads(a.lab("drift", "a1", "--json").stdout)
        assert [(d["what"], "not made by this NetDesigner install" in d["actual"]) for d in drift] == [
            (handmade, True)]
        plan = a.lab("plan", "a1").stdout
        assert f"# {handmade} is there but this NetDesigner install did not make it" in plan

        # destroy: a1's own namespaces go, the hand-made one and b's stay
        out = a.lab("destroy", "a1", "--inline").stdout
        assert re.search(r"destroyed 'a1-[a-z0-9]+' \(2 namespace\(s\) removed\)", out), out
        assert namespaces(a1) == [handmade]
        assert namespaces(b1) + namespaces(b2) == before_b

        # b cleans up only its own orphan
        assert json.loads(b.lab("cleanup", "--json").stdout) == {"namespaces": before_b[len(namespaces(b1)):]}
        assert namespaces(b2) == [] and len(namespaces(b1)) == 2
        b.lab("destroy", "b1", "--inline")
        assert namespaces(b1) == []
    finally:
        for install, tag in made:
            engine.destroy(tag, install=install.id)
        if handmade:
            subprocess.run(["ip", "netns", "del", handmade], check=False)


def test_a_hand_made_namespace_with_a_designed_name_stops_apply(tmp_path: Path, redis_url: str,
                                                                template: Path) -> None:
    a = Install(tmp_path / "a.sqlite3", redis_url)
    tag = ""
    try:
        a.setup(template)
        tag = a.deploy("a1")
        a.lab("destroy", "a1", "--inline")
        subprocess.run(["ip", "netns", "add", f"nd-{tag}-red"], check=True)  # someone's, with red's name
        out = a.lab("apply", "a1", "--inline", check=False)
        assert out.returncode == 1
        assert f"nd-{tag}-red: already there but not made by this NetDesigner install" in out.stderr
        assert "ip netns del" in out.stderr
        assert namespaces(tag) == [f"nd-{tag}-red"]  # nothing made beside it, nothing removed
        assert read_mark(f"nd-{tag}-red") == ""
    finally:
        if tag:
            engine.destroy(tag, install=a.id)
            subprocess.run(["ip", "netns", "del", f"nd-{tag}-red"], check=False)


