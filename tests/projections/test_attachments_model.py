"""The attachments read model: what its queries answer, and a rebuild from the log that leaves
exactly the rows the live model has."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import DictRow

from blobstore import FileBlobStore
from commands.attachments import Attachments, AttachmentStorage
from commands.base import Outcome
from commands.messages import AddAttachment, RemoveAttachment
from commands.services import Commands, utc_now
from domain.ticket import Ticket
from projections.attachments import AttachmentsProjection, blob_uses, list_attachments, ticket_of
from projections.rebuild import rebuild
from projections.runner import catch_up
from projections.tickets import TicketsProjection
from tests.projections.conftest import People, new_project, new_ticket, project_all

Conn = psycopg.Connection[DictRow]


class Files:
    def __init__(self, app: Commands, people: People, directory: Path) -> None:
        storage = AttachmentStorage(FileBlobStore(directory), max_bytes=1024 * 1024)
        self.attachments = Attachments(app.store, app.tickets, storage, clock=utc_now,
                                       new_id=uuid.uuid4)
        self.people = people

    def add(self, ticket_id: uuid.UUID, content: bytes, name: str) -> Outcome[Ticket]:
        return self.attachments.add(
            self.people.dev, AddAttachment(ticket_id=ticket_id, filename=name), [content]
        )

    def remove(self, added: Outcome[Ticket]) -> None:
        self.attachments.remove(
            self.people.dev, RemoveAttachment(ticket_id=added.aggregate.id, attachment_id=added.id)
        )


@pytest.fixture(scope="module")
def files(app: Commands, people: People, tmp_path_factory: pytest.TempPathFactory) -> Files:
    return Files(app, people, tmp_path_factory.mktemp("blobs"))


def rows(conn: Conn, table: str, order: str) -> list[dict[str, object]]:
    query = sql.SQL("SELECT * FROM {} ORDER BY {}").format(
        sql.Identifier(table), sql.Identifier(order)
    )
    return [dict(row) for row in conn.execute(query)]


def test_a_ticket_lists_its_live_attachments_oldest_first(
    app: Commands, people: People, files: Files, conn: Conn, trail_env: dict[str, str]
) -> None:
    ticket_id = new_ticket(app, people.dev, new_project(app, people.admin))
    first = files.add(ticket_id, b"first\n", "first.txt")
    second = files.add(ticket_id, b"second\n", "second.txt")
    third = files.add(ticket_id, b"first\n", "again.txt")
    files.remove(second)
    project_all(trail_env)

    page = list_attachments(conn, ticket_id)
    sha256 = first.aggregate.attachment(first.id).sha256

    assert [a.id for a in page.items] == [first.id, third.id]
    assert [a.filename for a in page.items] == ["first.txt", "again.txt"]
    assert page.items[0].uploader.name == "Dev One"
    assert ticket_of(conn, second.id) == ticket_id
    assert ticket_of(conn, uuid.uuid4()) is None
    uses = blob_uses(conn, [sha256, "0" * 64])
    assert list(uses) == [sha256]
    assert uses[sha256].live and uses[sha256].last_removed_at is None


def test_a_rebuild_leaves_the_rows_the_live_model_has(
    app: Commands, people: People, files: Files, conn: Conn, trail_env: dict[str, str]
) -> None:
    project_id = new_project(app, people.admin)
    for n in range(12):
        ticket_id = new_ticket(app, people.dev, project_id, f"ticket {n}")
        kept = files.add(ticket_id, b"log %d\n" % (n % 4), f"{n}.log")
        if n % 3 == 0:
            files.remove(kept)
            files.add(ticket_id, b"again %d\n" % n, f"{n}-again.log")
    for model in (AttachmentsProjection, TicketsProjection):
        catch_up(model, trail_env)
    attachments_before = rows(conn, "attachments", "id")
    tickets_before = [(r["id"], r["attachment_ids"]) for r in rows(conn, "tickets", "id")]

    for model in (AttachmentsProjection, TicketsProjection):
        rebuild(model, trail_env)

    assert len(attachments_before) >= 16
    assert rows(conn, "attachments", "id") == attachments_before
    assert [(r["id"], r["attachment_ids"]) for r in rows(conn, "tickets", "id")] == tickets_before
