"""What every request leaves behind: its request id (echoed as `X-Request-Id`, made when the
client sent none), one structured log line (method, route, status, duration, the command ids of
the writes it made) and its metrics; and the headers every answer carries.

`RequestObserver` is middleware (it runs once a route is matched); `secure_headers` runs on every
answer, unmatched paths' 404s included, as Litestar's `before_send` hook.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Scope

from api.metrics import Metrics
from commands.base import recorded_commands

REQUEST_ID = "x-request-id"
# A client's id is echoed only when it is short and plain: it goes into every log line.
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_ALWAYS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy": "frame-ancestors 'none'",
    "referrer-policy": "no-referrer",
}

access_log = structlog.get_logger("trail.access")


def request_id(scope: Any) -> str:
    """The request's id: the client's `X-Request-Id` if it is usable, else a new one."""
    state = scope.setdefault("state", {})
    if "request_id" not in state:
        sent = dict(scope.get("headers", ())).get(REQUEST_ID.encode(), b"").decode("latin-1")
        state["request_id"] = sent if _CLIENT_ID.match(sent) else uuid.uuid4().hex
    return str(state["request_id"])


class RequestObserver:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        commands: list[uuid.UUID] = []
        structlog.contextvars.bind_contextvars(request_id=request_id(scope))
        token = recorded_commands.set(commands)

        async def observed(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            recorded_commands.reset(token)
            seconds = time.perf_counter() - started
            route = _route(scope)
            self.metrics.observe(scope["method"], route, status, seconds)
            access_log.info(
                "request", method=scope["method"], path=scope["path"], route=route,
                status=status, duration_ms=round(seconds * 1000, 2),
                **({"command_ids": [str(c) for c in commands]} if commands else {}),
            )
            structlog.contextvars.unbind_contextvars("request_id")


def _route(scope: Any) -> str:
    """The route's template (`/tickets/{ticket_id:str}`): bounded, unlike paths."""
    return str(scope.get("path_template") or "unmatched")


async def secure_headers(message: Message, scope: Scope) -> None:
    """Headers on every answer: the request id, no sniffing or framing, no referrer; and no
    caching of what an authenticated caller was answered, unless the answer says otherwise."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    headers[REQUEST_ID] = request_id(scope)
    for name, value in _ALWAYS.items():
        headers.setdefault(name, value)
    authenticated = _opt(scope).get("authenticated")
    if authenticated and "cache-control" not in headers:
        headers["cache-control"] = "no-store"


def _opt(scope: Any) -> dict[str, Any]:
    handler = scope.get("route_handler")
    opt = getattr(handler, "opt", None)
    return opt if isinstance(opt, dict) else {}
