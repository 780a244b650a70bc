"""What the web tier and the worker's terminal server say to each other over the Channels layer.

The web tier is not root; the shell is spawned by the root worker of the lab's host. The websocket
consumer asks that worker for a session with a signed open request (django.core.signing: an HMAC with
SECRET_KEY, salted, timestamped; the server refuses it after OPEN_MAX_AGE seconds and refuses a session
id seen before), naming the lab, node, user and the consumer's reply channel. Anything else on the layer
(Redis) that is not signed starts nothing. The server then re-checks the role in the database.

Layer messages (all dicts with "type"; the consumer handles `terminal.*` as `terminal_*`):
- consumer -> server channel: `terminal.open` {token}
- server -> reply channel: `terminal.opened` {session, channel}, `terminal.output` {data},
  `terminal.exit` {code, reason}, `terminal.error` {message}
- consumer -> session channel: `terminal.input` {data}, `terminal.resize` {cols, rows},
  `terminal.keepalive`, `terminal.close` {reason}
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core import signing

SALT = "netdesigner.terminal.open"
OPEN_MAX_AGE = 30  # seconds an open request stays valid
MAX_INPUT = 65536  # characters of one input message (a paste)


def server_channel(host: str) -> str:
    """The channel a worker host's terminal server listens on (a valid Channels name for any host)."""
    return "nd-terminal." + re.sub(r"[^A-Za-z0-9_.-]", "-", host)[:80]


def idle_timeout() -> float:
    return float(getattr(settings, "NETDESIGNER_TERMINAL_IDLE_SECONDS", 900))


def sessions_per_user() -> int:
    return int(getattr(settings, "NETDESIGNER_TERMINAL_SESSIONS_PER_USER", 4))


def liveness_timeout() -> float:
    """Seconds without any message from the consumer (keys or keepalives) before the server ends the
    session: a web server that died leaves no shell running."""
    return float(getattr(settings, "NETDESIGNER_TERMINAL_LIVENESS_SECONDS", 60))


@dataclass(frozen=True)
class OpenRequest:
    lab: int
    node: str
    user: int
    username: str
    reply: str
    session: str
    cols: int = 80
    rows: int = 24

    def sign(self) -> str:
        return signing.dumps(asdict(self), salt=SALT, compress=False)


class BadRequest(Exception):
    """An open request that is not signed by us, has expired, or is malformed."""


def verify(token: Any, *, max_age: int = OPEN_MAX_AGE) -> OpenRequest:
    if not isinstance(token, str) or len(token) > 4096:
        raise BadRequest("not a token")
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise BadRequest("expired") from exc
    except signing.BadSignature as exc:
        raise BadRequest("bad signature") from exc
    try:
        return OpenRequest(**data)
    except TypeError as exc:
        raise BadRequest("malformed") from exc
