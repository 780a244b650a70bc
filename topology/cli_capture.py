"""`lab capture LAB NODE INTERFACE [--seconds N] [--count N] [--write FILE]`: packets as they arrive.

The `lab` command runs as root on the worker host, so it captures in this process (as `lab tables`
reads in this process): no job, no worker, the summaries printed the moment a frame arrives, the pcap
written with `--write`. Ctrl-C ends it early like any other bound.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
from collections.abc import Callable
from typing import IO, Any

from .engine.capture import CaptureResult, Packet, PcapWriter, Point
from .kernel import default_kernel


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "capture", help="capture packets on a node's interface, printing a summary of each as it arrives")
    p.add_argument("lab")
    p.add_argument("node")
    p.add_argument("interface")
    p.add_argument("--seconds", type=float, default=10.0, help="stop after this long (default 10)")
    p.add_argument("--count", type=int, default=1000, help="stop after this many packets (default 1000)")
    p.add_argument("--write", metavar="FILE", help="also write the packets to FILE as pcap")


def line(packet: Packet) -> str:
    at = datetime.datetime.fromtimestamp(packet.ts).strftime("%H:%M:%S.%f")
    way = ">" if packet.outgoing else "<"
    return f"{at} {packet.node}/{packet.interface} {way} {packet.summary}"


def run(*, topology: Any, tag: str, node: str, interface: str, seconds: float, count: int,
        write: str | None, out: Callable[[str], None]) -> CaptureResult:
    """Capture and print; returns how it ended (reason "stopped" after Ctrl-C)."""
    result = CaptureResult(reason="stopped")
    with contextlib.ExitStack() as stack:
        pcap: IO[bytes] | None = stack.enter_context(open(write, "wb")) if write else None  # noqa: SIM115
        writer = PcapWriter(pcap) if pcap is not None else None
        items = default_kernel().capture(topology, tag, [Point(node, interface)], seconds=seconds,
                                         max_packets=count,
                                         on_ready=lambda: out(f"capturing on {node}/{interface} for {seconds:g} s "
                                                              f"(at most {count} packets); Ctrl-C stops"))
        try:
            for item in items:
                if isinstance(item, Packet):
                    out(line(item))
                    result.packets += 1
                    if writer is not None:
                        writer.write(item)
                        writer.flush()
                else:
                    result = item
        except KeyboardInterrupt:
            result.reason = "stopped"
    return result
