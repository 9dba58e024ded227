"""What auditors read straight from the log: a ticket's history with field-level changes, the
ticket exactly as it was at a version or a moment, and the global log as `/events` shows it.

Read from the event store itself (an index lookup on the aggregate's key), so it is exact the
moment a command commits, with no read model to wait for.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from psycopg import sql

from domain.history import HistoryEntry, event_topic, event_type, history_entry
from domain.ticket import Ticket
from eventlog.reading import EVENTS_TABLE, HOME_SCHEMA, Executor, aggregate_events, fold

_TABLE = sql.Identifier(HOME_SCHEMA, EVENTS_TABLE)
_TICKET_TOPICS = "trail.Ticket."


class LogEntry(msgspec.Struct, frozen=True):
    """One event as the global log shows it: its stored data as analysts see it in SQL."""

    position: int
    type: str
    at: datetime
    actor_id: UUID | None
    ticket_id: UUID | None
    data: dict[str, Any]


def _ticket_events(
    db: Executor, ticket_id: UUID, after_version: int = 0, limit: int | None = None
) -> list[tuple[int, Ticket.Event]]:
    events = []
    for position, event in aggregate_events(db, ticket_id, after_version, limit):
        if not isinstance(event, Ticket.Event):
            # An id of another kind of aggregate is no ticket: nothing to show.
            return []
        events.append((position, event))
    return events


def ticket_history(
    db: Executor, ticket_id: UUID, after_version: int = 0, limit: int | None = None
) -> list[HistoryEntry]:
    return [
        history_entry(position, event)
        for position, event in _ticket_events(db, ticket_id, after_version, limit)
    ]


def ticket_as_of(db: Executor, ticket_id: UUID, moment: datetime) -> Ticket | None:
    """The ticket folded from the events recorded up to `moment`; None before it existed."""
    ticket: Ticket | None = None
    for _, event in _ticket_events(db, ticket_id):
        if event.timestamp > moment:
            break
        ticket = event.mutate(ticket)
    return ticket


def ticket_at_version(db: Executor, ticket_id: UUID, version: int) -> Ticket | None:
    """The ticket exactly as it was after its event number `version`; None past its end."""
    ticket = fold(None, (event for _, event in _ticket_events(db, ticket_id, limit=version)))
    return ticket if ticket is not None and ticket.version == version else None


def log_entries(
    db: Executor,
    after: int = 0,
    limit: int = 25,
    types: Sequence[str] = (),
    ticket_id: UUID | None = None,
    actor_id: UUID | None = None,
) -> list[LogEntry]:
    """The log in position order after `after`, optionally only some types, one ticket's, or
    what one user did (`actor_id`: the index `trail_events_by_actor`, migration 0020)."""
    clauses = [sql.SQL("notification_id > %s")]
    params: list[Any] = [after]
    if types:
        clauses.append(sql.SQL("topic = ANY(%s)"))
        params.append([event_topic(t) for t in types])
    if ticket_id is not None:
        clauses.append(sql.SQL("originator_id = %s"))
        params.append(ticket_id)
    if actor_id is not None:
        clauses.append(sql.SQL("trail_event_actor(state) = %s"))
        params.append(actor_id)
    query = sql.SQL(
        "SELECT notification_id, originator_id, topic, state FROM {} WHERE {} "
        "ORDER BY notification_id LIMIT %s"
    ).format(_TABLE, sql.SQL(" AND ").join(clauses))
    rows = db.execute(query, [*params, limit], binary=True).fetchall()
    return [log_entry(row) for row in rows]


def log_entry(row: dict[str, Any]) -> LogEntry:
    data: dict[str, Any] = msgspec.json.decode(bytes(row["state"]))
    # The library's bookkeeping, not part of what happened.
    data.pop("originator_topic", None)
    topic: str = row["topic"]
    actor = data.get("actor_id")
    # A ticket's own events, and the facts about a ticket kept apart from it (its messages,
    # who watches it), name the ticket.
    about = data.get("ticket_id")
    ticket_id = row["originator_id"] if topic.startswith(_TICKET_TOPICS) else about
    return LogEntry(
        position=int(row["notification_id"]),
        type=event_type(topic),
        at=msgspec.convert(data.pop("timestamp"), datetime),
        actor_id=UUID(actor) if actor else None,
        ticket_id=UUID(str(ticket_id)) if ticket_id else None,
        data=data,
    )
