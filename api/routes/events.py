"""The global event log for auditors and integrations: a page at a time, or as a live stream."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated
from uuid import UUID

import anyio
import msgspec
from anyio import to_thread
from litestar import get
from litestar.params import Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from api.context import Context
from api.errors import problem_responses
from api.paging import Cursor, Limit
from commands.errors import NotFound, Unauthenticated
from commands.permissions import Actor, require_admin
from eventlog.audit import LogEntry, log_entries
from projections.paging import Page, decode_cursor, page

TAGS = ["audit"]
# Events read from the log per poll of a stream; a full batch is followed at once by the next.
STREAM_BATCH = 200


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


class EventFeed:
    """The log as one caller may see it: admins everything, anyone else the events of the
    tickets it may see now (`domain.visibility`)."""

    def __init__(self, context: Context, actor: Actor, after: int) -> None:
        self._context = context
        self.actor = actor
        self.after = after

    def poll(self) -> list[LogEntry]:
        with self._context.services.pool.connection() as conn:
            entries = log_entries(conn, after=self.after, limit=STREAM_BATCH)
        if entries:
            self.after = entries[-1].position
        return [e for e in entries if self._visible(e)]

    def refresh_actor(self) -> None:
        """Apply a role change, and end the feed (Unauthenticated) for a deactivated account."""
        self.actor = self._context.commands.accounts.actor(self.actor.id)

    def _visible(self, entry: LogEntry) -> bool:
        if self.actor.is_admin:
            return True
        if entry.ticket_id is None:
            return False
        try:
            self._context.commands.tickets.get(self.actor, entry.ticket_id)
        except NotFound:
            return False
        return True


async def _stream(feed: EventFeed, interval: float, heartbeat: float) -> AsyncIterator[
    ServerSentEventMessage
]:
    last_beat = time.monotonic()
    while True:
        entries = await to_thread.run_sync(feed.poll)
        for entry in entries:
            yield ServerSentEventMessage(
                data=msgspec.json.encode(entry).decode(), event=entry.type, id=entry.position
            )
        if time.monotonic() - last_beat >= heartbeat:
            try:
                await to_thread.run_sync(feed.refresh_actor)
            except Unauthenticated:
                return
            last_beat = time.monotonic()
            # A comment line: keeps proxies from closing an idle connection.
            yield ServerSentEventMessage(comment="keep-alive")
        if len(entries) < STREAM_BATCH:
            await anyio.sleep(interval)


@get(
    "/events/stream",
    tags=TAGS,
    summary="Server-Sent Events of new events the caller may see",
    description="Each event's SSE `id` is its position and its `event` its type; send "
    "`Last-Event-ID` to resume after a position. Admins see every event; others the events "
    "of the tickets they may see.",
    media_type="text/event-stream",
    responses=problem_responses(401, 422),
)
async def stream_events(
    context: Context,
    actor: Actor,
    last_event_id: Annotated[
        int | None, Parameter(header="Last-Event-ID", ge=0, required=False)
    ] = None,
) -> ServerSentEvent:
    start = last_event_id
    if start is None:
        start = await to_thread.run_sync(context.commands.store.current_position)
    settings = context.services.settings
    feed = EventFeed(context, actor, start)
    return ServerSentEvent(
        _stream(feed, settings.stream_poll_interval, settings.stream_heartbeat),
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


ROUTES = [list_events, stream_events]
