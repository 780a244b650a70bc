"""The terminal's sandbox against the real kernel, every command typed through a real pty.

One point of docs/SECURITY.md "Terminal" per test: what must work in the lab (addresses, ping, adding an
address, iptables, tcpdump) and what must fail (the machine's network namespace, another lab's, entering
namespaces, the machine's files and processes, mounting).
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
from collections.abc import Iterator

import pytest

from topology.engine import terminal

from .userns import PtyShell, cable, ip, lab

pytestmark = pytest.mark.root
ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")


class Shell(PtyShell):
    def ok(self, command: str) -> str:
        status, out = self.run(command)
        assert status == 0, f"{command!r} failed ({status}):\n{out}"
        return ANSI.sub("", out)

    def fails(self, command: str) -> str:
        status, out = self.run(command)
        assert status != 0, f"{command!r} should have failed; it printed:\n{out}"
        return ANSI.sub("", out)


def open_shell(tag: str, node: str) -> Shell:
    term = terminal.spawn(f"nd-{tag}-{node}", node)
    os.set_blocking(term.master, True)
    return Shell(term.proc, term.master)


@pytest.fixture(scope="module")
def stage2() -> Iterator[str]:
    """red and blue of the tutorial (192.168.15.1 and .2), owned by one lab user namespace."""
    with lab(["red", "blue"]) as tag:
        cable(tag, "red", "veth-red", "192.168.15.1/24", "blue", "veth-blue", "192.168.15.2/24")
        yield tag


@pytest.fixture(scope="module")
def other_lab() -> Iterator[str]:
    """A second lab, with its own user namespace, that blue's shell must not reach."""
    with lab(["green"]) as tag:
        ip("-n", f"nd-{tag}-green", "link", "add", "secret0", "type", "veth", "peer", "name", "secret1")
        yield tag


@pytest.fixture
def blue(stage2: str) -> Iterator[Shell]:
    shell = open_shell(stage2, "blue")
    try:
        yield shell
    finally:
        shell.close()


def test_the_shell_is_root_of_the_lab_user_namespace_only(blue: Shell) -> None:
    assert blue.ok("id -u").split() == ["0"]
    assert blue.ok("cat /proc/self/uid_map").split() == ["0", "424242", "1"]
    assert blue.ok("cat /proc/self/gid_map").split() == ["0", "424242", "1"]
    assert blue.ok("hostname").strip() == "blue"


def test_sees_its_address_and_pings_red(blue: Shell) -> None:
    assert "192.168.15.2/24" in blue.ok("ip -br addr")
    assert "1 received" in blue.ok("ping -c1 -W2 192.168.15.1")


def test_can_change_its_own_lab(stage2: str, blue: Shell) -> None:
    blue.ok("ip addr add 10.77.0.2/32 dev veth-blue")
    blue.ok("ip route add 10.78.0.0/16 via 192.168.15.1")
    blue.ok("iptables -t filter -A INPUT -p icmp -j ACCEPT && iptables -S INPUT")
    # root, outside, sees the change in the lab's namespace: it is a hand change, drift will report it
    assert "10.77.0.2/32" in ip("-n", f"nd-{stage2}-blue", "addr", "show", "dev", "veth-blue")
    assert "10.78.0.0/16" in ip("-n", f"nd-{stage2}-blue", "route")


def test_tcpdump_captures_in_the_lab(blue: Shell) -> None:
    out = blue.ok("tcpdump -c1 -n -i veth-blue arp 2>&1 & sleep 1; ping -c1 -W1 192.168.15.9 >/dev/null; wait")
    assert "ARP" in out and "1 packet captured" in out


def test_cannot_make_a_link_in_the_machines_namespace(blue: Shell) -> None:
    name = "x" + secrets.token_hex(3)
    out = blue.fails(f"ip link add {name} netns 1 type veth peer name y{name}")
    assert "Operation not permitted" in out
    assert name not in {n for _, n in socket.if_nameindex()}


def test_pid_1_is_the_sessions_own_init_in_an_empty_namespace(blue: Shell) -> None:
    assert blue.fails("nsenter -t 1 -n ip link").count("Permission denied") == 1
    assert blue.fails("cat /proc/1/environ")


def test_cannot_enter_another_namespace(blue: Shell, other_lab: str) -> None:
    assert blue.ok("ls -A /run/netns 2>/dev/null; echo end").split() == ["end"]
    assert "No such file" in blue.fails(f"nsenter --net=/run/netns/nd-{other_lab}-green ip link")
    blue.fails(f"ip netns exec nd-{other_lab}-green ip link")
    assert "secret0" not in blue.ok("ip -br link; ip -all netns exec ip -br link 2>&1; true")


def test_cannot_see_the_machines_interfaces(blue: Shell) -> None:
    seen = blue.ok("ip -br link; cat /proc/net/dev")
    machine = {n for _, n in socket.if_nameindex()} - {"lo"}
    assert machine, "the machine has interfaces to hide"
    assert not {n for n in machine if re.search(rf"(^|\s){re.escape(n)}[:@\s]", seen)}
    assert "veth-blue" in seen
    assert blue.fails("ls /sys/class/net")


def test_cannot_read_the_shadow_file(blue: Shell) -> None:
    assert "Permission denied" in blue.fails("cat /etc/shadow")


def test_writes_only_in_scratch(blue: Shell) -> None:
    marker = "nd-term-" + secrets.token_hex(4)
    for path in (f"/etc/{marker}", f"/usr/{marker}", f"/{marker}", f"/proc/{marker}"):
        blue.fails(f"touch {path}")
        assert not os.path.exists(path)
    blue.fails(f"mkdir /var/{marker}")
    assert blue.ok(f"echo kept > ~/{marker} && cat ~/{marker}").strip() == "kept"
    blue.ok(f"echo tmp > /tmp/{marker}")
    assert not os.path.exists(f"/tmp/{marker}") and not os.path.exists(f"/root/{marker}")


def test_cannot_see_the_machines_files_or_processes(blue: Shell) -> None:
    here = os.path.dirname(__file__)
    assert "No such file" in blue.fails(f"ls {here}")
    assert "No such file" in blue.fails("ls /home /srv /work 2>&1 | head -3; ls /work")
    pids = blue.ok("ls /proc | grep -E '^[0-9]+$'").split()
    assert "1" in pids and len(pids) < 10, pids
    assert "pytest" not in blue.ok("ps -eo args")


def test_cannot_mount_or_unmount(blue: Shell) -> None:
    assert blue.fails("mount -t tmpfs none /tmp")
    assert blue.fails("umount /root")
    # a nested mount namespace of its own cannot reveal what the session's mounts hide
    out = blue.ok("unshare -m sh -c 'umount -l /root 2>&1; umount -l /etc 2>&1; ls /etc/os-release'")
    assert "os-release" in out


def test_exit_ends_the_session(stage2: str) -> None:
    shell = open_shell(stage2, "blue")
    try:
        os.write(shell.master, b"sleep 1000 & exit 3\n")
        assert shell.proc.wait(timeout=20) == 3
    finally:
        shell.close()


def test_refuses_a_namespace_owned_by_the_machine() -> None:
    name = "nd-t" + secrets.token_hex(3) + "-plain"
    subprocess.run(["ip", "netns", "add", name], check=True)  # noqa: S607
    try:
        with pytest.raises(terminal.TerminalRefused, match="destroy the lab and apply it again"):
            terminal.spawn(name, "plain")
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)  # noqa: S607


def test_refuses_a_user_namespace_that_maps_more_than_the_sandbox_uid() -> None:
    """A lab user namespace that maps 0 to another uid (say real root, 0) is never joined."""
    with lab(["odd"], uid=4242) as tag:
        shell = open_shell(tag, "odd")
        try:
            assert shell.proc.wait(timeout=20) == 125
            shell.read_until(re.compile(rb"not only 0 -> 424242"))
        except EOFError as exc:
            assert "not only 0 -> 424242" in str(exc)
        finally:
            shell.close()


def test_refuses_a_missing_namespace() -> None:
    with pytest.raises(terminal.TerminalRefused, match="apply the lab first"):
        terminal.spawn("nd-tnone00-blue", "blue")


def test_refuses_a_user_namespace_not_made_by_root() -> None:
    """Whoever creates a user namespace holds every capability in it: one made by a process of the
    sandbox uid (a shell, say) would put every other process of that uid in charge of the lab."""
    import ctypes

    from topology.engine import nsutil
    from topology.engine.sandbox import CLONE_NEWNET, CLONE_NEWUSER, MS_BIND

    libc = ctypes.CDLL(None, use_errno=True)
    name = "nd-t" + secrets.token_hex(3) + "-byuser"
    nsutil._prepare_rundir()
    up_r, up_w = os.pipe()
    down_r, down_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # as the sandbox uid, make a user namespace (mapping itself as 0) and a netns in it
        try:
            os.setresgid(424242, 424242, 424242)
            os.setgroups([])
            os.setresuid(424242, 424242, 424242)
            libc.prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE: a uid change cleared it; /proc/self must be ours
            if libc.unshare(CLONE_NEWUSER) != 0:
                os._exit(2)
            with open("/proc/self/uid_map", "w") as f:
                f.write("0 424242 1\n")
            if libc.unshare(CLONE_NEWNET) != 0:
                os._exit(3)
            os.write(up_w, b"n")
            os.read(down_r, 1)
        finally:
            os._exit(0)
    os.close(up_w)
    os.close(down_r)
    try:
        assert os.read(up_r, 1) == b"n", "the child could not make its namespaces"
        target = nsutil.path(name)
        os.close(os.open(target, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0))
        assert libc.mount(f"/proc/{pid}/ns/net".encode(), target.encode(), None, MS_BIND, None) == 0
        os.write(down_w, b"m")
        with pytest.raises(terminal.TerminalRefused, match="not made by root"):
            terminal.spawn(name, "byuser")
    finally:
        os.close(down_w)
        os.waitpid(pid, 0)
        nsutil.remove(name)
        os.close(up_r)
