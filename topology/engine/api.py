"""The facade the web app, the worker and the `lab` command call. Signatures here are the contract.

Everything takes the already-parsed `Topology` (from `parse`) and the deployment `tag`
(namespaces are `nd-<tag>-<node>`); `plan` and `apply` return typed operations (`Operation`, a union
of frozen dataclasses, each with `.command` and `.to_dict()`). Functions that touch the kernel need root.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from . import diag as _diag
from . import drift as _drift
from . import executor as _executor
from . import export as _export
from . import fields as _fields
from . import nsutil as _nsutil
from . import observer as _observer
from . import ops as _ops
from . import owners as _owners
from . import ownership as _ownership
from . import plan as _plan
from . import state as _state
from . import tables as _tables
from . import userns as _userns
from . import validate as _validate
from .model import BRIDGE, IMPLICIT_HOST, Topology
from .ops import Operation

__all__ = ["EngineError", "Operation", "PingReply", "PingResult", "Problem", "Progress", "ValidationFailed",
           "apply", "deployed_tags", "destroy", "drift", "export_shell", "netns_name", "owned", "parse", "ping",
           "plan", "run_in", "strangers", "tables", "userns_of", "validate"]

_LOCK = threading.Lock()  # one apply at a time per process: plans are computed against the kernel

# Progress callback: (done, total, step_text). Called after each operation; must be cheap.
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ValidationFailed(Exception):
    """A document broke the spec; `problems` lists every one of them."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class EngineError(Exception):
    """An operation failed in the kernel; the message names the operation and the reason."""


@dataclass(frozen=True)
class PingReply:
    seq: int
    ttl: int
    rtt_ms: float


@dataclass
class PingResult:
    sent: int = 0
    received: int = 0
    replies: list[PingReply] = field(default_factory=list)
    error: str | None = None


def parse(document: Mapping[str, Any], *, max_nodes: int = 2000, max_links: int = 2000) -> Topology:
    """Validate a netdesigner/v1 document and return the frozen `Topology`; raise ValidationFailed."""
    topo, problems = _validate.read(document, max_nodes=max_nodes, max_links=max_links)
    if topo is None:
        raise ValidationFailed([Problem(p, m) for p, m in problems])
    return topo


def validate(document: Mapping[str, Any], *, max_nodes: int = 2000, max_links: int = 2000) -> list[Problem]:
    """Every problem of a document (empty when valid)."""
    _topo, problems = _validate.read(document, max_nodes=max_nodes, max_links=max_links)
    return [Problem(p, m) for p, m in problems]


def _tag(tag: str) -> str:
    if msg := _fields.check_tag(tag):
        raise ValueError(msg)
    return tag


@functools.lru_cache(maxsize=16)
def _desired(topology: Topology, tag: str) -> _state.State:
    """Cached: the worker re-plans the same Topology object (as `previous`) again and again."""
    return _state.desired_state(topology, tag)


def _observe(topology: Topology, tag: str, install: str) -> tuple[_state.State, _state.State]:
    """(desired, observed) to plan with: every namespace of the lab read back whole, every time.

    Why no shortcut with `previous`: the design last applied proves nothing about what the kernel holds
    now (a hand change, a killed apply, another process); the whole read-back costs ~0.3 s at N=500."""
    desired = _desired(topology, _tag(tag))
    return desired, _observer.observe(tag, desired, install)


def _install(install: str) -> str:
    if not install:
        return _state.DEFAULT_INSTALL
    if not install.isascii() or not install.isalnum() or len(install) > 64:
        raise ValueError(f"install id {install!r}: letters and digits only, at most 64")
    return install


def plan(topology: Topology, tag: str, previous: Topology | None = None, *,
         install: str = _state.DEFAULT_INSTALL) -> list[Operation]:
    """Observe the kernel and plan. `previous` (the Topology last applied) is accepted and ignored:
    the whole lab is read back every time. Each operation's `.to_dict()` is the JSON shape, with at least
    {"op": str, "node": str|None, "command": "the ip/iptables/sysctl command a person would type"};
    `Blocked` and `Foreign` report namespaces under the lab's prefix that this install did not make
    (their command is a `#` comment saying so)."""
    try:
        desired, observed = _observe(topology, tag, _install(install))
    except OSError as exc:
        raise EngineError(f"observing the lab failed: {exc}") from exc
    return _plan.plan(desired, observed, tag, install=_install(install))


def apply(topology: Topology, tag: str, progress: Progress | None = None,
          previous: Topology | None = None, *, sandbox_uid: int = _userns.DEFAULT_SANDBOX_UID,
          install: str = _state.DEFAULT_INSTALL) -> list[Operation]:
    """Make the kernel match; returns the operations carried out. Raises EngineError.

    Touches only namespaces that carry this install's mark; one under the lab's prefix that does not
    and has a designed node's name stops the apply before anything changes (EngineError saying what to
    do); the others are left alone. New namespaces belong to the lab's user namespace (that of its
    namespaces already there, else a new one whose root is the host uid `sandbox_uid`)."""
    install = _install(install)
    with _LOCK:
        try:
            desired, observed = _observe(topology, tag, install)
        except OSError as exc:
            raise EngineError(f"observing the lab failed: {exc}") from exc
        ops = _plan.plan(desired, observed, tag, install=install)
        blocked = [op.ns for op in ops if isinstance(op, _ops.Blocked)]
        if blocked:
            raise EngineError(
                f"{', '.join(blocked)}: already there but not made by this NetDesigner install (no mark of "
                "ours), so they are left alone; remove them by hand (`ip netns del NAME`) if they are yours "
                "to remove, or rename the node(s), then apply again")
        ops = [op for op in ops if not isinstance(op, _ops.Foreign)]
        join = next((ns for ns, st in observed.items() if ns in desired and _state.owns(tag, install, st.mark)),
                    None)
        ex = _executor.Executor(sandbox_uid=sandbox_uid, join=_nsutil.path(join) if join else None)
        try:
            done = ex.run(ops, progress)
        except _executor.OpFailed as exc:
            raise EngineError(str(exc)) from exc
        finally:
            ex.close()
            _record_owner(desired, tag, install)
        return done


def _record_owner(desired: _state.State, tag: str, install: str) -> None:
    """Keep which user namespace is the lab's (engine/owners.py), from any of its namespaces: the proof
    of ownership that survives root inside the lab rewriting every mark."""
    for ns in desired:
        try:
            owner = _userns.userns_id(_nsutil.path(ns))
        except OSError:
            continue
        if owner != _userns.initial_id():
            try:
                _owners.record(tag, install, owner)
            except OSError:
                pass  # the marks still prove ownership; only a lab whose every mark is rewritten needs it
        return


def strangers(tag: str, install: str = _state.DEFAULT_INSTALL) -> list[str]:
    """Namespaces under the lab's prefix that this install did not make (never touched; reported)."""
    return _ownership.strangers(_tag(tag), _install(install))


def destroy(tag: str, progress: Progress | None = None, host: str = IMPLICIT_HOST, *,
            install: str = _state.DEFAULT_INSTALL) -> int:
    """Remove every namespace of the deployment that this install made (and so every link and rule in
    them); idempotent. Returns how many were removed; namespaces under the prefix that this install did
    not make stay (`strangers` lists them).

    Why this order and no threads (measured on a quiet 2-core VM, star lab N=200): the kernel frees a
    namespace in a worker once its last reference goes, and freeing the host namespace (the bridge and
    one veth end per node) is by far the heaviest; each `umount2` waits for an expedited RCU grace
    period, which that worker running on the other CPU slows down. Host first: 27-31 ms; host last, as
    star-limit.sh does: 8-14 ms. Worker threads added 15-20 ms of GIL and wake-up hand-offs to calls that
    are each a few microseconds of CPU. Very big labs are the exception (see DESTROY_HOST_LAST_UP_TO).
    `host` names the lab's host node (the bridges' namespace) when it
    is not the implicit "host"; the order only affects speed.
    """
    tag, install = _tag(tag), _install(install)
    names = _ownership.removable(tag, install)
    heavy = f"nd-{tag}-{host}"
    if len(names) <= DESTROY_HOST_LAST_UP_TO:
        names.sort(key=lambda ns: ns == heavy)  # stable: the rest stays sorted
        results: Iterator[bool | OSError] = map(_remove_ns, names)
        pool = None
    else:
        names.sort(key=lambda ns: ns != heavy)
        pool = ThreadPoolExecutor(max_workers=4)
        results = pool.map(_remove_ns, names)
    removed = 0
    try:
        for i, (ns, result) in enumerate(zip(names, results, strict=True), 1):
            if isinstance(result, OSError):
                raise EngineError(f"ip netns del {ns}: {result.strerror or result}")
            removed += result
            if progress is not None:
                progress(i, len(names), f"ip netns del {ns}")
    finally:
        if pool is not None:
            pool.shutdown()
    if not _ownership.removable(tag, install):
        _owners.forget(tag, install)
    return removed


# Measured (quiet 2-core VM, star labs, best time of the loop): host last in the calling thread vs host
# first in 4 threads: N=200 8-14 ms vs 27-31 ms, N=500 19 ms vs 54-59 ms, N=750 26-38 ms vs 125 ms,
# but N=1000 0.54-0.74 s vs 0.23-0.29 s (there the veth pairs freed one node at a time outweigh the
# host's single big batch). Above this size the host goes first.
DESTROY_HOST_LAST_UP_TO = 800


def _remove_ns(ns: str) -> bool | OSError:
    try:
        return _nsutil.remove(ns)
    except OSError as exc:
        return exc


def drift(topology: Topology, tag: str, *, install: str = _state.DEFAULT_INSTALL) -> list[dict[str, Any]]:
    """Differences between design and kernel, [] when in sync: [{"node", "kind", "what", "expected", "actual"}].
    A namespace under the lab's prefix that this install did not make is listed, its `actual` saying so."""
    install = _install(install)
    try:
        desired, observed = _observe(topology, tag, install)
    except OSError as exc:
        raise EngineError(f"observing the lab failed: {exc}") from exc
    return _drift.drift(desired, observed, tag, install=install)


def _addresses(topology: Topology) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {n.name: [a.split("/")[0] for a in n.addresses] for n in topology.nodes}
    for lk in topology.links:
        for e in (lk.a, lk.b):
            out[e.node].extend(a.split("/")[0] for a in e.addresses)
    return out


def ping(topology: Topology, tag: str, source: str, target: str, count: int = 3, interval: float = 0.2,
         timeout: float = 1.0) -> Iterator[PingReply | PingResult]:
    """Ping from node `source` to an address or node name; yields each PingReply as it arrives and a
    final PingResult (error like "Network is unreachable" when there is one)."""
    ns = netns_name(tag, source, topology=topology)
    if not topology.has_node(source):
        raise ValueError(f"{source!r} is not a node of this lab")
    address = _diag.resolve_target(_addresses(topology), target)
    if not _nsutil.exists(ns):
        raise EngineError(f"{source}: not deployed (no namespace {ns})")
    count = max(1, min(int(count), 100))
    result = PingResult()
    for kind, data in _diag.ping_lines(ns, address, count, max(0.01, interval), max(0.1, timeout)):
        if kind == "reply":
            reply = PingReply(seq=data[0], ttl=data[1], rtt_ms=data[2])
            result.replies.append(reply)
            yield reply
        else:
            result.sent, result.received, result.error = data
    if result.error is None and result.sent == 0 and result.received == 0:
        result.error = "ping did not run"
    yield result


def tables(topology: Topology, tag: str, node: str) -> dict[str, Any]:
    """{"interfaces": [{"name","mac","state","addresses"}], "arp": [{"ip","mac","interface","state"}],
    "routes": [{"to","via","dev","proto","scope"}]} read live from the node's namespace (a bridge: the
    lab's host namespace), with pyroute2 (interfaces also carry "master": the bridge a port belongs to)."""
    if not topology.has_node(node):
        raise ValueError(f"{node!r} is not a node of this lab")
    try:
        return _tables.read(netns_name(tag, node, topology=topology))
    except FileNotFoundError as exc:
        raise EngineError(f"{node}: not deployed") from exc
    except OSError as exc:
        raise EngineError(f"{node}: reading the tables failed: {exc}") from exc


def run_in(tag: str, node: str, argv: list[str], *, topology: Topology | None = None) -> int:
    """Run argv inside the node's namespace (no shell), inheriting stdio; return its exit code.
    Pass `topology` so that a bridge node runs in the lab's host namespace."""
    return _diag.run_in(netns_name(tag, node, topology=topology), list(argv))


def export_shell(topology: Topology, tag: str) -> str:
    """A bash script of ip/iptables/sysctl commands that builds the same lab by hand."""
    return _export.export_shell(topology, _tag(tag))


def netns_name(tag: str, node: str, *, topology: Topology | None = None) -> str:
    """The namespace a node lives in: nd-<tag>-<node> (bridges live in the lab's host: nd-<tag>-host).
    Without `topology` a bridge cannot be told apart, so pass it for bridge nodes."""
    if msg := _fields.check_tag(tag):
        raise ValueError(msg)
    if topology is not None and topology.has_node(node):
        n = topology.node(node)
        if n.kind == BRIDGE:
            node = topology.host_name or IMPLICIT_HOST
    elif msg := _fields.check_node_name(node):
        raise ValueError(msg)
    return f"nd-{tag}-{node}"


def userns_of(tag: str, node: str, *, topology: Topology | None = None) -> int:
    """An fd (the caller closes it) of the user namespace that owns the node's namespace: the lab's.
    Its uid 0 is the sandbox uid on the host; root inside it reaches only this lab's namespaces."""
    ns = netns_name(tag, node, topology=topology)
    try:
        return _userns.owning_userns(_nsutil.path(ns))
    except FileNotFoundError as exc:
        raise EngineError(f"{node}: not deployed (no namespace {ns})") from exc


def deployed_tags(install: str | None = None) -> set[str]:
    """Tags of every deployment with at least one `nd-<tag>-*` namespace on this machine; with `install`,
    only of namespaces that carry that install's mark (see `owned`)."""
    if install is not None:
        return set(owned(install))
    return {m.group(1) for n in _nsutil.listing() if (m := _ownership.TAG_NS_RE.fullmatch(n))}


def owned(install: str = _state.DEFAULT_INSTALL) -> dict[str, list[str]]:
    """{tag: [namespace, ...]} of every namespace on this machine that carries this install's mark (its
    name's tag and the mark's agree): what cleanup may consider."""
    return _ownership.owned(_install(install))
