"""Emails that mail clients thread well: one thread per ticket (a stable root every email
answers), auto-generated, a list per project, the ticket key in every subject; read back from a
real SMTP server."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from commands.messages import CommentOnTicket, EditTicket
from commands.services import Commands
from domain.values import Status
from projections.outbox.payloads import PasswordResetEmail, Person, TicketEmail
from tests.email.support import Mailbox, People, for_ticket
from workers.render import Renderer

pytestmark = pytest.mark.usefixtures("notifier", "worker")


def test_every_email_about_a_ticket_is_one_thread(
    app: Commands, people: People, mailbox: Mailbox
) -> None:
    max_ = people.user("Max Thread")
    project = people.project("WEB")
    ticket = people.ticket(project, "Threads hold", max_)
    app.tickets.edit(people.admin, EditTicket(ticket_id=ticket, title="Renamed thread",
                                              status=Status.IN_PROGRESS))
    app.tickets.comment(people.admin, CommentOnTicket(ticket_id=ticket, body="Noted."))
    emails = mailbox.wait_for(for_ticket(ticket), 3)

    root = f"<ticket-{ticket}@trail.test>"
    message_ids = set()
    for accepted in emails:
        message = accepted.message
        assert message["In-Reply-To"] == root
        assert message["References"] == root
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["List-Id"] == "WEB <web.trail.trail.test>"
        assert str(message["Subject"]).startswith("[WEB-")
        message_ids.add(message["Message-ID"])
        # Each email's own id is its outbox row's.
        assert message["Message-ID"] == f"<{accepted.outbox_id}@trail.test>"
    assert len(message_ids) == 3
    # The key stays when the title changes.
    subjects = {str(e.message["Subject"]) for e in emails}
    key = next(iter(subjects)).split("]")[0] + "]"
    assert subjects == {f"{key} Threads hold", f"{key} Renamed thread"}


def test_a_duplicate_send_of_a_row_carries_the_same_message_id() -> None:
    renderer = Renderer(mail_from="Trail <trail@trail.test>",
                        ticket_link=lambda ticket_id: f"http://trail.test/t/{ticket_id}")
    recipient = Person(uuid.uuid4(), "Max", "max@example.com")
    payload = TicketEmail(
        ticket_id=uuid.uuid4(), ticket_key="OPS-7", title="Once", created=True,
        actor_name="Ada", at=datetime.now(UTC), changes=[], assignees=[recipient],
        recipient=recipient, removed=False,
    )
    row = uuid.uuid4()
    first = renderer.render(row, "[OPS-7] Once", payload)
    second = renderer.render(row, "[OPS-7] Once", payload)
    assert first["Message-ID"] == second["Message-ID"] == f"<{row}@trail.test>"
    assert first["References"] == f"<ticket-{payload.ticket_id}@trail.test>"
    assert first["List-Id"] == "OPS <ops.trail.trail.test>"


def test_a_password_reset_is_auto_generated_but_no_ticket_thread() -> None:
    renderer = Renderer(mail_from="Trail <trail@trail.test>", ticket_link=str)
    recipient = Person(uuid.uuid4(), "Max", "max@example.com")
    message = renderer.render(uuid.uuid4(), "Reset", PasswordResetEmail(
        recipient=recipient, token="t", link="http://trail.test/reset"))
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["In-Reply-To"] is None and message["List-Id"] is None
