"""A node's live tables (interfaces, ARP/neighbour cache, main routing table), read with pyroute2.

Why pyroute2 here and the engine's own `rtnl.py` for apply/observe/destroy: this read is one node at
a time, every few seconds, for people watching a lab, so pyroute2's cost (~6-8 ms a node, see
bench/ENGINE.md "Where pyroute2 is used and where it is not") is fine, and its decoder covers every
attribute for free. The bulk paths touch hundreds of namespaces per run and need microseconds.

Why not `IPRoute(netns=NAME)` / `NetNS(NAME)`: pyroute2 0.9.7 forks a helper process to open the
socket in the namespace (9-20 ms a call measured here), and with its default flags
(`os.O_CREAT`) it *creates* a namespace that is missing, which would leave an `nd-*` namespace behind
for a node that is not deployed. Instead the calling thread steps into the namespace with
`nsutil.inside` (setns, this thread only), constructs a plain `IPRoute()` there (its netlink socket is
opened in the constructor and stays bound to that namespace), and steps back before any request.
That works the same in a plain thread (the worker's tables watcher) and in a Celery prefork child.

pyroute2 is imported on first use: the import costs ~0.5-1 s, which processes that only import the
engine facade to validate documents (the web server) should not pay.
"""

from __future__ import annotations

import asyncio
import functools
import socket
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from . import nsutil

IFF_UP = 1
RT_TABLE_MAIN = 254
RTN_UNICAST = 1
RTEXT_FILTER_SKIP_STATS = 1 << 3  # the link dump leaves out the counters we do not show
NUD = {0x01: "INCOMPLETE", 0x02: "REACHABLE", 0x04: "STALE", 0x08: "DELAY", 0x10: "PROBE",
       0x20: "FAILED", 0x40: "NOARP", 0x80: "PERMANENT"}
PROTOS = {2: "kernel", 3: "boot", 4: "static", 16: "dhcp", 77: "netdesigner"}
SCOPES = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}


@functools.cache
def _iproute_class() -> Any:
    from pyroute2 import IPRoute

    return IPRoute


@functools.cache
def _netlink_error() -> type[Exception]:
    from pyroute2 import NetlinkError

    return cast(type[Exception], NetlinkError)


def open_in(ns: str) -> Any:
    """A pyroute2 `IPRoute` whose socket lives in namespace `ns` (FileNotFoundError when it does not
    exist); the caller closes it. Must be used from the thread that opened it (pyroute2 keeps its
    socket and event loop per thread)."""
    cls = _iproute_class()
    with nsutil.inside(ns):
        return cls()


def _attr(msg: Any, name: str) -> Any:
    return msg.get_attr(name)


def _read(ns: str) -> dict[str, Any]:
    ipr = open_in(ns)
    try:
        links = list(ipr.get_links(ext_mask=RTEXT_FILTER_SKIP_STATS))
        addrs = list(ipr.get_addr())
        neighbours = list(ipr.get_neighbours(family=socket.AF_INET))  # IPv6 ones are not shown: skip
        routes = list(ipr.get_routes())
    except _netlink_error() as exc:  # pyroute2's NetlinkError is no OSError: callers expect one
        raise OSError(getattr(exc, "code", 0), f"netlink dump in {ns}: {exc}") from exc
    finally:
        ipr.close()
    names: dict[int, str] = {int(m["index"]): str(_attr(m, "IFLA_IFNAME") or "?") for m in links}
    by_index: dict[int, list[str]] = {}
    for m in addrs:
        ip = _attr(m, "IFA_LOCAL" if m["family"] == socket.AF_INET else "IFA_ADDRESS")
        if ip is not None:
            by_index.setdefault(int(m["index"]), []).append(f"{ip}/{m['prefixlen']}")
    interfaces = []
    for m in links:
        index = int(m["index"])
        master = _attr(m, "IFLA_MASTER")
        interfaces.append({
            "name": names[index], "mac": _attr(m, "IFLA_ADDRESS") or None,
            "state": "up" if int(m["flags"]) & IFF_UP else "down",
            "addresses": by_index.get(index, []),
            "master": names.get(int(master)) if master else None})
    arp = []
    for m in neighbours:
        ip = _attr(m, "NDA_DST")
        if ip is None or m["family"] != socket.AF_INET:
            continue
        state = int(m["state"])
        arp.append({"ip": str(ip), "mac": _attr(m, "NDA_LLADDR") or None,
                    "interface": names.get(int(m["ifindex"]), "?"), "state": NUD.get(state, str(state))})
    out_routes = []
    for m in routes:
        table = _attr(m, "RTA_TABLE") or m["table"]
        if table != RT_TABLE_MAIN or m["type"] != RTN_UNICAST:
            continue
        dst = _attr(m, "RTA_DST")
        if dst is not None and str(dst).startswith("fe80:"):
            continue  # the kernel's own link-local route on every IPv6 interface
        oif = _attr(m, "RTA_OIF")
        proto, scope = int(m["proto"]), int(m["scope"])
        out_routes.append({"to": f"{dst}/{m['dst_len']}" if dst is not None else "default",
                           "via": _attr(m, "RTA_GATEWAY"),
                           "dev": names.get(int(oif)) if oif is not None else None,
                           "proto": PROTOS.get(proto, str(proto)), "scope": SCOPES.get(scope, str(scope))})
    return {"interfaces": interfaces, "arp": arp, "routes": out_routes}


def read(ns: str) -> dict[str, Any]:
    """{"interfaces": [{"name","mac","state","addresses","master"}], "arp": [{"ip","mac","interface",
    "state"}], "routes": [{"to","via","dev","proto","scope"}]} of namespace `ns`, read live.
    Raises FileNotFoundError when the namespace does not exist, OSError when the kernel refuses.

    pyroute2's synchronous IPRoute drives its own asyncio loop, which cannot run inside a thread that
    already runs one; called from such a thread, the read happens in a short-lived helper thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _read(ns)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_read, ns).result()
