"""The daily digest: changes held for the users who chose it, and one email a day listing them.

The outbox projector holds a digest user's ticket emails here instead of sending them, in the
same transaction as its tracking position (so exactly once, like every email). Once a day the
scheduled job writes, for each such user, one outbox row listing every change held from before
the end of the previous day, and marks those changes listed, in one transaction. The row's id
follows from the user and the day: a second run of the same day's job writes nothing twice, and
a change held too late for its day's digest goes into the next one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from psycopg.types.json import Jsonb

from projections.outbox.composer import NewEmail
from projections.outbox.payloads import (
    DigestEmail,
    DigestEntry,
    DigestTicket,
    Person,
    TicketEmail,
    digest_subject,
)
from projections.outbox.rows import dumps, wake_relay

_DIGEST_NAMESPACE = UUID("c5a3e1f7-2b8d-4c69-9f04-7e1a6d3b8c52")
_ticket_email = msgspec.json.Decoder(TicketEmail)


def digest_id(user_id: UUID, day: date) -> UUID:
    return uuid.uuid5(_DIGEST_NAMESPACE, f"{user_id}:{day.isoformat()}")


def hold_for_digest(cur: psycopg.Cursor[Any], emails: Sequence[NewEmail]) -> None:
    """Keep ticket emails for their recipients' daily digests, instead of sending them."""
    held = [(e, e.payload) for e in emails if isinstance(e.payload, TicketEmail)]
    if held:
        cur.executemany(
            "INSERT INTO outbox_digest_items (id, recipient_id, ticket_id, at, payload) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            [(e.id, e.recipient.id, e.ticket_id, payload.at, Jsonb(payload, dumps=dumps))
             for e, payload in held],
        )


def drop_held(cur: psycopg.Cursor[Any], user_id: UUID) -> None:
    cur.execute("DELETE FROM outbox_digest_items WHERE recipient_id = %s AND digest_id IS NULL",
                (user_id,))


def _insert_digest(cur: psycopg.Cursor[Any], email: NewEmail) -> bool:
    """Write the digest row; False (and nothing written) when it exists already."""
    row = cur.execute(
        "INSERT INTO outbox (id, command_id, recipient_id, kind, ticket_id, position, "
        "recipient_email, subject, payload) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT DO NOTHING RETURNING id",
        (email.id, email.command_id, email.recipient.id, email.kind, email.ticket_id,
         email.position, email.recipient.email, email.subject,
         Jsonb(email.payload, dumps=dumps)),
    ).fetchone()
    if row is not None:
        wake_relay(cur)
    return row is not None


def write_digests(conn: psycopg.Connection[Any], day: date) -> int:
    """Write the digest of `day` for every active user with changes held from before the end of
    it; returns how many digests were written."""
    end = datetime.combine(day + timedelta(days=1), time(0), UTC)
    with conn.transaction():
        rows = conn.execute(
            "SELECT i.id, i.recipient_id, i.payload::text, u.name, u.email "
            "FROM outbox_digest_items i JOIN outbox_users u ON u.id = i.recipient_id "
            "WHERE i.digest_id IS NULL AND i.at < %s AND u.active "
            "ORDER BY i.recipient_id, i.seq FOR UPDATE OF i",
            (end,),
        ).fetchall()
        held: dict[UUID, list[tuple[UUID, TicketEmail]]] = {}
        people: dict[UUID, Person] = {}
        for item_id, user_id, payload, name, email in rows:
            held.setdefault(user_id, []).append((item_id, _ticket_email.decode(payload)))
            people[user_id] = Person(id=user_id, name=name, email=email)
        written = 0
        with conn.cursor() as cur:
            for user_id, items in held.items():
                digest = _digest(people[user_id], day, [email for _, email in items])
                if _insert_digest(cur, digest):
                    cur.execute(
                        "UPDATE outbox_digest_items SET digest_id = %s WHERE id = ANY(%s)",
                        (digest.id, [item_id for item_id, _ in items]),
                    )
                    written += 1
    return written


def _digest(recipient: Person, day: date, emails: list[TicketEmail]) -> NewEmail:
    tickets: dict[UUID, DigestTicket] = {}
    for email in emails:
        entry = DigestEntry(actor_name=email.actor_name, at=email.at, created=email.created,
                            removed=email.removed, changes=email.changes)
        known = tickets.get(email.ticket_id)
        entries = [*known.entries, entry] if known else [entry]
        # The title as the latest change left it.
        tickets[email.ticket_id] = DigestTicket(email.ticket_id, email.ticket_key, email.title,
                                                entries)
    the_id = digest_id(recipient.id, day)
    return NewEmail(
        command_id=the_id,
        recipient=recipient,
        kind="digest",
        ticket_id=None,
        position=None,
        subject=digest_subject(day),
        payload=DigestEmail(recipient=recipient, day=day, tickets=list(tickets.values())),
    )
