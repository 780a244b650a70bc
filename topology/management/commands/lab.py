"""`manage.py lab ...`: the command line of NetDesigner (see shared/spec/interfaces.md).

It runs as root on the worker host, so reads of the kernel (plan, drift, tables, exec, export) call
the engine in this process; apply, destroy and ping create a Job through the services and either run
it here (`--inline`) or hand it to the worker, then follow the Job row, printing its log as it grows.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandParser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection

from topology import jobs
from topology.api.serialize import deployment_dict
from topology.choices import JobStatus
from topology.engine import api as engine
from topology.engine.importers import export_clab
from topology.jobs.deployments import applied_topology
from topology.jobs.inline import broker_missing, redis_missing
from topology.models import Job, Lab, new_deployment_tag
from topology.services import formats
from topology.services import operations as ops
from topology.services.documents import document_parse, document_problems
from topology.services.errors import ServiceError
from topology.services.imports import document_read, lab_find, lab_import, user_by_name
from topology.services.tokens import token_get_or_create

POLL_SECONDS = 0.2
FINISHED = JobStatus.terminal()


class Command(BaseCommand):
    help = "Validate, import, inspect, apply, destroy and probe labs (`lab <command> --help` for details)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, parser_class=argparse.ArgumentParser)
        sub.add_parser("validate", help="check a document").add_argument("file")
        p = sub.add_parser("import", help="create a lab (or a new version of lab --name)")
        p.add_argument("file")
        p.add_argument("--name")
        p.add_argument("--owner", help="username (default: the first superuser, else user 'admin')")
        p.add_argument("--format", choices=["json", "sh", "clab"],
                       help="json, sh (a shell session) or clab (default: from the extension)")
        p.add_argument("--apply-fixes", action="store_true", help="take every correction the importer offers")
        sub.add_parser("list", help="labs and their state").add_argument("--json", action="store_true")
        p = sub.add_parser("show", help="a lab: version, deployment, nodes and their namespaces")
        p.add_argument("lab")
        p.add_argument("--json", action="store_true")
        p = sub.add_parser("plan", help="what apply would change")
        p.add_argument("lab")
        p.add_argument("--json", action="store_true")
        for name in ("apply", "destroy"):
            p = sub.add_parser(name, help=f"{name} the lab (through the worker, or here with --inline)")
            p.add_argument("lab")
            p.add_argument("--inline", action="store_true")
            p.add_argument("--timeout", type=float, default=600.0)
        p = sub.add_parser("ping", help="ping from node SOURCE to TARGET (address or node name)")
        p.add_argument("lab")
        p.add_argument("source")
        p.add_argument("target")
        p.add_argument("--count", type=int, default=3)
        p.add_argument("--json", action="store_true")
        p.add_argument("--inline", action="store_true")
        p.add_argument("--timeout", type=float, default=120.0)
        p = sub.add_parser("drift", help="differences between the current version and the kernel")
        p.add_argument("lab")
        p.add_argument("--json", action="store_true")
        p = sub.add_parser("tables", help="a node's live interfaces, ARP and routes")
        p.add_argument("lab")
        p.add_argument("node")
        p.add_argument("--json", action="store_true")
        p = sub.add_parser("exec", help="run a command inside a node's namespace: exec LAB NODE -- CMD ARG...")
        p.add_argument("lab")
        p.add_argument("node")
        p.add_argument("argv", nargs=argparse.REMAINDER)
        p = sub.add_parser("export", help="the document, or a shell script that builds the lab by hand")
        p.add_argument("lab")
        p.add_argument("--format", choices=["json", "sh", "clab"], default="json")
        sub.add_parser("token", help="create (or show) a user's API token").add_argument("user")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            getattr(self, f"do_{action}")(options)
        except ServiceError as exc:
            self.fail(str(exc))
        except engine.EngineError as exc:
            self.fail(str(exc))

    # -- helpers ----------------------------------------------------------------------------------

    def fail(self, message: str) -> NoReturn:
        self.stderr.write(message)
        sys.exit(1)

    def out_json(self, value: Any) -> None:
        self.stdout.write(json.dumps(value, indent=2, cls=DjangoJSONEncoder))

    def lab_topology(self, lab: Lab) -> Any:
        return document_parse(ops.lab_current_document(lab=lab))

    def tag_of(self, lab: Lab, *, required: bool) -> str:
        deployment = ops.lab_deployment(lab=lab)
        if deployment is None:
            if required:
                self.fail(f"lab '{lab.slug}' has never been applied; run `lab apply {lab.slug}` first")
            return new_deployment_tag()
        return deployment.tag

    # -- pure commands ----------------------------------------------------------------------------

    def do_validate(self, options: dict[str, Any]) -> None:
        document = document_read(path=options["file"])
        problems = document_problems(document)
        if problems:
            for problem in problems:
                self.stderr.write(f"{problem.path}: {problem.message}")
            sys.exit(1)
        self.stdout.write(f"{options['file']}: valid ({len(document['nodes'])} nodes, {len(document['links'])} links)")

    def do_import(self, options: dict[str, Any]) -> None:
        owner = user_by_name(username=options["owner"]) if options["owner"] else None
        fmt = formats.format_for(filename=options["file"], given=options.get("format"))
        if fmt == "json" and not options.get("apply_fixes"):
            document = document_read(path=options["file"])
            lab, created = lab_import(document=document, name=options["name"], owner=owner)
        else:
            lab, created, result = formats.lab_import_file(
                path=options["file"], format=fmt, name=options["name"], owner=owner,
                apply_fixes=bool(options.get("apply_fixes")))
            for warning in result.warnings:
                self.stderr.write(str(warning))
        what = "created lab" if created else "saved a new version of lab"
        self.stdout.write(f"{what} '{lab.name}' (version {lab.version}, owner {lab.owner.username})")
        self.stdout.write(lab.slug)

    def do_list(self, options: dict[str, Any]) -> None:
        labs = Lab.objects.select_related("owner", "deployment", "deployment__version").order_by("slug")
        rows = []
        for lab in labs:
            deployment = getattr(lab, "deployment", None) if _has_deployment(lab) else None
            rows.append({"id": lab.pk, "slug": lab.slug, "name": lab.name, "version": lab.version,
                         "owner": lab.owner.username, "state": deployment.state if deployment else None})
        if options["json"]:
            self.out_json(rows)
            return
        if not rows:
            self.stdout.write("no labs; `lab import FILE` creates one")
        for row in rows:
            self.stdout.write(f"{row['slug']:30} v{row['version']:<4} {row['state'] or 'not deployed':12} {row['owner']}")

    def do_show(self, options: dict[str, Any]) -> None:
        lab = lab_find(ref=options["lab"])
        topology = self.lab_topology(lab)
        deployment = ops.lab_deployment(lab=lab)
        nodes = [
            {"name": node.name, "kind": node.kind, "implicit": node.implicit,
             "netns": engine.netns_name(deployment.tag, node.name, topology=topology) if deployment else None}
            for node in topology.nodes
        ]
        shown = {"id": lab.pk, "slug": lab.slug, "name": lab.name, "version": lab.version,
                 "owner": lab.owner.username, "deployment": deployment_dict(deployment), "nodes": nodes}
        if options["json"]:
            self.out_json(shown)
            return
        state = deployment.state if deployment else "not deployed"
        self.stdout.write(f"{lab.slug}: '{lab.name}' version {lab.version}, {state}")
        for node in nodes:
            self.stdout.write(f"  {node['name']:20} {node['kind']:10} {node['netns'] or ''}")

    def do_export(self, options: dict[str, Any]) -> None:
        lab = lab_find(ref=options["lab"])
        document = ops.lab_current_document(lab=lab)
        if options["format"] == "json":
            self.out_json(document)
        elif options["format"] == "clab":
            self.stdout.write(export_clab(document_parse(document)))
        else:
            self.stdout.write(engine.export_shell(document_parse(document), self.tag_of(lab, required=False)))

    def do_token(self, options: dict[str, Any]) -> None:
        user = user_by_name(username=options["user"])
        token = token_get_or_create(user=user)
        self.stdout.write(f"API token of {user.username} (send it as `Authorization: Bearer <token>`):")
        self.stdout.write(token.key)

    # -- kernel reads, in this process (root) ----------------------------------------------------

    def do_plan(self, options: dict[str, Any]) -> None:
        lab = lab_find(ref=options["lab"])
        topology = self.lab_topology(lab)
        previous = applied_topology(ops.lab_deployment(lab=lab))
        operations = engine.plan(topology, self.tag_of(lab, required=False), previous)
        if options["json"]:
            self.out_json({"operations": operations})
            return
        if not operations:
            self.stdout.write("in sync: nothing to do")
        for op in operations:
            self.stdout.write(op.get("command") or json.dumps(op))

    def do_drift(self, options: dict[str, Any]) -> None:
        lab = lab_find(ref=options["lab"])
        drift = engine.drift(self.lab_topology(lab), self.tag_of(lab, required=True))
        if options["json"]:
            self.out_json(drift)
            return
        if not drift:
            self.stdout.write("in sync")
        for item in drift:
            self.stdout.write(f"{item.get('node')}: {item.get('kind')} {item.get('what')} "
                              f"expected {item.get('expected')!r}, actual {item.get('actual')!r}")

    def do_tables(self, options: dict[str, Any]) -> None:
        lab = lab_find(ref=options["lab"])
        topology = self.lab_topology(lab)
        if not topology.has_node(options["node"]):
            self.fail(f"lab '{lab.slug}' has no node '{options['node']}'; `lab show {lab.slug}` lists them")
        tables = engine.tables(topology, self.tag_of(lab, required=True), options["node"])
        if options["json"]:
            self.out_json(tables)
            return
        for section in ("interfaces", "arp", "routes"):
            self.stdout.write(f"{section}:")
            for row in tables.get(section, []):
                self.stdout.write("  " + "  ".join(f"{k}={v}" for k, v in row.items()))

    def do_exec(self, options: dict[str, Any]) -> None:
        lab = lab_find(ref=options["lab"])
        argv = list(options["argv"])
        if argv and argv[0] == "--":
            argv = argv[1:]
        if not argv:
            self.fail("no command given: `lab exec LAB NODE -- CMD ARG...`")
        topology = self.lab_topology(lab)
        if not topology.has_node(options["node"]):
            self.fail(f"lab '{lab.slug}' has no node '{options['node']}'; `lab show {lab.slug}` lists them")
        sys.stdout.flush()
        code = engine.run_in(self.tag_of(lab, required=True), options["node"], argv, topology=topology)
        sys.exit(code)

    # -- jobs -------------------------------------------------------------------------------------

    def do_apply(self, options: dict[str, Any]) -> None:
        lab = lab_find(ref=options["lab"])
        self.check_broker(options)
        job = ops.lab_apply_request(lab=lab, user=None, dispatch=not options["inline"])
        job = self.follow(job, inline=options["inline"], timeout=options["timeout"], quiet=False)
        self.stdout.write(f"applied version {job.params.get('version')} of '{lab.slug}'")

    def do_destroy(self, options: dict[str, Any]) -> None:
        lab = lab_find(ref=options["lab"])
        self.check_broker(options)
        job = ops.lab_destroy_request(lab=lab, user=None, dispatch=not options["inline"])
        job = self.follow(job, inline=options["inline"], timeout=options["timeout"], quiet=False)
        removed = (job.result or {}).get("removed", 0)
        self.stdout.write(f"destroyed '{lab.slug}' ({removed} namespace(s) removed)")

    def do_ping(self, options: dict[str, Any]) -> None:
        lab = lab_find(ref=options["lab"])
        self.check_broker(options)
        job = ops.lab_ping_request(lab=lab, user=None, source=options["source"], target=options["target"],
                                   count=options["count"], dispatch=not options["inline"])
        job = self.follow(job, inline=options["inline"], timeout=options["timeout"], quiet=options["json"])
        result = job.result or {}
        if options["json"]:
            self.out_json({"sent": result.get("sent", 0), "received": result.get("received", 0),
                           "error": result.get("error"), "replies": result.get("replies", [])})
            return
        sent, received = result.get("sent", 0), result.get("received", 0)
        loss = 100 - (100 * received // sent) if sent else 100
        self.stdout.write(f"{sent} packets transmitted, {received} received, {loss}% packet loss"
                          + (f" ({result['error']})" if result.get("error") else ""))

    def check_broker(self, options: dict[str, Any]) -> None:
        """Through the worker, the job needs the broker: refuse in one line rather than queue a job that
        would run whenever Redis comes back."""
        if not options["inline"] and (missing := broker_missing()):
            self.fail(missing)

    def follow(self, job: Job, *, inline: bool, timeout: float, quiet: bool) -> Job:
        """Print the job's log as it grows until it finishes; exit 1 with its error when it failed."""
        errors: list[BaseException] = []
        runner = None
        if inline and (missing := redis_missing()):
            self.stderr.write(missing)
        if inline:
            runner = threading.Thread(target=_execute, args=(job.pk, errors), daemon=True)
            runner.start()
        printed, started, warned = 0, time.monotonic(), False
        while True:
            job.refresh_from_db()
            for line in job.log[printed:]:
                if not quiet:
                    self.stdout.write(str(line.get("message", line)) if isinstance(line, dict) else str(line))
            printed = len(job.log)
            if job.status in FINISHED:
                break
            if runner is not None and not runner.is_alive():
                job.refresh_from_db()
                if job.status not in FINISHED:
                    self.fail(f"job {job.pk} stopped without finishing: {errors[0] if errors else 'unknown'}")
                continue
            waited = time.monotonic() - started
            if not inline and job.status == JobStatus.QUEUED and waited > 10 and not warned:
                self.stderr.write(f"waiting for the worker of host '{jobs.queue.job_host(job)}'... is "
                                  "`manage.py worker` running there? (or use --inline on that host)")
                warned = True
            if waited > timeout:
                self.fail(f"job {job.pk} did not finish within {timeout:g} s (status {job.status})")
            time.sleep(POLL_SECONDS)
        if runner is not None:
            runner.join(timeout=5)
        if job.status == JobStatus.FAILED:
            self.fail(f"{job.kind} failed: {job.error or 'see the job log'}")
        if job.status == JobStatus.SUPERSEDED:
            self.fail(f"{job.kind} did not run: {job.error}")
        return job


def _execute(job_id: int, errors: list[BaseException]) -> None:
    try:
        jobs.execute(job_id)
    except BaseException as exc:  # noqa: BLE001 - reported by the polling thread
        errors.append(exc)
    finally:
        connection.close()


def _has_deployment(lab: Lab) -> bool:
    try:
        lab.deployment  # noqa: B018
    except Lab.deployment.RelatedObjectDoesNotExist:
        return False
    return True
