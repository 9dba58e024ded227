"""The attachments service: what it refuses before a byte is read, bytes before the event, and
who may remove what."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from blobstore import FileBlobStore, UnsupportedType
from commands.attachments import Attachments, AttachmentStorage
from commands.errors import Forbidden, NotFound
from commands.messages import AddAttachment, ArchiveProject, RemoveAttachment
from commands.permissions import Actor
from commands.services import Commands, utc_now
from domain.errors import AttachmentGone, InvalidFields, ProjectArchived, UnknownAttachment
from tests.commands.conftest import developer, project, reporter, ticket


class Chunks:
    """A body that tells whether anyone read it."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = chunks
        self.read = False

    def __iter__(self) -> Iterator[bytes]:
        self.read = True
        return iter(self.chunks)


@pytest.fixture
def store(tmp_path: Path) -> FileBlobStore:
    return FileBlobStore(tmp_path / "blobs")


@pytest.fixture
def attachments(app: Commands, store: FileBlobStore) -> Attachments:
    storage = AttachmentStorage(blobs=store, max_bytes=1024)
    return Attachments(app.store, app.tickets, storage, clock=utc_now, new_id=uuid.uuid4)


def add(attachments: Attachments, actor: Actor, ticket_id: uuid.UUID, body: Chunks,
        filename: str = "notes.txt") -> uuid.UUID:
    command = AddAttachment(ticket_id=ticket_id, filename=filename)
    return attachments.add(actor, command, body).id


def test_an_attachment_is_recorded_after_its_bytes_are_stored(
    app: Commands, admin: Actor, attachments: Attachments, store: FileBlobStore
) -> None:
    ticket_id = ticket(app, admin, project(app, admin))

    outcome = attachments.add(admin, AddAttachment(ticket_id=ticket_id, filename="a/b/log.txt"),
                              Chunks(b"line one\n", b"line two\n"))

    attachment = outcome.aggregate.attachment(outcome.id)
    assert (attachment.filename, attachment.size) == ("log.txt", 18)
    assert store.exists(attachment.sha256)
    assert app.tickets.get(admin, ticket_id).attachment_ids == (outcome.id,)


@pytest.mark.parametrize("cause", ["hidden", "archived", "filename"])
def test_a_refusal_known_before_the_body_leaves_it_unread(
    app: Commands, admin: Actor, attachments: Attachments, store: FileBlobStore, cause: str
) -> None:
    project_id = project(app, admin)
    ticket_id = ticket(app, admin, project_id)
    actor, filename = admin, "notes.txt"
    expected: type[Exception] = ProjectArchived
    if cause == "hidden":
        actor, expected = reporter(app), NotFound
    elif cause == "archived":
        app.projects.archive(admin, ArchiveProject(project_id=project_id))
    else:
        filename, expected = "x" * 256, InvalidFields
    body = Chunks(b"never read\n")

    with pytest.raises(expected):
        add(attachments, actor, ticket_id, body, filename)

    assert not body.read
    assert list(store.iter_blobs()) == []
    assert app.tickets.get(admin, ticket_id).version == 1


def test_bytes_of_a_refused_type_are_neither_stored_nor_recorded(
    app: Commands, admin: Actor, attachments: Attachments, store: FileBlobStore
) -> None:
    ticket_id = ticket(app, admin, project(app, admin))

    with pytest.raises(UnsupportedType):
        add(attachments, admin, ticket_id, Chunks(b"<svg onload=alert(1)>"), "cat.png")

    assert list(store.iter_blobs()) == []
    assert app.tickets.get(admin, ticket_id).version == 1


def test_its_uploader_or_an_admin_removes_an_attachment_and_nobody_twice(
    app: Commands, admin: Actor, attachments: Attachments
) -> None:
    author = reporter(app, "Rita Reporter")
    colleague = developer(app, admin)
    ticket_id = ticket(app, author, project(app, admin))
    first = add(attachments, author, ticket_id, Chunks(b"one\n"))
    second = add(attachments, author, ticket_id, Chunks(b"two\n"))

    def remove(actor: Actor, attachment_id: uuid.UUID) -> None:
        attachments.remove(actor, RemoveAttachment(ticket_id=ticket_id,
                                                   attachment_id=attachment_id))

    with pytest.raises(Forbidden):
        remove(colleague, first)
    remove(author, first)
    remove(admin, second)
    with pytest.raises(AttachmentGone):
        remove(author, first)
    with pytest.raises(UnknownAttachment):
        remove(author, uuid.uuid4())
    with pytest.raises(NotFound):
        remove(reporter(app), second)
    assert app.tickets.get(admin, ticket_id).attachment_ids == ()
