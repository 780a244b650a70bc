"""What every importer returns: a document, the checks it found, and warnings tied to source lines.

A fix is the whole corrected source line (never an insertion), so taking fixes keeps every other
line number stable and "re-import with the fix" is literally re-reading the corrected text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_FIX_ROUNDS = 4


@dataclass(frozen=True)
class Fix:
    line: int
    text: str  # the corrected line, replacing line `line` of the source

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "text": self.text}


@dataclass
class Finding:
    """One warning: the source line it is about (1-based; 0 for the whole file) and why, in words."""

    line: int
    message: str
    fix: Fix | None = None
    fixed: bool = False  # reported again after --apply-fixes took the fix
    followers: list[int] = field(default_factory=list, repr=False)  # later lines left out because of it
    unchecked: list[int] = field(default_factory=list, repr=False)  # pings that get no check because of it

    def settle(self) -> None:
        """Fold the lines that failed only because of this one into its message, once."""
        if self.followers:
            one = len(set(self.followers)) == 1
            self.message += (f" ({_lines(self.followers)} {'depends' if one else 'depend'} on it and "
                             f"{'is' if one else 'are'} left out with it)")
        if self.unchecked:
            one = len(set(self.unchecked)) == 1
            self.message += (f" (the ping{'' if one else 's'} on {_lines(self.unchecked)} "
                             f"{'gets' if one else 'get'} no check with it)")
        self.followers, self.unchecked = [], []

    def __str__(self) -> str:
        text = self.message
        if self.fix is not None:
            text += (" (fixed: " if self.fixed else ". Fix: ") + self.fix.text + (")" if self.fixed else "")
        return f"line {self.line}: {text}"

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "message": self.message,
                "fix": self.fix.to_dict() if self.fix else None, "fixed": self.fixed}


def _lines(numbers: list[int]) -> str:
    unique = sorted(set(numbers))
    if len(unique) == 1:
        return f"line {unique[0]}"
    return "lines " + ", ".join(map(str, unique[:-1])) + f" and {unique[-1]}"


@dataclass
class ImportResult:
    document: dict[str, Any]
    warnings: list[Finding] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    text: str = ""  # the source as finally read (with fixes taken, when they were)


def apply_fixes(text: str, fixes: list[Fix]) -> str:
    """The source with each fix's line replaced (a later fix for the same line wins)."""
    lines = text.split("\n")
    for fx in fixes:
        if 1 <= fx.line <= len(lines) and "\n" not in fx.text:
            lines[fx.line - 1] = fx.text
    return "\n".join(lines)


class Unreadable(ValueError):
    """The source cannot be read at all (not YAML, no nodes): nothing to import, only these findings."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("; ".join(str(f) for f in findings))
        self.findings = findings


def read_with_fixes(read: Callable[[str], ImportResult], text: str, take: bool) -> ImportResult:
    """Read once; with `take`, take every offered fix and read again (one correction can reveal the
    next), a few rounds at most. Every fix taken stays reported, marked fixed."""
    result = read(text)
    if not take:
        return result
    taken: list[Finding] = []
    for _round in range(MAX_FIX_ROUNDS):
        fixes = [w.fix for w in result.warnings if w.fix is not None]
        if not fixes:
            break
        for w in result.warnings:
            if w.fix is not None:
                w.fixed = True
                taken.append(w)
        text = apply_fixes(text, fixes)
        result = read(text)
    result.warnings = sorted(taken + result.warnings, key=lambda w: (w.line, not w.fixed))
    return result
