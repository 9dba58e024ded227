"""A batch's notifications stream through COPY once there are enough of them: the rows are
the same as one INSERT's, and a batch that fails with a COPY open rolls back whole."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg.rows import DictRow, dict_row

from projections.notifications import rows as notification_rows
from projections.notifications.rows import Notification, NotificationRows, Sent
from projections.notifications.schema import NOTIFICATIONS_DDL

Conn = psycopg.Connection[DictRow]


@pytest.fixture
def table(scratch_database_url: str) -> Iterator[Conn]:
    """A connection of its own with an empty `notifications` table: a temporary one, which
    comes first on its search path as a version's schema does."""
    with psycopg.connect(scratch_database_url, autocommit=True, row_factory=dict_row) as conn:
        conn.execute(NOTIFICATIONS_DDL.replace("CREATE TABLE", "CREATE TEMPORARY TABLE"))
        yield conn


def _rows(count: int, title: str) -> list[Notification]:
    sent = Sent(uuid.uuid4(), "WEB-1", title, uuid.uuid4(), "Ada commented",
                '{"comment":{"from":null,"to":"a\\tb"}}', 7, datetime(2026, 1, 2, tzinfo=UTC))
    users = [uuid.uuid4() for _ in range(count)]
    return [Notification(str(uuid.uuid4()), u, str(u), sent) for u in users]


def _table(conn: Conn) -> list[tuple[object, ...]]:
    found = conn.execute("SELECT * FROM notifications ORDER BY id").fetchall()
    return [tuple(sorted(row.items())) for row in found]


def _write(conn: Conn, rows: list[Notification], statement_between: bool) -> None:
    with conn.transaction(), conn.cursor() as cur, NotificationRows(cur) as writer:
        for index, row in enumerate(rows):
            writer.add(row)
            if statement_between and index == len(rows) // 2:
                writer.finish()
                cur.execute("SELECT count(*) FROM notifications")
        writer.finish()


@pytest.mark.parametrize("statement_between", [False, True])
def test_copy_and_insert_write_the_same_rows(
    table: Conn, monkeypatch: pytest.MonkeyPatch, statement_between: bool
) -> None:
    rows = _rows(7, "C:\\Temp \\N\tand a tab")
    _write(table, rows, statement_between)
    inserted = _table(table)
    table.execute("DELETE FROM notifications")
    monkeypatch.setattr(notification_rows, "COPY_FROM_ROWS", 2)
    _write(table, rows, statement_between)
    assert _table(table) == inserted
    assert len(inserted) == 7


def test_a_failure_with_a_copy_open_rolls_the_batch_back(
    table: Conn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notification_rows, "COPY_FROM_ROWS", 2)
    with (pytest.raises(ZeroDivisionError), table.transaction(), table.cursor() as cur,
          NotificationRows(cur) as writer):
        for row in _rows(5, "Doomed"):
            writer.add(row)
        1 / 0  # noqa: B018
    assert table.execute("SELECT count(*) AS n FROM notifications").fetchone() == {"n": 0}
