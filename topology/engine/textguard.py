"""The second guard, where text meets a program: iptables-restore input and shell here-documents.

Validation (fields.py) is the first guard: every value of a document is in a strict vocabulary before
it is stored. This one does not trust it. iptables-restore reads its input line by line, so a newline
inside a value would be a rule of its own; a shell here-document ends at its terminator line, so a
value holding that line would end it early and run the rest as commands. The text the engine writes
is checked here just before it is written, against the vocabulary the engine itself produces.
"""

from __future__ import annotations

import hashlib
import re

# Everything an iptables-restore line of ours may hold: table and chain declarations, -A/-D/-X lines
# with addresses, interface names, ports, protocols and nd:<tag>:<hash> comments.
IPT_LINE_RE = re.compile(r"[A-Za-z0-9 _.:/\[\]*-]{1,512}", re.ASCII)
IPT_MAX_LINES = 100_000


class UnsafeText(ValueError):
    """Text for a program holds something outside its vocabulary; nothing was written."""


def check_iptables_text(text: str) -> str:
    """Return `text` if every line is in the iptables-restore vocabulary, else raise UnsafeText.

    The input must end with one newline and hold no empty line, carriage return or control character,
    so each value the engine put in a rule stays inside that rule's line."""
    if not isinstance(text, str) or not text.endswith("\n"):
        raise UnsafeText("iptables-restore input must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) > IPT_MAX_LINES:
        raise UnsafeText(f"iptables-restore input has {len(lines)} lines; at most {IPT_MAX_LINES}")
    if lines[0] != "*nat" or lines[-1] != "COMMIT":
        raise UnsafeText("iptables-restore input must be one *nat table ending with COMMIT")
    for n, line in enumerate(lines, 1):
        if not IPT_LINE_RE.fullmatch(line):
            raise UnsafeText(f"iptables-restore input line {n} holds a character outside its vocabulary "
                             f"(refused, nothing written): {line[:80]!r}")
        if (line == "COMMIT" and n != len(lines)) or (line.startswith("*") and n != 1):
            raise UnsafeText(f"iptables-restore input line {n}: a second table or COMMIT")
    return text


def heredoc_terminator(body: str, base: str = "ND_END") -> str:
    """A here-document terminator that no line of `body` can equal: derived from the body's own hash,
    lengthened until it is absent (a value would have to contain the hash of itself)."""
    word = f"{base}_{hashlib.sha256(body.encode('utf-8', 'surrogatepass')).hexdigest()[:16]}"
    lines = set(body.split("\n"))
    while word in lines or any(word in line for line in lines):
        word += "_X"
    return word


def heredoc(command: str, body: str) -> str:
    """`command <<'TERM'` + body + TERM, quoted (no expansion inside) and with a safe terminator."""
    if not body.endswith("\n"):
        body += "\n"
    term = heredoc_terminator(body)
    return f"{command} <<'{term}'\n{body}{term}"
