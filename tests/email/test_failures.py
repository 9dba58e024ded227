"""A mail server that refuses or is down never fails the change, and the email arrives once it
is back; what is finally not delivered is marked failed, visible, and can be retried."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable

import psycopg
import pytest

from commands.messages import EditTicket
from commands.services import Commands
from domain.values import Status
from projections.errors import InvalidQuery
from projections.outbox.rows import list_emails, outbox_counts, retry_email
from tests.email.support import Mailbox, People, SmtpServer, for_ticket
from tests.services import REPO_ROOT
from workers.config import Delivery

pytestmark = pytest.mark.usefixtures("notifier", "worker")

DB = psycopg.Connection[tuple[object, ...]]


@pytest.fixture(scope="module")
def delivery(namespace: str) -> Delivery:
    # Retries 0.2, 0.4, 0.8, 0.8 … s apart: a failure plays out in a few seconds.
    return Delivery(
        max_attempts=6,
        min_backoff=0.2,
        max_backoff=0.8,
        requeue_after=2.0,
        smtp_timeout=5.0,
        worker_threads=4,
        relay_interval=0.1,
        namespace=namespace,
    )


def _row(db: DB, ticket_id: uuid.UUID) -> tuple[object, ...]:
    """Status, attempts and last error of the ticket's latest email (all None before it)."""
    row = db.execute(
        "SELECT status, attempts, last_error FROM outbox WHERE ticket_id = %s "
        "ORDER BY seq DESC LIMIT 1",
        (ticket_id,),
    ).fetchone()
    return row or (None, 0, None)


def _wait(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_refusing_server_delays_the_email_and_never_the_change(
    app: Commands, people: People, mailbox: Mailbox, db: DB
) -> None:
    ana = people.user("Ana Refused")
    project = people.project("REF")
    ticket = people.ticket(project, "Greylisted", ana)
    mailbox.wait_for(for_ticket(ticket), 1)
    mailbox.refusing.set()
    try:
        outcome = app.tickets.edit(
            people.admin, EditTicket(ticket_id=ticket, status=Status.IN_PROGRESS)
        )
        assert outcome.recorded == 1
        # Waiting again after its second refusal: read in one snapshot, since the next attempt
        # may already be under way (`sending`) by the time a second read would look.
        seen: list[tuple[object, ...]] = []

        def refused_and_waiting() -> bool:
            seen[:] = [_row(db, ticket)]
            status, attempts, _ = seen[0]
            return int(str(attempts)) >= 2 and status in ("pending", "queued")

        _wait(refused_and_waiting)
        assert "451" in str(seen[0][2])
        assert outbox_counts(db).pending >= 1
    finally:
        mailbox.refusing.clear()

    [accepted] = mailbox.wait_for(for_ticket(ticket), 2)[1:]
    assert "Status: open → in progress" in accepted.part("plain")
    _wait(lambda: _row(db, ticket)[0] == "sent")
    assert _row(db, ticket)[2] is None


def test_a_server_down_for_a_while_gets_the_email_when_back(
    app: Commands, people: People, mailbox: Mailbox, smtp: SmtpServer, db: DB
) -> None:
    bea = people.user("Bea Down")
    project = people.project("DWN")
    ticket = people.ticket(project, "Outage", bea)
    mailbox.wait_for(for_ticket(ticket), 1)
    smtp.stop()
    try:
        app.tickets.edit(people.admin, EditTicket(ticket_id=ticket, title="Outage, still"))
        _wait(lambda: int(str(_row(db, ticket)[1])) >= 2)
    finally:
        smtp.start()

    emails = mailbox.wait_for(for_ticket(ticket), 2)
    _wait(lambda: _row(db, ticket)[0] == "sent")
    time.sleep(0.5)
    assert len(mailbox.matching(for_ticket(ticket))) == len(emails) == 2


def test_a_permanent_refusal_fails_at_once_and_an_admin_can_retry_it(
    app: Commands, people: People, mailbox: Mailbox, db: DB
) -> None:
    cat = people.user("Cat Bounce")
    address = people.email_of(cat)
    mailbox.answers[address] = "550 5.1.1 No such mailbox"
    project = people.project("BNC")
    ticket = people.ticket(project, "Bounced", cat)
    _wait(lambda: _row(db, ticket)[0] == "failed")
    _, attempts, error = _row(db, ticket)
    assert attempts == 1
    assert "550" in str(error)
    assert outbox_counts(db).failed >= 1
    page = list_emails(db, status="failed", ticket_id=ticket)
    [item] = page.items
    assert (item.status, item.recipient_email) == ("failed", address)
    assert item.subject == "[BNC-1] Bounced"

    del mailbox.answers[address]
    assert retry_email(db, item.id) is True
    mailbox.wait_for(for_ticket(ticket), 1)
    _wait(lambda: _row(db, ticket)[0] == "sent")
    assert retry_email(db, uuid.uuid4()) is False


def test_an_email_that_exhausts_its_attempts_is_failed_and_can_be_retried_from_the_shell(
    people: People, mailbox: Mailbox, db: DB, delivery: Delivery, scratch_database_url: str,
    redis_url: str,
) -> None:
    dan = people.user("Dan Greylist")
    address = people.email_of(dan)
    mailbox.answers[address] = "421 4.7.0 Too busy, come back later"
    try:
        project = people.project("EXH")
        ticket = people.ticket(project, "Never delivered", dan)
        _wait(lambda: _row(db, ticket)[0] == "failed", timeout=15)
    finally:
        del mailbox.answers[address]
    _, attempts, error = _row(db, ticket)
    assert attempts == delivery.max_attempts
    assert "421" in str(error)
    assert mailbox.matching(for_ticket(ticket)) == []

    # The server is fixed; an operator re-queues what failed from the shell.
    result = subprocess.run(
        [sys.executable, "-c", "from runtime.cli_email import emails_group as g; g()",
         "retry", "--failed"],
        env={**os.environ, "DATABASE_URL": scratch_database_url, "REDIS_URL": redis_url},
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "re-queued" in result.stdout
    mailbox.wait_for(for_ticket(ticket), 1)
    _wait(lambda: _row(db, ticket)[:2] == ("sent", 1))


def test_listing_pages_through_every_email_newest_first(
    people: People, mailbox: Mailbox, db: DB
) -> None:
    eli = people.user("Eli Pages")
    project = people.project("PAG")
    tickets = [people.ticket(project, f"Page {n}", eli) for n in range(5)]
    for ticket in tickets:
        mailbox.wait_for(for_ticket(ticket), 1)

    seen, cursor = [], None
    while True:
        page = list_emails(db, limit=2, cursor=cursor)
        seen += page.items
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    ids = [item.id for item in seen]
    assert len(ids) == len(set(ids))
    assert [i.ticket_id for i in seen if i.ticket_id in tickets] == tickets[::-1]
    with pytest.raises(InvalidQuery) as error:
        list_emails(db, cursor="not-a-cursor")
    assert error.value.field == "cursor"
