"""The terminal's sandbox: a shell in one node's network namespace that can change the lab and nothing else.

Run by the root worker as a fresh interpreter (`python -I -S sandbox.py --netns PATH ...`) with a pty on
stdin/stdout/stderr: a fresh process is single-threaded, which joining a user namespace requires, and it
inherits nothing of the worker (no Redis sockets, no database, no locks held by other threads).

Why each step (docs/SECURITY.md "Terminal" has the threat model and the test of each point):

- The lab's namespaces are owned by a user namespace of their own that maps only ns uid/gid 0 to the
  unprivileged host uid/gid SANDBOX_UID. The shell joins that user namespace as its uid 0, so it holds
  CAP_NET_ADMIN there only: enough for the lab's own network namespaces, nothing on the machine's (owned by
  the initial user namespace) or another lab's (a sibling user namespace). Host files owned by real root
  are not mapped in it, so no capability overrides their permissions (`/etc/shadow` stays unreadable).
- New mount, pid, network, UTS, IPC and cgroup namespaces, made while still real root: they are owned by
  the initial user namespace, so the shell can neither unmount what hides the machine nor mount anything.
- A new root: a read-only tmpfs with read-only, nosuid, nodev binds of the system's programs (/usr, /etc
  and the /bin, /lib... links), a private /proc of the new pid namespace, a minimal /dev, and per-session
  tmpfs for /tmp, /run and /root (HOME, the scratch directory). `pivot_root` and a detached old root, not
  chroot: the shell holds CAP_SYS_CHROOT in its user namespace and a chroot can be climbed out of.
  /run/netns is an empty tmpfs, so no other namespace can be named.
- Pid 1 of the new pid namespace is this program's init, not the shell, and it stays in an empty network
  namespace owned by the initial user namespace: `ip link add x netns 1 ...` names that one and is
  refused, and the machine's processes are not in the pid namespace at all.
- Supplementary groups are dropped while still real root (kernel gid 0 would otherwise follow the shell
  into the user namespace unmapped but effective), then setresgid/setresuid(0) inside the user namespace,
  no_new_privs, every other descriptor closed, a minimal environment, then exec bash (or sh).

Only the standard library: `-S` skips site-packages, and after `pivot_root` nothing of the machine's
Python is reachable, so every import happens first.
"""

from __future__ import annotations

import argparse
import ctypes
import fcntl
import os
import resource
import signal
import sys
import termios

SANDBOX_UID = 424242  # the host uid (and gid) that ns uid 0 of every lab's user namespace maps to

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
NS_GET_USERNS = 0xB701
NS_GET_NSTYPE = 0xB703
NS_GET_OWNER_UID = 0xB704
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
NEW_ROOT = "/tmp"  # noqa: S108 - a tmpfs mounted over it in our own private mount namespace, not the host's /tmp
SYSTEM_DIRS = ("usr", "etc", "bin", "sbin", "lib", "lib32", "lib64", "libx32")
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
NPROC = 512  # processes of the sandbox uid, all sessions together: a fork bomb stops there
SCRATCH_SIZE = "64m"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# tcpdump drops to its own user, which the lab's user namespace does not map: stay as ns root instead.
BASHRC = "alias tcpdump='tcpdump -Z root'\n"
EXIT_REFUSED = 125  # the sandbox could not be built; the reason is on the terminal

_libc = ctypes.CDLL(None, use_errno=True)


class Refused(Exception):
    """The sandbox cannot be built safely; the message says why and what to do."""


def _check(result: int, what: str) -> int:
    if result < 0:
        code = ctypes.get_errno()
        raise Refused(f"{what}: {os.strerror(code)}")
    return result


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None, flags,
                       data.encode() if data else None), f"mount {target}")


def _setns(fd: int, kind: int, what: str) -> None:
    _check(_libc.setns(fd, kind), f"setns {what}")


def same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def open_lab_namespaces(netns_path: str) -> tuple[int, int]:
    """Open the node's network namespace and the user namespace that owns it; refuse a namespace owned
    by our own (the machine's) user namespace: a shell there would be root on the machine's network."""
    netns = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if fcntl.ioctl(netns, NS_GET_NSTYPE) != CLONE_NEWNET:
            raise Refused(f"{netns_path} is not a network namespace")
        userns = fcntl.ioctl(netns, NS_GET_USERNS)
    except OSError as exc:
        os.close(netns)
        raise Refused(f"{netns_path}: {exc.strerror}") from exc
    if same_file(os.fstat(userns), os.stat("/proc/self/ns/user")):
        os.close(netns)
        os.close(userns)
        raise Refused("this lab's namespaces belong to the machine's user namespace (it was applied before "
                      "terminals were possible): destroy the lab and apply it again")
    owner = bytearray(4)
    fcntl.ioctl(userns, NS_GET_OWNER_UID, owner)
    if int.from_bytes(owner, sys.byteorder) != 0:
        os.close(netns)
        os.close(userns)
        # Its creator's uid holds every capability in it: were that the sandbox uid, any process of that
        # uid on the machine (another lab's shell, say) could reach into this lab.
        raise Refused("this lab's user namespace was not made by root: refused")
    return netns, userns


def _bind_ro(source: str, target: str) -> None:
    _mount(source, target, None, MS_BIND)
    _mount("none", target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _tmpfs(target: str, options: str, flags: int = MS_NOSUID | MS_NODEV) -> None:
    os.makedirs(target, exist_ok=True)
    _mount("nd-terminal", target, "tmpfs", flags, options)


def build_root(uid: int) -> None:
    """Make the new root at NEW_ROOT and pivot into it (needs the private mount and new pid namespace)."""
    root = NEW_ROOT
    _tmpfs(root, "mode=0755,size=1m")
    for name in SYSTEM_DIRS:
        source, target = f"/{name}", f"{root}/{name}"
        if os.path.islink(source):
            os.symlink(os.readlink(source), target)
        elif os.path.isdir(source):
            os.mkdir(target)
            _bind_ro(source, target)
    os.mkdir(f"{root}/proc")
    _mount("proc", f"{root}/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _tmpfs(f"{root}/dev", "mode=0755,size=64k", MS_NOSUID | MS_NOEXEC)
    for dev in DEVICES:
        target = f"{root}/dev/{dev}"
        os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o666))
        _mount(f"/dev/{dev}", target, None, MS_BIND)
    for link, to in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                     ("stderr", "/proc/self/fd/2")):
        os.symlink(to, f"{root}/dev/{link}")
    _tmpfs(f"{root}/dev/shm", "mode=1777,size=16m")
    _tmpfs(f"{root}/tmp", f"mode=1777,size={SCRATCH_SIZE}")
    _tmpfs(f"{root}/run", f"mode=0755,size=1m,uid={uid},gid={uid}")
    _tmpfs(f"{root}/root", f"mode=0700,size={SCRATCH_SIZE},uid={uid},gid={uid}")
    with open(f"{root}/root/.bashrc", "w") as rc:
        rc.write(BASHRC)
    os.chown(f"{root}/root/.bashrc", uid, uid)
    os.makedirs(f"{root}/var")
    os.symlink("../tmp", f"{root}/var/tmp")
    os.chdir(root)
    number = SYS_PIVOT_ROOT.get(os.uname().machine)
    if number is None:
        raise Refused(f"no pivot_root for {os.uname().machine}")
    _check(_libc.syscall(number, b".", b"."), "pivot_root")
    _check(_libc.umount2(b".", MNT_DETACH), "detach the old root")
    os.chdir("/")
    _mount("none", "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _expect_mapping(uid: int) -> None:
    """Inside the lab's user namespace: refuse unless ns 0 maps to exactly the sandbox uid and gid."""
    for kind in ("uid_map", "gid_map"):
        with open(f"/proc/self/{kind}") as f:
            lines = [line.split() for line in f.read().splitlines() if line.strip()]
        if lines != [["0", str(uid), "1"]]:
            raise Refused(f"the lab's user namespace maps {kind} {lines}, not only 0 -> {uid}: refused")


def become_shell(netns: int, userns: int, uid: int, node: str) -> None:
    """In the shell's process: controlling tty, the lab's namespaces, the sandbox uid, exec. No return."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    _setns(userns, CLONE_NEWUSER, "into the lab's user namespace")
    _setns(netns, CLONE_NEWNET, f"into {node}'s network namespace")
    os.setresgid(0, 0, 0)
    os.setresuid(0, 0, 0)
    _expect_mapping(uid)
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    resource.setrlimit(resource.RLIMIT_NPROC, (NPROC, NPROC))
    os.closerange(3, 65536)
    os.chdir("/root")
    env = {"PATH": PATH, "HOME": "/root", "TERM": "xterm-256color", "LANG": "C.UTF-8", "USER": "root",
           "LOGNAME": "root", "SHELL": "/bin/bash", "ND_NODE": node}
    for shell in ("/bin/bash", "/bin/sh"):
        if os.path.exists(shell):
            os.execve(shell, [os.path.basename(shell), "-i"], env)  # noqa: S606 - the point: a shell, sandboxed
    raise Refused("no shell (/bin/bash or /bin/sh) on this machine")


def _init(shell: int) -> int:
    """Pid 1 of the session: reap every child, end with the shell's status (which ends the pid ns)."""
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(3, 65536)
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return 0
        if pid == shell:
            return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)


def _refuse(message: str) -> None:
    os.write(2, f"\r\nterminal refused: {message}\r\n".encode())
    os._exit(EXIT_REFUSED)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="a shell sandboxed in one lab node's network namespace")
    parser.add_argument("--netns", required=True, help="the node's /run/netns file")
    parser.add_argument("--hostname", required=True, help="the node's name (the shell's host name)")
    parser.add_argument("--uid", type=int, default=SANDBOX_UID, help="the host uid ns 0 must map to")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        _refuse("the terminal's sandbox must be started by root (the worker)")
    try:
        netns, userns = open_lab_namespaces(args.netns)
        _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC
                             | CLONE_NEWCGROUP), "unshare")
        _mount("none", "/", None, MS_REC | MS_PRIVATE)
    except (Refused, OSError) as exc:
        _refuse(str(exc))
    init = os.fork()
    if init:  # the launcher, outside the pid namespace: wait, and take the session down with it
        signal.signal(signal.SIGTERM, lambda *_: os.kill(init, signal.SIGKILL))
        signal.signal(signal.SIGHUP, lambda *_: os.kill(init, signal.SIGKILL))
        os.close(netns)
        os.close(userns)
        _, status = os.waitpid(init, 0)
        return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
    try:
        _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "pdeathsig")
        build_root(args.uid)
        _check(_libc.sethostname(args.hostname.encode(), len(args.hostname.encode())), "sethostname")
        os.setgroups([])
        shell = os.fork()
        if shell == 0:
            become_shell(netns, userns, args.uid, args.hostname)
    except (Refused, OSError) as exc:
        _refuse(str(exc))
    os._exit(_init(shell))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
