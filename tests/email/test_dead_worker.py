"""A worker that dies holding messages it had not begun: another worker finds them within a
minute (the broker's heartbeat), long before the relay would enqueue their rows again (here ten
minutes; before, Dramatiq itself took a minute plus up to several more)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

import psycopg
import pytest

from tests.email.conftest import WorkerProcess
from tests.email.support import Mailbox, People, for_ticket
from workers.config import Delivery

pytestmark = pytest.mark.usefixtures("notifier")

DB = psycopg.Connection[tuple[object, ...]]
# The broker's heartbeat timeout (30 s) and its look for dead workers (every few seconds).
FOUND_WITHIN = 60.0


@pytest.fixture(scope="module")
def delivery(namespace: str) -> Delivery:
    # The relay's requeue is ten minutes away: only the broker can bring the message back.
    return Delivery(max_attempts=5, min_backoff=0.2, max_backoff=1.0, requeue_after=600.0,
                    smtp_timeout=10.0, worker_threads=1, relay_interval=0.2,
                    namespace=namespace)


def _statuses(db: DB, ticket_ids: list[object]) -> list[object]:
    return [row[0] for row in db.execute(
        "SELECT status FROM outbox WHERE ticket_id = ANY(%s) ORDER BY seq",
        (ticket_ids,)).fetchall()]


def _wait(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_messages_a_dead_worker_held_are_sent_by_another_within_a_minute(
    people: People, mailbox: Mailbox, spawn_worker: WorkerProcess, db: DB
) -> None:
    stuck, waiting = people.user("Stu Stuck"), people.user("Wai Waiting")
    mailbox.stalled.add(people.email_of(stuck))
    project = people.project("DED")
    first = people.ticket(project, "Sent when it died", stuck)
    _wait(lambda: _statuses(db, [first]) == ["queued"])
    second = people.ticket(project, "Taken, never begun", waiting)
    _wait(lambda: _statuses(db, [first, second]) == ["queued", "queued"])

    # One thread, busy with the first email; the second message is taken ahead (prefetch).
    dying = spawn_worker()
    assert mailbox.stall_reached.wait(30), "the worker never reached the server"
    _wait(lambda: _statuses(db, [first, second]) == ["sending", "queued"])
    os.kill(dying.pid, signal.SIGKILL)
    dying.wait()
    mailbox.stalled.clear()
    mailbox.release.set()

    spawn_worker()
    mailbox.wait_for(for_ticket(second), 1, timeout=FOUND_WITHIN)
    mailbox.wait_for(for_ticket(first), 1, timeout=FOUND_WITHIN)
    _wait(lambda: _statuses(db, [first, second]) == ["sent", "sent"])
