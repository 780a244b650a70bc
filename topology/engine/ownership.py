"""Which namespaces this install made: the marks (`nd:<tag>@<install>` on lo) read back from the kernel.

apply, destroy, drift, plan and cleanup touch only what these functions call this install's; a
namespace under a lab's prefix that is not is reported and left alone (docs/SECURITY.md).
"""

from __future__ import annotations

import re

from . import nsutil as _nsutil
from . import observer as _observer
from . import owners as _owners
from . import state as _state
from . import userns as _userns

TAG_NS_RE = re.compile(r"nd-([a-z0-9]{1,12})-[a-z][a-z0-9_-]*", re.ASCII)


def strangers(tag: str, install: str) -> list[str]:
    """Namespaces under the lab's prefix that this install did not make (never touched; reported)."""
    mine = set(removable(tag, install))
    return [ns for ns in _observer.lab_namespaces(tag) if ns not in mine]


def removable(tag: str, install: str) -> list[str]:
    """The deployment's namespaces that this install made, and its half-made names (an empty file that
    a kill left between creating the name and mounting the namespace on it: it holds nothing). A
    namespace under the prefix that this install did not make is never removed.

    Made by this install: it carries this install's mark, or it belongs to the same user namespace as
    one that does. Why the second test: the lab's user namespace is made by this install's helper for
    this lab alone, which names a namespace only once it is marked, and checking it (an ioctl and an
    fstat, ~10 us) costs a tenth of reading a mark over netlink; destroy stays as fast as
    `ip netns del` (bench/engine_bench.py)."""
    out: list[str] = []
    named: list[tuple[str, tuple[int, int]]] = []
    for ns in _observer.lab_namespaces(tag, half_made=True):
        target = _nsutil.path(ns)
        if not _nsutil.mounted(ns):
            out.append(ns)
            continue
        try:
            named.append((ns, _userns.userns_id(target)))
        except OSError:
            continue  # gone meanwhile
    marked: dict[str, bool] = {}

    def ours(ns: str) -> bool:
        if ns not in marked:
            try:
                marked[ns] = _state.owns(tag, install, _observer.read_mark(ns))
            except OSError:
                marked[ns] = False
        return marked[ns]

    initial = _userns.initial_id()
    lab_userns = next((owner for ns, owner in named if owner != initial and ours(ns)), None) or \
        _owners.recorded(tag, install)
    out += [ns for ns, owner in named if (lab_userns is not None and owner == lab_userns) or ours(ns)]
    return sorted(out)


def owned(install: str) -> dict[str, list[str]]:
    """{tag: [namespace, ...]} of every namespace on this machine that carries this install's mark (its
    name's tag and the mark's agree): what cleanup may consider. Reads each `nd-*` namespace's mark."""
    out: dict[str, list[str]] = {}
    for name in sorted(_nsutil.listing()):
        m = TAG_NS_RE.fullmatch(name)
        if m is None or not _nsutil.mounted(name):
            continue
        try:
            mark = _observer.read_mark(name)
        except OSError:
            continue  # gone meanwhile, or not a network namespace
        if _state.owns(m.group(1), install, mark):
            out.setdefault(m.group(1), []).append(name)
    for tag in _owners.recorded_tags(install):  # labs whose marks were rewritten from inside
        for name in removable(tag, install):
            if _nsutil.mounted(name) and name not in out.get(tag, []):
                out.setdefault(tag, []).append(name)
    return {tag: sorted(names) for tag, names in out.items()}
