"""Cleanup of orphans: namespaces this install made whose deployment no longer exists.

Shared by `lab cleanup` and the cleanup job (the admin's "clean up orphans"). Only namespaces whose
mark names this install (topology/install.py) are candidates, so on a machine shared by several
installs, each cleans up only after itself; a namespace without a mark of ours is never listed.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.core.management.base import BaseCommand

from .engine.backend import Kernel
from .kernel import default_kernel
from .models import Deployment


def cleanup_orphans(*, dry_run: bool = False, kernel: Kernel | None = None,
                    say: Callable[[str], None] | None = None) -> dict[str, list[str]]:
    """{tag: [namespace, ...]} of this install's namespaces whose deployment no longer exists; removed
    unless `dry_run` (a removal only ever touches namespaces that carry this install's mark)."""
    kernel = kernel or default_kernel()
    mine = kernel.owned()
    known = set(Deployment.objects.filter(tag__in=list(mine)).values_list("tag", flat=True))
    orphans = {tag: names for tag, names in sorted(mine.items()) if tag not in known}
    for tag, names in orphans.items():
        if say is not None:
            say(f"{'would remove' if dry_run else 'removing'} {len(names)} orphaned namespace(s) nd-{tag}-*")
        if not dry_run:
            kernel.destroy(tag)
    return orphans


def cleanup_command(cmd: BaseCommand, *, dry_run: bool, as_json: bool) -> None:
    """`lab cleanup [--dry-run] [--json]`, run in this process (root, on the machine of the kernel)."""
    orphans = cleanup_orphans(dry_run=dry_run, say=None if as_json else cmd.stdout.write)
    names = sorted(n for ns in orphans.values() for n in ns)
    if as_json:
        cmd.stdout.write(json.dumps({"namespaces": names}, indent=2))
        return
    if not names:
        cmd.stdout.write("nothing to clean up: every namespace of this install belongs to a deployment")
        return
    for name in names:
        cmd.stdout.write(f"  {name}")
    cmd.stdout.write(f"{'would remove' if dry_run else 'removed'} {len(names)} namespace(s)")
