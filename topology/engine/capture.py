"""Packet capture inside a lab: AF_PACKET sockets on (node, interface) pairs, bounded, written as pcap.

Why AF_PACKET and not tcpdump: no process to start, watch and kill per interface, no argv built from
user input, and several interfaces are read by one `select` loop in the caller's thread. A packet
socket stays bound to the namespace it was created in, so a short-lived thread steps into the node's
namespace (nsutil.inside), opens and binds the socket there, and leaves; the socket is then read from
wherever. It is created with protocol 0 (it receives nothing) and bound with ETH_P_ALL to one
interface, so no frame of another interface slips in between socket() and bind().

Every capture is bounded three ways, all enforced here and not by whoever watches: a deadline
(seconds), a packet count and a byte count (what is kept and written), over all its interfaces.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO

import dpkt

from . import fields as _fields
from . import nsutil as _nsutil
from .api import EngineError
from .decode import summarize
from .model import BRIDGE, IMPLICIT_HOST, Topology

ETH_P_ALL = 0x0003
SNAPLEN = 262144  # bytes kept of each frame (and the pcap header's snaplen), as tcpdump's default
SO_TIMESTAMPNS = 35  # SCM_TIMESTAMPNS: the kernel's receive time of each frame, in nanoseconds
PACKET_OUTGOING = 4
MAX_SECONDS = 300.0
MAX_PACKETS = 100_000
MAX_BYTES = 64 * 1024 * 1024
POLL_SLICE = 0.25  # seconds between checks of `stop` while no packet comes
_TIMESPEC = struct.Struct("@qq")


class CaptureError(EngineError):
    """A capture cannot start: the message says which node or interface and what to do."""


@dataclass(frozen=True)
class Point:
    """Where to capture: an interface of a node, as the design names them."""

    node: str
    interface: str

    def __str__(self) -> str:
        return f"{self.node}/{self.interface}"


@dataclass(frozen=True)
class Packet:
    point: int  # index into the capture's points
    node: str
    interface: str
    ts: float  # epoch seconds, the kernel's receive time
    length: int  # the frame's length on the wire
    data: bytes  # the frame as captured (at most SNAPLEN bytes)
    outgoing: bool  # sent by this interface's namespace (else received)
    summary: str


@dataclass
class CaptureResult:
    """How the capture ended: reason is "time", "packets", "bytes", "stopped" or "gone" (an interface
    went away under the capture, e.g. the lab was destroyed)."""

    reason: str = "time"
    packets: int = 0
    bytes: int = 0
    per_point: list[int] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0


def interfaces_of(topology: Topology, node: str) -> list[str]:
    """The interface names a node has in the design: its cable ends; a bridge also its own device,
    and the host every bridge's device (bridges live in the host's namespace)."""
    if not topology.has_node(node):
        return []
    names = [e.interface for lk in topology.links for e in (lk.a, lk.b) if e.node == node]
    kind = topology.node(node).kind
    if kind == BRIDGE:
        names.append(node)
    elif node == (topology.host_name or IMPLICIT_HOST) and kind != BRIDGE:
        names.extend(n.name for n in topology.nodes if n.kind == BRIDGE)
    return names


def check_point(topology: Topology, point: Point) -> str | None:
    """Why a point cannot be captured on (None: it can). Pure: the names are checked against the design."""
    if msg := _fields.check_node_name(point.node):
        return msg
    if not topology.has_node(point.node):
        return f"{point.node!r} is not a node of this lab"
    if msg := _fields.check_ifname(point.interface):
        return msg
    known = interfaces_of(topology, point.node)
    if point.interface not in known:
        listed = ", ".join(sorted(known)) or "none"
        return f"{point.node} has no interface {point.interface!r} (its interfaces: {listed})"
    return None


def netns_of(topology: Topology, tag: str, node: str) -> str:
    if msg := _fields.check_tag(tag):
        raise ValueError(msg)
    if topology.node(node).kind == BRIDGE:
        node = topology.host_name or IMPLICIT_HOST
    return f"nd-{tag}-{node}"


def _open_in(netns: str, ifname: str) -> socket.socket:
    with _nsutil.inside(netns):  # a packet socket belongs to the namespace it is created in
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    try:
        sock.bind((ifname, ETH_P_ALL))
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def open_sockets(topology: Topology, tag: str, points: Sequence[Point]) -> list[socket.socket]:
    """One bound packet socket per point, opened in a throwaway thread (its namespace changes are its
    own); CaptureError naming the point when one cannot be opened (the others are closed)."""
    opened: list[socket.socket] = []
    failure: list[str] = []

    def work() -> None:
        for point in points:
            netns = netns_of(topology, tag, point.node)
            if not _nsutil.exists(netns):
                failure.append(f"{point.node} is not deployed (no namespace {netns}): apply the lab first")
                return
            try:
                opened.append(_open_in(netns, point.interface))
            except OSError as exc:
                reason = "no such interface in the kernel: apply the lab again" if exc.errno == 19 else \
                    (exc.strerror or str(exc))
                failure.append(f"capturing on {point} failed: {reason}")
                return

    thread = threading.Thread(target=work, name="nd-capture-open", daemon=True)
    thread.start()
    thread.join()
    if failure or len(opened) != len(points):
        for sock in opened:
            sock.close()
        raise CaptureError(failure[0] if failure else "capturing failed to start")
    return opened


def _receive(sock: socket.socket, buf: bytearray) -> tuple[bytes, int, float, bool] | None:
    """One frame: (data, wire length, timestamp, outgoing), or None when nothing is waiting. With
    MSG_TRUNC a packet socket returns the frame's real length even when it was cut to the buffer."""
    try:
        length, ancillary, _flags, address = sock.recvmsg_into([buf], 64, socket.MSG_TRUNC)
    except BlockingIOError:
        return None
    data = bytes(buf[:min(length, len(buf))])
    ts = time.time()
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(payload) >= _TIMESPEC.size:
            sec, nsec = _TIMESPEC.unpack_from(payload)
            ts = sec + nsec / 1e9
    return data, length, ts, len(address) > 2 and address[2] == PACKET_OUTGOING


def capture(topology: Topology, tag: str, points: Sequence[Point], *, seconds: float = 10.0,
            max_packets: int = 1000, max_bytes: int = MAX_BYTES, stop: Callable[[], bool] | None = None,
            on_ready: Callable[[], None] | None = None) -> Iterator[Packet | CaptureResult]:
    """Capture on every point at once; yields each Packet as it arrives, then one CaptureResult.

    Ends at the first of: `seconds` passed, `max_packets` packets kept, `max_bytes` bytes kept, `stop()`
    true (checked at least every POLL_SLICE s). The sockets are open when `on_ready` is called (the
    caller may start traffic then) and closed when the generator ends or is closed."""
    if not points:
        raise CaptureError("nothing to capture on: name at least one node and interface")
    for point in points:
        if msg := check_point(topology, point):
            raise CaptureError(msg)
    seconds = max(0.1, min(float(seconds), MAX_SECONDS))
    max_packets = max(1, min(int(max_packets), MAX_PACKETS))
    max_bytes = max(1, min(int(max_bytes), MAX_BYTES))
    socks = open_sockets(topology, tag, points)
    result = CaptureResult(per_point=[0] * len(points), started=time.time())
    try:
        if on_ready is not None:
            on_ready()
        yield from _loop(socks, points, result, time.monotonic() + seconds, max_packets, max_bytes, stop)
    finally:
        for sock in socks:
            sock.close()
        result.ended = time.time()
    yield result


def _loop(socks: list[socket.socket], points: Sequence[Point], result: CaptureResult, deadline: float,
          max_packets: int, max_bytes: int, stop: Callable[[], bool] | None) -> Iterator[Packet]:
    """Read every socket until a bound is reached; sets `result.reason`."""
    index = {sock.fileno(): i for i, sock in enumerate(socks)}
    buf = bytearray(SNAPLEN)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            result.reason = "time"
            return
        if stop is not None and stop():
            result.reason = "stopped"
            return
        ready, _, _ = select.select(socks, [], [], min(left, POLL_SLICE))
        for sock in ready:
            i = index[sock.fileno()]
            while True:
                try:
                    got = _receive(sock, buf)
                except OSError:  # ENETDOWN, ENXIO: the interface went away
                    result.reason = "gone"
                    return
                if got is None:
                    break
                if time.monotonic() >= deadline:  # a slow consumer must not stretch the capture
                    result.reason = "time"
                    return
                data, length, ts, outgoing = got
                if result.bytes + len(data) > max_bytes:
                    result.reason = "bytes"
                    return
                result.packets += 1
                result.bytes += len(data)
                result.per_point[i] += 1
                point = points[i]
                yield Packet(point=i, node=point.node, interface=point.interface, ts=ts, length=length,
                             data=data, outgoing=outgoing, summary=summarize(data))
                if result.packets >= max_packets:
                    result.reason = "packets"
                    return


class PcapWriter:
    """A classic pcap file (Ethernet, microseconds), the format every reader knows (tcpdump -r)."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self._writer = dpkt.pcap.Writer(out, snaplen=SNAPLEN, linktype=dpkt.pcap.DLT_EN10MB)

    def write(self, packet: Packet) -> None:
        self._writer.writepkt_time(packet.data, packet.ts)

    def flush(self) -> None:
        self._out.flush()
