"""The second guard (issue 11 item 1): text that meets iptables-restore or bash is checked where it is
written. The injected document of the audit is refused by validation (before), and a Topology built
around validation still cannot inject (after): the export and the executor refuse it."""

from __future__ import annotations

import copy
import dataclasses
import subprocess
from pathlib import Path
from typing import Any

import pytest

from topology.engine import api, textguard
from topology.engine.model import Nat, Topology
from topology.engine.ops import Iptables

from .conftest import EXAMPLES, example

INJECT = "fe80::%x\nEOF\necho INJECTED; id -un\n"


def injected_topology(source: str = "192.168.15.0/24\nEOF\necho INJECTED; id -un\n-A X") -> Topology:
    """seed-6 with a NAT source no validation would pass, built straight as objects."""
    topo = api.parse(example("seed-6-port-forward"))
    hostn = topo.node("host")
    bad = dataclasses.replace(hostn, nat=(Nat(action="masquerade", source=source, out_interface="eth0"),))
    nodes = tuple(bad if n.name == "host" else n for n in topo.nodes)
    out: Topology = dataclasses.replace(topo, nodes=nodes, _index={})
    return out


def test_injected_document_refused_before() -> None:
    d = copy.deepcopy(example("seed-6-port-forward"))
    d["nodes"][0]["nat"][0]["source"] = INJECT
    problems = api.validate(d)
    assert {p.path for p in problems} == {"nodes[0].nat[0].source"}
    messages = " ".join(p.message for p in problems)
    assert "scope id" in messages and "control character U+000A" in messages


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_exported_script_parses_with_bash(path: Path, tmp_path: Path) -> None:
    import json

    script = api.export_shell(api.parse(json.loads(path.read_text())), "abc")
    f = tmp_path / "lab.sh"
    f.write_text(script)
    proc = subprocess.run(["bash", "-n", str(f)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "<<'EOF'" not in script


def test_export_of_injected_topology_refused_after() -> None:
    with pytest.raises(textguard.UnsafeText, match="outside its vocabulary"):
        api.export_shell(injected_topology(), "abc")


def test_description_cannot_add_a_line_to_the_script(tmp_path: Path) -> None:
    """Refused by validation; and if a Topology held one anyway, the export keeps it in its comment."""
    d = copy.deepcopy(example("seed-1-direct"))
    d["description"] = "x\nid -un > /tmp/pwned"
    assert [p.path for p in api.validate(d)] == ["description"]
    topo = dataclasses.replace(api.parse(example("seed-1-direct")), description="x\nid -un\r\u2028echo hi")
    script = api.export_shell(topo, "abc")
    assert not any(line.startswith(("id -un", "echo hi")) for line in script.splitlines())
    (tmp_path / "s.sh").write_text(script)
    assert subprocess.run(["bash", "-n", str(tmp_path / "s.sh")], check=False).returncode == 0


def test_heredoc_terminator_never_a_line_of_the_body(tmp_path: Path) -> None:
    """Even a body that holds lines like the terminator's prefix and every usual one stays inside."""
    body = "EOF\nND_END\nEND\n"
    term = textguard.heredoc_terminator(body)
    body += term + "\n"  # a body that holds the very terminator computed for a shorter body
    cmd = textguard.heredoc("cat", body)
    script = tmp_path / "h.sh"
    script.write_text(cmd + "\necho AFTER\n")
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
    out = subprocess.run(["bash", str(script)], capture_output=True, text=True, check=True).stdout
    assert out == body + "AFTER\n"


@pytest.mark.parametrize("text", [
    "*nat\n-A ND-POSTROUTING -s 10.0.0.0/8 -j MASQUERADE\nCOMMIT\n",
    "*nat\n:ND-PREROUTING - [0:0]\n-A PREROUTING -m comment --comment nd:abc -j ND-PREROUTING\nCOMMIT\n",
])
def test_guard_passes_engine_text(text: str) -> None:
    assert textguard.check_iptables_text(text) == text


@pytest.mark.parametrize("text", [
    "*nat\n-A ND-POSTROUTING -s 10.0.0.0/8\n-F\nCOMMIT\n".replace("\n-F", "\r-F"),
    "*nat\n-A ND-POSTROUTING -s fe80::%x -j MASQUERADE\nCOMMIT\n",
    "*nat\n-A ND-POSTROUTING -s $(id) -j MASQUERADE\nCOMMIT\n",
    "*nat\n\n-A X\nCOMMIT\n",
    "*nat\nCOMMIT\n*filter\n-F\nCOMMIT\n",
    "*nat\n-A X -j MASQUERADE\x00\nCOMMIT\n",
    "*nat\n-A X\nCOMMIT",
    "*nat\n-A X -j 'MASQUERADE'\nCOMMIT\n",
])
def test_guard_refuses_foreign_text(text: str) -> None:
    with pytest.raises(textguard.UnsafeText):
        textguard.check_iptables_text(text)


def test_executor_refuses_before_running_anything(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit: the guard stops the op before iptables-restore is started."""
    from topology.engine import executor

    started: list[Any] = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: started.append(a))
    op = Iptables(ns="nd-abc-host", node="host", text="*nat\n-A X -s 1.2.3.4\n-F\nCOMMIT\n".replace(
        "4\n-F", "4 \x0b-F"), lo_alias="nd:abc:ipt")
    with pytest.raises(executor.OpFailed, match="vocabulary"):
        executor.Executor().run([op])
    assert started == []


@pytest.mark.root
def test_apply_of_injected_topology_writes_no_rule(tag: str) -> None:
    """Root: the engine refuses the injected iptables input; the host's nat table holds no rule of it."""
    with pytest.raises(api.EngineError, match="vocabulary"):
        api.apply(injected_topology(), tag)
    ns = api.netns_name(tag, "host")
    saved = subprocess.run(["ip", "netns", "exec", ns, "iptables-save", "-t", "nat"], capture_output=True,
                           text=True, check=False).stdout
    assert "INJECTED" not in saved and "EOF" not in saved
