"""Lines of a pasted terminal session to commands (argv lists), with pasted-from-the-web slips found.

Why not just shlex: a page's typography turns `--dport` into `–dport` and quotes into curly ones;
the shell then passes them on as parts of words and `ip` answers with a puzzling error. Each such
character is reported with its name and code point, and the corrected line is offered as a fix.
"""

from __future__ import annotations

import re
import shlex
import unicodedata
from dataclasses import dataclass, field

from .base import Finding, Fix

DASHES = {"\u2010": "hyphen", "\u2011": "non-breaking hyphen", "\u2012": "figure dash",
          "\u2013": "en dash", "\u2014": "em dash", "\u2015": "horizontal bar", "\u2212": "minus sign"}
LOOKALIKES = {"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
              "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'",
              "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2009": " ", "\u200b": "", "\ufeff": ""}
# Options that `ip` spells with one dash although they are words (ip -netns red, ip -all ...).
SINGLE_DASH_WORDS = {"netns", "all", "details", "stats", "json", "color", "brief", "force", "batch",
                     "family", "oneline", "resolve", "pretty", "timestamp"}
PROMPT_RE = re.compile(r"^\s*(?:[\w.-]+@[\w.-]+(?::[^\s#$]*)?\s*[#$]|\$|>)\s+")
DASH_WORD_RE = re.compile(r"(^|(?<=\s))([\u2010-\u2015\u2212]+)([A-Za-z][\w-]*)?")


@dataclass
class Command:
    line: int  # 1-based number of the source line the command starts on
    argv: list[str]
    raw: str  # the physical line as typed (for fixes)
    single: bool  # the command is the whole of one physical line (so a fix may rewrite it)
    redirect: str | None = None  # target of `> FILE`
    piped: bool = False  # followed by `| ...` (only the first command of a pipeline is read)
    extra: list[str] = field(default_factory=list)


def _dash_fix(match: re.Match[str]) -> str:
    word = match.group(3) or ""
    dashes = match.group(2)
    if len(dashes) > 1:
        return "--" + word
    if len(word) <= 1 or word in SINGLE_DASH_WORDS or word[0].isupper():
        return "-" + word
    return "--" + word


def fix_typography(text: str) -> tuple[str, list[str]]:
    """The text with look-alike characters replaced, and a description of each kind found."""
    found: list[str] = []
    for ch in sorted(set(text)):
        if ch in DASHES or ch in LOOKALIKES:
            name = DASHES.get(ch) or unicodedata.name(ch, "character").lower()
            looks = "-" if ch in DASHES else (LOOKALIKES[ch] or "nothing")
            shown = "a space" if looks == " " else (f"'{looks}'" if looks != "nothing" else "nothing at all")
            found.append(f"'{ch}' ({name}, U+{ord(ch):04X}) looks like {shown} but is not")
    if not found:
        return text, []
    fixed = DASH_WORD_RE.sub(lambda m: m.group(1) + _dash_fix(m), text)
    fixed = "".join("-" if ch in DASHES else LOOKALIKES.get(ch, ch) for ch in fixed)
    return fixed, found


def strip_prompt(text: str) -> str:
    """`$ ip ...`, `root@host:~# ip ...` and `sudo ip ...` as pasted from a terminal: keep the command."""
    text = PROMPT_RE.sub("", text, count=1)
    return text


def _split(text: str) -> list[str]:
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|<>")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    return list(lexer)


def lex(text: str) -> tuple[list[Command], list[Finding]]:
    """Commands in source order, and a warning for each line that cannot be read as typed."""
    commands: list[Command] = []
    findings: list[Finding] = []
    physical = text.split("\n")
    i = 0
    while i < len(physical):
        start = i
        raw = physical[i].rstrip("\r")
        joined = raw
        while joined.endswith("\\") and i + 1 < len(physical):
            i += 1
            joined = joined[:-1] + " " + physical[i].rstrip("\r")
        i += 1
        single = start == i - 1
        number = start + 1
        body = strip_prompt(joined)
        if not body.strip() or body.lstrip().startswith("#"):
            continue
        fixed, found = fix_typography(body)
        if found:
            prefix = joined[: len(joined) - len(body)]
            fx = Fix(number, prefix + fixed) if single else None
            findings.append(Finding(number, "; ".join(found) + " (typographic characters come from copying a "
                                    "web page, and the shell passes them on as they are); left out", fx))
            continue
        try:
            tokens = _split(body)
        except ValueError as exc:
            findings.append(Finding(number, f"cannot be read as a shell command ({exc}: a quote is not "
                                    "closed); left out"))
            continue
        commands.extend(_commands(tokens, number, raw, single))
    return commands, findings


def _commands(tokens: list[str], number: int, raw: str, single: bool) -> list[Command]:
    out: list[Command] = []
    current: list[str] = []
    redirect: str | None = None
    skip_pipe = False
    it = iter(tokens)
    for tok in it:
        if tok in (";", "&&", "||", "&"):
            if current and not skip_pipe:
                out.append(Command(number, current, raw, single and not out, redirect))
            current, redirect, skip_pipe = [], None, False
        elif tok in ("|", "|&"):
            if current and not skip_pipe:
                out.append(Command(number, current, raw, False, redirect, piped=True))
            current, skip_pipe = [], True
        elif tok in (">", ">>", "<", "2>", ">&", "<<"):
            redirect = next(it, None) if tok in (">", ">>") else redirect
        elif not skip_pipe:
            current.append(tok)
    if current and not skip_pipe:
        out.append(Command(number, current, raw, single and not out, redirect))
    if len(out) > 1:
        for c in out:
            c.single = False
    for c in out:
        while c.argv and c.argv[0] in ("sudo", "command", "exec", "time"):
            c.argv = c.argv[1:]
            if c.argv and c.argv[0] in ("-E", "-H"):
                c.argv = c.argv[1:]
    return [c for c in out if c.argv]
