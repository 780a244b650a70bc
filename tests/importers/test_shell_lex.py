"""The tokenizer, as a table over typed lines: prompts, continuations, separators, look-alikes."""

from __future__ import annotations

import pytest

from topology.engine.importers.lex import fix_typography, lex

ARGV = [
    ("ip netns add red", [["ip", "netns", "add", "red"]]),
    ("$ ip netns add red", [["ip", "netns", "add", "red"]]),
    ("root@box:~# ip netns add red", [["ip", "netns", "add", "red"]]),
    ("sudo ip netns add red", [["ip", "netns", "add", "red"]]),
    ("sudo -E ip netns add red", [["ip", "netns", "add", "red"]]),
    ("ip netns add red; ip netns add blue", [["ip", "netns", "add", "red"], ["ip", "netns", "add", "blue"]]),
    ("ip netns add red && ip netns add blue", [["ip", "netns", "add", "red"], ["ip", "netns", "add", "blue"]]),
    ("ip link add veth-red type veth \\\n  peer name veth-blue",
     [["ip", "link", "add", "veth-red", "type", "veth", "peer", "name", "veth-blue"]]),
    ("ip netns add red  # the red container", [["ip", "netns", "add", "red"]]),
    ("# a comment only", []),
    ("", []),
    ("ip netns exec red ip link | grep veth", [["ip", "netns", "exec", "red", "ip", "link"]]),
    ('ip netns exec red sh -c "echo hi"', [["ip", "netns", "exec", "red", "sh", "-c", "echo hi"]]),
]


@pytest.mark.parametrize(("text", "argvs"), ARGV)
def test_argv(text: str, argvs: list[list[str]]) -> None:
    commands, findings = lex(text)
    assert findings == []
    assert [c.argv for c in commands] == argvs


def test_redirect_is_kept_apart_from_the_words() -> None:
    (cmd,), _ = lex("echo 1 > /proc/sys/net/ipv4/ip_forward")
    assert cmd.argv == ["echo", "1"] and cmd.redirect == "/proc/sys/net/ipv4/ip_forward"


def test_continued_line_numbers_from_its_first_line_and_offers_no_fix() -> None:
    commands, _ = lex("ip netns add red\nip link add a type veth \\\n peer name b\nip netns add blue")
    assert [c.line for c in commands] == [1, 2, 4]
    assert [c.single for c in commands] == [True, False, True]


TYPOGRAPHY = [
    ("ip netns exec red ping \u2013c 3 10.0.0.1", "ip netns exec red ping -c 3 10.0.0.1", "en dash, U+2013"),
    ("iptables -t nat -A PREROUTING -p tcp \u2013dport 80", "iptables -t nat -A PREROUTING -p tcp --dport 80",
     "en dash"),
    ("iptables \u2014t nat", "iptables -t nat", "em dash, U+2014"),
    ("iptables -p tcp \u2014dport 80", "iptables -p tcp --dport 80", "em dash"),
    ("iptables -p tcp \u2013\u2013dport 80", "iptables -p tcp --dport 80", "en dash"),
    ("ip \u2013n red link", "ip -n red link", "en dash"),
    ("ip \u2013netns red link", "ip -netns red link", "en dash"),
    ("iptables \u2013A POSTROUTING", "iptables -A POSTROUTING", "en dash"),
    ("ip link add veth\u2013red type bridge", "ip link add veth-red type bridge", "en dash"),
    ("ip \u2212n red link", "ip -n red link", "minus sign, U+2212"),
    ("ip netns exec red sh -c \u201cecho 1\u201d", 'ip netns exec red sh -c "echo 1"', "U+201C"),
    ("ip netns exec red sh -c \u2018echo 1\u2019", "ip netns exec red sh -c 'echo 1'", "U+2018"),
    ("ip netns\u00a0add red", "ip netns add red", "looks like a space"),
    ("ip netns add\u200b red", "ip netns add red", "U+200B"),
]


@pytest.mark.parametrize(("typed", "meant", "said"), TYPOGRAPHY)
def test_typographic_characters_are_named_and_fixed(typed: str, meant: str, said: str) -> None:
    fixed, found = fix_typography(typed)
    assert fixed == meant
    assert any(said in f for f in found)
    commands, findings = lex("ip netns add red\n" + typed)
    assert len(findings) == 1 and findings[0].line == 2
    assert findings[0].fix is not None and findings[0].fix.text == meant
    assert [c.argv for c in commands] == [["ip", "netns", "add", "red"]]  # the line is left out as typed


def test_plain_ascii_is_not_touched() -> None:
    assert fix_typography("iptables -t nat -A PREROUTING -p tcp --dport 80") == (
        "iptables -t nat -A PREROUTING -p tcp --dport 80", [])


def test_unclosed_quote_is_reported() -> None:
    _commands, findings = lex('ip netns exec red sh -c "echo 1')
    assert len(findings) == 1 and "quote" in findings[0].message
