"""One delivery attempt of an outbox row, as a worker makes it.

    queued --begin--> sending --sent / retry / failed
                         |
                         +-- its worker died: the relay hands it over again (same row, same
                             Message-ID)

The attempt is recorded and committed (`begin`) before a byte goes to the SMTP server, then the
worker locks the row again (`hold`) and keeps the lock until the outcome commits. A `sending` row
nobody holds therefore belongs to a worker that died (its connection, and the lock, went with
it): the relay finds it with SKIP LOCKED and it is sent again. SMTP offers no exactly-once, so an
email whose server accepted it just before its worker died goes out twice, both copies with the
Message-ID of the row: at least once, never lost, a duplicate always recognisable.

A failure because the server was unreachable (`outage`) defers the row on its own schedule; a
send that works releases every row such an outage deferred (`release_deferred`), so the backlog
goes out as soon as the server is back, not at each row's own next try. A released row that
meets the outage again before its own time has not used up an attempt.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import psycopg

from projections.outbox.payloads import EmailPayload, payload_decoder
from projections.outbox.rows import wake_relay

Conn = psycopg.Connection[Any]


class Attempt:
    """A row a worker has begun an attempt on, with what it needs to send it."""

    def __init__(self, email_id: UUID, subject: str, payload: str, attempts: int,
                 position: int | None, early: bool) -> None:
        self.id = email_id
        self.subject = subject
        # Attempts so far, this one included.
        self.attempts = attempts
        self.position = position
        # Handed over before its own next try was due (released after an outage).
        self.early = early
        self._payload = payload

    def payload(self) -> EmailPayload:
        """Decoded on demand, so a row that does not decode fails as itself, not as the claim."""
        return payload_decoder.decode(self._payload)


def begin(conn: Conn, email_ids: Sequence[UUID], max_attempts: int) -> list[Attempt]:
    """Record an attempt at each of `email_ids` still queued, and commit them; the rows with
    nothing to send (already sent, failed, waiting for a later retry, being sent, or unknown)
    are left out.

    Waits for the relay's short lock (a worker may get the message before the relay commits);
    raises LockNotAvailable after the connection's lock_timeout."""
    begun: list[Attempt] = []
    with conn.transaction():
        # Locked by id alone, status checked after: a status condition in the WHERE would be
        # judged on the snapshot from before the relay's commit, and skip the row. In `seq`
        # order, as the relay locks them, so two lockers never wait for each other.
        rows = conn.execute(
            "SELECT id, status, subject, payload::text, attempts, position, "
            "next_attempt_at > now() FROM outbox WHERE id = ANY(%s) ORDER BY seq FOR UPDATE",
            (list(email_ids),),
        ).fetchall()
        for email_id, status, subject, payload, attempts, position, early in rows:
            if status != "queued":
                continue
            if attempts >= max_attempts:
                # Only an attempt nobody confirmed ends here: every other one decided on its
                # own.
                mark_failed(conn, email_id, "the last attempt was never confirmed: its worker "
                            f"stopped while sending, {attempts} attempts in all")
                continue
            begun.append(Attempt(email_id, subject, payload, attempts + 1, position, early))
        if begun:
            conn.execute(
                "UPDATE outbox SET status = 'sending', attempts = attempts + 1, "
                "attempted_at = now(), released = false WHERE id = ANY(%s)",
                ([attempt.id for attempt in begun],),
            )
    return begun


def hold(conn: Conn, begun: Sequence[Attempt]) -> list[Attempt]:
    """Lock the rows for the send, inside the transaction that will record their outcomes.
    Leaves out a row the relay took back in the instant between (its grace is seconds; a row
    it took back is sent by the message it handed over)."""
    rows = conn.execute(
        "SELECT id FROM outbox JOIN unnest(%s::uuid[], %s::int[]) AS a(id, attempts) "
        "USING (id, attempts) WHERE status = 'sending' ORDER BY seq FOR UPDATE OF outbox",
        ([attempt.id for attempt in begun], [attempt.attempts for attempt in begun]),
    ).fetchall()
    held = {row[0] for row in rows}
    return [attempt for attempt in begun if attempt.id in held]


# A password-reset token, and the link that carries it, in a row done with (sent, or failed
# for good): dropped, so no copy of it outlives the email (backups, database dumps). A failed
# reset email is not sent again with its old token: its owner asks for a new one.
_DROP_SECRETS = "payload = payload - 'token' - 'link'"


def mark_sent(conn: Conn, email_ids: Sequence[UUID]) -> None:
    if email_ids:
        conn.execute(
            "UPDATE outbox SET status = 'sent', sent_at = now(), last_error = NULL, "
            f"outage = false, {_DROP_SECRETS} WHERE id = ANY(%s)",
            (list(email_ids),),
        )


def mark_retry(conn: Conn, attempt: Attempt, error: str, delay: float, outage: bool) -> None:
    if attempt.early and outage:
        # Released before its time and the server is still away: the attempt is given back and
        # the row keeps its own schedule, so a long outage cannot use up its attempts early.
        conn.execute(
            "UPDATE outbox SET status = 'pending', attempts = attempts - 1, last_error = %s, "
            "outage = true WHERE id = %s",
            (error, attempt.id),
        )
        return
    conn.execute(
        "UPDATE outbox SET status = 'pending', last_error = %s, outage = %s, "
        "next_attempt_at = now() + make_interval(secs => %s) WHERE id = %s",
        (error, outage, delay, attempt.id),
    )


def mark_failed(conn: Conn, email_id: UUID, error: str) -> None:
    conn.execute(
        f"UPDATE outbox SET status = 'failed', last_error = %s, {_DROP_SECRETS} WHERE id = %s",
        (error, email_id),
    )


def release_deferred(conn: Conn) -> int:
    """The server took an email: every row an outage deferred is due now. Returns how many."""
    with conn.cursor() as cur:
        released = cur.execute(
            "UPDATE outbox SET released = true WHERE status = 'pending' AND outage "
            "AND NOT released AND next_attempt_at > now()"
        ).rowcount
        if released:
            wake_relay(cur)
    return released


def probe_outage(conn: Conn) -> bool:
    """Release the oldest row an outage deferred, to find out whether the server is back even
    when no new email comes to show it. True if there was one."""
    row = conn.execute(
        "UPDATE outbox SET released = true WHERE id = ("
        " SELECT id FROM outbox WHERE status = 'pending' AND outage AND NOT released"
        " AND next_attempt_at > now() ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED"
        ") RETURNING id"
    ).fetchone()
    return row is not None
