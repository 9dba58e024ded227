"""Files attached to a ticket and removed from it (the bytes live in the blob store)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

import msgspec

from domain.ticket_events.base import Changes, TicketEvent

if TYPE_CHECKING:
    from domain.ticket import Ticket


class Attachment(msgspec.Struct, frozen=True):
    """A file attached to a ticket: its bytes are kept elsewhere, under `sha256`."""

    id: UUID
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: UUID
    created_at: datetime
    removed_at: datetime | None = None


class AttachmentAdded(TicketEvent):
    TOPIC = "trail.Ticket.AttachmentAdded"
    attachment_id: UUID
    filename: str
    content_type: str
    size: int
    sha256: str
    old_attachment_ids: tuple[UUID, ...]
    attachment_ids: tuple[UUID, ...]

    def changes(self) -> Changes:
        return {"attachment_ids": (list(self.old_attachment_ids), list(self.attachment_ids))}

    def apply(self, ticket: Ticket) -> None:
        ticket.attachments[self.attachment_id] = Attachment(
            id=self.attachment_id,
            filename=self.filename,
            content_type=self.content_type,
            size=self.size,
            sha256=self.sha256,
            uploaded_by=self.actor_id,
            created_at=self.timestamp,
        )
        ticket.attachment_ids = self.attachment_ids


class AttachmentRemoved(TicketEvent):
    """Carries what was removed, so the log says which file went without looking back."""

    TOPIC = "trail.Ticket.AttachmentRemoved"
    attachment_id: UUID
    filename: str
    content_type: str
    size: int
    sha256: str
    old_attachment_ids: tuple[UUID, ...]
    attachment_ids: tuple[UUID, ...]

    def changes(self) -> Changes:
        return {"attachment_ids": (list(self.old_attachment_ids), list(self.attachment_ids))}

    def apply(self, ticket: Ticket) -> None:
        removed = ticket.attachments[self.attachment_id]
        ticket.attachments[self.attachment_id] = msgspec.structs.replace(
            removed, removed_at=self.timestamp
        )
        ticket.attachment_ids = self.attachment_ids
