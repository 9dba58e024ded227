"""A real HTTP receiver for webhook deliveries: verifies each one with the standardwebhooks
library, answers as told (fail, redirect, stall), and records everything in arrival order."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

T = TypeVar("T")


def settled(fetch: Callable[[], T], done: Callable[[T], bool], timeout: float = 15.0) -> T:
    """`fetch()` once `done` holds of it: for delivery states, which the deliverer commits just
    after the receiver has answered."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value) or time.monotonic() > deadline:
            assert done(value), value
            return value
        time.sleep(0.05)


@dataclass(frozen=True)
class Received:
    path: str
    webhook_id: str
    headers: dict[str, str]
    body: dict[str, Any]
    verified: bool
    answered: int

    @property
    def position(self) -> int:
        return int(self.body["position"])


@dataclass
class Endpoint:
    secret: str | None = None
    # 503 while `failing` is set, for the next `fail_next` requests, and always for the events
    # at `fail_positions`.
    failing: bool = False
    fail_next: int = 0
    fail_positions: set[int] = field(default_factory=set)
    redirect_to: str | None = None
    stall: float = 0.0


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.endpoints: dict[str, Endpoint] = {}
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def endpoint(self, path: str) -> Endpoint:
        with self.lock:
            return self.endpoints.setdefault(path, Endpoint())

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def at(self, path: str, *, delivered: bool = True) -> list[Received]:
        """What arrived at `path` (only the answered-2xx ones with `delivered`)."""
        with self.lock:
            return [r for r in self.received if r.path == path
                    and (not delivered or 200 <= r.answered < 300)]

    def wait(self, predicate: Callable[[], bool], timeout: float = 30.0) -> None:
        """Block until `predicate` (called under the lock) holds."""
        with self.changed:
            if not self.changed.wait_for(predicate, timeout):
                raise AssertionError(f"not reached within {timeout}s")

    def wait_for(self, path: str, predicate: Callable[[list[Received]], bool],
                 timeout: float = 30.0) -> list[Received]:
        """Block until what `path` got (answered 2xx) satisfies `predicate`."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                got = [r for r in self.received if r.path == path and 200 <= r.answered < 300]
                if predicate(got):
                    return got
                left = deadline - time.monotonic()
                assert left > 0, f"{path} got {[r.position for r in got]} within {timeout}s"
                self.changed.wait(left)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                endpoint = receiver.endpoint(self.path)
                if endpoint.stall:
                    time.sleep(endpoint.stall)
                verified = False
                if endpoint.secret is not None:
                    try:
                        Webhook(endpoint.secret).verify(raw, headers)
                        verified = True
                    except WebhookVerificationError:
                        verified = False
                body = json.loads(raw)
                status = 204
                if endpoint.redirect_to is not None:
                    status = 302
                elif endpoint.failing or body.get("position") in endpoint.fail_positions:
                    status = 503
                elif endpoint.fail_next > 0:
                    endpoint.fail_next -= 1
                    status = 503
                elif not verified:
                    status = 401
                # Recorded before answering: the next delivery to this path cannot start
                # before the answer, so the record keeps the order of arrival.
                with receiver.changed:
                    receiver.received.append(Received(
                        self.path, headers.get("webhook-id", ""), headers, body, verified, status
                    ))
                    receiver.changed.notify_all()
                self.send_response(status)
                if status == 302:
                    self.send_header("Location", endpoint.redirect_to or "/")
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler
