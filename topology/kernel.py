"""The one place the Django side gets its `Kernel` (topology.engine.backend) from."""

from __future__ import annotations

from .engine.backend import Kernel, LabKernel
from .install import install_id


def default_kernel() -> Kernel:
    """The real kernel, marking and recognising this install's namespaces."""
    return LabKernel(install=install_id())
