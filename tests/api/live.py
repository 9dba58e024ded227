"""A WebSocket client for the live tests: `websockets`' synchronous client against a real API
process, with helpers that wait for frames (bounded, so a missing frame fails the test)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

# A frame that has not arrived by then is missing.
FRAME_TIMEOUT = 15.0

Frame = dict[str, Any]


class Live:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    def send(self, message: Frame) -> None:
        self.connection.send(json.dumps(message))

    def recv(self, timeout: float = FRAME_TIMEOUT) -> Frame:
        frame: Frame = json.loads(self.connection.recv(timeout=timeout))
        return frame

    def subscribe(self, *topics: str, after: int | None = None) -> Frame:
        message: Frame = {"type": "subscribe", "topics": list(topics)}
        if after is not None:
            message["after"] = after
        self.send(message)
        return self.until(lambda f: f["type"] == "subscribed")

    def until(self, matches: Callable[[Frame], bool]) -> Frame:
        """The first frame that matches, after skipping the others."""
        while True:
            frame = self.recv()
            if matches(frame):
                return frame

    def take(self, count: int) -> list[Frame]:
        return [self.recv() for _ in range(count)]

    def closed_with(self, timeout: float = FRAME_TIMEOUT) -> int | None:
        """The close code the server sent, reading past any frames still in flight."""
        try:
            while True:
                self.connection.recv(timeout=timeout)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None

    def quiet(self, timeout: float) -> list[Frame]:
        """Every frame that arrives within `timeout` (for checking that nothing does)."""
        frames = []
        try:
            while True:
                frames.append(self.recv(timeout=timeout))
        except TimeoutError:
            return frames


def ws_url(api_url: str) -> str:
    return api_url.replace("http://", "ws://", 1) + "/ws"


@contextmanager
def live(api_url: str, token: str | None = None, *, header: bool = False) -> Iterator[Live]:
    """A connection, authenticated with `token` by its first message (or by header)."""
    headers = {"Authorization": f"Bearer {token}"} if header and token else None
    with connect(ws_url(api_url), additional_headers=headers, open_timeout=30) as connection:
        client = Live(connection)
        if token is not None and not header:
            client.send({"type": "auth", "token": token})
        if token is not None:
            ready = client.recv()
            assert ready["type"] == "ready", ready
        yield client
