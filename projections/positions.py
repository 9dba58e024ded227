"""Read-your-writes: wait until projections have processed a position; report their lag.

Projectors publish their models' position in `projection_versions` and NOTIFY
`trail_projections` with "<name>[,<name>…]:<position>" in the same transaction as each batch, so a
waiter LISTENs once and wakes on the commit that reaches its position, with no polling.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator

import msgspec
import psycopg
import psycopg.errors
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from eventlog.reading import EVENTS_TABLE
from projections.base import HOME_SCHEMA, POSITIONS_CHANNEL

Source = str | ConnectionPool | psycopg.Connection

_POSITIONS = sql.SQL("SELECT name, position FROM {} WHERE name = ANY(%s)").format(
    sql.Identifier(HOME_SCHEMA, "projection_versions")
)
_STATUS = sql.SQL(
    "SELECT name, position, (SELECT coalesce(max(notification_id), 0) FROM {}) AS head "
    "FROM {} ORDER BY name"
).format(
    sql.Identifier(HOME_SCHEMA, EVENTS_TABLE), sql.Identifier(HOME_SCHEMA, "projection_versions")
)


class ProjectionStatus(msgspec.Struct, frozen=True):
    position: int
    lag: int
    """Events recorded after `position`: 0 when the projection is current."""


@contextlib.contextmanager
def _connection(source: Source) -> Iterator[psycopg.Connection]:
    if isinstance(source, str):
        with psycopg.connect(source, autocommit=True) as conn:
            yield conn
    elif isinstance(source, ConnectionPool):
        with source.connection() as conn:
            yield conn
    else:
        yield source


@contextlib.contextmanager
def _listening(conn: psycopg.Connection) -> Iterator[None]:
    """LISTEN with autocommit on: notifications only arrive between transactions."""
    autocommit = conn.autocommit
    conn.commit()
    conn.autocommit = True
    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(POSITIONS_CHANNEL)))
    try:
        yield
    finally:
        if not conn.closed:
            conn.execute(sql.SQL("UNLISTEN {}").format(sql.Identifier(POSITIONS_CHANNEL)))
            conn.autocommit = autocommit


def _positions(conn: psycopg.Connection, names: set[str]) -> dict[str, int]:
    try:
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(_POSITIONS, (list(names),)).fetchall()
    except psycopg.errors.UndefinedTable:
        conn.rollback()
        return {}
    finally:
        if not conn.autocommit:
            conn.commit()
    return {row["name"]: int(row["position"]) for row in rows}


def _reached(positions: dict[str, int], names: set[str], position: int) -> bool:
    return all(positions.get(name, 0) >= position for name in names)


def wait_for_position(
    source: Source, names: Iterable[str], position: int, timeout: float = 5.0
) -> bool:
    """Whether every named projection reached `position` within `timeout` seconds."""
    wanted = set(names)
    deadline = time.monotonic() + timeout
    with _connection(source) as conn:
        if _reached(_positions(conn, wanted), wanted, position):
            return True
        if timeout <= 0:
            return False
        with _listening(conn):
            # Read again now that we listen: a commit in between would otherwise go unseen.
            positions = _positions(conn, wanted)
            while not _reached(positions, wanted, position):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                for note in conn.notifies(timeout=remaining, stop_after=1):
                    # "<name>[,<name>…]:<position>": a projector publishes its models at once.
                    names, _, at = note.payload.rpartition(":")
                    for name in names.split(","):
                        if name in wanted and at.isdigit():
                            positions[name] = max(positions.get(name, 0), int(at))
    return True


def projection_status(source: Source) -> dict[str, ProjectionStatus]:
    """Every installed projection's position and lag behind the log's last event."""
    with _connection(source) as conn:
        try:
            with conn.cursor(row_factory=dict_row) as cur:
                rows = cur.execute(_STATUS).fetchall()
        except psycopg.errors.UndefinedTable:
            conn.rollback()
            return {}
        finally:
            if not conn.autocommit:
                conn.commit()
    return {
        row["name"]: ProjectionStatus(position=row["position"],
                                      lag=max(0, row["head"] - row["position"]))
        for row in rows
    }
