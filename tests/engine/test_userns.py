"""Root tests: every namespace of a lab belongs to the lab's own user namespace, whose root is the
unprivileged sandbox uid, and every namespace that has a name of ours carries the mark."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from topology.engine import api, nsutil, userns
from topology.engine.rtnl import IFLA_IFALIAS, Rtnl, s_str

from .conftest import example
from .test_kernel import ip, lab_namespaces, ping, star

pytestmark = pytest.mark.root
ROOT = Path(__file__).resolve().parents[2]
CLONE_NEWUSER, CLONE_NEWNET = 0x10000000, 0x40000000


def ns_id(fd: int) -> tuple[int, int]:
    st = os.fstat(fd)
    return st.st_dev, st.st_ino


def owners(tag: str) -> set[tuple[int, int]]:
    out = set()
    for ns in lab_namespaces(tag):
        fd = userns.owning_userns(nsutil.path(ns))
        try:
            out.add(ns_id(fd))
        finally:
            os.close(fd)
    return out


def lo_mark(ns: str) -> str:
    r = Rtnl.into(ns)
    try:
        link = next(m for m in r.links() if m.fields[2] == r.index("lo"))
        return s_str(link.attrs.get(IFLA_IFALIAS)) or ""
    finally:
        r.close()


def inside_userns(fd: int, code: str, *extra: int) -> str:
    """Run Python `code` in a fresh process that has entered the user namespace `fd`."""
    prog = ("import ctypes, os, sys\nlibc = ctypes.CDLL(None, use_errno=True)\n"
            f"assert libc.setns({fd}, {CLONE_NEWUSER}) == 0, os.strerror(ctypes.get_errno())\n" + code)
    out = subprocess.run([sys.executable, "-c", prog], pass_fds=[fd, *extra], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_lab_namespaces_are_owned_by_one_user_namespace_of_the_lab(tag: str) -> None:
    topo = api.parse(example("seed-2-bridge"))
    api.apply(topo, tag)
    initial = os.stat("/proc/self/ns/user")
    found = owners(tag)
    assert len(found) == 1 and found != {(initial.st_dev, initial.st_ino)}
    assert os.readlink(f"/proc/self/fd/{(fd := api.userns_of(tag, 'v-net-0', topology=topo))}") != \
        os.readlink("/proc/self/ns/user")
    try:
        assert not userns.is_initial(fd)
        assert userns.owner_uid(fd) == 0  # created by root: a host process of uid 424242 gains nothing
        maps = inside_userns(fd, "print(open('/proc/self/uid_map').read().split());"
                                 "print(open('/proc/self/gid_map').read().split())")
    finally:
        os.close(fd)
    assert maps.split("\n")[:2] == ["['0', '424242', '1']", "['0', '424242', '1']"]
    assert ping(topo, tag, "red", "blue", count=1).received == 1  # the root worker still does everything


def test_sandbox_uid_is_passed_through(tag: str) -> None:
    api.apply(api.parse(example("seed-1-direct")), tag, sandbox_uid=424299)
    fd = api.userns_of(tag, "red")
    try:
        assert inside_userns(fd, "print(open('/proc/self/uid_map').read().split())").strip() == \
            "['0', '424299', '1']"
    finally:
        os.close(fd)


def test_root_of_the_user_namespace_reaches_only_the_lab(tag: str) -> None:
    """What the terminal relies on: inside the lab's user namespace, CAP_NET_ADMIN works in the lab's
    namespaces and nowhere else (the machine's own network namespace refuses to be entered)."""
    api.apply(api.parse(example("seed-1-direct")), tag)
    fd = api.userns_of(tag, "red")
    red = nsutil.path(f"nd-{tag}-red")
    host = os.open("/proc/self/ns/net", os.O_RDONLY)
    try:
        out = inside_userns(fd, f"""
lab = os.open({red!r}, os.O_RDONLY)
assert libc.setns(lab, {CLONE_NEWNET}) == 0, os.strerror(ctypes.get_errno())
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)  # CAP_NET_RAW here
print('host', libc.setns({host}, {CLONE_NEWNET}), ctypes.get_errno())
""", host)
    finally:
        os.close(fd)
        os.close(host)
    assert out.split() == ["host", "-1", "1"]  # EPERM


def test_a_second_apply_reuses_the_user_namespace(tag: str) -> None:
    doc = example("seed-2-bridge")
    topo = api.parse(doc)
    api.apply(topo, tag)
    before = owners(tag)
    ip("netns", "del", f"nd-{tag}-blue")  # remade by the next apply
    doc["nodes"].append({"name": "green", "kind": "namespace"})  # made by the next apply
    bigger = api.parse(doc)
    api.apply(bigger, tag)
    assert f"nd-{tag}-green" in lab_namespaces(tag) and f"nd-{tag}-blue" in lab_namespaces(tag)
    assert owners(tag) == before
    assert api.drift(bigger, tag) == []


def test_a_failing_block_leaves_no_name_and_nothing_unmarked_is_named(tag: str) -> None:
    maker = userns.Maker()
    try:
        fd = maker.take()
        with pytest.raises(RuntimeError), nsutil.created(f"nd-{tag}-x", fd):
            raise RuntimeError("killed before the mark")
        os.close(fd)
    finally:
        maker.close()
    assert not os.path.lexists(nsutil.path(f"nd-{tag}-x"))


def test_a_name_made_meanwhile_by_someone_else_is_not_taken_over(tag: str) -> None:
    ip("netns", "add", f"nd-{tag}-x")
    maker = userns.Maker()
    try:
        fd = maker.take()
        with pytest.raises(FileExistsError), nsutil.created(f"nd-{tag}-x", fd):
            pass
        os.close(fd)
    finally:
        maker.close()
    assert lo_mark(f"nd-{tag}-x") == ""
    ip("netns", "del", f"nd-{tag}-x")


APPLY = """
import json, sys
sys.path.insert(0, {root!r})
from topology.engine import api
api.apply(api.parse(json.loads(sys.argv[1])), sys.argv[2])
"""


@pytest.mark.parametrize("delay", [0.0, 0.002, 0.01, 0.03])
def test_killed_during_creation_every_named_namespace_is_marked_and_apply_converges(
        delay: float, tag: str) -> None:
    import json

    doc = star(40)
    proc = subprocess.Popen([sys.executable, "-c", APPLY.format(root=str(ROOT)), json.dumps(doc), tag])
    deadline = time.monotonic() + 30
    while not lab_namespaces(tag) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)  # the first name appeared: the namespaces are being made
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    for ns in lab_namespaces(tag):
        if os.path.ismount(nsutil.path(ns)):
            assert lo_mark(ns).startswith(f"nd:{tag}"), ns
    topo = api.parse(doc)
    api.apply(topo, tag)
    assert api.drift(topo, tag) == [] and api.plan(topo, tag) == []
    assert len(owners(tag)) == 1


def test_destroy_removes_the_lab_namespaces_whose_mark_was_changed_inside_and_nothing_else(tag: str) -> None:
    """Root in the lab's user namespace may rewrite lo's alias; the namespace is still the lab's (it
    belongs to the lab's user namespace). One made by hand under the prefix is never removed."""
    api.apply(api.parse(example("seed-1-direct")), tag)
    ip("-n", f"nd-{tag}-blue", "link", "set", "lo", "alias", "nd:other@someone")  # blue sorts first
    ip("netns", "add", f"nd-{tag}-zz")
    try:
        assert api.destroy(tag) == 2
        assert lab_namespaces(tag) == [f"nd-{tag}-zz"]
    finally:
        ip("netns", "del", f"nd-{tag}-zz")


def test_a_machine_without_user_namespaces_gets_a_message_that_says_so(tag: str, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The helper's refusal (here a stand-in helper that answers as unshare(CLONE_NEWUSER) does when
    user.max_user_namespaces is 0: ENOSPC) fails the apply with what to check, and leaves nothing."""
    fake = tmp_path / "nshelper.py"
    fake.write_text("import socket, sys\n"
                    "s = socket.socket(fileno=int(sys.argv[1]))\n"
                    "s.send(b'E28 creating the lab\\'s user namespace: No space left on device')\n")
    monkeypatch.setattr(userns, "HELPER", fake)
    with pytest.raises(api.EngineError, match=r"^ip netns add nd-\w+-red: creating the lab's user namespace: No "
                                              r"space left on device \(are user namespaces enabled\? sysctl "
                                              r"user.max_user_namespaces must be > 0\)$"):
        api.apply(api.parse(example("seed-1-direct")), tag)
    assert lab_namespaces(tag) == []


def test_a_helper_that_dies_is_reported(tag: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "nshelper.py"
    fake.write_text("import sys\nsys.exit(3)\n")
    monkeypatch.setattr(userns, "HELPER", fake)
    with pytest.raises(api.EngineError, match="the namespace helper stopped"):
        api.apply(api.parse(example("seed-1-direct")), tag)
    assert lab_namespaces(tag) == []


def test_a_mark_rewritten_inside_the_lab_is_restored_by_apply(tag: str) -> None:
    """Root in the lab's user namespace may rewrite lo's alias; the namespace stays the lab's (it is in
    the lab's user namespace): drift says so, apply marks it again. A namespace made by hand under the
    prefix stays foreign."""
    topo = api.parse(example("seed-5-nat"))  # the host has NAT rules (mark with :ipt), red has none
    api.apply(topo, tag)
    want = {ns: lo_mark(ns) for ns in lab_namespaces(tag)}
    for node in ("host", "red"):
        ip("-n", f"nd-{tag}-{node}", "link", "set", "lo", "alias", "nd:other@someone")
    ip("netns", "add", f"nd-{tag}-zz")
    try:
        drift = api.drift(topo, tag)
        assert {(d["node"], d["kind"], d["actual"]) for d in drift} == {
            ("host", "mark", "nd:other@someone"), ("red", "mark", "nd:other@someone"),
            ("zz", "namespace", "present, but not made by this NetDesigner install (no mark of ours): left alone")}
        assert sorted(o.command for o in api.apply(topo, tag)) == [
            f"ip -n nd-{tag}-host link set lo alias nd:{tag}@local:ipt",
            f"ip -n nd-{tag}-red link set lo alias nd:{tag}@local"]
        assert {ns: lo_mark(ns) for ns in want} == want
        assert [d["what"] for d in api.drift(topo, tag)] == [f"nd-{tag}-zz"]
    finally:
        ip("netns", "del", f"nd-{tag}-zz")
