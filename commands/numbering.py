"""Ticket numbers: 1, 2, 3… per project, never reused.

A counter row per project, bumped in its own short transaction. Concurrent creators in one
project queue on that row lock for microseconds instead of colliding on a project aggregate's
version and retrying. A number is spent even if the save that follows fails (only an
infrastructure failure can do that, validation runs first), so numbers may skip but never repeat.

The bump commits without waiting for its WAL flush. That is safe: the ticket that takes the
number is saved afterwards with a synchronous commit, which flushes the log up to its own record
and so past the bump's; a crash can only lose a bump whose number no saved ticket carries.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.postgres import PostgresDatastore


class TicketNumbers:
    def __init__(self, datastore: PostgresDatastore) -> None:
        self._datastore = datastore

    def next(self, project_id: UUID) -> int:
        # One statement on an autocommit connection: one round trip, one implicit transaction,
        # whose commit the CTE's setting spares the WAL flush wait.
        with self._datastore.get_connection() as conn:
            row = conn.execute(_BUMP, (project_id,), prepare=True).fetchone()
        assert row is not None
        return int(row["last_number"])


_BUMP = (
    "WITH asynchronous AS (SELECT set_config('synchronous_commit', 'off', true)) "
    "INSERT INTO ticket_numbers (project_id, last_number) SELECT %s, 1 FROM asynchronous "
    "ON CONFLICT (project_id) DO UPDATE SET last_number = ticket_numbers.last_number + 1 "
    "RETURNING last_number"
)
