"""`NotificationsProjection`: one notification per watcher per ticket command, in log order.

Watchers are decided by `domain.watching` over the ticket as the command leaves it and as it
found it (a user the command unassigns hears of it, one it assigns too); the command's actor is
never notified, and nor is a watcher who is not active or may not see the ticket
(`domain.visibility.may_see`, with the role the log gives the user at that point). A command
that changes nothing a reader would see (assignees set to the same list) notifies nobody.

Notification ids follow from the command, the ticket and the user, and read marks are events, so
a rebuild from position 0 gives the very same rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from uuid import UUID

import msgspec
from psycopg import Cursor
from psycopg.rows import DictRow

from domain.history import Change
from domain.project import Project
from domain.reading import ReadMark
from domain.ticket import Ticket
from domain.ticket_events import TICKET_EVENTS
from domain.user import User
from domain.values import UserStatus
from domain.visibility import TicketAudience, Viewer, audience_after, may_see
from domain.watching import Involvement, Watch, chose, involved, involved_by, is_watcher
from eventlog.reading import Recorded
from eventlog.topics import topics_of
from projections.base import ReadModel, ReadModelView
from projections.bulk import insert, upsert
from projections.notifications.ids import notification_ids
from projections.notifications.rows import Notification, NotificationRows, Sent
from projections.notifications.schema import INDEXES, TABLES
from projections.notifications.state import (
    TICKET_COLUMNS,
    USER_COLUMNS,
    WATCHER_COLUMNS,
    Person,
    Remembered,
    TicketState,
    ticket_row,
    user_row,
    watcher_row,
)
from projections.notifications.summary import merged_changes, summary
from projections.runs import command_runs, ticket_run, whole_command

Cur = Cursor[DictRow]
Command = Sequence[tuple[Ticket.Event, int]]

_encoder = msgspec.json.Encoder()
_NOBODY: dict[UUID, Involvement] = {}
_TICKET_TOPICS = frozenset(topics_of(*TICKET_EVENTS))
_Recipient = tuple[Person, Viewer, str]


class NotificationsProjection(ReadModel):
    name = "notifications"
    revision = 1
    topics = topics_of(
        Project.Created, User.Registered, User.Renamed, User.RoleChanged, User.Approved,
        User.Deactivated, User.MadePending, User.Reactivated, User.TeamsChanged, Watch.Chosen,
        Watch.Started, Watch.Stopped, ReadMark.NotificationRead, ReadMark.AllRead,
        *TICKET_EVENTS,
    )
    tables = TABLES
    indexes = INDEXES
    # Tickets are split between shards; every shard follows every user and project, and the
    # first writes them.
    rebuild_shards = 2

    def __init__(self, view: ReadModelView) -> None:
        super().__init__(view)
        self._remembered: Remembered | None = None

    def keep(self, row: DictRow) -> bool:
        return (self.shard is None or row["topic"] not in _TICKET_TOPICS
                or self.shard.holds(row["originator_id"]))

    def apply(self, cur: Cur, events: Sequence[Recorded]) -> None:
        runs = command_runs(events)
        state = self._remembered if self.sole_writer else None
        if state is None:
            state = Remembered(complete=self.sole_writer, shard=self.shard)
        batch = _Batch(cur, events, state)
        with batch.rows:
            for index, run in enumerate(runs):
                if isinstance(run[0].event, Ticket.Event):
                    # Only the batch's last command can go on past it.
                    batch.ticket_command(run, complete=index < len(runs) - 1)
                else:
                    batch.other_event(run[0].event)
            batch.flush()
        # Only a sole writer may trust it: a live batch that fails is retried, and its
        # state here would be the failed batch's.
        if self.sole_writer:
            self._remembered = state


class _Batch:
    def __init__(self, cur: Cur, events: Sequence[Recorded], state: Remembered) -> None:
        self.cur = cur
        self.state = state
        state.load(cur, events)
        self.tickets, self.watchers = state.tickets, state.watchers
        self.people, self.keys = state.people, state.keys
        self.recipients: dict[UUID, _Recipient] = {}
        self.changed_tickets: set[UUID] = set()
        self.changed_watchers: set[tuple[UUID, UUID]] = set()
        self.changed_people: set[UUID] = set()
        self.new_projects: dict[UUID, str] = {}
        self.rows = NotificationRows(cur)

    def ticket_command(self, run: Sequence[Recorded], *, complete: bool) -> None:
        events = ticket_run(run)
        first = events[0][0]
        stored = self.tickets.get(first.originator_id)
        # A command this ticket has seen began in an earlier batch, which notified it whole.
        if stored is None or stored.last_command_id != first.command_id:
            self._notify(stored, events if complete else whole_command(self._db(), first))
        for event, _ in events:
            self._evolve(event)

    def _evolve(self, event: Ticket.Event) -> None:
        ticket_id = event.originator_id
        state = self.tickets.get(ticket_id)
        audience = audience_after(state.audience if state else None, event)
        if isinstance(event, Ticket.Created) and audience is not None:
            key = f"{self._key(event.project_id)}-{event.number}"
            state = self.tickets[ticket_id] = TicketState(key, event.title, audience,
                                                          event.command_id)
        if state is None or audience is None:
            return
        if isinstance(event, Ticket.TitleChanged):
            state.title = event.title
        state.audience, state.last_command_id = audience, event.command_id
        self.changed_tickets.add(ticket_id)
        watchers = self.watchers.setdefault(ticket_id, {})
        for user_id, commented in involved_by(event):
            watchers[user_id] = involved(watchers.get(user_id), commented=commented)
            self.changed_watchers.add((ticket_id, user_id))

    def _notify(self, before: TicketState | None, command: Command) -> None:
        first, position = command[0][0], command[-1][1]
        ticket_id = first.originator_id
        # Copied on write only: most commands involve nobody new.
        watchers_before = watchers = self.watchers.get(ticket_id, _NOBODY)
        audience_before = audience = before.audience if before else None
        title = before.title if before else ""
        for event, _ in command:
            audience = audience_after(audience, event)
            for user_id, commented in involved_by(event):
                if watchers is watchers_before:
                    watchers = dict(watchers_before)
                watchers[user_id] = involved(watchers.get(user_id), commented=commented)
            if isinstance(event, Ticket.Created | Ticket.TitleChanged):
                title = event.title
        changes = merged_changes(command)
        if audience is None or not changes:
            return
        recipients = _watching(audience, watchers)
        if audience is not audience_before or watchers is not watchers_before:
            recipients |= _watching(audience_before, watchers_before)
        recipients.discard(first.actor_id)
        if not recipients:
            return
        self._load_people([*recipients, first.actor_id, *_assignees(changes)])
        people = self.people
        actor = people.get(first.actor_id)
        line = summary(actor.name if actor else "Someone", changes,
                       created=isinstance(first, Ticket.Created),
                       names=lambda u: people[u].name if u in people else "someone")
        key = before.key if before else f"{self._key(audience.project_id)}-{_number(first)}"
        changes_json = _encoder.encode(changes).decode()
        sent = Sent(ticket_id, key, title, first.actor_id, line, changes_json, position,
                     first.timestamp)
        id_of = notification_ids(first.command_id, ticket_id)
        for user_id in sorted(recipients):
            recipient = self._recipient(user_id)
            if recipient is None or not recipient[0].active:
                continue
            if not may_see(recipient[1], audience):
                continue
            self.rows.add(Notification(id_of(recipient[2]), user_id, recipient[2], sent))

    def other_event(self, event: object) -> None:
        match event:
            case Project.Created():
                self.keys[event.originator_id] = self.new_projects[event.originator_id] = (
                    event.key)
            case User.Registered():
                self._person_changed(event.originator_id, Person(
                    event.name, event.role, event.status is UserStatus.ACTIVE, ()))
            case User.Event():
                self._user_event(event)
            case Watch.Event() if self.state.holds(event.ticket_id):
                watchers = self.watchers.setdefault(event.ticket_id, {})
                watching = event.watching if isinstance(event, Watch.Chosen) else isinstance(
                    event, Watch.Started)
                watchers[event.user_id] = chose(watchers.get(event.user_id), watching)
                self.changed_watchers.add((event.ticket_id, event.user_id))
            case ReadMark.NotificationRead():
                self._db().execute(
                    "UPDATE notifications SET read_at = %s WHERE id = %s AND user_id = %s "
                    "AND read_at IS NULL" + self.state.only_mine,
                    (event.timestamp, event.notification_id, event.actor_id))
            case ReadMark.AllRead():
                self._db().execute(
                    "UPDATE notifications SET read_at = %s WHERE user_id = %s "
                    "AND position <= %s AND read_at IS NULL" + self.state.only_mine,
                    (event.timestamp, event.actor_id, event.up_to_position))

    def _user_event(self, event: User.Event) -> None:
        self._load_people([event.originator_id])
        person = self.people.get(event.originator_id)
        if person is None:
            return
        match event:
            case User.Renamed():
                person.name = event.name
            case User.RoleChanged():
                person.role = event.role
            case User.Deactivated() | User.MadePending():
                person.active = False
            case User.Approved() | User.Reactivated():
                person.active = True
            case User.TeamsChanged():
                person.team_ids = event.team_ids
        self._person_changed(event.originator_id, person)

    def _person_changed(self, user_id: UUID, person: Person) -> None:
        self.people[user_id] = person
        self.recipients.pop(user_id, None)
        self.changed_people.add(user_id)

    def _load_people(self, ids: Iterable[UUID]) -> None:
        """The people a command names that the batch has not loaded."""
        if any(u not in self.people for u in ids):
            self.state.load_people(self._db(), ids)

    def _recipient(self, user_id: UUID) -> _Recipient | None:
        """The person, as a viewer and with its id as text, kept until the person changes:
        each is needed again for every command a user watches."""
        recipient = self.recipients.get(user_id)
        if recipient is None:
            person = self.people.get(user_id)
            if person is None:
                return None
            recipient = self.recipients[user_id] = (person, person.viewer(user_id),
                                                    str(user_id))
        return recipient

    def _key(self, project_id: UUID) -> str:
        key = self.keys.get(project_id)
        return key if key is not None else self.state.key(self._db(), project_id)

    def _db(self) -> Cur:
        """The batch's cursor, for a statement: the notifications made so far go in first
        (a read mark must find them; a COPY in progress holds the connection)."""
        self.rows.finish()
        return self.cur

    def flush(self) -> None:
        self.rows.finish()
        upsert(self.cur, "notification_tickets", ("id",), TICKET_COLUMNS,
               [ticket_row(tid, self.tickets[tid]) for tid in self.changed_tickets])
        upsert(self.cur, "ticket_watchers", ("ticket_id", "user_id"), WATCHER_COLUMNS,
               [watcher_row(t, u, self.watchers[t][u]) for t, u in self.changed_watchers])
        if self.state.shard is not None and self.state.shard.part > 0:
            return
        insert(self.cur, "notification_projects", ("id", "key"),
               [{"id": pid, "key": key} for pid, key in self.new_projects.items()])
        upsert(self.cur, "notification_users", ("id",), USER_COLUMNS,
               [user_row(uid, self.people[uid]) for uid in self.changed_people])


def _watching(audience: TicketAudience | None, watchers: dict[UUID, Involvement]) -> set[UUID]:
    if audience is None:
        return set()
    candidates = {audience.reporter_id, *audience.assignee_ids, *watchers}
    return {u for u in candidates if is_watcher(u, audience, watchers.get(u))}


def _assignees(changes: dict[str, Change]) -> list[UUID]:
    change = changes.get("assignee_ids")
    if change is None:
        return []
    return [UUID(str(u)) for u in [*(change.from_ or []), *(change.to or [])]]


def _number(event: Ticket.Event) -> int:
    return event.number if isinstance(event, Ticket.Created) else 0


