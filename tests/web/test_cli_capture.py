"""`manage.py lab capture`: summaries printed as packets come, the pcap read back by `tcpdump -r` (root)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from tests.capture_ready import wait_links_up
from topology.engine import api as engine
from topology.models import Deployment

from .conftest import EXAMPLES
from .test_cli import lab

pytestmark = [pytest.mark.root, pytest.mark.skipif(os.geteuid() != 0, reason="needs root")]


class Lines(io.StringIO):
    """stdout that remembers when each write came."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[tuple[float, str]] = []

    def write(self, text: str) -> int:
        self.writes.append((time.monotonic(), text))
        return super().write(text)


@pytest.mark.django_db(transaction=True)
def test_lab_capture_prints_and_writes_pcap(tmp_path: Path) -> None:
    User.objects.create_superuser("cli-capture", password="x")
    slug = lab("import", str(EXAMPLES / "seed-2-bridge.json"), "--name", "cli-capture")[1].strip().splitlines()[-1]
    pcap = tmp_path / "blue.pcap"
    try:
        assert lab("apply", slug, "--inline")[0] == 0
        tag = Deployment.objects.get(lab__slug=slug).tag
        wait_links_up(tag, json.loads((EXAMPLES / "seed-2-bridge.json").read_text()))
        out, err = Lines(), io.StringIO()
        args = ["lab", "capture", slug, "blue", "veth-blue", "--seconds", "3", "--write", str(pcap)]
        runner = threading.Thread(target=call_command, args=args, kwargs={"stdout": out, "stderr": err})
        runner.start()
        deadline = time.monotonic() + 20
        while "capturing on blue/veth-blue" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.05)
        topo = engine.parse(json.loads((EXAMPLES / "seed-2-bridge.json").read_text()))
        pinged = list(engine.ping(topo, tag, "red", "blue", count=2))
        pinged_at = time.monotonic()
        runner.join(timeout=30)
        text = out.getvalue()
        assert "ARP who-has 192.168.15.2 tell 192.168.15.1" in text, err.getvalue()
        assert text.count("ICMP echo request 192.168.15.1 > 192.168.15.2") == 2
        assert text.count("ICMP echo reply 192.168.15.2 > 192.168.15.1") == 2
        assert "blue/veth-blue > ICMP echo reply" in text  # blue sends the replies
        assert "packet(s) captured (time), written to" in text.splitlines()[-1]
        # Printed as they came: the first echo line was written before the ping ended, not after the capture.
        first_echo = next(at for at, line in out.writes if "ICMP echo request" in line)
        assert first_echo <= pinged_at and isinstance(pinged[-1], engine.PingResult)
        assert shutil.which("tcpdump")
        lines = subprocess.run(["tcpdump", "-n", "-r", str(pcap)], capture_output=True, text=True,
                               check=True).stdout.splitlines()
        assert sum("ICMP echo request" in x for x in lines) == 2
        assert any("ARP, Request who-has 192.168.15.2 tell 192.168.15.1" in x for x in lines)
    finally:
        lab("destroy", slug, "--inline")


@pytest.mark.django_db(transaction=True)
def test_lab_capture_says_what_is_wrong() -> None:
    User.objects.create_superuser("cli-capture2", password="x")
    slug = lab("import", str(EXAMPLES / "seed-1-direct.json"), "--name", "cli-capture2")[1].strip().splitlines()[-1]
    code, _, err = lab("capture", slug, "blue", "veth-blue")
    assert code == 1 and "has never been applied" in err
    code, _, err = lab("capture", slug, "green", "veth-blue")
    assert code == 1 and "has no node 'green'" in err
