"""The one place the Django side gets its `Kernel` (topology.engine.backend) from."""

from __future__ import annotations

from django.conf import settings

from .engine.backend import Kernel, LabKernel
from .install import install_id


def default_kernel() -> Kernel:
    """The real kernel, marking and recognising this install's namespaces; the labs' user namespaces
    map their root to NETDESIGNER_SANDBOX_UID."""
    return LabKernel(install=install_id(), sandbox_uid=settings.NETDESIGNER_SANDBOX_UID)
