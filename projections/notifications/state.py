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
from domain.watching import Involvement
from eventlog.reading import Recorded
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
