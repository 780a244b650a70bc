"""Importing other formats (a shell session, a containerlab file) as labs, with the importer's warnings.

The engine's importers turn text into a document and warnings tied to source lines; this module
picks the importer (by the name given, else by the file's extension), refuses a document the engine
would refuse (with the warnings alongside, since they usually explain why), and makes the lab.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..engine.importers import Finding, ImportResult, Unreadable, import_clab, import_shell
from .documents import document_problems
from .errors import FieldError, Invalid, NotFound
from .imports import MAX_FILE_BYTES, document_load, lab_import

FORMATS = ("json", "sh", "clab")


class ImportInvalid(Invalid):
    """422: the imported document is refused; `warnings` are the importer's, by source line."""

    def __init__(self, errors: list[FieldError], warnings: list[Finding], detail: str) -> None:
        super().__init__(errors, detail=detail)
        self.warnings = warnings

    def __str__(self) -> str:
        return "\n".join([str(w) for w in self.warnings] + [str(e) for e in self.errors]) or self.detail


def format_for(*, filename: str, given: str | None = None) -> str:
    """The format named, else the one the extension says (.json, .sh/.txt, .clab.yml/.clab.yaml)."""
    if given:
        if given not in FORMATS:
            raise Invalid([FieldError("format", f"{given!r} is not one of {', '.join(FORMATS)}")],
                          detail="unknown format")
        return given
    lower = filename.lower()
    if lower.endswith((".clab.yml", ".clab.yaml", ".yml", ".yaml")):
        return "clab"
    if lower.endswith((".sh", ".txt", ".bash")):
        return "sh"
    return "json"


def text_read(*, text: str, format: str, name: str | None, apply_fixes: bool = False) -> ImportResult:
    """The document (and warnings, checks) of a text in one of FORMATS; Invalid when unreadable.
    `name` names the document (a clab file's own `name:` when None)."""
    if len(text) > MAX_FILE_BYTES:
        raise Invalid([FieldError("text", f"larger than {MAX_FILE_BYTES // 1024 // 1024} MiB")], detail="too large")
    if format == "json":
        document = document_load(text=text, source="text")
        return ImportResult(document=document, text=text)
    try:
        if format == "sh":
            return import_shell(text, name=name or "imported", apply_fixes_=apply_fixes)
        return import_clab(text, name=name, apply_fixes_=apply_fixes)
    except Unreadable as exc:
        raise ImportInvalid([FieldError(f"line {f.line}", f.message) for f in exc.findings], exc.findings,
                            detail=f"cannot read this {format} file") from None


def lab_import_text(*, text: str, format: str, name: str | None, owner: Any = None, apply_fixes: bool = False,
                    default_name: str | None = None) -> tuple[Any, bool, ImportResult]:
    """Create the lab (or a new version of lab `name`). Returns (lab, created, the import result).
    `default_name` names the document when `name` is not given (a file's stem)."""
    result = text_read(text=text, format=format, name=name or default_name, apply_fixes=apply_fixes)
    problems = document_problems(result.document)
    if problems:
        raise ImportInvalid(problems, result.warnings,
                            detail=f"the imported document has {len(problems)} problem(s)")
    lab, created = lab_import(document=result.document, name=name, owner=owner)
    return lab, created, result


def lab_import_file(*, path: str, format: str | None, name: str | None, owner: Any = None,
                    apply_fixes: bool = False) -> tuple[Any, bool, ImportResult]:
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise NotFound(f"cannot read {path}: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid([FieldError(path, "not UTF-8 text")], detail="not text") from None
    chosen = format_for(filename=file.name, given=format)
    stem = file.name.split(".")[0] or "imported"
    return lab_import_text(text=text, format=chosen, name=name, owner=owner, apply_fixes=apply_fixes,
                           default_name=stem if chosen == "sh" else None)


def warning_dicts(result: ImportResult) -> list[dict[str, Any]]:
    return [w.to_dict() for w in result.warnings]


def lab_import_for(*, user: Any, text: str, format: str, name: str | None, apply_fixes: bool = False,
                   lab: Any = None) -> tuple[Any, ImportResult]:
    """The web's import: a new lab owned by `user`, or (with `lab`, editor role) a new version of it.

    Unlike the command line, a name never selects someone's existing lab: only `lab` does, through
    the role check of saving."""
    from .labs import lab_create, lab_topology_save

    result = text_read(text=text, format=format, name=name or None, apply_fixes=apply_fixes)
    problems = document_problems(result.document)
    if problems:
        raise ImportInvalid(problems, result.warnings,
                            detail=f"the imported document has {len(problems)} problem(s)")
    note = f"imported ({format})" + (" with fixes" if apply_fixes else "")
    if lab is not None:
        lab_topology_save(lab=lab, user=user, version=lab.version, topology=result.document, note=note)
        return lab, result
    doc_name = result.document.get("name") if isinstance(result.document, dict) else None
    created = lab_create(user=user, name=name or str(doc_name or "imported"), topology=result.document, note=note)
    return created, result
