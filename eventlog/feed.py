"""The log as live streams read it: every event after a position, both decoded (for deciding
who may see it) and as the global log shows it (`audit.LogEntry`, what the streams send), read
and decoded once for all the streams of a process."""

from __future__ import annotations

from typing import Any, NamedTuple

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import StoredEvent
from psycopg import sql

from eventlog.audit import LogEntry, log_entry
from eventlog.reading import EVENTS_TABLE, HOME_SCHEMA, SCAN_WINDOW, Executor, decode, head


class FeedEntry(NamedTuple):
    position: int
    event: DomainEventProtocol[Any]
    entry: LogEntry


class Feed(NamedTuple):
    entries: list[FeedEntry]
    position: int
    """Where the next read starts: the last entry's position, or the end of the scanned window
    (positions without an event are never read again)."""


_SELECT = sql.SQL(
    "SELECT notification_id, originator_id, originator_version, topic, state FROM {} "
    "WHERE notification_id > %s AND notification_id <= %s ORDER BY notification_id LIMIT %s"
).format(sql.Identifier(HOME_SCHEMA, EVENTS_TABLE))


def read_feed(db: Executor, after: int, limit: int, upto: int | None = None) -> Feed:
    """Up to `limit` events after `after`, and no further than `upto` (the head by default)."""
    last = head(db) if upto is None else upto
    end = min(last, after + max(SCAN_WINDOW, limit))
    rows = db.execute(_SELECT, (after, end, limit), prepare=True, binary=True).fetchall()
    entries = []
    for row in rows:
        stored = StoredEvent(originator_id=row["originator_id"],
                             originator_version=row["originator_version"],
                             topic=row["topic"], state=bytes(row["state"]))
        entries.append(FeedEntry(int(row["notification_id"]), decode(stored), log_entry(row)))
    position = entries[-1].position if len(entries) == limit else max(end, after)
    return Feed(entries, position)
