"""Attachments: files added to a ticket and removed from it. Both are ticket changes, made by
the tickets service's own load → authorize → decide → save.

An upload's bytes go to the blob store first, and the event that names them is recorded after,
so every attachment in the log has its bytes. Bytes whose event never came are swept later
(`workers/sweep.py`). From storing the bytes until the event is recorded, the upload holds a
lease on its blob, which the sweep respects; an upload whose identical bytes were swept in the
instant before it took the lease finds them gone and is refused (nothing recorded) rather than
naming bytes that are not there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from uuid import UUID

from blobstore import BlobStore, FilenameTooLong
from blobstore.filenames import clean_filename
from commands.base import Outcome, Service, Trail
from commands.errors import UploadInterrupted, VersionMismatch
from commands.messages import AddAttachment, RemoveAttachment
from commands.permissions import Actor, require_uploader_or_admin, require_visible
from commands.tickets import Tickets
from domain.errors import FieldError, InvalidFields
from domain.project import Project
from domain.ticket import Ticket
from domain.values import Stamp


class BlobLeases(Protocol):
    def holding(self, sha256: str) -> AbstractContextManager[None]:
        """Keeps the sweep off the blob `sha256` while the block runs."""
        ...


class NoLeases:
    """For a Trail whose blobs no sweep deletes."""

    def holding(self, sha256: str) -> AbstractContextManager[None]:
        return contextlib.nullcontext()


@dataclass(frozen=True)
class AttachmentStorage:
    """Where attachment bytes go, how many one file may have, and the leases that keep the
    sweep off an upload's bytes until its event is recorded."""

    blobs: BlobStore
    max_bytes: int
    leases: BlobLeases = field(default_factory=NoLeases)


class Attachments(Service):
    def __init__(
        self,
        store: Trail,
        tickets: Tickets,
        storage: AttachmentStorage | None,
        *,
        clock: Callable[[], datetime],
        new_id: Callable[[], UUID],
    ) -> None:
        super().__init__(store, clock=clock, new_id=new_id)
        self.tickets = tickets
        self.storage = storage

    def admit(self, actor: Actor, ticket_id: UUID, expected_version: int | None = None) -> None:
        """Refuse, before a byte of the file is read, what `add` would refuse: a ticket the
        caller may not see (404), one that moved past `If-Match` (412), one of an archived
        project (409)."""
        ticket = self._load(Ticket, ticket_id, "ticket")
        require_visible(actor, ticket)
        if expected_version is not None and ticket.version != expected_version:
            raise VersionMismatch(expected_version, ticket.version)
        self._load(Project, ticket.project_id, "project").accept_tickets()

    def add(
        self, actor: Actor, command: AddAttachment, chunks: Iterable[bytes]
    ) -> Outcome[Ticket]:
        """Store the bytes of `chunks` (at most `max_bytes`, of an allowed type), then attach
        them. The outcome's id is the new attachment's."""
        storage = self._configured()
        self.admit(actor, command.ticket_id, command.expected_version)
        filename = _cleaned(command.filename)
        blob = storage.blobs.put(chunks, storage.max_bytes)
        attachment_id = self.new_id()

        def change(ticket: Ticket, stamp: Stamp) -> None:
            ticket.add_attachment(
                stamp, attachment_id, filename=filename, content_type=blob.content_type,
                size=blob.size, sha256=blob.sha256,
            )

        with storage.leases.holding(blob.sha256):
            if not storage.blobs.exists(blob.sha256):
                raise UploadInterrupted("the file was lost while it was stored; send it again")
            return self.tickets.change(
                actor, command.ticket_id, command.expected_version, change, made=attachment_id
            )

    def remove(self, actor: Actor, command: RemoveAttachment) -> Outcome[Ticket]:
        """Its uploader or an admin removes it; the bytes stay for the retention period."""

        def change(ticket: Ticket, stamp: Stamp) -> None:
            attachment = ticket.attachment(command.attachment_id)
            require_uploader_or_admin(actor, attachment.uploaded_by)
            ticket.remove_attachment(stamp, command.attachment_id)

        return self.tickets.change(
            actor, command.ticket_id, None, change, made=command.attachment_id
        )

    def _configured(self) -> AttachmentStorage:
        if self.storage is None:
            raise RuntimeError("this Trail was built without attachment storage")
        return self.storage


def _cleaned(filename: str) -> str:
    try:
        return clean_filename(filename)
    except FilenameTooLong as error:
        raise InvalidFields(
            [FieldError("file", f"the filename must be at most {error.limit} characters")]
        ) from None
