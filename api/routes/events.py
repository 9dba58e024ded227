"""The global event log for auditors and integrations: a page at a time, or as a live stream.

The stream is served by the process's live follower (`api.live`), with the same rule as every
live stream: admins get every event (but the conversations they take part in only), anyone else
the events of the tickets it may see now and of the conversations it takes part in. It ends when
the token expires, the password changes or the account is deactivated; a role change applies to
the very next event, and a replay from `Last-Event-ID` is shown with the visibility of now.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any
from uuid import UUID

from anyio import to_thread
from litestar import Request, get
from litestar.params import Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from api.context import Context
from api.errors import problem_responses
from api.live.credentials import credential, verifier
from api.live.session import Session
from api.live.slots import EventSlot
from api.live.stream import Stream
from api.paging import Cursor, Limit
from api.tokens import bearer_token
from commands.permissions import Actor, require_admin
from eventlog.audit import LogEntry, log_entries
from projections.paging import Page, decode_cursor, page

TAGS = ["audit"]


@get(
    "/events",
    tags=TAGS,
    sync_to_thread=True,
    summary="The global event log (admin)",
    description="Every event in commit order, after `after` (a position). `type` (repeatable) "
    "keeps only those types (`Ticket.StatusChanged`, …); `ticket_id` only that ticket's; "
    "`actor_id` only what that user did.",
    responses=problem_responses(401, 403, 422),
)
def list_events(
    context: Context,
    actor: Actor,
    after: Annotated[int, Parameter(ge=0, description="A position; 0 is the start.")] = 0,
    event_type: Annotated[list[str] | None, Parameter(query="type")] = None,
    ticket_id: UUID | None = None,
    actor_id: UUID | None = None,
    limit: Limit = 25,
    cursor: Cursor = None,
) -> Page[LogEntry]:
    require_admin(actor)
    if cursor is not None:
        after = decode_cursor(cursor, "events", tuple[int])[0]
    with context.services.pool.connection() as conn:
        entries = log_entries(conn, after=after, limit=limit + 1, types=event_type or (),
                              ticket_id=ticket_id, actor_id=actor_id)
    return page(entries, limit, "events", lambda entry: (entry.position,), lambda e: e)


@get(
    "/events/stream",
    tags=TAGS,
    summary="Server-Sent Events of new events the caller may see",
    description="Each event's SSE `id` is its position and its `event` its type; send "
    "`Last-Event-ID` to resume after a position. Admins see every event; others the events "
    "of the tickets they may see now; messages go to their conversation's participants only. "
    "The stream ends when the token expires, the password changes or the account is "
    "deactivated.",
    media_type="text/event-stream",
    responses=problem_responses(401, 422),
)
async def stream_events(
    request: Request[Any, Any, Any],
    context: Context,
    actor: Actor,
    last_event_id: Annotated[
        int | None, Parameter(header="Last-Event-ID", ge=0, required=False)
    ] = None,
) -> ServerSentEvent:
    token = bearer_token(request.headers.get("authorization"))
    held = await to_thread.run_sync(credential, context, token)
    session = Session(actor, held, everything=True)
    hub = context.live
    hub.join(session)
    # Before the head is read: the hub's ring holds whatever comes after this moment.
    hub.place(session)
    if last_event_id is None:
        last_event_id = await to_thread.run_sync(context.commands.store.current_position)
    session.started = True
    session.position = session.notified = last_event_id
    verify = verifier(context, token, held)

    stream = Stream(session, hub, lambda: to_thread.run_sync(verify),
                    heartbeat=context.services.settings.stream_heartbeat)
    return ServerSentEvent(
        _messages(stream),
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _messages(stream: Stream) -> AsyncIterator[ServerSentEventMessage]:
    try:
        async for output in stream.outputs():
            if output is None:
                # A comment line: keeps proxies from closing an idle connection.
                yield ServerSentEventMessage(comment="keep-alive", data=None)
            elif isinstance(output, EventSlot):
                yield ServerSentEventMessage(data=output.sse, event=output.entry.type,
                                             id=output.position)
    finally:
        stream.hub.leave(stream.session)


ROUTES = [list_events, stream_events]
