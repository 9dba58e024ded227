"""Ticket attachments: given events, when a command, then events or an error."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from domain.errors import AttachmentGone, InvalidFields, UnknownAttachment
from domain.history import changes_of
from domain.ticket import Ticket
from domain.ticket_events import Attachment
from domain.values import format_size
from tests.domain.given import ALICE, AT, BOB, LATER, a_ticket, given, stamp, when

SCREENSHOT = UUID("00000000-0000-4000-8000-0000000a7001")
LOG = UUID("00000000-0000-4000-8000-0000000a7002")
SHA_A = "a" * 64
SHA_B = "b" * 64


def file(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "filename": "screenshot.png", "content_type": "image/png", "size": 120_000,
        "sha256": SHA_A,
    }
    fields.update(overrides)
    return fields


def added(attachment_id: UUID, before: tuple[UUID, ...], **overrides: Any) -> dict[str, Any]:
    return {"attachment_id": attachment_id, **file(**overrides),
            "old_attachment_ids": before, "attachment_ids": (*before, attachment_id)}


def ticket_with_two(**created: Any) -> Ticket:
    ticket: Ticket = given(
        a_ticket(**created)
        .add(Ticket.AttachmentAdded, **added(SCREENSHOT, ()))
        .add(Ticket.AttachmentAdded, actor_id=BOB,
             **added(LOG, (SCREENSHOT,), filename="build.log", content_type="text/plain",
                     size=512, sha256=SHA_B))
    )
    return ticket


def test_adding_records_the_file_and_the_new_list_of_ids() -> None:
    ticket = given(a_ticket())
    (event,) = when(ticket, ticket.add_attachment, SCREENSHOT, **file()).then(
        (Ticket.AttachmentAdded, added(SCREENSHOT, ()))
    )
    assert ticket.attachment_ids == (SCREENSHOT,)
    assert ticket.attachment(SCREENSHOT) == Attachment(
        id=SCREENSHOT, filename="screenshot.png", content_type="image/png", size=120_000,
        sha256=SHA_A, uploaded_by=ALICE, created_at=LATER,
    )
    assert changes_of(event)["attachment_ids"].to == [str(SCREENSHOT)]
    assert changes_of(event)["attachment_ids"].from_ == []


def test_attachments_keep_the_order_they_were_added_in() -> None:
    ticket = ticket_with_two()
    assert ticket.attachment_ids == (SCREENSHOT, LOG)
    assert ticket.attachment(LOG).uploaded_by == BOB
    assert ticket.version == 3


def test_the_same_bytes_may_back_two_attachments() -> None:
    ticket = given(a_ticket().add(Ticket.AttachmentAdded, **added(SCREENSHOT, ())))
    when(ticket, ticket.add_attachment, LOG, **file(filename="copy.png")).then(
        (Ticket.AttachmentAdded, {"sha256": SHA_A, "attachment_ids": (SCREENSHOT, LOG)})
    )


def test_removing_records_what_was_removed_and_the_ids_left() -> None:
    ticket = ticket_with_two()
    (event,) = when(ticket, ticket.remove_attachment, SCREENSHOT, stamp=stamp(BOB)).then(
        (Ticket.AttachmentRemoved, {
            "attachment_id": SCREENSHOT, "filename": "screenshot.png",
            "content_type": "image/png", "size": 120_000, "sha256": SHA_A,
            "old_attachment_ids": (SCREENSHOT, LOG), "attachment_ids": (LOG,),
        })
    )
    assert ticket.attachment_ids == (LOG,)
    assert ticket.attachments[SCREENSHOT].removed_at == LATER
    change = changes_of(event)["attachment_ids"]
    assert (change.from_, change.to) == ([str(SCREENSHOT), str(LOG)], [str(LOG)])


def test_a_removed_attachment_is_gone_for_good() -> None:
    ticket = given(
        a_ticket()
        .add(Ticket.AttachmentAdded, **added(SCREENSHOT, ()))
        .add(Ticket.AttachmentRemoved, **{
            **added(SCREENSHOT, ()), "old_attachment_ids": (SCREENSHOT,), "attachment_ids": (),
        })
    )
    when(ticket, ticket.remove_attachment, SCREENSHOT).then_error(AttachmentGone)
    with pytest.raises(AttachmentGone):
        ticket.attachment(SCREENSHOT)
    assert ticket.attachment_ids == ()


def test_an_attachment_of_no_such_id_is_unknown() -> None:
    ticket = ticket_with_two()
    when(ticket, ticket.remove_attachment, UUID(int=42)).then_error(UnknownAttachment)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"filename": ""}, "1..255"),
        ({"filename": "x" * 256}, "1..255"),
        ({"filename": "two\nlines.txt"}, "control characters"),
        ({"filename": "bell\x07.txt"}, "control characters"),
        ({"filename": "c1\x85.txt"}, "control characters"),
        ({"size": -1}, "negative"),
        ({"sha256": "A" * 64}, "sha256"),
        ({"sha256": "../" + "a" * 61}, "sha256"),
    ],
)
def test_an_attachment_breaking_a_rule_is_refused_naming_the_file(
    overrides: dict[str, Any], message: str
) -> None:
    ticket = given(a_ticket())
    when(ticket, ticket.add_attachment, SCREENSHOT, **file(**overrides)).then_error(
        InvalidFields, fields=["file"], match=message
    )


def test_a_filename_of_exactly_255_characters_is_taken() -> None:
    ticket = given(a_ticket())
    name = "x" * 251 + ".png"
    when(ticket, ticket.add_attachment, SCREENSHOT, **file(filename=name)).then(
        (Ticket.AttachmentAdded, {"filename": name})
    )


def test_replaying_to_a_moment_shows_the_attachments_of_that_moment() -> None:
    events = list(
        a_ticket()
        .add(Ticket.AttachmentAdded, at=AT, **added(SCREENSHOT, ()))
        .add(Ticket.AttachmentRemoved, at=LATER, **{
            **added(SCREENSHOT, ()), "old_attachment_ids": (SCREENSHOT,), "attachment_ids": (),
        })
    )
    then = given(events[:2])
    now = given(events)
    assert then.attachment_ids == (SCREENSHOT,)
    assert now.attachment_ids == ()
    assert now.attachments[SCREENSHOT].removed_at == LATER


@pytest.mark.parametrize(
    ("size", "shown"),
    [(0, "0 bytes"), (1, "1 byte"), (999, "999 bytes"), (1000, "1.0 KB"),
     (120_000, "120 KB"), (999_499, "999 KB"), (999_500, "1.0 MB"), (1_234_567, "1.2 MB"),
     (10 * 1024 * 1024, "10 MB")],
)
def test_sizes_read_as_people_read_them(size: int, shown: str) -> None:
    assert format_size(size) == shown
