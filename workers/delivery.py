"""Delivery state of outbox rows: pending → queued → sent, or back to pending after a failed
try, or failed for good.

Whoever changes a row holds its row lock: the relay while it hands rows to the broker, a worker
for the whole of one send. That lock is what keeps a redelivered message from sending twice.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg

from projections.outbox import EmailPayload, payload_decoder


class Claimed:
    """A queued row a worker holds the lock on, with what it needs to send it."""

    def __init__(
        self, email_id: UUID, subject: str, payload: str, attempts: int, position: int | None
    ) -> None:
        self.id = email_id
        self.subject = subject
        self.attempts = attempts
        self.position = position
        self._payload = payload

    def payload(self) -> EmailPayload:
        """Decoded on demand, so a row that does not decode fails as itself, not as the claim."""
        return payload_decoder.decode(self._payload)


def due_rows(conn: psycopg.Connection[Any], *, requeue_after: float, limit: int) -> list[UUID]:
    """Lock the rows to hand to the broker now: pending ones whose time has come, and queued ones
    whose message has been gone for `requeue_after` seconds (lost with a Redis flush or a dead
    worker). SKIP LOCKED passes over rows a worker is sending right now."""
    rows = conn.execute(
        "SELECT id FROM outbox WHERE (status = 'pending' AND next_attempt_at <= now()) "
        "OR (status = 'queued' AND queued_at <= now() - make_interval(secs => %s)) "
        "ORDER BY seq LIMIT %s FOR UPDATE SKIP LOCKED",
        (requeue_after, limit),
    ).fetchall()
    return [row[0] for row in rows]


def mark_queued(conn: psycopg.Connection[Any], ids: list[UUID]) -> None:
    conn.execute(
        "UPDATE outbox SET status = 'queued', queued_at = now() WHERE id = ANY(%s)", (ids,)
    )


def claim(conn: psycopg.Connection[Any], email_id: UUID) -> Claimed | None:
    """Lock a queued row for sending, or None when there is nothing to send: already sent or
    failed, waiting for a later retry, or unknown. Waits for the relay's short lock (a worker
    may get the message before the relay commits); raises LockNotAvailable after the
    connection's lock_timeout, when another worker is busy sending the same row."""
    # Locked by id alone, status checked after: a status condition in the WHERE would be judged
    # on the snapshot from before the relay's commit, and skip the row instead of waiting.
    row = conn.execute(
        "SELECT status, subject, payload::text, attempts, position FROM outbox "
        "WHERE id = %s FOR UPDATE",
        (email_id,),
    ).fetchone()
    if row is None or row[0] != "queued":
        return None
    return Claimed(email_id, row[1], row[2], row[3], row[4])


def mark_sent(conn: psycopg.Connection[Any], email_id: UUID, attempts: int) -> None:
    # A sent row is never rendered again: drop a password-reset token so no copy of it
    # outlives the email (backups, database dumps).
    conn.execute(
        "UPDATE outbox SET status = 'sent', sent_at = now(), attempts = %s, "
        "last_error = NULL, payload = payload - 'token' WHERE id = %s",
        (attempts, email_id),
    )


def mark_retry(
    conn: psycopg.Connection[Any], email_id: UUID, attempts: int, error: str, delay: float
) -> None:
    conn.execute(
        "UPDATE outbox SET status = 'pending', attempts = %s, last_error = %s, "
        "next_attempt_at = now() + make_interval(secs => %s) WHERE id = %s",
        (attempts, error, delay, email_id),
    )


def mark_failed(conn: psycopg.Connection[Any], email_id: UUID, attempts: int, error: str) -> None:
    conn.execute(
        "UPDATE outbox SET status = 'failed', attempts = %s, last_error = %s WHERE id = %s",
        (attempts, error, email_id),
    )
