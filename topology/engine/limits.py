"""Process limits an apply can hit (issue 10 item 4), raised before they are.

An apply holds a file descriptor and a netlink socket per namespace for the whole run (executor.py):
under the usual soft limit of 1,024 open files (systemd's default for services, a login shell's
default), an apply of about 1,000 namespaces failed with "Too many open files" although validation
allows 2,000 nodes. The soft limit is raised to the hard one (often 524,288), which needs no privilege.
"""

from __future__ import annotations

import resource

WANTED_OPEN_FILES = 1 << 20


def raise_open_files_limit() -> tuple[int, int]:
    """Raise RLIMIT_NOFILE's soft limit as far as the hard limit allows; return (soft, hard) after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = WANTED_OPEN_FILES if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            return soft, hard
    return resource.getrlimit(resource.RLIMIT_NOFILE)
