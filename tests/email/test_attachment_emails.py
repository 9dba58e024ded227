"""Adding and removing an attachment emails the assignees, naming the file and its size: through
the whole pipeline (outbox projection, relay, Redis, worker) to a real SMTP server."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from blobstore import FileBlobStore
from commands.attachments import Attachments, AttachmentStorage
from commands.messages import AddAttachment, RemoveAttachment
from commands.services import Commands, utc_now
from tests.blobstore import samples
from tests.email.support import Mailbox, People, for_ticket

pytestmark = pytest.mark.usefixtures("notifier", "worker")


def test_the_assignees_hear_of_a_file_added_and_removed(
    app: Commands, people: People, mailbox: Mailbox, tmp_path: Path
) -> None:
    storage = AttachmentStorage(FileBlobStore(tmp_path / "blobs"), max_bytes=1024 * 1024)
    attachments = Attachments(app.store, app.tickets, storage, clock=utc_now, new_id=uuid.uuid4)
    max_, dave = people.user("Max Power"), people.user("Dave Grohl")
    ticket = people.ticket(people.project("SHOT"), "Broken layout", max_, dave)
    mailbox.wait_for(for_ticket(ticket), 2)
    # 120 kB of PNG: the signature, then padding.
    screenshot = samples.png().ljust(120_000, b"\0")

    added = attachments.add(
        people.admin, AddAttachment(ticket_id=ticket, filename="screenshot.png"), [screenshot]
    )
    on_add = mailbox.wait_for(for_ticket(ticket), 4)[2:]
    attachments.remove(
        people.admin, RemoveAttachment(ticket_id=ticket, attachment_id=added.id)
    )
    on_remove = mailbox.wait_for(for_ticket(ticket), 6)[4:]

    everyone = sorted(people.email_of(a) for a in (max_, dave))
    assert sorted(e.rcpt for e in on_add) == everyone
    assert sorted(e.rcpt for e in on_remove) == everyone
    for accepted in on_add:
        text = accepted.part("plain")
        assert "Ticket SHOT-1 updated by Ada Admin" in text
        assert "Attachment added: screenshot.png (120 KB)" in text
        assert "Attachment added" in accepted.part("html")
        assert "attachment_ids" not in text
    for accepted in on_remove:
        assert "Attachment removed: screenshot.png (120 KB)" in accepted.part("plain")
