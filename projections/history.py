"""Ticket history read model: one row per ticket event, for `/history` and `as_of` look-ups.

Rows are built by `commands.audit.history_entry`, the very function the auditors' replay uses,
so the read model and the event store can never disagree on what `changes` says.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import msgspec
from psycopg import Connection, Cursor
from psycopg.rows import DictRow

from commands.audit import HistoryEntry, history_entry
from domain.ticket import TICKET_EVENTS, Ticket
from projections.base import ReadModel, Recorded, topics_of
from projections.bulk import insert
from projections.paging import Page, check_limit, decode_cursor, page

HISTORY_DDL = """
CREATE TABLE ticket_history (
    ticket_id uuid NOT NULL,
    version integer NOT NULL,
    position bigint NOT NULL,
    type text NOT NULL,
    at timestamptz NOT NULL,
    actor_id uuid NOT NULL,
    changes jsonb NOT NULL,
    PRIMARY KEY (ticket_id, version)
)
"""

COLUMNS = ("ticket_id", "version", "position", "type", "at", "actor_id", "changes")


class HistoryProjection(ReadModel):
    name = "history"
    revision = 1
    topics = topics_of(*TICKET_EVENTS)
    tables = {"ticket_history": HISTORY_DDL}

    def apply(self, cur: Cursor[DictRow], events: Sequence[Recorded]) -> None:
        rows = []
        for position, event in events:
            assert isinstance(event, Ticket.Event)
            entry = msgspec.to_builtins(history_entry(position, event))
            entry["ticket_id"] = event.originator_id
            rows.append(entry)
        insert(cur, "ticket_history", COLUMNS, rows)


_SELECT = "SELECT position, version, type, at, actor_id, changes FROM ticket_history"


def ticket_history(
    conn: Connection[DictRow], ticket_id: UUID, limit: int = 25, cursor: str | None = None
) -> Page[HistoryEntry]:
    """Every event of the ticket, oldest first, paged by version."""
    check_limit(limit)
    after = decode_cursor(cursor, "history", tuple[int])[0] if cursor is not None else 0
    rows = conn.execute(
        f"{_SELECT} WHERE ticket_id = %s AND version > %s ORDER BY version LIMIT %s",
        (ticket_id, after, limit + 1),
    ).fetchall()
    return page(rows, limit, "history", lambda row: (row["version"],),
                lambda row: msgspec.convert(row, HistoryEntry))


def version_as_of(conn: Connection[DictRow], ticket_id: UUID, moment: datetime) -> int | None:
    """The ticket's version at `moment`, or None when it did not exist yet."""
    row = conn.execute(
        "SELECT max(version) AS version FROM ticket_history WHERE ticket_id = %s AND at <= %s",
        (ticket_id, moment),
    ).fetchone()
    return row["version"] if row else None
