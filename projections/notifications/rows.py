"""Writing notification rows: a command's recipients share every column but their own, which is
rendered once; a rebuild's large batches go in through COPY, a live batch's few rows in one
INSERT."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

import msgspec
from psycopg import Cursor
from psycopg.rows import DictRow

from projections.bulk import copy_lines, copy_text, insert

NOTIFICATION_COLUMNS = ("id", "user_id", "ticket_id", "ticket_key", "ticket_title", "actor_id",
                        "summary", "changes", "position", "created_at", "read_at")
# A rebuild's batches write tens of thousands of rows: COPY takes a third of the database's
# time an INSERT from JSON does; a live batch's few rows go in the one INSERT round trip.
COPY_FROM_ROWS = 500


class Sent(NamedTuple):
    """What one command's notifications share: every column after the recipient's."""

    ticket_id: UUID
    ticket_key: str
    ticket_title: str
    actor_id: UUID
    summary: str
    changes: str
    """As JSON."""
    position: int
    created_at: datetime

    def row(self, notification_id: str, user_id: UUID) -> dict[str, Any]:
        return {"id": notification_id, "user_id": user_id, **self._asdict(),
                "changes": msgspec.Raw(self.changes), "read_at": None}

    def copy_tail(self) -> str:
        return (f"{self.ticket_id}\t{copy_text(self.ticket_key)}\t{copy_text(self.ticket_title)}"
                f"\t{self.actor_id}\t{copy_text(self.summary)}\t{copy_text(self.changes)}"
                f"\t{self.position}\t{self.created_at}\t\\N\n")


class Notification(NamedTuple):
    id: str
    user_id: UUID
    user_text: str
    """`user_id` as text, kept by the caller for each person."""
    sent: Sent


def write_notifications(cur: Cursor[DictRow], rows: Sequence[Notification]) -> None:
    if len(rows) >= COPY_FROM_ROWS:
        tails: dict[int, str] = {}
        copy_lines(cur, "notifications", NOTIFICATION_COLUMNS, [
            f"{row.id}\t{row.user_text}\t{_tail(tails, row.sent)}" for row in rows])
    else:
        insert(cur, "notifications", NOTIFICATION_COLUMNS,
               [row.sent.row(row.id, row.user_id) for row in rows])


def _tail(tails: dict[int, str], sent: Sent) -> str:
    """A command's shared fields, rendered once for all its recipients."""
    tail = tails.get(id(sent))
    if tail is None:
        tail = tails[id(sent)] = sent.copy_tail()
    return tail
