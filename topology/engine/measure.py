"""What the kernel does with the predicted pair: the probe itself (ping, or a TCP/UDP exchange through a
short-lived listener), the kernel's own route lookup at every hop of the prediction (RTM_GETROUTE, as
`ip route get DST from SRC iif IIF` asks it), and the counters of the lab's ND- NAT rules before and
after, so that a disagreement names the hop where design and kernel part.

Needs root. Everything happens inside the lab's own namespaces; every wait is bounded (DEADLINE).
"""

from __future__ import annotations

import errno
import re
import socket
import subprocess
import threading
from dataclasses import dataclass, field
from typing import Any

from . import nsutil
from . import rtnl as rt
from .diag import parse_line
from .model import BRIDGE, IMPLICIT_HOST, Topology
from .predict import NO_REPLY, REACHABLE, UNREACHABLE, Prediction
from .state import nat_rules

DEADLINE = 5.0  # seconds a probe may take: above the ~3 s an ARP failure takes to be reported
PING_COUNT = 2
RTA_SRC, RTA_IIF = 2, 3
RTN_LOCAL = 2
COUNTER_RE = re.compile(r'^\[(\d+):\d+\] -A (ND-\S+) .*--comment "?(nd:[a-z0-9]+:[0-9a-f]+)"?')
PROBE_PAYLOAD = b"netdesigner explain\n"


@dataclass
class Measured:
    verdict: str
    detail: str
    hops: list[dict[str, Any]] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)
    parted_at: int | None = None
    parted: str | None = None
    rp_filter: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "detail": self.detail, "hops": self.hops, "rules": self.rules,
                "parted_at": self.parted_at, "parted": self.parted, "rp_filter": self.rp_filter}


def ns_of(topology: Topology, tag: str, node: str) -> str:
    n = topology.node(node)
    return f"nd-{tag}-{(topology.host_name or IMPLICIT_HOST) if n.kind == BRIDGE else node}"


def rp_filter_mode(ns: str) -> int:
    """The reverse path filter the lab's interfaces get (max of `all` and `default`, read inside the
    namespace): new namespaces inherit it from the machine, so it differs from one machine to another."""
    values = []
    with nsutil.inside(ns):
        for conf in ("all", "default"):
            try:
                with open(f"/proc/sys/net/ipv4/conf/{conf}/rp_filter") as f:
                    values.append(int(f.read().strip() or 0))
            except (OSError, ValueError):
                values.append(0)
    return max(values)


# -- the probe -----------------------------------------------------------------------------------------

def classify_ping(sent: int, received: int, error: str | None) -> tuple[str, str]:
    """ping's outcome as a verdict: an error the kernel reports ("Network is unreachable" at the source,
    "Destination Host/Net Unreachable" from a hop, "Time to live exceeded") is unreachable; no replies
    at all is no-reply."""
    if received > 0:
        return REACHABLE, f"{sent} sent, {received} received"
    if error:
        return UNREACHABLE, error
    return NO_REPLY, f"{sent} sent, 0 received"


def ping(ns: str, address: str, deadline: float = DEADLINE) -> tuple[str, str]:
    argv = ["ip", "netns", "exec", ns, "ping", "-n", "-c", str(PING_COUNT), "-i", "0.2", "-W", "1",
            "-w", str(max(1, int(deadline))), address]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=deadline + 5)
    except subprocess.TimeoutExpired:
        return NO_REPLY, "ping did not finish"
    sent = received = 0
    error: str | None = None
    for line in (proc.stdout + proc.stderr).splitlines():
        if "Time to live exceeded" in line:
            error = error or "Time to live exceeded"
            continue
        parsed = parse_line(line)
        if parsed is None:
            continue
        kind, data = parsed
        if kind == "summary":
            sent, received = data
        elif kind == "error" and error is None:
            error = str(data[0])
    return classify_ping(sent, received, error)


def _socket_in(ns: str, family: int, kind: int) -> socket.socket:
    """A socket lives in the namespace it was made in, whichever thread uses it afterwards."""
    with nsutil.inside(ns):
        return socket.socket(family, kind)


class Listener:
    """A TCP or UDP listener on the predicted final node and port, only when nothing listens there."""

    def __init__(self, ns: str, protocol: str, port: int, family: int) -> None:
        self.sock: socket.socket | None = None
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        kind = socket.SOCK_STREAM if protocol == "tcp" else socket.SOCK_DGRAM
        sock = _socket_in(ns, family, kind)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", port))
        except OSError as exc:
            sock.close()
            if exc.errno != errno.EADDRINUSE:
                raise
            return  # something listens already: let it answer
        sock.settimeout(0.2)
        if protocol == "tcp":
            sock.listen(8)
        self.sock = sock
        self.thread = threading.Thread(target=self._serve, args=(protocol,), daemon=True)
        self.thread.start()

    def _serve(self, protocol: str) -> None:
        assert self.sock is not None
        while not self.stop.is_set():
            try:
                if protocol == "tcp":
                    conn, _ = self.sock.accept()
                    conn.close()
                else:
                    data, peer = self.sock.recvfrom(2048)
                    self.sock.sendto(data, peer)
            except (TimeoutError, OSError):
                continue

    def close(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=2)
        if self.sock is not None:
            self.sock.close()


def connect(ns: str, protocol: str, address: str, port: int, deadline: float = DEADLINE) -> tuple[str, str]:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    kind = socket.SOCK_STREAM if protocol == "tcp" else socket.SOCK_DGRAM
    sock = _socket_in(ns, family, kind)
    sock.settimeout(deadline)
    try:
        sock.connect((address, port))
        if protocol == "tcp":
            return REACHABLE, f"connected to {address}:{port}"
        sock.send(PROBE_PAYLOAD)
        sock.recv(2048)
        return REACHABLE, f"{address}:{port} answered"
    except ConnectionRefusedError:
        return REACHABLE, f"{address}:{port} refused: the request arrived, but nothing listens there"
    except TimeoutError:
        return NO_REPLY, f"no answer from {address}:{port} within {deadline:g} s"
    except OSError as exc:
        if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return UNREACHABLE, exc.strerror or str(exc)
        raise
    finally:
        sock.close()


# -- the kernel's route lookups ------------------------------------------------------------------------

def route_get(r: rt.Rtnl, names: dict[int, str], dst: str, src: str | None, iif: str | None) -> str:
    """The kernel's answer to `ip route get DST [from SRC] [iif IIF]`, in the predictor's words."""
    six = ":" in dst
    fam, bits = (socket.AF_INET6, 128) if six else (socket.AF_INET, 32)
    attrs = rt.attr_ip(rt.RTA_DST, dst)
    if src:
        attrs += rt.attr_ip(RTA_SRC, src)
    if iif:
        try:
            attrs += rt.attr_u32(RTA_IIF, r.index(iif))
        except rt.NetlinkError:
            return f"no interface {iif}"
    body = rt.RTMSG.pack(fam, bits, bits if src else 0, 0, 0, 0, 0, 0, 0) + attrs
    seq = r._send(rt.RTM_GETROUTE, rt.NLM_F_REQUEST, body)
    try:
        msgs = r._replies(seq, dump=False)
    except rt.NetlinkError as exc:
        if exc.errno == errno.ENETUNREACH:
            return "no route"
        if exc.errno == errno.EHOSTUNREACH:
            return "not forwarding" if iif else "no route"
        return exc.strerror or str(exc)
    if not msgs:
        return "no answer"
    m = msgs[0]
    if m.fields[7] == RTN_LOCAL:
        return "local"
    oif = rt.s_u32(m.attrs.get(rt.RTA_OIF))
    dev = names.get(oif, "?") if oif is not None else "?"
    gw = rt.s_ip(m.attrs.get(rt.RTA_GATEWAY))
    return f"via {gw} dev {dev}" if gw else f"dev {dev}"


def kernel_hops(topology: Topology, tag: str, prediction: Prediction) -> list[dict[str, Any]]:
    socks: dict[str, tuple[rt.Rtnl, dict[int, str]]] = {}
    out: list[dict[str, Any]] = []
    try:
        for i, hop in enumerate(prediction.hops):
            look = hop.lookup
            if look is None:
                continue
            ns = ns_of(topology, tag, hop.node)
            if ns not in socks:
                r = rt.Rtnl.into(ns)
                socks[ns] = (r, {m.fields[2]: rt.s_str(m.attrs.get(rt.IFLA_IFNAME)) or "?" for m in r.links()})
            r, names = socks[ns]
            kernel = route_get(r, names, look.dst, look.src, look.iif)
            out.append({"hop": i, "node": hop.node, "direction": hop.direction,
                        "question": _question(look.dst, look.src, look.iif), "predicted": look.expect,
                        "kernel": kernel, "agree": kernel == look.expect})
    finally:
        for r, _names in socks.values():
            r.close()
    return out


def _question(dst: str, src: str | None, iif: str | None) -> str:
    return "ip route get " + dst + (f" from {src}" if src else "") + (f" iif {iif}" if iif else "")


# -- the NAT rules' counters -------------------------------------------------------------------------

def rule_names(topology: Topology, tag: str) -> dict[str, tuple[str, str]]:
    """comment -> (node, "nat[i]" / "port_forwards[i]") for every ND- rule of the lab."""
    out: dict[str, tuple[str, str]] = {}
    for n in topology.nodes:
        lines = nat_rules(tag, n)
        labels = [f"nat[{i}]" for i in range(len(n.nat))] + [f"port_forwards[{i}]" for i in range(len(n.port_forwards))]
        for line, label in zip(lines, labels, strict=True):
            parts = line.split()
            out[parts[parts.index("--comment") + 1]] = (n.name, label)
    return out


def read_counters(ns: str) -> dict[str, int]:
    proc = subprocess.run(["ip", "netns", "exec", ns, "iptables-save", "-c", "-t", "nat"],
                          capture_output=True, text=True, check=False, timeout=30)
    out: dict[str, int] = {}
    for line in proc.stdout.splitlines():
        if m := COUNTER_RE.match(line):
            out[m.group(3)] = int(m.group(1))
    return out


def _rule_nodes(topology: Topology) -> list[str]:
    return [n.name for n in topology.nodes if n.nat or n.port_forwards]


def counters(topology: Topology, tag: str) -> dict[str, int]:
    total: dict[str, int] = {}
    for node in _rule_nodes(topology):
        ns = ns_of(topology, tag, node)
        if nsutil.exists(ns):
            total.update(read_counters(ns))
    return total


def compare_rules(topology: Topology, tag: str, prediction: Prediction, before: dict[str, int],
                  after: dict[str, int]) -> list[dict[str, Any]]:
    predicted = {(h.node, h.rule): i for i, h in enumerate(prediction.hops) if h.rule is not None}
    rows = []
    for comment, (node, label) in rule_names(topology, tag).items():
        matched = after.get(comment, 0) > before.get(comment, 0)
        hop = predicted.get((node, label))
        rows.append({"node": node, "rule": label, "hop": hop, "predicted": hop is not None, "matched": matched,
                     "present": comment in after, "agree": matched == (hop is not None)})
    return rows


# -- all of it ---------------------------------------------------------------------------------------

def measure(topology: Topology, tag: str, source: str, prediction: Prediction, protocol: str = "icmp",
            port: int | None = None, *, deadline: float = DEADLINE) -> Measured:
    """Probe the pair on the kernel and compare each step with the prediction."""
    src_ns = ns_of(topology, tag, source)
    if not nsutil.exists(src_ns):
        raise FileNotFoundError(f"{source}: not deployed (no namespace {src_ns})")
    address = prediction.target_address
    before = counters(topology, tag)
    if protocol == "icmp":
        verdict, detail = ping(src_ns, address, deadline)
    else:
        assert port is not None
        verdict, detail = _probe_port(topology, tag, src_ns, prediction, protocol, address, port, deadline)
    after = counters(topology, tag)
    m = Measured(verdict=verdict, detail=detail)
    m.hops = kernel_hops(topology, tag, prediction)
    m.rules = compare_rules(topology, tag, prediction, before, after)
    first = next((h for h in m.hops if not h["agree"]), None)
    if first is not None:
        m.parted_at = first["hop"]
        m.parted = (f"at {first['node']}: the design expects `{first['question']}` to answer "
                    f"'{first['predicted']}', the kernel answers '{first['kernel']}'")
    else:
        rule = next((r for r in m.rules if not r["agree"]), None)
        if rule is not None:
            m.parted_at = rule["hop"]
            what = ("was expected to match and did not" if rule["predicted"] else "matched unexpectedly")
            if not rule["present"]:
                what += " (it is missing from the kernel's ND- chains)"
            m.parted = f"at {rule['node']}: its {rule['rule']} rule {what}"
    return m


def _probe_port(topology: Topology, tag: str, src_ns: str, prediction: Prediction, protocol: str,
                address: str, port: int, deadline: float) -> tuple[str, str]:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    final_node, final_port = prediction.final_node, prediction.final_port or port
    if final_node is None:  # not predicted to arrive: listen where the address lives, in case it does
        final_node = _owner(topology, address)
    listener = None
    if final_node is not None:
        listener = Listener(ns_of(topology, tag, final_node), protocol, final_port, family)
    try:
        return connect(src_ns, protocol, address, port, deadline)
    finally:
        if listener is not None:
            listener.close()


def _owner(topology: Topology, address: str) -> str | None:
    for lk in topology.links:
        for e in (lk.a, lk.b):
            if any(a.split("/")[0] == address for a in e.addresses):
                return e.node
    for n in topology.nodes:
        if any(a.split("/")[0] == address for a in n.addresses):
            return topology.host_name or IMPLICIT_HOST
    return None

