"""A root-only record of each lab's user namespace: ownership a lab's own root cannot rewrite.

The mark on lo (`nd:<tag>@<install>`) can be rewritten by root inside the lab's user namespace (the
terminal's shell has CAP_NET_ADMIN there). A namespace that belongs to the lab's user namespace is the
lab's, and which user namespace that is is kept here, in a file under /run that only the machine's
root can write, named by install and tag: so a lab whose every mark was rewritten is still recognised,
destroyed and repaired, and never taken for another install's. The file is written by apply and removed
by the destroy that leaves nothing of the lab; /run is emptied at boot, as the namespaces are.
"""

from __future__ import annotations

import contextlib
import os

OWNERS_DIR = "/run/netdesigner/owners"


def _path(tag: str, install: str) -> str:
    return os.path.join(OWNERS_DIR, install, tag)


def record(tag: str, install: str, userns: tuple[int, int]) -> None:
    """Keep (device, inode) of the lab's user namespace, unless it is kept already."""
    if recorded(tag, install) == userns:
        return
    folder = os.path.join(OWNERS_DIR, install)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    tmp = f"{_path(tag, install)}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        f.write(f"{userns[0]} {userns[1]}\n")
    os.replace(tmp, _path(tag, install))


def recorded(tag: str, install: str) -> tuple[int, int] | None:
    try:
        with open(_path(tag, install)) as f:
            dev, ino = f.read().split()
        return int(dev), int(ino)
    except (OSError, ValueError):
        return None


def forget(tag: str, install: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(_path(tag, install))


def recorded_tags(install: str) -> list[str]:
    """Tags this install keeps a record for (cleanup looks at their namespaces too)."""
    try:
        return sorted(n for n in os.listdir(os.path.join(OWNERS_DIR, install)) if n.isalnum())
    except FileNotFoundError:
        return []
