"""The global event log for auditors and integrations: a page at a time, or as a live stream."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated, Any
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
from commands.audit import LogEntry
from commands.errors import Unauthenticated
from commands.permissions import Actor, require_admin
from projections.paging import decode_cursor, encode_cursor

TAGS = ["audit"]
# Events read from the log per poll of a stream; a full batch is followed at once by the next.
STREAM_BATCH = 200


class EventPage(msgspec.Struct, frozen=True):
    items: list[LogEntry]
    next_cursor: str | None


@get(
    "/events",
    tags=TAGS,
    sync_to_thread=True,
    summary="The global event log (admin)",
    description="Every event in commit order, after `after` (a position). `type` (repeatable) "
    "keeps only those types (`Ticket.StatusChanged`, …); `ticket_id` only that ticket's.",
    responses=problem_responses(401, 403, 422),
)
def list_events(
    context: Context,
    actor: Actor,
    after: Annotated[int, Parameter(ge=0, description="A position; 0 is the start.")] = 0,
    event_type: Annotated[list[str] | None, Parameter(query="type")] = None,
    ticket_id: UUID | None = None,
    limit: Limit = 25,
    cursor: Cursor = None,
) -> EventPage:
    require_admin(actor)
    if cursor is not None:
        after = decode_cursor(cursor, "events", tuple[int])[0]
    entries = context.trail.audit.log(
        after=after, limit=limit + 1, types=event_type or (), ticket_id=ticket_id
    )
    more = len(entries) > limit
    entries = entries[:limit]
    next_cursor = encode_cursor("events", (entries[-1].position,)) if more else None
    return EventPage(entries, next_cursor)


class EventFeed:
    """The log as one caller may see it: admins everything; developers every ticket event;
    reporters the events of the tickets they reported or are assigned to."""

    def __init__(self, context: Context, actor: Actor, after: int) -> None:
        self._context = context
        self.actor = actor
        self.after = after
        # Reporters only: ticket id -> (reporter, assignees), kept current by the feed itself.
        self._tickets: dict[UUID, tuple[UUID, frozenset[UUID]]] = {}

    def poll(self) -> list[LogEntry]:
        entries = self._context.trail.audit.log(after=self.after, limit=STREAM_BATCH)
        if entries:
            self.after = entries[-1].position
        return [e for e in entries if self._visible(e)]

    def refresh_actor(self) -> None:
        """Apply a role change, and end the feed (Unauthenticated) for a deactivated account."""
        actor = self._context.trail.actor(self.actor.id)
        if actor.role != self.actor.role:
            self._tickets.clear()
        self.actor = actor

    def _visible(self, entry: LogEntry) -> bool:
        if self.actor.is_admin:
            return True
        if entry.ticket_id is None:
            return False
        if self.actor.works_tickets:
            return True
        reporter, assignees = self._ticket(entry)
        return self.actor.id == reporter or self.actor.id in assignees

    def _ticket(self, entry: LogEntry) -> tuple[UUID, frozenset[UUID]]:
        assert entry.ticket_id is not None
        known = self._tickets.get(entry.ticket_id)
        if entry.type == "Ticket.Created":
            known = (UUID(entry.data["reporter_id"]), _ids(entry.data["assignee_ids"]))
        elif known is None:
            # A ticket created before the feed started: its state now, from the event store.
            ticket = self._context.trail.audit.ticket_as_of(entry.ticket_id, entry.at)
            known = (ticket.reporter_id, frozenset(ticket.assignee_ids)) if ticket else (
                UUID(int=0), frozenset())
        elif entry.type == "Ticket.AssigneesChanged":
            known = (known[0], _ids(entry.data["assignee_ids"]))
        self._tickets[entry.ticket_id] = known
        return known


def _ids(values: list[Any]) -> frozenset[UUID]:
    return frozenset(UUID(v) for v in values)


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
        start = await to_thread.run_sync(context.trail.current_position)
    settings = context.services.settings
    feed = EventFeed(context, actor, start)
    return ServerSentEvent(
        _stream(feed, settings.stream_poll_interval, settings.stream_heartbeat),
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


ROUTES = [list_events, stream_events]
