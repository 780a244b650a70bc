"""This install's identity: the id that marks every namespace this install creates.

Several installs of NetDesigner may share one machine (one kernel, several databases); each only
ever touches namespaces that carry its own mark. The id is kept in the database so that the worker,
`--inline` and every process of one install agree on it.
"""

from __future__ import annotations


def install_id() -> str:
    """The id of this install (letters and digits). Placeholder until it is kept in the database."""
    return ""
