"""Decoding captured frames: dpkt (what topology/engine/decode.py uses) against scapy, side by side.

A script, not a test. Needs no root. scapy is not a dependency of the project: install it anywhere
(`pip install --target /tmp/scapy scapy==2.8.0`) and pass that directory with --scapy.

    .venv/bin/python bench/capture_decode.py [--scapy /tmp/scapy] [--frames 20000]

Prints, for each library: the time to import it (a fresh interpreter, best of 3), its installed size,
and the time to turn one frame into a one-line summary (a mix of ARP, ICMP, TCP, UDP, ICMPv6 frames;
dpkt through our `summarize`, scapy through `Ether(frame).summary()`), as microseconds per frame.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def frames() -> list[bytes]:
    import dpkt

    def v4(text: str) -> bytes:
        return socket.inet_pton(socket.AF_INET, text)

    def eth(data: object, kind: int) -> bytes:
        return bytes(dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\x04" * 6, type=kind, data=data))

    def ip(inner: object, proto: int) -> bytes:
        packet = dpkt.ip.IP(src=v4("192.168.15.1"), dst=v4("192.168.15.2"), p=proto, data=inner)
        packet.len = len(bytes(packet))
        return eth(packet, dpkt.ethernet.ETH_TYPE_IP)

    ns = dpkt.icmp6.ICMP6(type=135, data=b"\x00" * 4 + socket.inet_pton(socket.AF_INET6, "2001:db8::2"))
    ip6 = dpkt.ip6.IP6(src=socket.inet_pton(socket.AF_INET6, "2001:db8::1"),
                       dst=socket.inet_pton(socket.AF_INET6, "ff02::1:ff00:2"), nxt=58, hlim=255, data=ns)
    ip6.plen = len(bytes(ns))
    return [
        eth(dpkt.arp.ARP(spa=v4("192.168.15.1"), tpa=v4("192.168.15.2")), dpkt.ethernet.ETH_TYPE_ARP),
        ip(dpkt.icmp.ICMP(type=8, data=dpkt.icmp.ICMP.Echo(id=3, seq=1, data=b"x" * 56)), 1),
        ip(dpkt.tcp.TCP(sport=43210, dport=80, seq=1, flags=0x02, win=64240), 6),
        ip(dpkt.udp.UDP(sport=5353, dport=53, ulen=13, data=b"hello"), 17),
        eth(ip6, dpkt.ethernet.ETH_TYPE_IP6),
    ]


def import_seconds(module: str, extra_path: str | None) -> float:
    env = dict(os.environ)
    if extra_path:
        env["PYTHONPATH"] = extra_path
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    best = min(float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                                    check=True).stdout) for _ in range(3))
    return best


def size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def per_frame_us(fn: Callable[[bytes], object], sample: list[bytes], count: int) -> float:
    for frame in sample:
        fn(frame)
    start = time.perf_counter()
    for i in range(count):
        fn(sample[i % len(sample)])
    return (time.perf_counter() - start) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scapy", help="a directory holding the scapy package (pip install --target DIR scapy)")
    parser.add_argument("--frames", type=int, default=20000)
    args = parser.parse_args()
    sample = frames()

    import dpkt

    from topology.engine.decode import summarize

    rows = [("dpkt " + dpkt.__version__, import_seconds("dpkt", None), size_mb(Path(dpkt.__file__).parent),
             per_frame_us(summarize, sample, args.frames))]
    if args.scapy:
        sys.path.insert(0, args.scapy)
        import scapy
        from scapy.all import Ether

        rows.append(("scapy " + scapy.VERSION, import_seconds("scapy.all", args.scapy),
                     size_mb(Path(scapy.__file__).parent),
                     per_frame_us(lambda f: Ether(f).summary(), sample, max(1000, args.frames // 10))))
    print(f"{'library':14} {'import s':>9} {'size MB':>8} {'us/frame':>9}")
    for name, imp, size, us in rows:
        print(f"{name:14} {imp:9.3f} {size:8.1f} {us:9.1f}")
    if len(rows) == 2:
        print(f"scapy/dpkt: import {rows[1][1] / rows[0][1]:.0f}x, size {rows[1][2] / rows[0][2]:.0f}x, "
              f"decode {rows[1][3] / rows[0][3]:.0f}x")


if __name__ == "__main__":
    main()
