"""What an outbox row carries for its email: the contract between the projector that writes it
and the workers that render and send it."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import msgspec


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


class DigestEntry(msgspec.Struct, frozen=True):
    """One command's changes to a ticket, as a digest lists them."""

    actor_name: str
    at: datetime
    created: bool
    removed: bool
    changes: list[FieldChange]


class DigestTicket(msgspec.Struct, frozen=True):
    ticket_id: UUID
    ticket_key: str
    title: str
    entries: list[DigestEntry]


class DigestEmail(msgspec.Struct, frozen=True, tag="digest"):
    recipient: Person
    day: date
    """The day whose changes it lists (and any held from before it)."""
    tickets: list[DigestTicket]


EmailPayload = TicketEmail | PasswordResetEmail | DigestEmail
payload_decoder = msgspec.json.Decoder(EmailPayload)
payload_encoder = msgspec.json.Encoder()

PASSWORD_RESET_SUBJECT = "Reset your Trail password"


def digest_subject(day: date) -> str:
    return f"Your Trail digest for {day.isoformat()}"


def ticket_subject(ticket_key: str, title: str) -> str:
    return f"[{ticket_key}] {title}"
