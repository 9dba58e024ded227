"""Writing notification rows: a command's recipients share every column but their own, which is
rendered once; a batch's first few rows go in one INSERT, a larger batch's stream through COPY
while the batch is still being worked out."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

import msgspec
from psycopg import Copy, Cursor, sql
from psycopg.rows import DictRow

from projections.bulk import copy_text, insert

NOTIFICATION_COLUMNS = ("id", "user_id", "ticket_id", "ticket_key", "ticket_title", "actor_id",
                        "summary", "changes", "position", "created_at", "read_at")
_COPY = sql.SQL("COPY notifications ({}) FROM STDIN").format(
    sql.SQL(", ").join(map(sql.Identifier, NOTIFICATION_COLUMNS)))
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


class NotificationRows:
    """A batch's new notifications, on their way to the table.

    Once a batch has `COPY_FROM_ROWS` of them, a COPY is opened and every further
    `COPY_FROM_ROWS` rows are sent down it as they are made: the database takes them in while
    the projector works out the next ones, instead of after (a rebuild spent a fifth of its time
    waiting for each batch's COPY to end). The COPY holds the connection: `finish` before any
    other statement on it. Same transaction, same rows, same order.
    """

    def __init__(self, cur: Cursor[DictRow]) -> None:
        self.cur = cur
        self.pending: list[Notification] = []
        self._copy: Copy | None = None
        self._closing = ExitStack()

    def __enter__(self) -> NotificationRows:
        return self

    def __exit__(self, *failure: Any) -> None:
        # On a failure, an open COPY is ended with it (the server discards it), so that the
        # transaction can roll back.
        self._copy = None
        self._closing.__exit__(*failure)

    def add(self, row: Notification) -> None:
        self.pending.append(row)
        if len(self.pending) >= COPY_FROM_ROWS:
            self._stream()

    def finish(self) -> None:
        """Every row so far in the table, and the connection free for other statements."""
        if self._copy is not None:
            self._stream()
            self._copy = None
            self._closing.close()
        elif self.pending:
            insert(self.cur, "notifications", NOTIFICATION_COLUMNS,
                   [row.sent.row(row.id, row.user_id) for row in self.pending])
            self.pending.clear()

    def _stream(self) -> None:
        if self._copy is None:
            self._copy = self._closing.enter_context(self.cur.copy(_COPY))
        if self.pending:
            self._copy.write("".join(_lines(self.pending)))
            self.pending.clear()


def _lines(rows: list[Notification]) -> Iterator[str]:
    """COPY text lines; the fields a command's recipients share are rendered once."""
    sent: Sent | None = None
    tail = ""
    for row in rows:
        if row.sent is not sent:
            sent, tail = row.sent, row.sent.copy_tail()
        yield f"{row.id}\t{row.user_text}\t{tail}"
