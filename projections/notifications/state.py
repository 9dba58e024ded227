"""What the notifications projector remembers between batches, in log order: each ticket's key,
title and audience, who is involved in it, and each user's name, role and status."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

import msgspec
from psycopg import Cursor
from psycopg.rows import DictRow

from domain.ticket import Ticket
from domain.user import User
from domain.values import Role
from domain.visibility import TicketAudience, Viewer
from domain.watching import Involvement, Watch
from eventlog.reading import Recorded
from projections.base import Shard
from projections.bulk import fetch_by_ids

Cur = Cursor[DictRow]

TICKET_COLUMNS = ("id", "project_id", "key", "title", "reporter_id", "assignee_ids", "team_id",
                  "last_command_id")
USER_COLUMNS = ("id", "name", "role", "active", "team_ids")
WATCHER_COLUMNS = ("ticket_id", "user_id", "commented", "choice")


class TicketState(msgspec.Struct):
    key: str
    title: str
    audience: TicketAudience
    last_command_id: UUID


class Person(msgspec.Struct):
    name: str
    role: Role
    active: bool
    team_ids: tuple[UUID, ...] = ()

    def viewer(self, user_id: UUID) -> Viewer:
        return Viewer(id=user_id, role=self.role, team_ids=frozenset(self.team_ids))


class Remembered:
    """The state a batch worked with (loaded, or as it wrote it), handed to the next batch of
    a sole writer (`ReadModel.sole_writer`), which then reads only tickets it has not seen.

    `complete`: everything from position 0 went through it, so a person or project it does
    not hold does not exist (a shard must not read them: another shard writes those rows).
    """

    # About 1 kB each: past this many, tickets are read again (people and projects are kept).
    MAX_TICKETS = 100_000

    def __init__(self, *, complete: bool = False, shard: Shard | None = None) -> None:
        self.complete = complete
        self.shard = shard
        self.tickets: dict[UUID, TicketState] = {}
        self.watchers: dict[UUID, dict[UUID, Involvement]] = {}
        self.seen: set[UUID] = set()
        """Tickets whose state and watchers are here (or that the model does not have)."""
        self.people: dict[UUID, Person] = {}
        self.unknown: set[UUID] = set()
        """People looked for and not found."""
        self.keys: dict[UUID, str] = {}

    def holds(self, ticket_id: UUID) -> bool:
        """Whether the ticket's rows are this model's to write (all, unless sharded)."""
        return self.shard is None or self.shard.holds(ticket_id)

    @property
    def only_mine(self) -> str:
        """An SQL condition for notifications: a shard's read marks reach only its own rows
        (the others' are theirs to mark)."""
        return "" if self.shard is None else " AND " + self.shard.sql("ticket_id")

    def load(self, cur: Cur, events: Sequence[Recorded]) -> None:
        """Read what `events` need that is not here yet."""
        if len(self.tickets) > self.MAX_TICKETS:
            self.tickets, self.watchers, self.seen = {}, {}, set()
        ticket_ids = {r.event.originator_id for r in events if isinstance(r.event, Ticket.Event)}
        ticket_ids |= {r.event.ticket_id for r in events
                       if isinstance(r.event, Watch.Event) and self.holds(r.event.ticket_id)}
        missing = ticket_ids - self.seen
        tickets, watchers = load_tickets(cur, missing), load_watchers(cur, missing)
        self.tickets.update(tickets)
        self.watchers.update(watchers)
        self.seen |= missing
        if self.complete:
            return  # every person and project the batch can name went through here already
        # Everyone the batch can name, in one query: one per command took a tenth of a rebuild.
        self.load_people(cur, people_named(events, tickets.values(), watchers.values()))
        self.keys.update(load_project_keys(cur, {
            r.event.project_id for r in events
            if isinstance(r.event, Ticket.Created) and r.event.project_id not in self.keys}))

    def load_people(self, cur: Cur, ids: Iterable[UUID]) -> None:
        """The people named that are not here (one that does not exist is looked for once)."""
        missing = {u for u in ids if u not in self.people and u not in self.unknown}
        if missing:
            found = {} if self.complete else load_people(cur, missing)
            self.people.update(found)
            self.unknown |= missing - found.keys()

    def key(self, cur: Cur, project_id: UUID) -> str:
        if project_id not in self.keys and not self.complete:
            row = cur.execute("SELECT key FROM notification_projects WHERE id = %s",
                              (project_id,)).fetchone()
            if row:
                self.keys[project_id] = row["key"]
        return self.keys.get(project_id, "?")


def ticket_row(ticket_id: UUID, state: TicketState) -> dict[str, Any]:
    audience = state.audience
    return {"id": ticket_id, "project_id": audience.project_id, "key": state.key,
            "title": state.title, "reporter_id": audience.reporter_id,
            "assignee_ids": list(audience.assignee_ids), "team_id": audience.team_id,
            "last_command_id": state.last_command_id}


def watcher_row(ticket_id: UUID, user_id: UUID, involvement: Involvement) -> dict[str, Any]:
    return {"ticket_id": ticket_id, "user_id": user_id, "commented": involvement.commented,
            "choice": involvement.choice}


def user_row(user_id: UUID, person: Person) -> dict[str, Any]:
    return {"id": user_id, "name": person.name, "role": person.role, "active": person.active,
            "team_ids": list(person.team_ids)}


def load_tickets(cur: Cur, ids: set[UUID]) -> dict[UUID, TicketState]:
    rows = fetch_by_ids(cur, "notification_tickets", "id", TICKET_COLUMNS, ids)
    return {
        tid: TicketState(r["key"], r["title"], TicketAudience(
            r["project_id"], r["reporter_id"], tuple(r["assignee_ids"]), r["team_id"]),
            r["last_command_id"])
        for tid, r in rows.items()
    }


def load_watchers(cur: Cur, ticket_ids: set[UUID]) -> dict[UUID, dict[UUID, Involvement]]:
    watchers: dict[UUID, dict[UUID, Involvement]] = {}
    if not ticket_ids:
        return watchers
    rows = cur.execute(
        "SELECT ticket_id, user_id, commented, choice FROM ticket_watchers "
        "WHERE ticket_id = ANY(%s)", (list(ticket_ids),)).fetchall()
    for r in rows:
        watchers.setdefault(r["ticket_id"], {})[r["user_id"]] = Involvement(r["commented"],
                                                                           r["choice"])
    return watchers


def load_people(cur: Cur, ids: set[UUID]) -> dict[UUID, Person]:
    rows = fetch_by_ids(cur, "notification_users", "id", USER_COLUMNS, ids)
    return {uid: Person(r["name"], Role(r["role"]), r["active"], tuple(r["team_ids"]))
            for uid, r in rows.items()}


def load_project_keys(cur: Cur, project_ids: set[UUID]) -> dict[UUID, str]:
    if not project_ids:
        return {}
    rows = cur.execute("SELECT id, key FROM notification_projects WHERE id = ANY(%s)",
                       (list(project_ids),)).fetchall()
    return {row["id"]: row["key"] for row in rows}


def people_named(events: Sequence[Recorded], tickets: Iterable[TicketState],
                  watchers: Iterable[dict[UUID, Involvement]]) -> set[UUID]:
    """Actors, users and assignees of `events`, and who watches the tickets as they stood."""
    named: set[UUID] = set()
    for recorded in events:
        event = recorded.event
        match event:
            case Ticket.Created():
                named.update(event.assignee_ids, (event.actor_id, event.reporter_id))
            case Ticket.AssigneesChanged():
                named.update(event.assignee_ids, (event.actor_id,))
            case Ticket.Event():
                named.add(event.actor_id)
            case User.Event():
                named.add(event.originator_id)
    for ticket in tickets:
        named.update(ticket.audience.assignee_ids, (ticket.audience.reporter_id,))
    for involvements in watchers:
        named.update(involvements)
    return named
