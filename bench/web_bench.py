"""Web tier benchmark (a script, not a test): GET /api/labs with many labs, and saving a 2,000-node lab.

Runs the Django test client against a throwaway SQLite database, so it needs no server, Redis or root:

    .venv/bin/python bench/web_bench.py [--labs 200] [--nodes 2000] [--repeat 5]

Prints wall times (median of --repeat runs) and the number of SQL queries of each request.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def big_document(nodes: int) -> dict[str, Any]:
    """`nodes` namespaces cabled in pairs, each pair on its own /30."""
    names = [f"n{i}" for i in range(nodes)]
    links = []
    for pair in range(nodes // 2):
        base = pair * 4
        net = f"10.{base // 65536 % 256}.{base // 256 % 256}.{base % 256}"
        a_addr = net.rsplit(".", 1)[0] + f".{base % 256 + 1}/30"
        b_addr = net.rsplit(".", 1)[0] + f".{base % 256 + 2}/30"
        links.append({"a": {"node": names[2 * pair], "interface": "eth0", "addresses": [a_addr]},
                      "b": {"node": names[2 * pair + 1], "interface": "eth0", "addresses": [b_addr]}})
    return {"format": "netdesigner/v1", "name": "big", "nodes": [{"name": n, "kind": "namespace"} for n in names],
            "links": links, "layout": {n: {"x": (i % 50) * 40, "y": (i // 50) * 40} for i, n in enumerate(names)}}


def timed(repeat: int, call: Any) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


class QueryCounter:
    """Counts SQL statements on the default connection (an execute wrapper sees every one)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)

    def __len__(self) -> int:
        return self.count


def counting(connection: Any) -> Any:
    import contextlib

    @contextlib.contextmanager
    def manager() -> Any:
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            yield counter

    return manager()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labs", type=int, default=200)
    parser.add_argument("--nodes", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="web-bench-")
    os.environ["SQLITE_PATH"] = str(Path(workdir) / "bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "netdesigner.settings")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from topology.choices import Role
    from topology.models import Deployment, Lab, LabMembership, TopologyVersion

    setup_test_environment()
    call_command("migrate", verbosity=0)
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    owner = User.objects.create_user("owner", password="x")
    member = User.objects.create_user("member", password="x")
    small = json.loads((ROOT / "topology" / "examples" / "seed-6-port-forward.json").read_text())
    labs = Lab.objects.bulk_create(
        [Lab(name=f"lab {i:04d}", slug=f"lab-{i:04d}", owner=owner, version=1) for i in range(args.labs)]
    )
    TopologyVersion.objects.bulk_create([TopologyVersion(lab=lab, number=1, document=small) for lab in labs])
    Deployment.objects.bulk_create([Deployment(lab=lab, worker_host="bench", tag=f"b{i:05d}")
                                    for i, lab in enumerate(labs) if i % 2])
    LabMembership.objects.bulk_create([LabMembership(lab=lab, user=member, role=Role.EDITOR)
                                       for lab in labs[::3]])

    client = Client()
    client.force_login(owner)
    member_client = Client()
    member_client.force_login(member)
    print(f"database: {os.environ['SQLITE_PATH']} (removed at the end)")
    for who, c in (("owner", client), ("member", member_client)):
        with counting(connection) as queries:
            c.get("/api/labs")
        seconds, response = timed(args.repeat, lambda c=c: c.get("/api/labs"))
        print(f"GET /api/labs as {who}: {len(response.json())} labs, {seconds * 1000:.1f} ms (median), "
              f"{len(queries)} queries")

    document = big_document(args.nodes)
    body = json.dumps(document)
    create = client.post("/api/labs", data=json.dumps({"name": "big", "topology": document}),
                         content_type="application/json")
    lab_id = create.json()["id"]
    version = [1]

    def save() -> Any:
        response = client.put(f"/api/labs/{lab_id}/topology",
                              data=f'{{"version": {version[0]}, "topology": {body}}}',
                              content_type="application/json")
        assert response.status_code == 200, response.content[:500]
        version[0] = response.json()["version"]
        return response

    with counting(connection) as queries:
        save()
    seconds, _ = timed(args.repeat, save)
    print(f"PUT /api/labs/{{id}}/topology with {args.nodes} nodes, {len(document['links'])} links "
          f"({len(body) / 1024:.0f} KiB): {seconds * 1000:.1f} ms (median), {len(queries)} queries")
    seconds, response = timed(args.repeat, lambda: client.get(f"/api/labs/{lab_id}"))
    print(f"GET /api/labs/{{id}} of that lab: {seconds * 1000:.1f} ms (median)")

    from topology.engine import api as engine

    seconds, _ = timed(args.repeat, lambda: engine.validate(document))
    print(f"engine.validate alone on it: {seconds * 1000:.1f} ms (median)")


if __name__ == "__main__":
    main()
    import shutil

    shutil.rmtree(os.path.dirname(os.environ["SQLITE_PATH"]), ignore_errors=True)
