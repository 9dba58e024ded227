"""`Outbox`: the follower that writes outbox rows, a batch at a time.

Each ticket, user and project a batch touches is read once and the rows are written in bulk at
the end, so a busy log costs a few statements per batch, not per event. A command's events are
consecutive in the log; one that a batch boundary splits is read whole from the log, so no email
is ever split and the relay never sends half of one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from psycopg import Cursor
from psycopg.rows import DictRow

from domain.project import Project
from domain.ticket import Ticket
from domain.ticket_events import TICKET_EVENTS
from domain.user import User
from domain.values import UserStatus
from eventlog.reading import Recorded, aggregate_events
from eventlog.topics import topics_of
from projections.base import ReadModel
from projections.outbox import composer
from projections.outbox.composer import Command, NewEmail, TicketState
from projections.outbox.labels import labels
from projections.outbox.payloads import Person
from projections.outbox.rows import insert_emails
from projections.outbox.schema import INDEXES, TABLES

Cur = Cursor[DictRow]

# A ticket command records at most one event per field it edits; this bounds the look-ahead.
_MAX_EVENTS_PER_COMMAND = 32


class Outbox(ReadModel):
    name = "outbox"
    revision = 1
    # Replaying would write no email twice (the keys), but a rebuild would drop the delivery
    # state with the old version's tables: never rebuild, migrate instead.
    rebuildable = False
    topics = topics_of(
        User.Registered, User.Renamed, User.Deactivated, User.Approved, User.Reactivated,
        Project.Created, *TICKET_EVENTS,
    )
    tables = TABLES
    indexes = INDEXES

    def apply(self, cur: Cur, events: Sequence[Recorded]) -> None:
        groups = _commands(events)
        batch = _Batch(cur, events)
        for index, group in enumerate(groups):
            match group[0].event:
                case Ticket.Event():
                    # Only the batch's last command can go on past it (read_batch stops at a
                    # limit, and a command's events are consecutive in the log).
                    batch.ticket_command(group, complete=index < len(groups) - 1)
                case event:
                    batch.other_event(event)
        batch.flush()


def _commands(events: Sequence[Recorded]) -> list[list[Recorded]]:
    """The batch cut into runs of consecutive events of one ticket command; any other event
    is a run of its own."""
    groups: list[list[Recorded]] = []
    for recorded in events:
        event = recorded.event
        if groups and isinstance(event, Ticket.Event):
            last = groups[-1][-1].event
            if (
                isinstance(last, Ticket.Event)
                and last.command_id == event.command_id
                and last.originator_id == event.originator_id
            ):
                groups[-1].append(recorded)
                continue
        groups.append([recorded])
    return groups


class _Batch:
    def __init__(self, cur: Cur, events: Sequence[Recorded]) -> None:
        self.cur = cur
        ticket_ids = {r.event.originator_id for r in events if isinstance(r.event, Ticket.Event)}
        self.tickets = _load_tickets(cur, ticket_ids)
        self.changed: set[UUID] = set()
        self.people: dict[UUID, tuple[Person, bool]] = {}
        self.keys: dict[UUID, str] = {}
        self.emails: list[NewEmail] = []

    def other_event(self, event: object) -> None:
        match event:
            case User.Registered():
                self.cur.execute(
                    "INSERT INTO outbox_users (id, name, email, active) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET "
                    "name = EXCLUDED.name, email = EXCLUDED.email, active = EXCLUDED.active",
                    (event.originator_id, event.name, event.email,
                     event.status != UserStatus.DEACTIVATED),
                )
                self.people.pop(event.originator_id, None)
            case User.Renamed():
                self.cur.execute(
                    "UPDATE outbox_users SET name = %s WHERE id = %s",
                    (event.name, event.originator_id),
                )
                self.people.pop(event.originator_id, None)
            case User.Deactivated() | User.Approved() | User.Reactivated():
                self.cur.execute(
                    "UPDATE outbox_users SET active = %s WHERE id = %s",
                    (not isinstance(event, User.Deactivated), event.originator_id),
                )
                self.people.pop(event.originator_id, None)
            case Project.Created():
                self.cur.execute(
                    "INSERT INTO outbox_projects (id, key) VALUES (%s, %s) "
                    "ON CONFLICT (id) DO UPDATE SET key = EXCLUDED.key",
                    (event.originator_id, event.key),
                )
                self.keys.pop(event.originator_id, None)

    def ticket_command(self, group: Sequence[Recorded], *, complete: bool) -> None:
        first = group[0].event
        assert isinstance(first, Ticket.Event)
        events = [(r.event, r.position) for r in group if isinstance(r.event, Ticket.Event)]
        stored = self.tickets.get(first.originator_id)
        before = stored[0] if stored else None
        # A command this ticket has seen began in an earlier batch, which wrote its emails.
        if stored is None or stored[1] != first.command_id:
            # The whole command is committed already (one atomic save): when it may go on
            # past this batch, read the rest from the log.
            self._emails(before, events if complete else _command_events(self.cur, first))
        state = composer.after(before, events)
        if state is not None:
            self.tickets[first.originator_id] = (state, first.command_id)
            self.changed.add(first.originator_id)

    def _emails(self, before: TicketState | None, command: Command) -> None:
        state = composer.after(before, command)
        if state is None:
            return
        first = command[0][0]
        involved = [*state.assignee_ids, *composer.removed_by(command, state), first.actor_id]
        key = f"{self._key(state.project_id)}-{state.number}"
        self.emails += composer.ticket_emails(command, state, key, self._people(involved),
                                              labels(self.cur, command))

    def _people(self, ids: Iterable[UUID]) -> dict[UUID, tuple[Person, bool]]:
        """Users as the log has them so far, with whether they are active."""
        wanted = set(ids)
        missing = [user_id for user_id in wanted if user_id not in self.people]
        if missing:
            rows = self.cur.execute(
                "SELECT id, name, email, active FROM outbox_users WHERE id = ANY(%s)",
                (missing,),
                prepare=True,
            ).fetchall()
            for r in rows:
                person = Person(id=r["id"], name=r["name"], email=r["email"])
                self.people[r["id"]] = (person, r["active"])
        return {user_id: self.people[user_id] for user_id in wanted if user_id in self.people}

    def _key(self, project_id: UUID) -> str:
        if project_id not in self.keys:
            row = self.cur.execute(
                "SELECT key FROM outbox_projects WHERE id = %s", (project_id,), prepare=True
            ).fetchone()
            self.keys[project_id] = row["key"] if row else "?"
        return self.keys[project_id]

    def flush(self) -> None:
        if self.changed:
            self.cur.executemany(
                "INSERT INTO outbox_tickets "
                "(id, project_id, number, title, assignee_ids, last_command_id) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET "
                "project_id = EXCLUDED.project_id, number = EXCLUDED.number, "
                "title = EXCLUDED.title, assignee_ids = EXCLUDED.assignee_ids, "
                "last_command_id = EXCLUDED.last_command_id",
                [_ticket_row(ticket_id, *self.tickets[ticket_id]) for ticket_id in self.changed],
            )
        insert_emails(self.cur, self.emails)


def _ticket_row(ticket_id: UUID, state: TicketState, command_id: UUID) -> tuple[Any, ...]:
    return (ticket_id, state.project_id, state.number, state.title, list(state.assignee_ids),
            command_id)


def _load_tickets(cur: Cur, ids: set[UUID]) -> dict[UUID, tuple[TicketState, UUID]]:
    if not ids:
        return {}
    rows = cur.execute(
        "SELECT id, project_id, number, title, assignee_ids, last_command_id "
        "FROM outbox_tickets WHERE id = ANY(%s)",
        (list(ids),),
    ).fetchall()
    return {
        r["id"]: (
            TicketState(r["project_id"], r["number"], r["title"], tuple(r["assignee_ids"])),
            r["last_command_id"],
        )
        for r in rows
    }


def _command_events(cur: Cur, first: Ticket.Event) -> list[tuple[Ticket.Event, int]]:
    """The whole command that `first` begins, read from the log."""
    recorded = aggregate_events(
        cur, first.originator_id, first.originator_version - 1, _MAX_EVENTS_PER_COMMAND
    )
    events: list[tuple[Ticket.Event, int]] = []
    for position, event in recorded:
        if not isinstance(event, Ticket.Event) or event.command_id != first.command_id:
            break
        events.append((event, position))
    return events
