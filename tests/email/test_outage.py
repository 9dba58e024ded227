"""After an SMTP outage ends, the emails it deferred go out at once, not each at its own next
try (here an hour away); and trying during the outage uses up none of their attempts."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import psycopg
import pytest

from tests.email.support import Mailbox, People, SmtpServer, for_ticket
from workers.config import Delivery

pytestmark = pytest.mark.usefixtures("notifier", "worker")

DB = psycopg.Connection[tuple[object, ...]]
EMAILS = 5


@pytest.fixture(scope="module")
def delivery(namespace: str) -> Delivery:
    # Every retry an hour away: only the release after the outage can deliver within the test.
    return Delivery(
        max_attempts=2,
        min_backoff=3600.0,
        max_backoff=3600.0,
        requeue_after=60.0,
        outage_probe=0.5,
        smtp_timeout=5.0,
        worker_threads=4,
        relay_interval=0.1,
        namespace=namespace,
    )


def _rows(db: DB, tickets: list[uuid.UUID]) -> list[tuple[object, ...]]:
    return db.execute(
        "SELECT status, attempts, outage FROM outbox WHERE ticket_id = ANY(%s) ORDER BY seq",
        (tickets,),
    ).fetchall()


def _probes_seen(db: DB, tickets: list[uuid.UUID]) -> int:
    """Attempts begun during the outage beyond each email's first (a probe records one)."""
    row = db.execute(
        "SELECT count(*) FROM outbox WHERE ticket_id = ANY(%s) AND attempted_at > created_at "
        "+ interval '0.3 s'", (tickets,)).fetchone()
    assert row is not None
    return int(str(row[0]))


def _wait(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_backlog_of_an_smtp_outage_goes_out_when_the_server_is_back(
    people: People, mailbox: Mailbox, smtp: SmtpServer, db: DB
) -> None:
    dee = people.user("Dee Deferred")
    project = people.project("OUT")
    smtp.stop()
    try:
        tickets = [people.ticket(project, f"During the outage {i}", dee) for i in range(EMAILS)]
        # Each failed once, because the server was away, and waits an hour.
        _wait(lambda: _rows(db, tickets) == [("pending", 1, True)] * EMAILS)
        # The relay keeps probing with the oldest; its failures cost it no attempt, so with
        # two attempts allowed nothing has failed for good however long this lasts.
        _wait(lambda: _probes_seen(db, tickets) >= 1)
        time.sleep(2)
        assert _rows(db, tickets) == [("pending", 1, True)] * EMAILS
    finally:
        smtp.start()

    emails = mailbox.wait_for(lambda a: any(for_ticket(t)(a) for t in tickets), EMAILS,
                              timeout=30)
    assert sorted(e.message["X-Trail-Ticket-Id"] for e in emails) == sorted(map(str, tickets))
    _wait(lambda: [status for status, _, _ in _rows(db, tickets)] == ["sent"] * EMAILS)
