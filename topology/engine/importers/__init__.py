"""Importers of other formats into `netdesigner/v1` documents, and the containerlab exporter.

Pure (no Django, no kernel): text in, a document plus warnings out, so the parsers are table-tested
without root and the web tier, the `lab` command and the labs page share one implementation.
"""

from .base import Finding, Fix, ImportResult, Unreadable, apply_fixes
from .clab import import_clab
from .clab_export import export_clab
from .shell import import_shell

__all__ = ["Finding", "Fix", "ImportResult", "Unreadable", "apply_fixes", "export_clab", "import_clab",
           "import_shell"]
