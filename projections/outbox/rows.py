"""Writing outbox rows, handing them to the broker, and the queries about them.

    pending --relay--> queued --worker--> sending --> sent
       ^                  ^                  |
       |                  +-- worker died ---+
       +------------- retry -----------------+--> failed (attempts exhausted, or permanent)

Whoever changes a row holds its row lock: the relay while it hands rows to the broker, a worker
for the whole of one send. That lock is what keeps a redelivered message from sending twice.
A worker's side of it is `attempts`. Admins see `queued` and `sending` as `pending`: they are
internal hand-over states.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import msgspec
import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from projections.outbox.composer import NewEmail
from projections.outbox.payloads import (
    PASSWORD_RESET_SUBJECT,
    EmailPayload,
    PasswordResetEmail,
    Person,
    payload_encoder,
)
from projections.outbox.schema import CHANNEL
from projections.paging import Page, check_limit, decode_cursor, page

Conn = psycopg.Connection[Any]
EmailStatus = Literal["pending", "sent", "failed"]


# --------------------------------------------------------------------------- writing rows


def insert_emails(cur: psycopg.Cursor[Any], emails: Sequence[NewEmail]) -> None:
    """Write new rows (an existing (command, recipient) is left alone) and wake the relay."""
    if not emails:
        return
    cur.executemany(
        "INSERT INTO outbox (id, command_id, recipient_id, kind, ticket_id, position, "
        "recipient_email, subject, payload) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT DO NOTHING",
        [
            (e.id, e.command_id, e.recipient.id, e.kind, e.ticket_id, e.position,
             e.recipient.email, e.subject, Jsonb(e.payload, dumps=dumps))
            for e in emails
        ],
    )
    wake_relay(cur)


def dumps(payload: EmailPayload) -> str:
    return payload_encoder.encode(payload).decode()


def wake_relay(cur: psycopg.Cursor[Any]) -> None:
    # Delivered at commit.
    cur.execute("SELECT pg_notify(%s, '')", (CHANNEL,))


def enqueue_password_reset(
    conn: Conn, user_id: UUID, email: str, name: str, token: str, link: str
) -> UUID:
    """Queue the password-reset email for `user_id`; returns the email's id.

    Commits, unless the caller has a transaction open on `conn`: then the email is part of it.
    Each request is its own email, so the key is a fresh id rather than an event's command.
    """
    recipient = Person(id=user_id, name=name, email=email)
    row = NewEmail(
        command_id=uuid.uuid4(),
        recipient=recipient,
        kind="password_reset",
        ticket_id=None,
        position=None,
        subject=PASSWORD_RESET_SUBJECT,
        payload=PasswordResetEmail(recipient=recipient, token=token, link=link),
    )
    with conn.transaction(), conn.cursor() as cur:
        insert_emails(cur, [row])
    return row.id


# --------------------------------------------------------------------------- the relay


# A `sending` row nobody has locked for this long lost its worker. The worker leaves its row
# unlocked only between committing the attempt and locking it again, a few milliseconds.
UNCONFIRMED_GRACE = 5.0


def due_rows(conn: Conn, *, requeue_after: float, limit: int) -> list[tuple[UUID, int | None]]:
    """Lock the rows to hand to the broker now: pending ones whose time has come or that were
    released after an outage, queued ones whose message has been gone for `requeue_after`
    seconds (lost with Redis, or held by a worker that died before starting it), and `sending`
    ones whose worker died during the attempt (nobody holds their lock). SKIP LOCKED passes over
    rows a worker is sending right now. Each with the position of its command (None for an
    email no command sent), in the order they were written."""
    rows = conn.execute(
        "SELECT id, position FROM outbox WHERE "
        "(status = 'pending' AND (next_attempt_at <= now() OR released)) "
        "OR (status = 'queued' AND queued_at <= now() - make_interval(secs => %s)) "
        "OR (status = 'sending' AND attempted_at <= now() - make_interval(secs => %s)) "
        "ORDER BY seq LIMIT %s FOR UPDATE SKIP LOCKED",
        (requeue_after, UNCONFIRMED_GRACE, limit),
    ).fetchall()
    return [(row[0], row[1]) for row in rows]


def mark_queued(conn: Conn, ids: list[UUID]) -> None:
    conn.execute(
        "UPDATE outbox SET status = 'queued', queued_at = now() WHERE id = ANY(%s)", (ids,)
    )


# --------------------------------------------------------------------------- operators

# Make rows due now; a failed one starts over with a fresh set of attempts.
_RETRY = (
    "UPDATE outbox SET status = 'pending', next_attempt_at = now(), "
    "attempts = CASE WHEN status = 'failed' THEN 0 ELSE attempts END "
)


def retry_email(conn: Conn, email_id: UUID) -> bool:
    """Try `email_id` again now. False for an unknown id. A sent email stays sent (sending it
    again is not a retry); one still pending is made due now."""
    with conn.transaction(), conn.cursor() as cur:
        retried = cur.execute(
            _RETRY + "WHERE id = %s AND status IN ('failed', 'pending') RETURNING id",
            (email_id,),
        ).fetchone()
        if retried is not None:
            wake_relay(cur)
            return True
        return cur.execute("SELECT 1 FROM outbox WHERE id = %s", (email_id,)).fetchone() is not None


def retry_emails(conn: Conn, *, include_failed: bool) -> int:
    """Make every undelivered email due now (say, after fixing the mail server or flushing
    Redis), and every failed one too with `include_failed`. Returns how many were re-queued.

    A queued one is handed over again at once: if its message still exists too, the second
    copy finds it sent and does nothing."""
    undelivered = ["pending", "queued", "sending"]
    statuses = [*undelivered, "failed"] if include_failed else undelivered
    with conn.transaction(), conn.cursor() as cur:
        count = cur.execute(_RETRY + "WHERE status = ANY(%s)", (statuses,)).rowcount
        wake_relay(cur)
    return count


class OutboxCounts(msgspec.Struct, frozen=True):
    # Not delivered yet and still being tried (waiting, queued or between retries).
    pending: int
    failed: int


def outbox_counts(conn: Conn) -> OutboxCounts:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            "SELECT count(*) FILTER (WHERE status <> 'failed') AS pending, "
            "count(*) FILTER (WHERE status = 'failed') AS failed "
            # Spelled out rather than `<> 'sent'`, so the (status, seq) index serves it.
            "FROM outbox WHERE status IN ('pending', 'queued', 'sending', 'failed')"
        ).fetchone()
    assert row is not None
    return OutboxCounts(pending=row["pending"], failed=row["failed"])


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


def list_emails(
    conn: Conn,
    status: EmailStatus | None = None,
    ticket_id: UUID | None = None,
    limit: int = 25,
    cursor: str | None = None,
) -> Page[EmailItem]:
    """Newest first, keyset-paginated on insertion order."""
    check_limit(limit)
    where: list[sql.Composable] = [sql.SQL("TRUE")]
    params: list[object] = []
    if status == "pending":
        where.append(sql.SQL("status IN ('pending', 'queued', 'sending')"))
    elif status is not None:
        where.append(sql.SQL("status = %s"))
        params.append(status)
    if ticket_id is not None:
        where.append(sql.SQL("ticket_id = %s"))
        params.append(ticket_id)
    if cursor is not None:
        where.append(sql.SQL("seq < %s"))
        params.append(decode_cursor(cursor, "emails", tuple[int])[0])
    query = sql.SQL(
        "SELECT seq, id, kind, status, ticket_id, recipient_id, recipient_email, subject, "
        "attempts, last_error, created_at, next_attempt_at, sent_at FROM outbox "
        "WHERE {} ORDER BY seq DESC LIMIT %s"
    ).format(sql.SQL(" AND ").join(where))
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query, (*params, limit + 1)).fetchall()
    return page(rows, limit, "emails", lambda row: (row["seq"],), _email_item)


def _email_item(row: dict[str, Any]) -> EmailItem:
    queued_or_pending = row["status"] in ("queued", "sending", "pending")
    return EmailItem(
        id=row["id"],
        kind=row["kind"],
        status="pending" if queued_or_pending else row["status"],
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
