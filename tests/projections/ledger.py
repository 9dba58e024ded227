"""Test read models: `Ledger` writes one row per event it sees and has no unique constraint, so a
batch applied twice shows up as duplicate rows instead of an error; `Fragile` fails on a title."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import Cursor
from psycopg.rows import DictRow

from domain.ticket import Ticket
from domain.ticket_events import TICKET_EVENTS
from eventlog.reading import Recorded
from projections.base import ReadModel
from projections.bulk import insert


class Ledger(ReadModel):
    name = "ledger"
    tables = {"ledger": "CREATE TABLE ledger (position bigint NOT NULL, topic text NOT NULL)"}

    def apply(self, cur: Cursor[DictRow], events: Sequence[Recorded]) -> None:
        insert(cur, "ledger", ("position", "topic"),
               [{"position": p, "topic": type(e).TOPIC} for p, e in events])


class Fragile(ReadModel):
    name = "fragile"
    topics = tuple(cls.TOPIC for cls in TICKET_EVENTS)
    tables = {"fragile": "CREATE TABLE fragile (position bigint NOT NULL)"}

    def apply(self, cur: Cursor[DictRow], events: Sequence[Recorded]) -> None:
        for _, event in events:
            if isinstance(event, Ticket.Created) and event.title == "boom":
                raise ValueError("this projector cannot take a boom")
        insert(cur, "fragile", ("position",), [{"position": p} for p, _ in events])
