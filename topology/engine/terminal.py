"""Starting a sandboxed shell on a pty (the terminal of a node); see sandbox.py for the sandbox itself.

The root worker calls `spawn`: a new pty, and `sandbox.py` run as a fresh interpreter (`-I -S`: isolated,
no site-packages) with the pty's slave as its stdin/stdout/stderr, in a session of its own. The caller
keeps the master: it reads the shell's output from it, writes the user's keys to it, resizes it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
from dataclasses import dataclass
from pathlib import Path

from . import nsutil, sandbox

SANDBOX = str(Path(sandbox.__file__).resolve())
MAX_COLS, MAX_ROWS = 1000, 500


class TerminalRefused(Exception):
    """The node cannot have a terminal (not deployed, not sandboxable); the message says what to do."""


def check_lab_namespace(netns: str) -> None:
    """Refuse early, with the reason, what the sandbox would refuse: a missing namespace, or one owned by
    the machine's own user namespace (a lab applied before terminals were possible)."""
    if not nsutil.exists(netns):
        raise TerminalRefused(f"{netns} does not exist: apply the lab first")
    try:
        netns_fd, userns_fd = sandbox.open_lab_namespaces(nsutil.path(netns))
    except sandbox.Refused as exc:
        raise TerminalRefused(str(exc)) from exc
    except OSError as exc:
        raise TerminalRefused(f"{netns}: {exc.strerror}") from exc
    os.close(netns_fd)
    os.close(userns_fd)


def set_size(fd: int, cols: int, rows: int) -> None:
    """TIOCSWINSZ on the pty (the kernel sends SIGWINCH to the shell's foreground job)."""
    cols, rows = max(1, min(int(cols), MAX_COLS)), max(1, min(int(rows), MAX_ROWS))
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


@dataclass
class Terminal:
    """A running sandboxed shell: its launcher process and the pty master (non-blocking)."""

    proc: subprocess.Popen[bytes]
    master: int
    netns: str

    def resize(self, cols: int, rows: int) -> None:
        set_size(self.master, cols, rows)

    def write(self, data: bytes) -> None:
        """Write all of `data` (a paste may be larger than the pty's buffer: wait for room)."""
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self.master, view):]
            except BlockingIOError:
                select.select([], [self.master], [], 1.0)

    def kill(self) -> None:
        """End the session: the launcher's death takes the pid namespace, and every process in it, down."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        with contextlib.suppress(OSError):
            os.close(self.master)

    def exit_code(self) -> int | None:
        return self.proc.poll()


def spawn(netns: str, hostname: str, *, cols: int = 80, rows: int = 24,
          uid: int = sandbox.SANDBOX_UID) -> Terminal:
    """Start a sandboxed shell in network namespace `netns` (a /run/netns name). Needs root."""
    check_lab_namespace(netns)
    master, slave = os.openpty()
    try:
        set_size(master, cols, rows)
        proc = subprocess.Popen(  # noqa: S603 - argv list; every value validated by the caller
            [sys.executable, "-I", "-S", SANDBOX, "--netns", nsutil.path(netns), "--hostname", hostname,
             "--uid", str(uid)],
            stdin=slave, stdout=slave, stderr=slave, start_new_session=True, close_fds=True,
            env={"PATH": sandbox.PATH, "LANG": "C.UTF-8"}, cwd="/",
        )
    except BaseException:
        os.close(master)
        raise
    finally:
        os.close(slave)
    os.set_blocking(master, False)
    return Terminal(proc=proc, master=master, netns=netns)
