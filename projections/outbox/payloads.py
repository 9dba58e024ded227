"""What an outbox row carries for its email: the contract between the projector that writes it
and the workers that render and send it."""

from __future__ import annotations

from datetime import datetime
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


EmailPayload = TicketEmail | PasswordResetEmail
payload_decoder = msgspec.json.Decoder(EmailPayload)
payload_encoder = msgspec.json.Encoder()

PASSWORD_RESET_SUBJECT = "Reset your Trail password"


def ticket_subject(ticket_key: str, title: str) -> str:
    return f"[{ticket_key}] {title}"
