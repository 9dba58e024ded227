"""No text of a user can forge a header line of an email, even from events recorded before
single-line fields were enforced, and a row that cannot make a valid email fails for good at
once (marked failed with its error, counted in /health) instead of being retried forever."""

from __future__ import annotations

import email
import email.policy
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg
import pytest

from commands.services import Commands
from domain.ticket import Ticket
from domain.values import Stamp
from projections.outbox.payloads import PasswordResetEmail, Person, TicketEmail
from projections.outbox.rows import enqueue_password_reset, outbox_counts
from tests.email.support import Mailbox, People, for_ticket
from workers.render import HeaderInjection, Renderer, UnsendableEmail
from workers.transports import PermanentError

FORGED = "x\r\nFrom : CEO <ceo@bank.test>\r\nBcc: all@bank.test\x1cX-Evil: 1\u2028Reply-To: a@b"


def _renderer() -> Renderer:
    return Renderer(mail_from="Trail <trail@trail.test>", ticket_link=lambda key: f"/t/{key}")


def _ticket_email(title: str, name: str = "Max", address: str = "max@example.com"
                  ) -> TicketEmail:
    recipient = Person(uuid.uuid4(), name, address)
    return TicketEmail(
        ticket_id=uuid.uuid4(), ticket_key="OPS-7", title=title, created=True,
        actor_name="Ada", at=datetime.now(UTC), changes=[], assignees=[recipient],
        recipient=recipient, removed=False,
    )


def _headers(raw: bytes) -> list[tuple[str, str]]:
    """The header lines as a receiving server reads them."""
    parsed = email.message_from_bytes(raw, policy=email.policy.SMTP)
    return [(name.lower(), str(value)) for name, value in parsed.items()]


@pytest.mark.parametrize("address", ["max@example.com", "mäx@example.com"])
def test_a_subject_and_a_name_with_line_breaks_stay_one_header_each(address: str) -> None:
    message = _renderer().render(
        uuid.uuid4(), f"[OPS-7] {FORGED}", _ticket_email(FORGED, name=f"Max{FORGED}",
                                                         address=address)
    )
    headers = _headers(message.as_bytes())
    names = [name for name, _ in headers]
    assert names.count("from") == 1 and names.count("subject") == 1 and names.count("to") == 1
    assert not {"bcc", "x-evil", "reply-to"} & set(names)
    assert dict(headers)["from"] == "Trail <trail@trail.test>"
    assert "From : CEO" in dict(headers)["subject"]


def test_a_header_that_would_break_its_line_is_refused_when_written() -> None:
    message = _renderer().render(uuid.uuid4(), "Fine", _ticket_email("Fine"))
    # Set behind the renderer's back: the policy itself refuses to write it.
    message["X-Forged"] = "a\r\nFrom : CEO <ceo@bank.test>"
    with pytest.raises(HeaderInjection):
        message.as_bytes()
    assert issubclass(HeaderInjection, PermanentError)


@pytest.mark.parametrize(
    ("name", "address"),
    [("Max", "max@example.com\r\nBcc: all@bank.test"), ("Max", "a@b, c@d"),
     ("Ma\udc80x", "max@example.com"), ("Max", "nobody")],
)
def test_a_row_that_cannot_make_an_email_is_a_permanent_error(name: str, address: str) -> None:
    payload = PasswordResetEmail(recipient=Person(uuid.uuid4(), name, address), token="t",
                                 link="http://trail.test/reset")
    with pytest.raises(UnsendableEmail):
        _renderer().render(uuid.uuid4(), "Reset your Trail password", payload)


DB = psycopg.Connection[tuple[object, ...]]


def _wait(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.usefixtures("notifier", "worker")
def test_a_title_with_line_breaks_from_an_old_event_cannot_forge_headers(
    app: Commands, people: People, mailbox: Mailbox
) -> None:
    max_ = people.user("Max Header")
    ticket_id = people.ticket(people.project("HDR"), "Harmless", max_)
    mailbox.wait_for(for_ticket(ticket_id), 1)
    # An event as an earlier Trail could record it, before titles were one line.
    ticket = app.store.repository.get(ticket_id)
    assert isinstance(ticket, Ticket)
    stamp = Stamp(actor_id=people.admin.id, command_id=uuid.uuid4(), at=datetime.now(UTC))
    ticket._record(stamp, Ticket.TitleChanged, old_title=ticket.title, title=FORGED)
    app.store.save(ticket)
    emails = mailbox.wait_for(for_ticket(ticket_id), 2)
    forged = emails[-1].message
    assert forged.get_all("From") == ["Trail <trail@trail.test>"]
    assert forged.get_all("Bcc") is None and forged.get_all("X-Evil") is None
    assert "From : CEO" in str(forged["Subject"])


@pytest.mark.usefixtures("notifier", "worker")
def test_a_poison_email_is_marked_failed_at_once_and_counted(db: DB) -> None:
    failed_before = outbox_counts(db).failed
    email_id = enqueue_password_reset(
        db, uuid.uuid4(), "victim@example.com\r\nBcc: all@bank.test", "Victim", "t",
        "http://trail.test/reset",
    )

    def state() -> tuple[object, ...]:
        row = db.execute("SELECT status, attempts, last_error FROM outbox WHERE id = %s",
                         (email_id,)).fetchone()
        assert row is not None
        return row

    _wait(lambda: state()[0] == "failed")
    _, attempts, error = state()
    assert attempts == 1
    assert "not one address" in str(error)
    assert outbox_counts(db).failed == failed_before + 1
