"""Named network namespaces in-process, through libc (setns, mount), as `ip netns` does.

New namespaces come from the lab's user-namespace helper (userns.Maker) as file descriptors.

Why not pyroute2.netns: 0.9.7 forks a helper process to create a namespace and to open a socket in
one (~8-10 ms each). A namespace change with setns(2) applies to the calling thread only, so a
thread can step into a namespace, open a netlink socket there (it stays bound to that namespace),
and step back in microseconds. `inside()` restores the thread's namespace even on error.
"""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress

CLONE_NEWNET = 0x40000000
MS_BIND = 4096
MS_REC = 16384
MS_SHARED = 1 << 20
MNT_DETACH = 2
NETNS_RUN_DIR = "/run/netns"

_libc = ctypes.CDLL(None, use_errno=True)
_rundir_ready = False


def _err(what: str, name: str) -> OSError:
    code = ctypes.get_errno()
    return OSError(code, f"{what} {name}: {os.strerror(code)}")


def path(name: str) -> str:
    return os.path.join(NETNS_RUN_DIR, name)


def _prepare_rundir() -> None:
    """Make /run/netns a shared mount point, as iproute2 does, so bind mounts propagate."""
    global _rundir_ready
    if _rundir_ready:
        return
    os.makedirs(NETNS_RUN_DIR, exist_ok=True)
    d = NETNS_RUN_DIR.encode()
    if _libc.mount(b"", d, b"none", MS_SHARED | MS_REC, None) != 0:
        if _libc.mount(d, d, b"none", MS_BIND | MS_REC, None) != 0:
            raise _err("mount", NETNS_RUN_DIR)
        if _libc.mount(b"", d, b"none", MS_SHARED | MS_REC, None) != 0:
            raise _err("share", NETNS_RUN_DIR)
    _rundir_ready = True


def _setns(fd: int, name: str) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        raise _err("setns", name)


def exists(name: str) -> bool:
    return os.path.exists(path(name))


def mounted(name: str) -> bool:
    """Whether /run/netns/NAME is a namespace (a mount), not a half-made empty file.

    Why not os.path.ismount: it resolves NAME/.. with realpath, a Python loop of lstat calls (~35 us a
    name, 15-40 ms over a 500-namespace lab); a namespace bind-mounted there has the nsfs device, not
    the device of the directory, so one lstat tells."""
    try:
        return os.lstat(path(name)).st_dev != _rundir_dev()
    except FileNotFoundError:
        return False


def _rundir_dev() -> int:
    return os.stat(NETNS_RUN_DIR).st_dev


def listing() -> list[str]:
    try:
        return os.listdir(NETNS_RUN_DIR)
    except FileNotFoundError:
        return []


@contextmanager
def entered(fd: int, home: int, name: str) -> Iterator[None]:
    """Run the block in the namespace open as `fd` (this thread), then go back to `home` (an fd of
    this thread's own namespace): `inside` without opening either file again."""
    _setns(fd, name)
    try:
        yield
    finally:
        _setns(home, "back home")


@contextmanager
def inside(name: str) -> Iterator[None]:
    """Run the block in namespace `name` (this thread only), then come back."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        fd = os.open(path(name), os.O_RDONLY | os.O_CLOEXEC)
        try:
            _setns(fd, name)
        finally:
            os.close(fd)
        try:
            yield
        finally:
            _setns(home, "back home")
    finally:
        os.close(home)


@contextmanager
def created(name: str, netns_fd: int, home: int | None = None) -> Iterator[None]:
    """Run the block inside the new, still nameless namespace `netns_fd` (this thread), then give it
    the name `name` (bind mount on /run/netns/NAME), then come back (to `home`, an fd of this
    thread's namespace, when given).

    Why the name comes last: the block marks the namespace (lo's alias) and only a marked namespace
    ever gets a name of ours, so a kill at any point leaves either nothing named or a marked namespace
    (a kill between creating the file and mounting it leaves an empty file: a half-made name that
    apply mounts over and destroy removes). A block that raises leaves the namespace nameless: the
    kernel frees it when the caller closes `netns_fd`. A name that is already a namespace is refused
    (FileExistsError): it was made by someone else since the lab was read."""
    target = path(name)
    own_home = home is None
    if home is None:
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        _setns(netns_fd, name)
        try:
            yield
            _prepare_rundir()
            made = False
            try:
                os.close(os.open(target, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0))
                made = True
            except FileExistsError:
                if os.path.ismount(target):
                    raise FileExistsError(errno.EEXIST, f"{name} exists already (made by someone else "
                                                        "since the lab was read)") from None
            if _libc.mount(b"/proc/thread-self/ns/net", target.encode(), b"none", MS_BIND, None) != 0:
                exc = _err("mount", name)
                if made:
                    with suppress(OSError):
                        os.unlink(target)
                raise exc
        finally:
            _setns(home, "back home")
    finally:
        if own_home:
            os.close(home)


def remove(name: str) -> bool:
    """Unmount and unlink /run/netns/NAME; False when it was not there. The kernel frees the namespace
    (and its links) once nothing holds it."""
    target = path(name)
    if not os.path.lexists(target):
        return False
    if _libc.umount2(target.encode(), MNT_DETACH) != 0 and ctypes.get_errno() not in (errno.EINVAL,
                                                                                        errno.ENOENT):
        raise _err("umount", name)
    try:
        os.unlink(target)
    except FileNotFoundError:
        return False
    return True


def open_fd(name: str) -> int:
    return os.open(path(name), os.O_RDONLY | os.O_CLOEXEC)
