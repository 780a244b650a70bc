"""Why can (or can't) SOURCE reach TARGET? The design's answer, hop by hop, without touching a kernel.

The verdict is what the source itself would observe: `unreachable` when the request fails at the
source, or fails further on and the router's ICMP error gets back (ping then prints "Destination Net
Unreachable"); `no-reply` when the request is dropped silently (forwarding off) or arrives and the reply
is lost; `reachable` when the reply arrives from the address the source asked. Fixes are whole
corrected documents, each re-checked here before it is offered (see predict_fix.py). Pure: no I/O.
"""

from __future__ import annotations

from .model import Topology
from .predict_fix import find_fixes
from .predict_net import LabNet
from .predict_trace import (
    NO_REPLY,
    PROTOCOLS,
    REACHABLE,
    UNREACHABLE,
    VERDICTS,
    Fix,
    Prediction,
    Trace,
    check_request,
    resolve,
    trace,
)
from .predict_walk import Hop

__all__ = ["Fix", "Hop", "Prediction", "predict", "trace", "Trace", "VERDICTS", "PROTOCOLS", "REACHABLE",
           "UNREACHABLE", "NO_REPLY", "resolve", "check_request"]


def predict(topology: Topology, source: str, target: str, protocol: str = "icmp", port: int | None = None,
            *, with_fixes: bool = True, rp_filter: int = 0) -> Prediction:
    """The design's verdict for SOURCE -> TARGET; ValueError for a request that makes no sense.
    `rp_filter`: the namespaces' reverse path filter (0, as new namespaces have here; 1 strict, 2 loose)."""
    check_request(topology, source, protocol, port)
    net = LabNet(topology, rp_filter)
    t = trace(net, source, target, protocol, port)
    fixes: list[Fix] = []
    hints: list[str] = []
    if with_fixes and t.verdict != REACHABLE:

        for fix, hint in find_fixes(topology, source, target, protocol, port, t, rp_filter):
            fixes.append(fix)
            hints.append(hint)
    failed_hop = None
    if t.failed is not None:
        failed_hop = len(t.request.hops) - 1 if t.failed is t.request else len(t.hops) - 1
    final = t.request.packet if t.request.delivered else None
    return Prediction(
        verdict=t.verdict, reason=reason(net, t, hints), hops=t.hops, fixes=fixes, failed_hop=failed_hop,
        final_node=t.request.node if final else None, final_address=str(final.dst) if final else None,
        final_port=final.dport if final else None, target_address=str(t.target))


def reason(net: LabNet, t: Trace, hints: list[str]) -> str:
    """The failing hop in words a learner understands, with what would fix it."""
    src, dst = t.source, t.target
    fix_text = ", or ".join(hints)
    if t.verdict == REACHABLE:
        via = [h.detail for h in t.request.hops if h.action in ("dnat", "snat")]
        extra = f" ({'; '.join(via)})" if via else ""
        return f"{src} reaches {dst} and the reply comes back{extra}"
    leg = t.failed
    assert leg is not None and leg.packet is not None
    node, pkt = leg.node, leg.packet
    netns = net.ns[node]
    if t.failure == "bypass":
        text = (f"the reply reaches {leg.node} from {pkt.src_text()}, not from the {dst} that {src} asked: "
                f"it did not come back through the node that translated the request")
        return f"{text}: {fix_text}" if fix_text else text
    if leg is t.request:
        where = net.network_of(pkt.dst)
        routes = netns.describe_routes(pkt.dst.version)
        if t.failure == "noroute":
            only = f"its only routes are {routes}" if routes != "none" else "it has no routes at all"
            text = f"{node} has no route to {where}: {only}"
            if leg.came_from is not None:
                text = f"the request from {src} reaches {node}, which has no route to {where}: {only}"
                text += "; it tells " + src + " so" if t.icmp_back else "; its error cannot get back to " + src
        elif t.failure == "forwarding":
            text = (f"the request from {src} reaches {node} on {leg.in_iface}, but {node} does not forward "
                    f"packets (forwarding is off), so it drops it without a word")
        elif t.failure == "neighbour":
            hop = leg.route.via if leg.route and leg.route.via else pkt.dst
            text = (f"nobody on {node}'s {leg.route.dev if leg.route else '?'} answers ARP for {hop}"
                    f" (by {node}'s route {leg.route.text if leg.route else '?'})")
        elif t.failure == "noaddr":
            text = f"{node} has no address to send from"
        elif t.failure == "rp_filter":
            text = (f"the request from {src} reaches {node} on {leg.in_iface}, but {node} has no route back to "
                    f"{pkt.src} that way, so its reverse path filter drops it")
        elif t.failure == "loop":
            text = f"the request loops between routers until its TTL runs out (at {node})"
        else:
            text = f"the request is dropped at {node}"
        return f"{text}. To fix: {fix_text}" if fix_text else text
    answering = t.request.node
    reply_from = t.request.packet.dst if t.request.packet else dst
    if t.failure == "noroute":
        head = f"{reply_from} sends the reply to {pkt.dst}, for which {node} has no route"
        if node != answering:
            head = f"the reply from {reply_from} to {pkt.dst} reaches {node}, which has no route to it"
    elif t.failure == "forwarding":
        head = (f"the reply from {reply_from} reaches {node}, which does not forward packets (forwarding is "
                f"off)")
    elif t.failure == "neighbour":
        head = (f"the reply from {reply_from} to {pkt.dst} is lost at {node}: nobody on its "
                f"{leg.route.dev if leg.route else '?'} answers ARP for "
                f"{leg.route.via if leg.route and leg.route.via else pkt.dst}")
    elif t.failure == "rp_filter":
        head = (f"the reply from {reply_from} reaches {node} on {leg.in_iface}, but {node} has no route back to "
                f"{pkt.src} that way, so its reverse path filter drops it")
    elif t.failure == "loop":
        head = f"the reply from {reply_from} loops between routers until its TTL runs out (at {node})"
    else:
        head = f"the reply from {reply_from} is dropped at {node}"
    return f"{head}: {fix_text}" if fix_text else head
