"""The email outbox: a projection whose view is one row per email to send.

For each command that changed a ticket it writes one row per recipient (every current assignee
after the command, and anyone the command removed from the assignees; not deactivated users),
in the same transaction as its tracking position. A command that changed nothing a reader would
see (assignees set to the same list) sends nothing. Rows are keyed by (command_id, recipient_id)
and inserted with ON CONFLICT DO NOTHING, so replaying the log from any position never emails
anyone twice. The projection is never rebuilt (a rebuild would drop the delivery state with the
old version's tables); its tables are migrated instead.

A row holds everything its email needs (ticket key, title, changes, names and addresses), so
delivery never reads a read model that a rebuild may be rewriting. The names come from three
small tables this projection keeps itself from User, Project and Ticket events, in log order.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

import msgspec
import psycopg
from eventsourcing.persistence import StoredEvent
from psycopg import Cursor, sql
from psycopg.rows import DictRow, dict_row
from psycopg.types.json import Jsonb

from commands.mapper import JsonEventMapper
from domain.project import Project
from domain.ticket import TICKET_EVENTS, Ticket
from domain.user import User
from domain.values import UserStatus
from projections.base import EVENTS_TABLE, HOME_SCHEMA, ReadModel, Recorded, topics_of
from projections.errors import InvalidQuery

CHANNEL = "trail_outbox"
# uuid5 namespace for outbox row ids: the same (command, recipient) always gets the same id.
_ROW_NAMESPACE = UUID("0b6f8a4e-6c1e-4f0e-9d6a-3c1f5e1b2a77")
# A ticket command records at most one event per field it edits; this bounds the look-ahead.
_MAX_EVENTS_PER_COMMAND = 32
# Fields of a creation that say nothing to a reader (ids, numbering) or are empty by default.
_CREATION_HIDDEN = frozenset({"project_id", "number", "reporter_id"})

EmailStatus = Literal["pending", "sent", "failed"]

TABLES = {
    "outbox": """
        CREATE TABLE outbox (
            seq bigint GENERATED ALWAYS AS IDENTITY,
            id uuid PRIMARY KEY,
            command_id uuid NOT NULL,
            recipient_id uuid NOT NULL,
            kind text NOT NULL,
            ticket_id uuid,
            -- The command's last event: correlates an email with the log (and the benchmark).
            position bigint,
            recipient_email text NOT NULL,
            subject text NOT NULL,
            payload jsonb NOT NULL,
            status text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'queued', 'sent', 'failed')),
            attempts integer NOT NULL DEFAULT 0,
            last_error text,
            created_at timestamptz NOT NULL DEFAULT now(),
            next_attempt_at timestamptz NOT NULL DEFAULT now(),
            queued_at timestamptz,
            sent_at timestamptz,
            CONSTRAINT outbox_command_recipient UNIQUE (command_id, recipient_id)
        )""",
    "outbox_users": """
        CREATE TABLE outbox_users (
            id uuid PRIMARY KEY,
            name text NOT NULL,
            email text NOT NULL,
            active boolean NOT NULL
        )""",
    "outbox_projects": "CREATE TABLE outbox_projects (id uuid PRIMARY KEY, key text NOT NULL)",
    "outbox_tickets": """
        CREATE TABLE outbox_tickets (
            id uuid PRIMARY KEY,
            project_id uuid NOT NULL,
            number integer NOT NULL,
            title text NOT NULL,
            assignee_ids uuid[] NOT NULL,
            -- The command of the last event applied: tells the first event of a command from
            -- the rest, in the same transaction, even when a batch boundary split the command.
            last_command_id uuid NOT NULL
        )""",
}
INDEXES = (
    "CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending'",
    "CREATE INDEX outbox_in_flight ON outbox (queued_at) WHERE status = 'queued'",
    "CREATE INDEX outbox_by_status ON outbox (status, seq)",
    "CREATE INDEX outbox_by_ticket ON outbox (ticket_id, seq)",
)


# --------------------------------------------------------------------------- payloads


class Person(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    email: str


class FieldChange(msgspec.Struct, frozen=True):
    """One field a command changed, as display strings (None: empty or not set)."""

    field: str
    old: str | None
    new: str | None


class TicketEmail(msgspec.Struct, frozen=True, tag="ticket"):
    ticket_id: UUID
    ticket_key: str
    title: str
    created: bool
    actor_name: str
    at: datetime
    changes: list[FieldChange]
    assignees: list[Person]
    recipient: Person
    # The command took the recipient off the ticket: the email says so.
    removed: bool


class PasswordResetEmail(msgspec.Struct, frozen=True, tag="password_reset"):
    recipient: Person
    token: str
    link: str


EmailPayload = TicketEmail | PasswordResetEmail
payload_decoder = msgspec.json.Decoder(EmailPayload)
_encoder = msgspec.json.Encoder()


def ticket_subject(ticket_key: str, title: str) -> str:
    return f"[{ticket_key}] {title}"


PASSWORD_RESET_SUBJECT = "Reset your Trail password"


# --------------------------------------------------------------------------- projector

Cur = Cursor[DictRow]

_COMMAND_EVENTS = sql.SQL(
    "SELECT notification_id, originator_version, topic, state FROM {} "
    "WHERE originator_id = %s AND originator_version >= %s ORDER BY originator_version LIMIT %s"
).format(sql.Identifier(HOME_SCHEMA, EVENTS_TABLE))
_MAPPER = JsonEventMapper()


class _TicketState(msgspec.Struct):
    project_id: UUID
    number: int
    title: str
    assignee_ids: tuple[UUID, ...]


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
    """One batch's work: each ticket, user and project is read once and the rows are written
    in bulk at the end, so a busy log costs a few statements per batch, not per event."""

    def __init__(self, cur: Cur, events: Sequence[Recorded]) -> None:
        self.cur = cur
        ticket_ids = {r.event.originator_id for r in events if isinstance(r.event, Ticket.Event)}
        self.tickets = _load_tickets(cur, ticket_ids)
        self.changed: set[UUID] = set()
        self.people: dict[UUID, tuple[Person, bool]] = {}
        self.keys: dict[UUID, str] = {}
        self.emails: list[_Email] = []

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
            # past this batch, read the rest from the log, so that no email is split and the
            # relay never sends half of one.
            self._emails(before, events if complete else _command_events(self.cur, first))
        after = before
        for event, _ in events:
            after = _apply(after, event)
        if after is not None:
            self.tickets[first.originator_id] = (after, first.command_id)
            self.changed.add(first.originator_id)

    def _emails(
        self, before: _TicketState | None, command: Sequence[tuple[Ticket.Event, int]]
    ) -> None:
        after = before
        for event, _ in command:
            after = _apply(after, event)
        if after is None:
            return
        first, position = command[0][0], command[-1][1]
        removed: dict[UUID, None] = {}
        for event, _ in command:
            if isinstance(event, Ticket.AssigneesChanged):
                removed.update((u, None) for u in event.removed if u not in after.assignee_ids)
        people = self._people([*after.assignee_ids, *removed, first.actor_id])
        names = {user_id: person.name for user_id, (person, _) in people.items()}
        changes = _merged_changes(command, names)
        if not changes:
            return
        key = f"{self._key(after.project_id)}-{after.number}"
        actor = people.get(first.actor_id)
        assignees = [people[u][0] for u in after.assignee_ids if u in people]
        recipients = [(u, False) for u in after.assignee_ids] + [(u, True) for u in removed]
        for user_id, was_removed in recipients:
            if user_id not in people or not people[user_id][1]:
                # Unknown, or deactivated: an account that has left gets no more mail.
                continue
            recipient = people[user_id][0]
            self.emails.append(_Email(
                command_id=first.command_id,
                recipient=recipient,
                kind="ticket",
                ticket_id=first.originator_id,
                position=position,
                subject=ticket_subject(key, after.title),
                payload=TicketEmail(
                    ticket_id=first.originator_id,
                    ticket_key=key,
                    title=after.title,
                    created=isinstance(first, Ticket.Created),
                    actor_name=actor[0].name if actor else "someone",
                    at=first.timestamp,
                    changes=changes,
                    assignees=assignees,
                    recipient=recipient,
                    removed=was_removed,
                ),
            ))

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
                [
                    (ticket_id, state.project_id, state.number, state.title,
                     list(state.assignee_ids), command_id)
                    for ticket_id in self.changed
                    for state, command_id in [self.tickets[ticket_id]]
                ],
            )
        _insert_emails(self.cur, self.emails)


def _load_tickets(cur: Cur, ids: set[UUID]) -> dict[UUID, tuple[_TicketState, UUID]]:
    if not ids:
        return {}
    rows = cur.execute(
        "SELECT id, project_id, number, title, assignee_ids, last_command_id "
        "FROM outbox_tickets WHERE id = ANY(%s)",
        (list(ids),),
    ).fetchall()
    return {
        r["id"]: (
            _TicketState(r["project_id"], r["number"], r["title"], tuple(r["assignee_ids"])),
            r["last_command_id"],
        )
        for r in rows
    }


def _command_events(cur: Cur, first: Ticket.Event) -> list[tuple[Ticket.Event, int]]:
    rows = cur.execute(
        _COMMAND_EVENTS,
        (first.originator_id, first.originator_version, _MAX_EVENTS_PER_COMMAND),
        prepare=True,
    ).fetchall()
    events: list[tuple[Ticket.Event, int]] = []
    for row in rows:
        event = _MAPPER.to_domain_event(
            StoredEvent(
                originator_id=first.originator_id,
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=bytes(row["state"]),
            )
        )
        if not isinstance(event, Ticket.Event) or event.command_id != first.command_id:
            break
        events.append((event, int(row["notification_id"])))
    return events


def _apply(state: _TicketState | None, event: Ticket.Event) -> _TicketState | None:
    """The fields emails need, after `event`; None for a ticket not created yet."""
    match event:
        case Ticket.Created():
            return _TicketState(event.project_id, event.number, event.title, event.assignee_ids)
        case Ticket.TitleChanged() if state is not None:
            return msgspec.structs.replace(state, title=event.title)
        case Ticket.AssigneesChanged() if state is not None:
            return msgspec.structs.replace(state, assignee_ids=event.assignee_ids)
    return state


def _merged_changes(
    command: Sequence[tuple[Ticket.Event, int]], names: dict[UUID, str]
) -> list[FieldChange]:
    """Field by field over the whole command: the first `from`, the last `to`."""
    merged: dict[str, tuple[Any, Any]] = {}
    for event, _ in command:
        for field, (old, new) in event.changes().items():
            merged[field] = (merged[field][0] if field in merged else old, new)
    created = isinstance(command[0][0], Ticket.Created)
    changes = []
    for field, (old, new) in merged.items():
        shown_old, shown_new = _shown(field, old, names), _shown(field, new, names)
        if created and (field in _CREATION_HIDDEN or shown_new is None):
            continue
        if shown_old != shown_new:
            changes.append(FieldChange(field=field, old=shown_old, new=shown_new))
    return changes


def _shown(field: str, value: Any, names: dict[UUID, str]) -> str | None:
    """A value as the email prints it; None for empty, so `from → to` reads naturally."""
    if value is None:
        return None
    if field == "assignee_ids":
        return ", ".join(names.get(u, str(u)) for u in value) or None
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or None
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class _Email(msgspec.Struct, frozen=True, kw_only=True):
    command_id: UUID
    recipient: Person
    kind: str
    ticket_id: UUID | None
    position: int | None
    subject: str
    payload: EmailPayload

    @property
    def id(self) -> UUID:
        return uuid.uuid5(_ROW_NAMESPACE, f"{self.command_id}:{self.recipient.id}")


def _insert_emails(cur: psycopg.Cursor[Any], emails: Sequence[_Email]) -> None:
    if not emails:
        return
    cur.executemany(
        "INSERT INTO outbox (id, command_id, recipient_id, kind, ticket_id, position, "
        "recipient_email, subject, payload) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT DO NOTHING",
        [
            (e.id, e.command_id, e.recipient.id, e.kind, e.ticket_id, e.position,
             e.recipient.email, e.subject, Jsonb(e.payload, dumps=_dumps))
            for e in emails
        ],
    )
    # Delivered at commit: wakes the relay without polling.
    cur.execute("SELECT pg_notify(%s, '')", (CHANNEL,))


def _dumps(payload: EmailPayload) -> str:
    return _encoder.encode(payload).decode()


# --------------------------------------------------------------------------- queries


class OutboxCounts(msgspec.Struct, frozen=True):
    # Not delivered yet and still being tried (waiting, queued or between retries).
    pending: int
    failed: int


class EmailItem(msgspec.Struct, frozen=True):
    id: UUID
    kind: str
    status: EmailStatus
    ticket_id: UUID | None
    recipient_id: UUID
    recipient_email: str
    subject: str
    attempts: int
    last_error: str | None
    created_at: datetime
    # When the next try is due (pending only).
    next_attempt_at: datetime | None
    sent_at: datetime | None


class EmailPage(msgspec.Struct, frozen=True):
    items: list[EmailItem]
    next_cursor: str | None


def enqueue_password_reset(
    conn: psycopg.Connection[Any], user_id: UUID, email: str, name: str, token: str, link: str
) -> UUID:
    """Queue the password-reset email for `user_id` through the outbox; returns the email id.

    Commits, unless the caller has a transaction open on `conn`: then the email is part of it.
    Each request is its own email, so the key is a fresh id rather than an event's command.
    """
    recipient = Person(id=user_id, name=name, email=email)
    email_row = _Email(
        command_id=uuid.uuid4(),
        recipient=recipient,
        kind="password_reset",
        ticket_id=None,
        position=None,
        subject=PASSWORD_RESET_SUBJECT,
        payload=PasswordResetEmail(recipient=recipient, token=token, link=link),
    )
    with conn.transaction(), conn.cursor() as cur:
        _insert_emails(cur, [email_row])
    return email_row.id


def outbox_counts(conn: psycopg.Connection[Any]) -> OutboxCounts:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            "SELECT count(*) FILTER (WHERE status <> 'failed') AS pending, "
            "count(*) FILTER (WHERE status = 'failed') AS failed "
            # Spelled out rather than `<> 'sent'`, so the (status, seq) index serves it.
            "FROM outbox WHERE status IN ('pending', 'queued', 'failed')"
        ).fetchone()
    assert row is not None
    return OutboxCounts(pending=row["pending"], failed=row["failed"])


def list_emails(
    conn: psycopg.Connection[Any],
    status: EmailStatus | None = None,
    ticket_id: UUID | None = None,
    limit: int = 25,
    cursor: str | None = None,
) -> EmailPage:
    """Newest first, keyset-paginated on insertion order. A bad cursor raises InvalidQuery."""
    where: list[sql.Composable] = [sql.SQL("TRUE")]
    params: list[object] = []
    if status == "pending":
        where.append(sql.SQL("status IN ('pending', 'queued')"))
    elif status is not None:
        where.append(sql.SQL("status = %s"))
        params.append(status)
    if ticket_id is not None:
        where.append(sql.SQL("ticket_id = %s"))
        params.append(ticket_id)
    if cursor is not None:
        where.append(sql.SQL("seq < %s"))
        params.append(_decode_cursor(cursor))
    query = sql.SQL(
        "SELECT seq, id, kind, status, ticket_id, recipient_id, recipient_email, subject, "
        "attempts, last_error, created_at, next_attempt_at, sent_at FROM outbox "
        "WHERE {} ORDER BY seq DESC LIMIT %s"
    ).format(sql.SQL(" AND ").join(where))
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query, (*params, limit + 1)).fetchall()
    items = [
        EmailItem(
            id=row["id"],
            kind=row["kind"],
            # Queued is an internal hand-over state: to an admin it is still pending.
            status="pending" if row["status"] == "queued" else row["status"],
            ticket_id=row["ticket_id"],
            recipient_id=row["recipient_id"],
            recipient_email=row["recipient_email"],
            subject=row["subject"],
            attempts=row["attempts"],
            last_error=row["last_error"],
            created_at=row["created_at"],
            next_attempt_at=row["next_attempt_at"] if row["status"] == "pending" else None,
            sent_at=row["sent_at"],
        )
        for row in rows[:limit]
    ]
    next_cursor = _encode_cursor(rows[limit - 1]["seq"]) if len(rows) > limit else None
    return EmailPage(items=items, next_cursor=next_cursor)


def _encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"o{seq}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not text.startswith("o"):
            raise ValueError(text)
        return int(text[1:])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidQuery("cursor", "not a cursor this list gave out") from None


def retry_email(conn: psycopg.Connection[Any], email_id: UUID) -> bool:
    """Try `email_id` again now, with a fresh set of attempts if it had failed.

    False for an unknown id. A sent email stays sent (sending it again is not a retry); one
    still pending is made due now.
    """
    with conn.transaction(), conn.cursor() as cur:
        retried = cur.execute(
            "UPDATE outbox SET status = 'pending', next_attempt_at = now(), "
            "attempts = CASE WHEN status = 'failed' THEN 0 ELSE attempts END "
            "WHERE id = %s AND status IN ('failed', 'pending') RETURNING id",
            (email_id,),
        ).fetchone()
        if retried is not None:
            cur.execute("SELECT pg_notify(%s, '')", (CHANNEL,))
            return True
        return cur.execute("SELECT 1 FROM outbox WHERE id = %s", (email_id,)).fetchone() is not None


def retry_emails(conn: psycopg.Connection[Any], *, include_failed: bool) -> int:
    """Make every undelivered email due now (say, after fixing the mail server or flushing
    Redis), and every failed one too with `include_failed`. Returns how many were re-queued.

    A queued one is handed over again at once: if its message still exists too, the second
    copy finds it sent and does nothing."""
    statuses = ["pending", "queued", "failed"] if include_failed else ["pending", "queued"]
    with conn.transaction(), conn.cursor() as cur:
        count = cur.execute(
            "UPDATE outbox SET status = 'pending', next_attempt_at = now(), "
            "attempts = CASE WHEN status = 'failed' THEN 0 ELSE attempts END "
            "WHERE status = ANY(%s)",
            (statuses,),
        ).rowcount
        cur.execute("SELECT pg_notify(%s, '')", (CHANNEL,))
    return count
