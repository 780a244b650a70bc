"""This install's identity: the id that marks every namespace this install creates.

Several installs of NetDesigner may share one machine (one kernel, several databases); each only
ever touches namespaces that carry its own mark. The id is kept in the database (one `Install` row,
made on first use) so that the worker, `--inline` and every process of one install agree on it, and
a second database on the same machine gets another.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction


def install_id() -> str:
    """The id of this install (letters and digits), created on first use."""
    from .models import Install

    row = Install.objects.order_by("pk").first()
    if row is None:
        try:
            with transaction.atomic():
                row = Install.objects.create(pk=1)
        except IntegrityError:  # another process made it first
            row = Install.objects.order_by("pk").first()
    assert row is not None
    return row.ident
