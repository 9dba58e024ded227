"""What a ticket does with attachments: record one whose bytes are stored, remove it, find it.
The aggregate (`domain.ticket.Ticket`) takes these as a mixin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain import ticket_events as events
from domain.errors import AttachmentGone, FieldError, UnknownAttachment, require
from domain.values import Stamp, check_attachment

if TYPE_CHECKING:
    from eventsourcing.domain import Aggregate


class TicketAttachments:
    if TYPE_CHECKING:
        id: UUID

        def _record(
            self, stamp: Stamp, event_class: type[Aggregate.Event], **values: Any
        ) -> None: ...

        attachments: dict[UUID, events.Attachment]
        attachment_ids: tuple[UUID, ...]

    def add_attachment(
        self,
        stamp: Stamp,
        attachment_id: UUID,
        *,
        filename: str,
        content_type: str,
        size: int,
        sha256: str,
    ) -> None:
        """Attach a file whose bytes are already stored under `sha256`."""
        errors: list[FieldError] = []
        check_attachment(errors, filename, size, sha256)
        require(errors)
        self._record(
            stamp,
            events.AttachmentAdded,
            attachment_id=attachment_id,
            filename=filename,
            content_type=content_type,
            size=size,
            sha256=sha256,
            old_attachment_ids=self.attachment_ids,
            attachment_ids=(*self.attachment_ids, attachment_id),
        )

    def remove_attachment(self, stamp: Stamp, attachment_id: UUID) -> None:
        removed = self.attachment(attachment_id)
        self._record(
            stamp,
            events.AttachmentRemoved,
            attachment_id=attachment_id,
            filename=removed.filename,
            content_type=removed.content_type,
            size=removed.size,
            sha256=removed.sha256,
            old_attachment_ids=self.attachment_ids,
            attachment_ids=tuple(a for a in self.attachment_ids if a != attachment_id),
        )

    def attachment(self, attachment_id: UUID) -> events.Attachment:
        """A live attachment of this ticket."""
        found = self.attachments.get(attachment_id)
        if found is None:
            raise UnknownAttachment(f"ticket has no attachment {attachment_id}")
        if found.removed_at is not None:
            raise AttachmentGone("the attachment was removed")
        return found
