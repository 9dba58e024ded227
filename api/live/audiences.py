"""Who each ticket's events concern, as the ticket is now: the cache every stream of a process
decides visibility with (`domain.visibility.may_see`) and conversation membership with
(`domain.conversation.takes_part`).

The process's follower applies each ticket event to it as the event passes
(`domain.visibility.audience_after`). A ticket it does not know is read from the tickets model,
once that model has processed the events the follower passed before (the follower applies the
rest), or, when the model lags too far, folded from the ticket's own events in the log. Each entry
remembers the position it is current at, so an event already in it is not applied twice.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import cast
from uuid import UUID

from psycopg import Connection
from psycopg.rows import DictRow
from psycopg_pool import ConnectionPool

from domain.ticket import Ticket
from domain.visibility import TicketAudience, audience_after
from eventlog.feed import FeedEntry
from eventlog.reading import aggregate_events
from projections.positions import Source, wait_for_position
from projections.tickets import TicketsProjection

Known = tuple[TicketAudience, int]

# Tickets remembered per process (about 200 bytes each); the least recently used go first.
CAPACITY = 100_000
# How long to wait for the tickets model before folding a ticket from the log instead.
MODEL_WAIT = 2.0


class Audiences:
    def __init__(self, pool: ConnectionPool[Connection[DictRow]],
                 capacity: int = CAPACITY) -> None:
        self._pool = pool
        self._capacity = capacity
        self._lock = threading.Lock()
        self._known: OrderedDict[UUID, Known] = OrderedDict()

    def get(self, ticket_id: UUID) -> TicketAudience | None:
        known = self._known.get(ticket_id)
        return known[0] if known else None

    def snapshot(self, ids: Iterable[UUID]) -> dict[UUID, TicketAudience]:
        return {i: a for i in ids if (a := self.get(i)) is not None}

    def clear(self) -> None:
        with self._lock:
            self._known.clear()

    def follow(self, items: Sequence[FeedEntry]) -> None:
        """Apply the ticket events of a batch the follower reads, in order."""
        with self._lock:
            for position, event, entry in items:
                if not isinstance(event, Ticket.Event) or entry.ticket_id is None:
                    continue
                known = self._known.get(entry.ticket_id)
                if known is not None and position <= known[1]:
                    continue
                audience = audience_after(known[0] if known else None, event)
                if audience is not None:
                    self._put(entry.ticket_id, (audience, position))

    def ensure(self, conn: Connection[DictRow], ids: Iterable[UUID], at_least: int) -> None:
        """Know the tickets `ids` as they are now, never as they were before `at_least`: the
        tickets model is waited for until it has got there, then the log is read instead."""
        missing = {i for i in ids if i not in self._known}
        if not missing:
            return
        loaded = self._from_model(conn, missing, at_least)
        loaded.update(self._from_log(conn, missing - loaded.keys()))
        with self._lock:
            for ticket_id, known in loaded.items():
                current = self._known.get(ticket_id)
                if current is None or known[1] > current[1]:
                    self._put(ticket_id, known)

    def _put(self, ticket_id: UUID, known: Known) -> None:
        self._known[ticket_id] = known
        self._known.move_to_end(ticket_id)
        while len(self._known) > self._capacity:
            self._known.popitem(last=False)

    def _from_model(
        self, conn: Connection[DictRow], ids: set[UUID], at_least: int
    ) -> dict[UUID, Known]:
        # Any pool serves `wait_for_position` (it gives each cursor its own row factory).
        source = cast(Source, self._pool)
        if not wait_for_position(source, [TicketsProjection.name], at_least, MODEL_WAIT):
            return {}
        # The rows and the model's position from one snapshot: each row is current at it.
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            row = conn.execute("SELECT position FROM projection_versions WHERE name = %s",
                               (TicketsProjection.name,)).fetchone()
            rows = conn.execute(
                "SELECT id, project_id, reporter_id, assignee_ids, team_id FROM tickets "
                "WHERE id = ANY(%s)", (list(ids),)).fetchall()
        position = int(row["position"]) if row else 0
        return {
            r["id"]: (TicketAudience(r["project_id"], r["reporter_id"],
                                     tuple(r["assignee_ids"]), r["team_id"]), position)
            for r in rows
        }

    def _from_log(self, conn: Connection[DictRow], ids: set[UUID]) -> dict[UUID, Known]:
        loaded: dict[UUID, Known] = {}
        for ticket_id in ids:
            audience, last = None, 0
            for recorded in aggregate_events(conn, ticket_id):
                if not isinstance(recorded.event, Ticket.Event):
                    break
                audience, last = audience_after(audience, recorded.event), recorded.position
            if audience is not None:
                loaded[ticket_id] = (audience, last)
        return loaded
