"""`GET /ws`: live updates over a WebSocket.

    client: {"type": "auth", "token": "<jwt>"}          (or `Authorization: Bearer` on the upgrade,
                                                         or a web app page's session cookie)
    server: {"type": "ready", "user_id": "…"}
    client: {"type": "subscribe", "topics": ["ticket:<id>", "project:<id>", "notifications",
                                             "messages"], "after": <position>?}
    server: {"type": "subscribed", "topics": [...], "position": <head of the log>}
    server: {"type": "event" | "notification" | "message", …}, in log order
    client: {"type": "ping"}  →  server: {"type": "pong"}

A first message that is not a valid `auth` closes with 4401, as does the token's expiry; an
account deactivated, demoted out of sight of what it follows, or whose password changed closes
with 4403. A malformed later message is answered with an `error` frame. The server also pings at
the protocol level (uvicorn), so idle connections stay open through proxies.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Any
from uuid import UUID

import msgspec
from anyio import to_thread
from litestar import Response, WebSocket, get, websocket
from litestar.exceptions import WebSocketDisconnect

from api.context import Context
from api.errors import Problem, problem_response, problem_responses
from api.hooks import context_of
from api.live.credentials import Credential, browser_credential, credential, verifier
from api.live.session import UNAUTHENTICATED, Output, Session
from api.live.slots import encode, error_frame
from api.live.stream import Stream
from api.live.subscribe import MAX_TOPICS, subscription
from api.tokens import bearer_token
from commands.errors import Unauthenticated
from commands.permissions import Actor

TAGS = ["live"]
DESCRIPTION = (
    "Upgrade to a WebSocket. Authenticate with the first message "
    '`{"type": "auth", "token": "<jwt>"}` (or `Authorization: Bearer` on the upgrade) and get '
    '`{"type": "ready", "user_id"}`; subscribe with `{"type": "subscribe", "topics": '
    '["ticket:<id or key>", "project:<id>", "notifications", "messages"], "after": <position>?}` '
    'and get `{"type": "subscribed", "topics", "position"}` (a topic one may not see is an '
    '`error` frame). Then `event`, `notification` and `message` frames, in log order; `after` '
    "replays what was missed. Closes with 4401 for a first message that is not a valid `auth` "
    "or at the token's expiry, 4403 when the account is deactivated, its password changes or it "
    "loses sight of a subscribed ticket. A plain GET is 426."
)
# How long a new connection has to authenticate.
AUTH_TIMEOUT = 10.0
# A client message longer than this is not one of ours.
MAX_MESSAGE = 64 * 1024
# Requests of a client not answered yet: past this, it is flooding the server.
MAX_PENDING = 32
# Normal closure: the client went away, or the server is stopping.
GOING_AWAY = 1001
POLICY_VIOLATION = 1008


class Auth(msgspec.Struct, frozen=True, tag_field="type", tag="auth"):
    token: str


class Subscribe(msgspec.Struct, frozen=True, tag_field="type", tag="subscribe",
                forbid_unknown_fields=True):
    topics: Annotated[list[Annotated[str, msgspec.Meta(max_length=200)]],
                      msgspec.Meta(min_length=1, max_length=MAX_TOPICS)]
    after: Annotated[int, msgspec.Meta(ge=0)] | None = None


class Ping(msgspec.Struct, frozen=True, tag_field="type", tag="ping"):
    pass


class Ready(msgspec.Struct, frozen=True, tag_field="type", tag="ready"):
    user_id: UUID


class Pong(msgspec.Struct, frozen=True, tag_field="type", tag="pong"):
    pass


_client_message = msgspec.json.Decoder(Auth | Subscribe | Ping)


class Identity(msgspec.Struct, frozen=True):
    actor: Actor
    token: str
    credential: Credential


@get(
    "/ws",
    tags=TAGS,
    summary="Live updates (WebSocket)",
    description=DESCRIPTION,
    responses=problem_responses(426),
    status_code=426,
)
async def live_updates_described() -> Response[bytes]:
    """A plain GET: the WebSocket handshake is what this path is for."""
    return problem_response(Problem(426, "connect with a WebSocket: `GET /ws` with "
                                    "`Upgrade: websocket`", kind="upgrade-required",
                                    headers={"Upgrade": "websocket"}))


@websocket("/ws")
async def live_updates(socket: WebSocket[Any, Any, Any]) -> None:
    context = context_of(socket.app.state)
    await socket.accept()
    identity = await _authenticate(socket, context)
    if identity is None:
        return
    session = Session(identity.actor, identity.credential)
    hub = context.live
    hub.join(session)
    try:
        await socket.send_text(encode(Ready(identity.actor.id)))
        await _serve(socket, context, session, identity)
    finally:
        hub.leave(session)


async def _serve(socket: WebSocket[Any, Any, Any], context: Context, session: Session,
                 identity: Identity) -> None:
    verify = verifier(context, identity.token, identity.credential)
    stream = Stream(session, context.live, lambda: to_thread.run_sync(verify))
    receiver = asyncio.create_task(_receive(socket, context, session))
    try:
        async for output in stream.outputs():
            if output is not None:
                await socket.send_text(_text(output))
    except WebSocketDisconnect:
        session.close(GOING_AWAY, "the client left")
    finally:
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await receiver
    closing = session.closing
    if closing is not None and closing.code != GOING_AWAY:
        with contextlib.suppress(Exception):
            await socket.close(code=closing.code, reason=closing.reason[:120])


async def _receive(socket: WebSocket[Any, Any, Any], context: Context, session: Session) -> None:
    """Hand each client message to the stream's own loop, in order."""
    try:
        while session.closing is None:
            raw = await socket.receive_text()
            if len(session.inbox) >= MAX_PENDING:
                session.close(POLICY_VIOLATION, "too many requests waiting for an answer")
                return
            session.post(_request(context, raw))
    except WebSocketDisconnect:
        session.close(GOING_AWAY, "the client left")


def _request(context: Context, raw: str) -> Any:
    message: Any = None
    problem = None
    if len(raw) > MAX_MESSAGE:
        problem = f"a message is at most {MAX_MESSAGE} bytes"
    else:
        try:
            message = _client_message.decode(raw)
        except msgspec.DecodeError as refused:
            problem = f"not a message this server takes: {refused}"
    if isinstance(message, Subscribe):
        return subscription(context, list(dict.fromkeys(message.topics)), message.after)
    frame = encode(Pong()) if isinstance(message, Ping) else error_frame(
        problem or "already authenticated")

    async def answer(stream: Stream) -> AsyncIterator[Output]:
        yield frame

    return answer


async def _authenticate(socket: WebSocket[Any, Any, Any], context: Context) -> Identity | None:
    """The caller, from the upgrade's `Authorization` header or the first message; None (and
    the socket closed with 4401) when it is not a valid `auth`."""
    try:
        header = socket.headers.get("authorization")
        # A browser page sends its session cookie with the upgrade (it cannot set a header).
        browser = None if header else await to_thread.run_sync(
            browser_credential, context.browser_sessions, socket.headers)
        if browser is not None:
            token, held = "", browser
        else:
            token = bearer_token(header) if header else await _auth_message(socket)
            held = await to_thread.run_sync(credential, context, token)
        actor = await to_thread.run_sync(verifier(context, token, held))
    except (Problem, Unauthenticated, msgspec.DecodeError, TimeoutError) as refused:
        reason = refused.detail if isinstance(refused, Problem) else (
            str(refused) or "authenticate first")
        await socket.close(code=UNAUTHENTICATED, reason=f"unauthenticated: {reason}"[:120])
        return None
    except WebSocketDisconnect:
        return None
    return Identity(actor, token, held)


async def _auth_message(socket: WebSocket[Any, Any, Any]) -> str:
    raw = await asyncio.wait_for(socket.receive_text(), AUTH_TIMEOUT)
    message = msgspec.json.decode(raw[:MAX_MESSAGE], type=Auth)
    return message.token


def _text(output: Output) -> str:
    assert isinstance(output, str), "a WebSocket stream sends frames"
    return output


ROUTES = [live_updates_described, live_updates]
