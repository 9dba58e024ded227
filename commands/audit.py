"""What auditors read straight from the event store: a ticket's history with field-level
changes, the ticket exactly as it was at a version or a moment, and the global log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.postgres import PostgresDatastore
from psycopg import sql

from domain.ticket import Ticket

TOPIC_PREFIX = "trail."


def event_type(topic: str) -> str:
    """The public name of an event: its stable topic without the product prefix."""
    return topic.removeprefix(TOPIC_PREFIX)


def event_topic(type_name: str) -> str:
    return TOPIC_PREFIX + type_name


class Change(msgspec.Struct, frozen=True):
    from_: Any = msgspec.field(name="from")
    to: Any = None


class HistoryEntry(msgspec.Struct, frozen=True):
    position: int
    version: int
    type: str
    at: datetime
    actor_id: UUID
    changes: dict[str, Change]


class LogEntry(msgspec.Struct, frozen=True):
    position: int
    type: str
    at: datetime
    actor_id: UUID | None
    ticket_id: UUID | None
    data: dict[str, Any]


def history_entry(position: int, event: Ticket.Event) -> HistoryEntry:
    return HistoryEntry(
        position=position,
        version=event.originator_version,
        type=event_type(type(event).TOPIC),
        at=event.timestamp,
        actor_id=event.actor_id,
        changes={
            field: Change(msgspec.to_builtins(old), msgspec.to_builtins(new))
            for field, (old, new) in event.changes().items()
        },
    )


class Audit:
    def __init__(self, datastore: PostgresDatastore, mapper: Mapper[UUID], table: str) -> None:
        self._datastore = datastore
        self._mapper = mapper
        self._table = sql.Identifier(table)

    def _ticket_events(
        self, ticket_id: UUID, after_version: int = 0, limit: int | None = None
    ) -> list[tuple[int, Ticket.Event]]:
        query = sql.SQL(
            "SELECT notification_id, originator_version, topic, state FROM {} "
            "WHERE originator_id = %s AND originator_version > %s "
            "ORDER BY originator_version LIMIT %s"
        ).format(self._table)
        with self._datastore.transaction(commit=False) as curs:
            curs.execute(query, (ticket_id, after_version, limit), prepare=True)
            rows = curs.fetchall()
        events = []
        for row in rows:
            event = self._mapper.to_domain_event(
                StoredEvent(ticket_id, row["originator_version"], row["topic"], bytes(row["state"]))
            )
            if not isinstance(event, Ticket.Event):
                return []
            events.append((int(row["notification_id"]), event))
        return events

    def history(
        self, ticket_id: UUID, after_version: int = 0, limit: int | None = None
    ) -> list[HistoryEntry]:
        return [
            history_entry(position, event)
            for position, event in self._ticket_events(ticket_id, after_version, limit)
        ]

    def ticket_as_of(self, ticket_id: UUID, moment: datetime) -> Ticket | None:
        """Fold the events recorded up to `moment`; None when the ticket did not exist yet."""
        ticket: Ticket | None = None
        for _, event in self._ticket_events(ticket_id):
            if event.timestamp > moment:
                break
            ticket = event.mutate(ticket)
        return ticket

    def log(
        self,
        after: int = 0,
        limit: int = 25,
        types: Sequence[str] = (),
        ticket_id: UUID | None = None,
    ) -> list[LogEntry]:
        clauses = [sql.SQL("notification_id > %s")]
        params: list[Any] = [after]
        if types:
            clauses.append(sql.SQL("topic = ANY(%s)"))
            params.append([event_topic(t) for t in types])
        if ticket_id is not None:
            clauses.append(sql.SQL("originator_id = %s"))
            params.append(ticket_id)
        params.append(limit)
        query = sql.SQL(
            "SELECT notification_id, originator_id, topic, state FROM {} WHERE {} "
            "ORDER BY notification_id LIMIT %s"
        ).format(self._table, sql.SQL(" AND ").join(clauses))
        with self._datastore.transaction(commit=False) as curs:
            curs.execute(query, params)
            rows = curs.fetchall()
        return [_log_entry(row) for row in rows]


def _log_entry(row: dict[str, Any]) -> LogEntry:
    data: dict[str, Any] = msgspec.json.decode(bytes(row["state"]))
    # The library's bookkeeping, not part of what happened.
    data.pop("originator_topic", None)
    topic: str = row["topic"]
    actor = data.get("actor_id")
    return LogEntry(
        position=int(row["notification_id"]),
        type=event_type(topic),
        at=msgspec.convert(data.pop("timestamp"), datetime),
        actor_id=UUID(actor) if actor else None,
        ticket_id=row["originator_id"] if topic.startswith("trail.Ticket.") else None,
        data=data,
    )
