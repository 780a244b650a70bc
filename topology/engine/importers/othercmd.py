"""iptables (the nat table's MASQUERADE and DNAT), sysctl/echo for forwarding, and ping.

A rule the document cannot hold, or that iptables itself would refuse (a port match without a
protocol), is refused with what is missing, and with the corrected line when the intent is clear.
"""

from __future__ import annotations

import ipaddress

from .. import fields as F
from .ipcmd import LOOK
from .kmodel import Kernel, NatRec, Ping, Refused, insert_before

TCP_PORTS = {22, 80, 443, 3000, 5000, 8000, 8080, 8443, 8888}
UDP_PORTS = {53, 67, 68, 69, 123, 161, 514, 1194, 4789, 5353}
WITH_VALUE = {"-t", "--table", "-A", "--append", "-I", "--insert", "-D", "--delete", "-s", "--source",
              "-d", "--destination", "-o", "--out-interface", "-i", "--in-interface", "-p", "--protocol",
              "--dport", "--destination-port", "--sport", "--source-port", "-j", "--jump", "-m", "--match",
              "--to-destination", "--to-source", "--to-ports", "--to", "--comment", "-P", "--policy"}
FORWARD_KEYS = ("net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding", "net.ipv6.conf.all.forwarding")
LOOK_ONLY = {"arp", "route", "ifconfig", "netstat", "ss", "tcpdump", "curl", "wget", "nc", "ncat", "cat",
             "ls", "brctl", "bridge", "traceroute", "tracepath", "mtr", "dig", "nslookup", "host", "clear",
             "history", "exit", "lsns", "ethtool", "watch", "less", "more", "grep", "man", "telnet"}


def iptables(k: Kernel, argv: list[str], ns: str, line: int) -> str | None:
    opts: dict[str, str] = {}
    flags: list[str] = []
    i = 1
    negated = False
    while i < len(argv):
        w = argv[i]
        if w == "!":
            negated = True
            i += 1
            continue
        if w in WITH_VALUE:
            if i + 1 >= len(argv):
                raise Refused(f"{w} needs a value after it")
            if negated:
                raise Refused(f"a negated match (! {w}) cannot be drawn; left out")
            key = {"--table": "-t", "--append": "-A", "--insert": "-I", "--delete": "-D", "--source": "-s",
                   "--destination": "-d", "--out-interface": "-o", "--in-interface": "-i",
                   "--protocol": "-p", "--destination-port": "--dport", "--source-port": "--sport",
                   "--jump": "-j", "--match": "-m", "--to": "--to-destination"}.get(w, w)
            opts[key] = argv[i + 1]
            i += 2
        else:
            flags.append(w)
            i += 1
    if any(f.lstrip("-")[:1] in ("L", "S", "n", "v", "x", "Z") or f in ("--list", "--list-rules") for f in flags) \
            and "-A" not in opts and "-I" not in opts and "-D" not in opts:
        return LOOK
    if "-P" in opts or any(f in ("-F", "--flush", "-X", "-N") for f in flags):
        raise Refused("chain policies and flushing are not part of a lab: its host forwards everything "
                      "and its own rules live in ND-... chains; left out")
    chain = opts.get("-A") or opts.get("-I") or opts.get("-D")
    if chain is None:
        raise Refused("an iptables rule needs -A CHAIN (POSTROUTING for MASQUERADE, PREROUTING for DNAT)")
    target = opts.get("-j", "")
    table = opts.get("-t", "filter")
    if target in ("ACCEPT", "DROP", "REJECT", "RETURN", "LOG") and table == "filter":
        raise Refused(f"filter rules (-j {target}) are not drawn: a lab's nodes accept every packet "
                      "(only the nat table's MASQUERADE and DNAT are); left out")
    if target not in ("MASQUERADE", "DNAT"):
        raise Refused(f"-j {target or '(none)'} is not drawn here (only -j MASQUERADE and -j DNAT in the nat table)")
    if table != "nat":
        raise Refused(f"-j {target} is only valid in the nat table (iptables answers \"{target} target: only "
                      "valid in nat table\"): add -t nat", fix=lambda a: a[:1] + ["-t", "nat"] + a[1:])
    if "--dport" in opts and "-p" not in opts:
        port = opts["--dport"]
        proto = "tcp" if port.isdigit() and int(port) in TCP_PORTS else (
            "udp" if port.isdigit() and int(port) in UDP_PORTS else None)
        why = ("--dport matches a port, and ports belong to a protocol: iptables refuses it without -p "
               "(\"unknown option --dport\")")
        if proto is None:
            raise Refused(f"{why}; add -p tcp or -p udp before it")
        raise Refused(f"{why}; port {port} is {proto} here, so -p {proto} goes before it",
                      fix=insert_before("--dport", ["-p", proto]))
    rec = NatRec(kind=target.lower(), line=line)
    if "-s" in opts:
        net, msg = F.parse_network(opts["-s"] if "/" in opts["-s"] else opts["-s"] + "/32")
        if net is None:
            raise Refused(f"-s {opts['-s']}: {msg}")
        rec.source = str(net)
    rec.out_interface = opts.get("-o")
    rec.in_interface = opts.get("-i")
    if target == "MASQUERADE":
        if chain != "POSTROUTING":
            raise Refused(f"MASQUERADE belongs in POSTROUTING, not {chain}")
        if "-d" in opts or "-p" in opts:
            raise Refused("a masquerade with -d or -p matches cannot be drawn (a lab's masquerade matches "
                          "a source network and an outgoing interface); left out")
    else:
        if chain != "PREROUTING":
            raise Refused(f"a port forward (DNAT) belongs in PREROUTING, not {chain}")
        proto = opts.get("-p")
        if proto not in ("tcp", "udp"):
            raise Refused(f"a port forward needs -p tcp or -p udp, not {proto!r}")
        port = opts.get("--dport", "")
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            raise Refused("a port forward needs --dport PORT (1-65535)")
        dest = opts.get("--to-destination")
        if not dest:
            raise Refused("-j DNAT needs --to-destination ADDRESS[:PORT]")
        to, _, to_port = dest.partition(":")
        ip, msg = F.parse_ip(to)
        if ip is None:
            raise Refused(f"--to-destination {dest}: {msg}")
        if to_port and (not to_port.isdigit() or not 1 <= int(to_port) <= 65535):
            raise Refused(f"--to-destination {dest}: {to_port!r} is not a port")
        rec.protocol, rec.port, rec.to = proto, int(port), str(ip)
        rec.to_port = int(to_port) if to_port else int(port)
    space = k.space(ns)
    if chain == opts.get("-D"):
        space.nat = [r for r in space.nat if _key(r) != _key(rec)]
        return None
    space.nat.append(rec)
    return None


def _key(r: NatRec) -> tuple[object, ...]:
    return (r.kind, r.source, r.out_interface, r.protocol, r.port, r.to, r.to_port, r.in_interface)


def sysctl(k: Kernel, argv: list[str], ns: str, line: int) -> str | None:
    words = [w for w in argv[1:] if w not in ("-w", "-q", "--write")]
    if any(w.startswith("-") for w in words):
        raise Refused(f"sysctl {' '.join(words)}: only `sysctl -w KEY=VALUE` is understood")
    changed = False
    for w in words:
        key, eq, value = w.partition("=")
        if not eq:
            continue
        key = key.replace("/", ".")
        if key not in FORWARD_KEYS:
            raise Refused(f"{key} is not part of a lab here (only IP forwarding is)")
        if value.strip() not in ("0", "1"):
            raise Refused(f"{key}={value}: forwarding is 0 or 1")
        k.space(ns).forwarding = line if value.strip() == "1" else 0
        changed = True
    return None if changed else LOOK


def echo(k: Kernel, argv: list[str], redirect: str | None, ns: str, line: int) -> str | None:
    if redirect is None:
        return LOOK
    key = redirect.removeprefix("/proc/sys/").replace("/", ".")
    if not redirect.startswith("/proc/sys/"):
        raise Refused(f"writing to {redirect} is not part of a lab")
    return sysctl(k, ["sysctl", f"{key}={' '.join(argv[1:])}"], ns, line)


def ping(k: Kernel, argv: list[str], ns: str, line: int) -> str:
    with_value = {"-c", "-i", "-W", "-w", "-s", "-t", "-I", "-l", "-Q", "-p", "-M", "-m", "-T"}
    target = None
    i = 1
    while i < len(argv):
        if argv[i] in with_value:
            i += 2
            continue
        if not argv[i].startswith("-"):
            target = argv[i]
        i += 1
    if target is None:
        raise Refused("ping without an address")
    try:
        ipaddress.ip_address(target)
    except ValueError:
        raise Refused(f"{target!r} is a name, not an address: a lab has no name service, so its checks "
                      "ping addresses") from None
    k.space(ns)
    k.pings.append(Ping(ns, target, line))
    return LOOK

