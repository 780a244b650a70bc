"""A websockets client for /ws/labs/<id>/nodes/<node>/terminal/ that types commands and reads their output."""

from __future__ import annotations

import contextlib
import json
import re
import time
from typing import Any

from tests.stack import Stack, api

MARK = re.compile(r"@@rc=(\d+)@@")
ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")


class Terminal:
    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.screen = ""
        self.messages: list[dict[str, Any]] = []

    def recv(self, timeout: float) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(self.conn.recv(timeout=timeout))
        self.messages.append(message)
        if message.get("type") == "output":
            self.screen += message["data"]
        return message

    def until(self, predicate: Any, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"nothing matched within {timeout:g} s; the terminal shows:\n{self.screen[-2000:]}"
                                   f"\nlast messages: {self.messages[-5:]}")
            with contextlib.suppress(TimeoutError):
                message = self.recv(left)
                if predicate(message):
                    return message

    def type(self, text: str) -> None:
        self.conn.send(json.dumps({"type": "input", "data": text}))

    def resize(self, cols: int, rows: int) -> None:
        self.conn.send(json.dumps({"type": "resize", "cols": cols, "rows": rows}))

    def run(self, command: str, timeout: float = 30.0) -> tuple[int, str]:
        """Type the command; (status, output). The marker is split in what is typed, so its echo never matches."""
        self.screen = ""
        self.type(f"{command}; printf '@@rc=%s@@\\n' \"$?\"\r")
        self.until(lambda m: m.get("type") == "output" and MARK.search(self.screen) is not None, timeout)
        found = MARK.search(self.screen)
        assert found is not None
        text = ANSI.sub("", self.screen[: found.start()].replace("\r", ""))
        _, echo, after = text.rpartition('"$?"\n')
        return int(found.group(1)), after if echo else text

    def closed_code(self, timeout: float = 30.0) -> int | None:
        from websockets.exceptions import ConnectionClosed

        try:
            self.until(lambda m: False, timeout)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        return None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(stack: Stack, lab_id: int, node: str, *, token: str | None = None, cookie: str | None = None,
            origin: str | None = None) -> Terminal:
    from websockets.sync.client import connect as ws
    from websockets.typing import Origin

    url = f"{stack.ws_url}/ws/labs/{lab_id}/nodes/{node}/terminal/?cols=120&rows=40"
    if token:
        url += f"&token={token}"
    headers = {"Cookie": cookie} if cookie else {}
    return Terminal(ws(url, origin=Origin(origin or stack.url), additional_headers=headers, open_timeout=10,
                       legacy=True))


def wait_job(stack: Stack, job: int, token: str, timeout: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = api(stack, "GET", f"/api/jobs/{job}", token=token)
        assert status == 200, body
        if body["status"] in ("succeeded", "failed"):
            return body  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise TimeoutError(f"job {job} did not finish within {timeout:g} s")
